"""objects by state and link health: the index the statistics count the files from

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_objects_status_link_status',
        'objects',
        ['status', 'link_status'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_objects_status_link_status', table_name='objects')

"""live resources by id: the index sitemaps read their id ranges from

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_resources_live_id',
        'resources',
        ['deleted', 'publishable', 'id', 'updated_at'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_resources_live_id', table_name='resources')

"""live resources by first harvest: the index the monthly catalogue files read

A month's file is one range of this index, in the order it is written (first harvested,
then id); the months' counts are counts of its ranges.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""
from collections.abc import Sequence

from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_resources_live_created_at',
        'resources',
        ['deleted', 'publishable', 'created_at', 'id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_resources_live_created_at', table_name='resources')

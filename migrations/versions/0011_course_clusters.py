"""course clusters: one course reached through several records is one search hit

- ``resources.cluster_id``: the canonical member of the resource's cluster (None alone);
- ``resource_match_keys``: the keys (``metadata.matching``) live, publishable resources
  share with the other records of their course;
- ``cluster_overrides``: an administrator's splits and merges, kept across re-harvests.

Resources stored before this revision have no keys yet: ``coursefed clusters rebuild``
computes them (and journals the resources whose cluster changes, so the index follows).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('resource_match_keys',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], ),
    sa.PrimaryKeyConstraint('key', 'resource_id')
    )
    with op.batch_alter_table('resource_match_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_match_keys_resource_id'), ['resource_id'], unique=False)

    op.create_table('cluster_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('other_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cluster_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cluster_overrides_other_id'), ['other_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cluster_overrides_resource_id'), ['resource_id'], unique=False)

    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cluster_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_resources_cluster_id'), ['cluster_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resources_cluster_id'))
        batch_op.drop_column('cluster_id')

    with op.batch_alter_table('cluster_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cluster_overrides_resource_id'))
        batch_op.drop_index(batch_op.f('ix_cluster_overrides_other_id'))
    op.drop_table('cluster_overrides')

    with op.batch_alter_table('resource_match_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_match_keys_resource_id'))
    op.drop_table('resource_match_keys')

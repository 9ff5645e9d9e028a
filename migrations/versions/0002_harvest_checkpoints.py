"""harvest checkpoints, reports and failed records

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('failed_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('identifier', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('datestamp', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['harvest_runs.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('failed_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failed_records_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_failed_records_source_id'), ['source_id'], unique=False)

    with op.batch_alter_table('harvest_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='harvest'))
        batch_op.add_column(sa.Column('metadata_prefix', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('set_spec', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('resumption_token', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('last_datestamp', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('datestamps_ordered', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('resumed', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('records_added', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('records_updated', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('events', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('issue_counts', sa.JSON(), nullable=False, server_default='{}'))

    # Runs before this revision counted added and updated records together.
    op.execute("UPDATE harvest_runs SET records_added = records_upserted")
    with op.batch_alter_table('harvest_runs', schema=None) as batch_op:
        batch_op.drop_column('records_upserted')

    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quality', sa.Float(), nullable=False, server_default='0'))
        batch_op.create_index('ix_resources_updated_at_id', ['updated_at', 'id'], unique=False)

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prefix_pinned', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('repository_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('granularity', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('earliest_datestamp', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('deleted_record', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('identified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_reconciled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_index('ix_resources_updated_at_id')
        batch_op.drop_column('quality')

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('lease_owner')
        batch_op.drop_column('last_reconciled_at')
        batch_op.drop_column('identified_at')
        batch_op.drop_column('deleted_record')
        batch_op.drop_column('earliest_datestamp')
        batch_op.drop_column('granularity')
        batch_op.drop_column('repository_name')
        batch_op.drop_column('prefix_pinned')

    with op.batch_alter_table('harvest_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('records_upserted', sa.INTEGER(), nullable=False, server_default='0'))
    op.execute("UPDATE harvest_runs SET records_upserted = records_added + records_updated")
    with op.batch_alter_table('harvest_runs', schema=None) as batch_op:
        batch_op.drop_column('issue_counts')
        batch_op.drop_column('events')
        batch_op.drop_column('records_updated')
        batch_op.drop_column('records_added')
        batch_op.drop_column('resumed')
        batch_op.drop_column('datestamps_ordered')
        batch_op.drop_column('last_datestamp')
        batch_op.drop_column('resumption_token')
        batch_op.drop_column('set_spec')
        batch_op.drop_column('metadata_prefix')
        batch_op.drop_column('kind')

    with op.batch_alter_table('failed_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failed_records_source_id'))
        batch_op.drop_index(batch_op.f('ix_failed_records_run_id'))

    op.drop_table('failed_records')

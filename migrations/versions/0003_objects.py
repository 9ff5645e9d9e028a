"""objects: content-addressed blobs, fetch state per resource × url, source size caps

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('blobs',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('stored_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_verified_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('verify_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('uploaded_by_source_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['uploaded_by_source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('sha256')
    )
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blobs_uploaded_by_source_id'), ['uploaded_by_source_id'], unique=False)

    # One row per resource × url from now on; where a url was recorded twice the newest
    # row wins (as the mirror manifest already reads them).
    op.execute(
        "DELETE FROM objects WHERE id NOT IN"
        " (SELECT MAX(id) FROM objects GROUP BY resource_id, url)"
    )
    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('fetched_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('link_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('link_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_objects_source_id'), ['source_id'], unique=False)
        batch_op.create_index('ix_objects_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_unique_constraint('uq_objects_resource_id_url', ['resource_id', 'url'])
        batch_op.create_foreign_key('fk_objects_source_id_sources', 'sources', ['source_id'], ['id'])
    op.execute(
        "UPDATE objects SET source_id ="
        " (SELECT resources.source_id FROM resources WHERE resources.id = objects.resource_id)"
    )

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_object_bytes', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('max_object_bytes')

    with op.batch_alter_table('objects', schema=None) as batch_op:
        batch_op.drop_constraint('fk_objects_source_id_sources', type_='foreignkey')
        batch_op.drop_constraint('uq_objects_resource_id_url', type_='unique')
        batch_op.drop_index('ix_objects_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_objects_source_id'))
        batch_op.drop_column('link_checked_at')
        batch_op.drop_column('link_status')
        batch_op.drop_column('fetched_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('file_name')
        batch_op.drop_column('source_id')

    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blobs_uploaded_by_source_id'))

    op.drop_table('blobs')

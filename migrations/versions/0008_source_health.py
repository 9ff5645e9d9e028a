"""source health: records by issue code, each run's catalogue snapshot, conformance results

- ``resource_issues``: one row per live resource and distinct issue code of its stored
  ``issues``, filled here from the resources already stored;
- ``harvest_runs``: the source's live and published records and mean quality when a run
  finished (runs before this revision keep None: their past catalogue is not known);
- ``conformance_results``: the latest ``coursefed sources check`` of each registered source;
- ``ix_resources_source_quality``: a source's counts and quality read from an index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 2000

_resources = sa.table(
    'resources',
    sa.column('id', sa.String),
    sa.column('source_id', sa.Integer),
    sa.column('deleted', sa.Boolean),
    sa.column('issues', sa.JSON),
)
_resource_issues = sa.table(
    'resource_issues',
    sa.column('resource_id', sa.String),
    sa.column('code', sa.String),
    sa.column('source_id', sa.Integer),
    sa.column('severity', sa.String),
)


def upgrade() -> None:
    op.create_table('conformance_results',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('base_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('warned', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('source_id')
    )
    op.create_table('resource_issues',
    sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('resource_id', 'code')
    )
    _fill_resource_issues()
    # After the fill: one index build instead of an update per row.
    with op.batch_alter_table('resource_issues', schema=None) as batch_op:
        batch_op.create_index('ix_resource_issues_source_code', ['source_id', 'code', 'resource_id', 'severity'], unique=False)

    with op.batch_alter_table('harvest_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_records', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('published_records', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mean_quality', sa.Float(), nullable=True))

    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.create_index('ix_resources_source_quality', ['source_id', 'deleted', 'publishable', 'quality'], unique=False)


def _codes(issues: Any) -> dict[str, str]:
    """code → severity (``error`` if any issue of the code is one), as the catalogue
    writes them (``app.catalogue.service.issue_codes``), frozen here."""
    codes: dict[str, str] = {}
    for issue in issues if isinstance(issues, list) else []:
        if not isinstance(issue, dict) or not isinstance(issue.get('code'), str):
            continue
        code = issue['code'][:100]
        severity = 'error' if issue.get('severity') == 'error' else 'warning'
        if codes.get(code) != 'error':
            codes[code] = severity
    return codes


def _fill_resource_issues() -> None:
    """A row per live resource and code, read in id order a chunk at a time."""
    connection = op.get_bind()
    after = ''
    while True:
        rows = connection.execute(
            sa.select(_resources.c.id, _resources.c.source_id, _resources.c.issues)
            .where(_resources.c.id > after, _resources.c.deleted == sa.false())
            .order_by(_resources.c.id)
            .limit(CHUNK)
        ).all()
        if not rows:
            return
        values = [
            {'resource_id': rid, 'code': code, 'source_id': source_id, 'severity': severity}
            for rid, source_id, issues in rows
            for code, severity in _codes(issues).items()
        ]
        if values:
            connection.execute(sa.insert(_resource_issues), values)
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_index('ix_resources_source_quality')

    with op.batch_alter_table('harvest_runs', schema=None) as batch_op:
        batch_op.drop_column('mean_quality')
        batch_op.drop_column('published_records')
        batch_op.drop_column('live_records')

    with op.batch_alter_table('resource_issues', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_issues_source_code')

    op.drop_table('resource_issues')
    op.drop_table('conformance_results')

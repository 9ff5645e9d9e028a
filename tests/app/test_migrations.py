"""Alembic migrations on SQLite and PostgreSQL: head, data carried forward, no drift."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import app.models  # noqa: F401 - registers every table
from app import migrate
from app.settings import Settings


def test_migrations_reach_head(settings: Settings) -> None:
    assert migrate.current(settings) == migrate.head()


def test_tables_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        drift = compare_metadata(context, SQLModel.metadata)
    assert drift == [], "models changed without a migration"


def test_upgrade_keeps_harvest_counts_and_downgrade_restores_them(settings: Settings) -> None:
    config = migrate.alembic_config(settings)
    command.downgrade(config, "0001")
    engine = sa.create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO sources (slug, name, base_url, metadata_prefix, interval_minutes,"
                    " enabled, allow_private_network, created_at) VALUES ('college', 'College',"
                    " 'http://example.org/oai', 'oai_dc', 60, true, false, '2026-01-01')"
                )
            )
            connection.execute(
                sa.text(
                    'INSERT INTO harvest_runs (source_id, status, "full", started_at, pages,'
                    " records_seen, records_upserted, records_unchanged, records_deleted,"
                    " records_failed) SELECT id, 'succeeded', false, '2026-01-01', 3, 7, 5, 1,"
                    " 1, 0 FROM sources"
                )
            )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            row = connection.execute(
                sa.text("SELECT records_added, records_updated, kind, resumed FROM harvest_runs")
            ).one()
        assert tuple(row) == (5, 0, "harvest", 0)
        command.downgrade(config, "0001")
        with engine.connect() as connection:
            upserted = connection.execute(sa.text("SELECT records_upserted FROM harvest_runs"))
            assert upserted.scalar_one() == 5
    finally:
        engine.dispose()


def test_upgrade_to_0003_keeps_one_object_per_url_and_fills_its_source(
    settings: Settings,
) -> None:
    config = migrate.alembic_config(settings)
    command.downgrade(config, "0002")
    engine = sa.create_engine(settings.resolved_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO sources (slug, name, base_url, metadata_prefix, prefix_pinned,"
                    " interval_minutes, enabled, allow_private_network, created_at) VALUES"
                    " ('college', 'College', 'http://example.org/oai', 'oai_dc', false, 60,"
                    " true, false, '2026-01-01')"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO resources (id, source_id, oai_identifier, datestamp,"
                    " metadata_prefix, deleted, publishable, quality, record, issues, raw_sha256,"
                    " content_hash, created_at, updated_at) SELECT 'r1', id, 'oai:x:1',"
                    " '2026-01-01', 'oai_dc', false, true, 1, '{}', '[]', 'x', 'y', '2026-01-01',"
                    " '2026-01-01' FROM sources"
                )
            )
            for size in (1, 2):  # the same url recorded twice before rows were unique
                connection.execute(
                    sa.text(
                        "INSERT INTO objects (resource_id, url, size, status) VALUES"
                        " ('r1', 'http://example.org/v.mp4', :size, 'pending')"
                    ),
                    {"size": size},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT o.size, o.attempts, o.source_id = s.id FROM objects o, sources s")
            ).all()
        assert [tuple(row) for row in rows] == [(2, 0, True)]
        command.downgrade(config, "0002")
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_upgrade_to_0008_indexes_the_issue_codes_of_live_records_only(
    settings: Settings,
) -> None:
    config = migrate.alembic_config(settings)
    command.downgrade(config, "0007")
    engine = sa.create_engine(settings.resolved_database_url)
    issues = (
        '[{"severity": "warning", "code": "missing_license", "message": "m", "path": null},'
        ' {"severity": "error", "code": "url_not_http", "message": "a", "path": "url"},'
        ' {"severity": "warning", "code": "url_not_http", "message": "b", "path": "x"}]'
    )
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO sources (slug, name, base_url, metadata_prefix, prefix_pinned,"
                    " interval_minutes, enabled, allow_private_network, created_at) VALUES"
                    " ('college', 'College', 'http://example.org/oai', 'oai_dc', false, 60,"
                    " true, false, '2026-01-01')"
                )
            )
            for rid, deleted in (("live", False), ("gone", True), ("clean", False)):
                connection.execute(
                    sa.text(
                        "INSERT INTO resources (id, source_id, oai_identifier, datestamp,"
                        " metadata_prefix, deleted, publishable, quality, record, issues,"
                        " raw_sha256, content_hash, created_at, updated_at) SELECT :id, id,"
                        " :id, '2026-01-01', 'oai_dc', :deleted, true, 0.5, '{}', :issues,"
                        " 'x', 'y', '2026-01-01', '2026-01-01' FROM sources"
                    ),
                    {"id": rid, "deleted": deleted, "issues": "[]" if rid == "clean" else issues},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT resource_id, code, severity FROM resource_issues"
                    " ORDER BY resource_id, code"
                )
            ).all()
            runs = connection.execute(sa.text("SELECT count(*) FROM harvest_runs")).scalar()
        assert [tuple(r) for r in rows] == [
            ("live", "missing_license", "warning"),
            ("live", "url_not_http", "error"),
        ]
        assert runs == 0
        command.downgrade(config, "0007")
        command.upgrade(config, "head")
    finally:
        engine.dispose()

"""Apply Alembic migrations programmatically (``coursefed db upgrade``, tests, ``demo``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = alembic_config_for_scripts()
    # Percent signs in passwords would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", settings.resolved_database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring the schema to ``revision``.  Processes that start together (replicas that
    each run ``coursefed db upgrade``) take turns: the first migrates, the next ones
    find the schema already there."""
    from app.db import make_engine, taking_turns  # noqa: PLC0415

    engine = make_engine(settings)
    try:
        with taking_turns(engine, "migrations"):
            command.upgrade(alembic_config(settings), revision)
    finally:
        engine.dispose()


def head() -> str | None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    return ScriptDirectory.from_config(alembic_config_for_scripts()).get_current_head()


def is_known(revision: str) -> bool:
    """Whether ``revision`` is one of this code's migrations (not one of a newer coursefed)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415
    from alembic.util.exc import CommandError  # noqa: PLC0415

    scripts = ScriptDirectory.from_config(alembic_config_for_scripts())
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


def alembic_config_for_scripts() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


class NotMigrated(Exception):
    """The database schema is older than this code."""


def require_head(settings: Settings) -> None:
    """Refuse to work on a database that `coursefed db upgrade` has not brought up to date."""
    found, wanted = current(settings), head()
    if found != wanted:
        raise NotMigrated(
            f"the database is at revision {found or 'none'}, this coursefed needs {wanted}: "
            "run `coursefed db upgrade`"
        )


def current(settings: Settings) -> str | None:
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    from app.db import make_engine  # noqa: PLC0415

    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()

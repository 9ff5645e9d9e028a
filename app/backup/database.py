"""The database out and back: SQLite's online backup API, PostgreSQL's ``pg_dump`` and
``pg_restore`` (custom format).

Both copies are consistent while the node keeps running: SQLite's backup API copies one
state of the file, and ``pg_dump`` runs in a snapshot exported by our own transaction, so
the facts the manifest states (revision, journal serial, counts, the files referenced)
are read from exactly the state that was dumped.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.backup.manifest import BackupError, DatabaseKind
from app.catalogue import repository as catalogue
from app.db import make_engine
from app.objects import repository as objects
from app.settings import Settings

# Tables a node writes by itself before it holds anything (the schema's revision, its
# identity, how far its journal followers got): a target with rows only in these still
# counts as empty.
BOOKKEEPING_TABLES = {"alembic_version", "node_identity", "cursors"}


@dataclass
class Facts:
    """What the dumped state holds."""

    alembic_revision: str
    journal_serial: int
    counts: dict[str, int]
    blobs: list[tuple[str, int, str]] = field(repr=False)  # (sha256, size, media type)


def database_kind(settings: Settings) -> DatabaseKind:
    name = make_url(settings.resolved_database_url).get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise BackupError(f"cannot back up or restore a {name} database: SQLite or PostgreSQL only")


def dump(settings: Settings, target: Path) -> Facts:
    """Copy the database to ``target``; the facts of the copied state."""
    if database_kind(settings) == "sqlite":
        return _dump_sqlite(settings, target)
    return _dump_postgresql(settings, target)


def check_target(settings: Settings, *, force: bool) -> None:
    """Refuse a target database that holds data, unless ``force``."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            held = _rows_held(connection)
    except SQLAlchemyError as exc:
        raise BackupError(f"the target database cannot be read: {_first_line(exc)}") from None
    finally:
        engine.dispose()
    if held and not force:
        tables = ", ".join(f"{name} ({count})" for name, count in sorted(held.items())[:5])
        raise BackupError(
            f"the target database {_shown(settings)} is not empty ({tables}): restore into a new"
            " database, or --force to replace everything it holds"
        )


def restore(settings: Settings, source: Path) -> None:
    """Replace the target database with the copy in ``source``."""
    if database_kind(settings) == "sqlite":
        _restore_sqlite(settings, source)
    else:
        _restore_postgresql(settings, source)


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.resolved_database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _dump_sqlite(settings: Settings, target: Path) -> Facts:
    path = _sqlite_path(settings)
    if not path.is_file():
        raise BackupError(f"no database at {path}: check COURSEFED_DATABASE_URL or DATA_DIR")
    target.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(path)) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy)  # pages copied under a read lock; writers only wait briefly
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite backup of {path} failed: {exc}") from None
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return _facts(connection)
    finally:
        engine.dispose()


def _restore_sqlite(settings: Settings, source: Path) -> None:
    path = _sqlite_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The backup API writes every page of the target in one transaction, so a target
        # in WAL mode (its -wal file included) ends up exactly the copy.
        with closing(sqlite3.connect(source)) as copy, closing(sqlite3.connect(path)) as target:
            copy.backup(target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite restore into {path} failed: {exc}") from None


# --- PostgreSQL -----------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools of the server's major"
            " version (Debian and Ubuntu: postgresql-client) and try again"
        )
    return found


def _libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database as a libpq URI, and an environment carrying its password (kept out of
    the command line, where other users of the machine could read it)."""
    url = make_url(settings.resolved_database_url)
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, environment


def _run(command: list[str], environment: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        raise BackupError(f"{what} failed: {reason}")


def _dump_postgresql(settings: Settings, target: Path) -> Facts:
    pg_dump = _tool("pg_dump")
    uri, environment = _libpq(settings)
    engine = make_engine(settings)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            facts = _facts(connection)
            # pg_dump sees the same state as long as this transaction stays open.
            command = [pg_dump, "--format=custom", f"--file={target}", "--no-password"]
            command += [f"--snapshot={snapshot}", f"--dbname={uri}"]
            _run(command, environment, "pg_dump")
            connection.rollback()
    except SQLAlchemyError as exc:
        raise BackupError(f"the database cannot be read: {_first_line(exc)}") from None
    finally:
        engine.dispose()
    return facts


def _restore_postgresql(settings: Settings, source: Path) -> None:
    pg_restore = _tool("pg_restore")
    uri, environment = _libpq(settings)
    engine = make_engine(settings)
    try:
        with engine.begin() as connection:
            # A migrated but empty target has tables of its own: make room for the copy's.
            tables = sa.MetaData()
            tables.reflect(connection)
            tables.drop_all(connection)
    except SQLAlchemyError as exc:
        raise BackupError(f"the target database cannot be cleared: {_first_line(exc)}") from None
    finally:
        engine.dispose()
    command = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error"]
    command += ["--single-transaction", "--no-password", f"--dbname={uri}", str(source)]
    _run(command, environment, "pg_restore")


# --- what a state holds ---------------------------------------------------------------------


def _facts(connection: Connection) -> Facts:
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None:
        raise BackupError("the database has no coursefed schema: run `coursefed db upgrade`")
    counts = _counts(connection)
    with Session(bind=connection) as session:
        serial = catalogue.last_serial(session)
        blobs = objects.every_blob(session)
    return Facts(revision, serial, counts, blobs)


def _counts(connection: Connection) -> dict[str, int]:
    counts = {}
    for name in sorted(sa.inspect(connection).get_table_names()):
        rows = sa.select(sa.func.count()).select_from(sa.table(name))
        counts[name] = int(connection.execute(rows).scalar_one())
    return counts


def _rows_held(connection: Connection) -> dict[str, int]:
    """Tables other than the bookkeeping ones that hold rows, with their counts."""
    return {
        name: count
        for name, count in _counts(connection).items()
        if count and name not in BOOKKEEPING_TABLES
    }


def _shown(settings: Settings) -> str:
    """The database, without its credentials."""
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

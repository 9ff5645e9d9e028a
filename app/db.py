"""Database engine and the one transaction boundary (``session_scope``) used by jobs and requests.

Services and repositories only ``flush()``; the request dependency or job wrapper that
opened the session commits, so side effects (indexing, journal readers) always act on
committed data.  ``consistent_read`` is the read-only transaction of long reads (the
mirror's snapshot and feed, the catalogue files): every query sees one state.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.settings import Settings


def make_engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web app read while a harvest job writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL keeps the database consistent on power loss (only the last
    # commits may be lost, and a harvest page's checkpoint goes with its records),
    # and halves the cost of each commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def consistent_read(engine: Engine) -> Iterator[Session]:
    """A read-only session whose every query sees the database as of its first query.

    PostgreSQL: one REPEATABLE READ transaction (its snapshot is taken by the first
    query).  SQLite: Python's driver runs SELECTs outside any transaction, so each query
    would see the latest commit; an explicit ``BEGIN`` makes them one read transaction,
    which WAL keeps at one consistent state while writers carry on.  The transaction is
    rolled back at the end: nothing is ever written through it.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN")
        try:
            with Session(bind=connection) as session:
                yield session
        finally:
            connection.rollback()


@contextmanager
def taking_turns(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock ``name`` across every process using this database, waiting for it.

    Work that must not run twice at once (following the journal into the search index)
    takes turns through it, however many app and worker processes there are.
    PostgreSQL: a transaction-scoped advisory lock in a transaction of its own, open for
    the duration, released when it ends or when the process dies with its connection (a
    pooler in transaction mode keeps such a lock on one server connection).  SQLite: an
    ``flock`` on a file beside the database (SQLite only serves processes of one box).
    """
    if engine.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                connection.rollback()  # nothing was written through it
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield  # one process alone can reach this database
        return
    with Path(f"{database}.{name}.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)

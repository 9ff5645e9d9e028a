"""Database engine and the one transaction boundary (``session_scope``) used by jobs and requests.

Services and repositories only ``flush()``; the request dependency or job wrapper that
opened the session commits, so side effects (indexing, journal readers) always act on
committed data.  ``consistent_read`` is the read-only transaction of long reads (the
mirror's snapshot and feed, the catalogue files): every query sees one state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
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

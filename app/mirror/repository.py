"""All SQL of the mirror API: a consistent read transaction, the journal floor, live rows.

Only columns a mirror needs are read: never ``raw_xml``, which can be large.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.catalogue.models import DigitalObject, Resource
from app.catalogue.repository import get_cursor

LiveRow = tuple[str, dict[str, Any], str]
"""(id, profile record, content hash) of a live, publishable resource."""


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Session]:
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


JOURNAL_FLOOR = "journal-floor"
"""The cursor row where compaction records the newest serial it removed."""


def journal_floor(session: Session) -> int:
    """The newest serial no longer in the journal: a follower needs ``since >= floor``.

    Compaction records it explicitly: inferring it from the smallest serial left would
    be wrong on PostgreSQL, whose sequence skips the serial of a rolled-back insert.
    0 for a journal that was never compacted.
    """
    return get_cursor(session, JOURNAL_FLOOR)


def live_rows(session: Session, ids: Sequence[str]) -> dict[str, tuple[dict[str, Any], str]]:
    """id → (record, content hash) for those of ``ids`` that are live and publishable."""
    if not ids:
        return {}
    statement = (
        select(Resource.id, Resource.record, Resource.content_hash)
        .where(col(Resource.id).in_(ids))
        .where(col(Resource.deleted).is_(False), col(Resource.publishable).is_(True))
    )
    return {rid: (dict(record), digest) for rid, record, digest in session.exec(statement)}


def live_rows_after(session: Session, after: str | None, limit: int) -> list[LiveRow]:
    """Live, publishable resources with ids after ``after`` (keyset paging), in id order."""
    statement = select(Resource.id, Resource.record, Resource.content_hash).where(
        col(Resource.deleted).is_(False), col(Resource.publishable).is_(True)
    )
    if after is not None:
        statement = statement.where(col(Resource.id) > after)
    statement = statement.order_by(col(Resource.id)).limit(limit)
    return [(rid, dict(record), digest) for rid, record, digest in session.exec(statement)]


def stored_objects(session: Session, resource_ids: Sequence[str]) -> list[DigitalObject]:
    """Digital objects of these resources whose bytes we hold (a sha256 is known)."""
    if not resource_ids:
        return []
    statement = (
        select(DigitalObject)
        .where(col(DigitalObject.resource_id).in_(resource_ids))
        .where(col(DigitalObject.sha256).is_not(None))
        .order_by(col(DigitalObject.id))
    )
    return list(session.exec(statement).all())

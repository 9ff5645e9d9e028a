"""All SQL of the mirror API: the journal floor and live rows, read in one consistent
read transaction (``read_snapshot``, from ``app.db``).

Only columns a mirror needs are read: never ``raw_xml``, which can be large.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from app.catalogue.models import DigitalObject, Resource
from app.catalogue.repository import get_cursor
from app.db import consistent_read

LiveRow = tuple[str, dict[str, Any], str]
"""(id, profile record, content hash) of a live, publishable resource."""


read_snapshot = consistent_read
"""A read-only session whose every query sees one state of the database (``app.db``)."""


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

"""All SQL for the catalogue: resources and the change journal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.catalogue.models import Cursor, DigitalObject, JournalEntry, Resource, ResourceIssue
from app.clock import utcnow

# Any constant works; it only has to be the same for every writer of the journal.
_JOURNAL_LOCK_KEY = 0x636F7572  # "cour"
# Ids per ``IN (...)``: well inside every engine's limit on bound parameters.
_IN_CHUNK = 500


def get_resource(session: Session, resource_id: str) -> Resource | None:
    return session.get(Resource, resource_id)


def get_resources(session: Session, ids: Sequence[str]) -> list[Resource]:
    if not ids:
        return []
    return list(session.exec(select(Resource).where(col(Resource.id).in_(ids))).all())


def published_resources(session: Session, ids: Sequence[str]) -> list[Resource]:
    """The resources of ``ids`` a learner may see (live and published)."""
    if not ids:
        return []
    statement = select(Resource).where(
        col(Resource.id).in_(ids),
        col(Resource.deleted).is_(False),
        col(Resource.publishable).is_(True),
    )
    return list(session.exec(statement).all())


def published_by_oai_identifier(
    session: Session, source_id: int | None, identifiers: Sequence[str]
) -> list[Resource]:
    """The source's live, published resources with these OAI identifiers (its unique
    index on source and identifier answers)."""
    if not identifiers:
        return []
    source = (
        col(Resource.source_id).is_(None)
        if source_id is None
        else col(Resource.source_id) == source_id
    )
    statement = select(Resource).where(
        source,
        col(Resource.oai_identifier).in_(identifiers),
        col(Resource.deleted).is_(False),
        col(Resource.publishable).is_(True),
    )
    return list(session.exec(statement).all())


def objects_of_resource(session: Session, resource_id: str) -> list[DigitalObject]:
    """The files a resource names, in the order they were noted."""
    statement = (
        select(DigitalObject)
        .where(DigitalObject.resource_id == resource_id)
        .order_by(col(DigitalObject.id))
    )
    return list(session.exec(statement))


def append_journal_entries(session: Session, entries: list[dict[str, Any]]) -> None:
    """Write journal entries, in order, in the caller's transaction.

    Each entry is ``{resource_id, op, content_hash, created_at}``.  On PostgreSQL a
    sequence hands out serials at insert time, so two transactions could commit out of
    serial order and a follower reading ``serial > N`` would skip the late one.  A
    transaction-scoped advisory lock makes journal writers take turns, so serials become
    visible in order.  SQLite has a single writer anyway.
    """
    transaction = session.get_transaction()
    if session.info.get("journal_locked") is not transaction:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _JOURNAL_LOCK_KEY})
        session.info["journal_locked"] = transaction
    session.execute(insert(JournalEntry), entries)


def journal_since(session: Session, serial: int, limit: int) -> list[JournalEntry]:
    statement = (
        select(JournalEntry)
        .where(col(JournalEntry.serial) > serial)
        .order_by(col(JournalEntry.serial))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def last_serial(session: Session) -> int:
    newest = session.exec(select(func.max(JournalEntry.serial))).one()
    return int(newest or 0)


def get_cursor(session: Session, name: str) -> int:
    cursor = session.get(Cursor, name)
    return cursor.serial if cursor else 0


def cursors_named_like(session: Session, prefix: str, suffix: str = "") -> list[Cursor]:
    """Cursors whose name starts with ``prefix`` and ends with ``suffix`` (plain names of
    our own, without ``%`` or ``_``)."""
    statement = select(Cursor).where(col(Cursor.name).like(f"{prefix}%{suffix}"))
    return list(session.exec(statement.order_by(col(Cursor.name))).all())


def set_cursor(session: Session, name: str, serial: int) -> None:
    cursor = session.get(Cursor, name)
    if cursor is None:
        session.add(Cursor(name=name, serial=serial))
    else:
        cursor.serial = serial
        cursor.updated_at = utcnow()
        session.add(cursor)
    session.flush()


def live_resources_after(session: Session, after: str, limit: int) -> list[Resource]:
    """Searchable resources (live, publishable) with ids after ``after``, in id order."""
    statement = (
        select(Resource)
        .where(col(Resource.id) > after)
        .where(col(Resource.deleted).is_(False), col(Resource.publishable).is_(True))
        .order_by(col(Resource.id))
        .limit(limit)
    )
    return list(session.exec(statement).all())


# --- sitemaps: every live, publishable resource once, by keyset over ids ------------------


def _live() -> Any:
    return and_(col(Resource.deleted).is_(False), col(Resource.publishable).is_(True))


def live_stamps(
    session: Session, first: str, before: str | None, limit: int
) -> list[tuple[str, datetime]]:
    """(id, updated_at) of live, publishable resources with ``first <= id < before``, in
    id order, at most ``limit``: one range of the primary key, whatever the table's size."""
    statement = select(Resource.id, Resource.updated_at).where(_live(), col(Resource.id) >= first)
    if before is not None:
        statement = statement.where(col(Resource.id) < before)
    statement = statement.order_by(col(Resource.id)).limit(limit)
    return [(row[0], row[1]) for row in session.exec(statement)]


def live_id_after(session: Session, first: str, skip: int) -> str | None:
    """The id ``skip`` live, publishable resources after ``first`` (itself counted as the
    0th) in id order, None past the end: a step over ``skip`` entries of the index from a
    known key, so walking the catalogue page by page reads each entry once."""
    statement = (
        select(Resource.id)
        .where(_live(), col(Resource.id) >= first)
        .order_by(col(Resource.id))
        .offset(skip)
        .limit(1)
    )
    return session.exec(statement).first()


def live_range_summary(
    session: Session, first: str, before: str | None
) -> tuple[int, datetime | None]:
    """How many live, publishable resources have ``first <= id < before``, and the newest
    ``updated_at`` among them."""
    statement = select(func.count(), func.max(Resource.updated_at)).where(
        _live(), col(Resource.id) >= first
    )
    if before is not None:
        statement = statement.where(col(Resource.id) < before)
    count, newest = session.exec(statement).one()
    return int(count or 0), newest


# --- the live catalogue by first harvest (catalogue files), keyset over (created_at, id) ----

FirstHarvestRow = tuple[str, dict[str, Any], str | None, datetime]
"""(id, profile record, institution id, created_at)."""


def _first_harvested_between(start: datetime | None, end: datetime | None) -> list[Any]:
    clauses = [_live()]
    if start is not None:
        clauses.append(col(Resource.created_at) >= start)
    if end is not None:
        clauses.append(col(Resource.created_at) < end)
    return clauses


def live_by_first_harvest(
    session: Session,
    *,
    start: datetime | None,
    end: datetime | None,
    institution_ids: Sequence[str] | None,
    source_ids: Sequence[int | None] | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[FirstHarvestRow]:
    """Live, publishable resources first stored in ``[start, end)`` (either open), of
    these schools and sources (``None``: any; a ``None`` source is a local record), after
    the key ``after`` in (created_at, id) order, at most ``limit``.  Never ``raw_xml``."""
    statement = select(
        Resource.id, Resource.record, Resource.institution_id, Resource.created_at
    ).where(*_first_harvested_between(start, end))
    if institution_ids is not None:
        statement = statement.where(col(Resource.institution_id).in_(institution_ids))
    if source_ids is not None:
        numbered = [source for source in source_ids if source is not None]
        chosen = [col(Resource.source_id).in_(numbered)]
        if None in source_ids:
            chosen.append(col(Resource.source_id).is_(None))
        statement = statement.where(or_(*chosen))
    if after is not None:
        moment, resource_id = after
        # ``>=`` first, so the index range starts at the key; then past the key itself.
        statement = statement.where(
            col(Resource.created_at) >= moment,
            or_(col(Resource.created_at) > moment, col(Resource.id) > resource_id),
        )
    statement = statement.order_by(col(Resource.created_at), col(Resource.id)).limit(limit)
    return [
        (rid, dict(record), school, created)
        for rid, record, school, created in session.exec(statement)
    ]


def count_live_first_harvested(
    session: Session, start: datetime | None, end: datetime | None
) -> int:
    """How many live, publishable resources were first stored in ``[start, end)``."""
    statement = select(func.count()).where(*_first_harvested_between(start, end))
    return int(session.exec(statement).one() or 0)


def live_first_harvest_span(session: Session) -> tuple[datetime | None, datetime | None]:
    """When the first and the last live, publishable resources were first stored."""
    statement = select(func.min(Resource.created_at), func.max(Resource.created_at)).where(_live())
    first, last = session.exec(statement).one()
    return first, last


# --- one source's resources ------------------------------------------------------------------


def live_ids_of_source(session: Session, source_id: int) -> list[str]:
    """Ids of the source's resources that are not tombstones."""
    statement = (
        select(Resource.id)
        .where(Resource.source_id == source_id)
        .where(col(Resource.deleted).is_(False))
    )
    return list(session.exec(statement).all())


def unpublishable_of_source(session: Session, source_id: int, *, limit: int) -> list[Resource]:
    """Live resources of the source held back by validation errors, by OAI identifier."""
    statement = (
        select(Resource)
        .where(Resource.source_id == source_id)
        .where(col(Resource.deleted).is_(False), col(Resource.publishable).is_(False))
        .order_by(col(Resource.oai_identifier))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def live_count_and_quality(session: Session, source_id: int) -> tuple[int, float | None]:
    """How many live resources the source has, and their mean quality (None for none)."""
    statement = (
        select(func.count(), func.avg(Resource.quality))
        .where(Resource.source_id == source_id)
        .where(col(Resource.deleted).is_(False))
    )
    count, mean = session.exec(statement).one()
    return int(count or 0), None if mean is None else float(mean)


def institution_counts(session: Session) -> dict[str, int]:
    """Live, published resources per institution id."""
    statement = (
        select(Resource.institution_id, func.count())
        .where(col(Resource.institution_id).is_not(None))
        .where(col(Resource.deleted).is_(False), col(Resource.publishable).is_(True))
        .group_by(col(Resource.institution_id))
    )
    return {str(key): int(count) for key, count in session.exec(statement).all()}


def resources_of_institution(session: Session, institution_id: str) -> list[Resource]:
    statement = (
        select(Resource).where(Resource.institution_id == institution_id).order_by(col(Resource.id))
    )
    return list(session.exec(statement).all())


def resources_for_seeding(
    session: Session, *, after: str, limit: int, every: bool
) -> list[Resource]:
    statement = select(Resource).where(col(Resource.id) > after).order_by(col(Resource.id))
    statement = statement.limit(limit)
    if not every:
        statement = statement.where(col(Resource.institution_id).is_(None))
    return list(session.exec(statement).all())


# --- records by issue code -------------------------------------------------------------------


def replace_issue_rows(session: Session, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Make ``resource_issues`` hold exactly ``rows[id]`` for each resource id given."""
    ids = list(rows)
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        session.execute(delete(ResourceIssue).where(col(ResourceIssue.resource_id).in_(chunk)))
    values = [row for resource_rows in rows.values() for row in resource_rows]
    if values:
        session.execute(insert(ResourceIssue), values)


def _issue_of_source(source_id: int | None) -> Any:
    column = col(ResourceIssue.source_id)
    return column.is_(None) if source_id is None else column == source_id


def issue_counts_of_source(session: Session, source_id: int | None) -> list[tuple[str, str, int]]:
    """(code, severity, live records) of one source, read from the issue index alone."""
    statement = (
        select(ResourceIssue.code, ResourceIssue.severity, func.count())
        .where(_issue_of_source(source_id))
        .group_by(col(ResourceIssue.code), col(ResourceIssue.severity))
    )
    return [(str(c), str(s), int(n)) for c, s, n in session.exec(statement)]


def issue_counts_by_source(session: Session) -> list[tuple[int | None, str, str, int]]:
    """(source id, code, severity, live records) of every source."""
    statement = select(
        ResourceIssue.source_id, ResourceIssue.code, ResourceIssue.severity, func.count()
    ).group_by(col(ResourceIssue.source_id), col(ResourceIssue.code), col(ResourceIssue.severity))
    return [(i, str(c), str(s), int(n)) for i, c, s, n in session.exec(statement)]


def count_with_issue(session: Session, source_id: int | None, code: str) -> dict[str, int]:
    """severity → live records of the source carrying ``code`` (one range of the index)."""
    statement = (
        select(ResourceIssue.severity, func.count())
        .where(_issue_of_source(source_id), col(ResourceIssue.code) == code)
        .group_by(col(ResourceIssue.severity))
    )
    return {str(severity): int(n) for severity, n in session.exec(statement)}


def ids_with_issue(
    session: Session, source_id: int | None, code: str, *, offset: int, limit: int
) -> list[str]:
    """Ids of the source's live resources whose issues carry ``code``, in id order: one
    range of the issue index."""
    statement = (
        select(ResourceIssue.resource_id)
        .where(_issue_of_source(source_id), col(ResourceIssue.code) == code)
        .order_by(col(ResourceIssue.resource_id))
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(statement).all())


def issue_listing(session: Session, ids: Sequence[str]) -> list[tuple[str, str, bool, Any, Any]]:
    """(id, oai_identifier, publishable, record, issues) of these resources, in no order."""
    if not ids:
        return []
    statement = sa_select(
        col(Resource.id),
        col(Resource.oai_identifier),
        col(Resource.publishable),
        col(Resource.record),
        col(Resource.issues),
    ).where(col(Resource.id).in_(ids))
    return [(r[0], r[1], bool(r[2]), r[3], r[4]) for r in session.execute(statement)]


# --- quality ----------------------------------------------------------------------------------


def quality_groups(session: Session, source_id: int) -> list[tuple[bool, float, int]]:
    """(publishable, quality, live records) of one source: few groups (the score takes
    a handful of values), read from ``ix_resources_source_quality`` alone."""
    statement = (
        select(Resource.publishable, Resource.quality, func.count())
        .where(Resource.source_id == source_id)
        .where(col(Resource.deleted).is_(False))
        .group_by(col(Resource.publishable), col(Resource.quality))
    )
    return [(bool(p), float(q), int(n)) for p, q, n in session.exec(statement)]


def quality_groups_by_source(session: Session) -> list[tuple[int | None, bool, float, int]]:
    """(source id, publishable, quality, live records) of every source.

    Grouped by every column of ``ix_resources_source_quality`` with no condition, so
    the engines read that index alone, in order; tombstones are left out here instead
    of in SQL, where ``deleted = false`` would lead SQLite to the wide rows.
    """
    columns = [
        col(Resource.source_id),
        col(Resource.deleted),
        col(Resource.publishable),
        col(Resource.quality),
    ]
    statement = sa_select(*columns, func.count()).group_by(*columns)
    rows = session.execute(statement)
    return [(i, bool(p), float(q), int(n)) for i, d, p, q, n in rows if not d]

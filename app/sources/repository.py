"""All SQL of the sources domain: sources, their worker leases, harvest runs, failed records,
conformance results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.sources.models import ConformanceResult, FailedRecord, HarvestRun, Source

# --- sources ---------------------------------------------------------------------------------


def get_source(session: Session, source_id: int) -> Source | None:
    return session.get(Source, source_id)


def source_by_slug(session: Session, slug: str) -> Source | None:
    return session.exec(select(Source).where(Source.slug == slug)).first()


def source_by_name(session: Session, name: str) -> Source | None:
    return session.exec(select(Source).where(Source.name == name)).first()


def list_sources(session: Session) -> list[Source]:
    """Every source, in slug order."""
    return list(session.exec(select(Source).order_by(col(Source.slug))).all())


def save(session: Session, row: Source | HarvestRun | ConformanceResult) -> None:
    """Add a new or changed row to the transaction and write it (a new row gets its id)."""
    session.add(row)
    session.flush()


# --- leases ----------------------------------------------------------------------------------


def take_lease(
    session: Session,
    source_id: int,
    *,
    held_by: str | None,
    owner: str,
    until: datetime,
    due_at: datetime | None = None,
) -> bool:
    """Give the lease to ``owner`` if ``held_by`` still holds it: a compare-and-swap, so
    of two workers (on several hosts) that saw the same holder only one wins.  With
    ``due_at``, only while the source's next harvest is due by then."""
    holder = col(Source.lease_owner)
    statement = (
        update(Source)
        .where(col(Source.id) == source_id)
        .where(holder.is_(None) if held_by is None else holder == held_by)
        .values(lease_owner=owner, lease_until=until)
    )
    if due_at is not None:
        due = col(Source.next_harvest_at)
        statement = statement.where(or_(due.is_(None), due <= due_at))
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def extend_lease(session: Session, source_id: int, *, owner: str, until: datetime) -> bool:
    """Move the end of ``owner``'s lease; False when another worker holds the source now."""
    statement = (
        update(Source)
        .where(col(Source.id) == source_id, col(Source.lease_owner) == owner)
        .values(lease_until=until)
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def release_lease(session: Session, source_id: int, *, owner: str) -> None:
    """Free the source if ``owner`` still holds it."""
    session.execute(
        update(Source)
        .where(col(Source.id) == source_id, col(Source.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
    )


# --- harvest runs ------------------------------------------------------------------------------


def get_run(session: Session, run_id: int) -> HarvestRun | None:
    return session.get(HarvestRun, run_id)


def latest_run(
    session: Session, source_id: int, *, kind: str | None = None, status: str | None = None
) -> HarvestRun | None:
    """The source's newest run, of ``kind`` (harvest, reconcile) and ``status`` if given."""
    statement = select(HarvestRun).where(HarvestRun.source_id == source_id)
    if kind is not None:
        statement = statement.where(HarvestRun.kind == kind)
    if status is not None:
        statement = statement.where(HarvestRun.status == status)
    return session.exec(statement.order_by(col(HarvestRun.id).desc())).first()


def runs_of_source(
    session: Session, source_id: int, *, offset: int, limit: int
) -> tuple[list[HarvestRun], int]:
    """The source's runs, newest first, ``limit`` from ``offset``; and how many it has."""
    statement = (
        select(HarvestRun)
        .where(HarvestRun.source_id == source_id)
        .order_by(col(HarvestRun.id).desc())
        .offset(offset)
        .limit(limit)
    )
    count = select(func.count()).select_from(HarvestRun).where(HarvestRun.source_id == source_id)
    return list(session.exec(statement).all()), int(session.exec(count).one())


def finished_runs(
    session: Session, source_id: int, *, limit: int, kept: bool = False
) -> list[HarvestRun]:
    """The source's ``limit`` newest finished runs, newest first; ``kept``: only those that
    kept the catalogue's figures (runs since they were kept)."""
    statement = select(HarvestRun).where(
        HarvestRun.source_id == source_id, col(HarvestRun.finished_at).is_not(None)
    )
    if kept:
        statement = statement.where(col(HarvestRun.mean_quality).is_not(None))
    return list(session.exec(statement.order_by(col(HarvestRun.id).desc()).limit(limit)).all())


def last_success(session: Session, source_id: int) -> HarvestRun | None:
    """The source's newest harvest that listed everything: ``succeeded``, or ``partial``
    for records it could not read only (no error: not stopped at a bound)."""
    statement = (
        select(HarvestRun)
        .where(HarvestRun.source_id == source_id, HarvestRun.kind == "harvest")
        .where(col(HarvestRun.status).in_(("succeeded", "partial")))
        .where(col(HarvestRun.error).is_(None), col(HarvestRun.finished_at).is_not(None))
        .order_by(col(HarvestRun.id).desc())
    )
    return session.exec(statement).first()


def running_since(session: Session, moment: datetime) -> list[tuple[str, HarvestRun]]:
    """Runs still ``running`` that started before ``moment``, oldest first, with their
    source's slug."""
    statement = (
        select(Source.slug, HarvestRun)
        .join(HarvestRun, col(HarvestRun.source_id) == col(Source.id))
        .where(col(HarvestRun.status) == "running", col(HarvestRun.started_at) < moment)
        .order_by(col(HarvestRun.started_at))
    )
    return [(slug, run) for slug, run in session.exec(statement).all()]


LAST_RUN_COLUMNS = (
    col(HarvestRun.status),
    col(HarvestRun.started_at),
    col(HarvestRun.finished_at),
    col(HarvestRun.records_seen),
    col(HarvestRun.records_added),
    col(HarvestRun.records_updated),
    col(HarvestRun.records_unchanged),
    col(HarvestRun.records_deleted),
    col(HarvestRun.records_failed),
    col(HarvestRun.error),
)


def latest_finished_harvests(session: Session) -> list[tuple[Any, ...]]:
    """Each source's newest finished harvest: its slug, then ``LAST_RUN_COLUMNS``.

    Reads a few columns of one run per source (the newest run id per source, by the
    runs' source index), never a run's events or issue counts.
    """
    newest = (
        select(col(HarvestRun.source_id), func.max(HarvestRun.id).label("run_id"))
        .where(HarvestRun.kind == "harvest", col(HarvestRun.finished_at).is_not(None))
        .group_by(col(HarvestRun.source_id))
        .subquery()
    )
    statement = (
        sa_select(col(Source.slug), *LAST_RUN_COLUMNS)
        .select_from(HarvestRun)
        .join(newest, col(HarvestRun.id) == newest.c.run_id)
        .join(Source, col(Source.id) == col(HarvestRun.source_id))
        .order_by(col(Source.slug))
    )
    return [tuple(row) for row in session.execute(statement).all()]


def last_success_times(session: Session) -> list[tuple[str, datetime]]:
    """Each source's slug and when its newest harvest that listed everything finished
    (as ``last_success`` counts one)."""
    statement = (
        select(col(Source.slug), func.max(HarvestRun.finished_at))
        .join(HarvestRun, col(HarvestRun.source_id) == col(Source.id))
        .where(HarvestRun.kind == "harvest")
        .where(col(HarvestRun.status).in_(("succeeded", "partial")))
        .where(col(HarvestRun.error).is_(None), col(HarvestRun.finished_at).is_not(None))
        .group_by(col(Source.slug))
    )
    return [(slug, moment) for slug, moment in session.exec(statement).all() if moment]


# --- failed records ------------------------------------------------------------------------------


def add_failed_record(
    session: Session,
    *,
    run_id: int,
    source_id: int,
    identifier: str | None,
    datestamp: str | None,
    reason: str,
    raw: bytes | None,
) -> None:
    """Keep a record a run could not read or store, with its raw bytes (written with the
    run's page)."""
    session.add(
        FailedRecord(
            run_id=run_id,
            source_id=source_id,
            identifier=identifier,
            datestamp=datestamp,
            reason=reason,
            raw=raw,
        )
    )


def failed_records(session: Session, run_id: int, *, limit: int) -> list[FailedRecord]:
    """The first ``limit`` records the run could not read or store, in the order met."""
    statement = (
        select(FailedRecord)
        .where(FailedRecord.run_id == run_id)
        .order_by(col(FailedRecord.id))
        .limit(limit)
    )
    return list(session.exec(statement).all())


# --- conformance results ---------------------------------------------------------------------


def get_conformance(session: Session, source_id: int) -> ConformanceResult | None:
    return session.get(ConformanceResult, source_id)

"""All SQL of the objects domain: blobs by sha256, the fetch queue, checks and counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, literal_column, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from app.catalogue.models import DigitalObject
from app.clock import utcnow
from app.objects.cache import ServedBlob
from app.objects.models import Blob
from app.sources.models import Source

# Built once: building and compiling the select costs more than running it.
_SERVED_BLOB = select(
    col(Blob.sha256), col(Blob.size), col(Blob.media_type), col(Blob.file_name)
).where(col(Blob.sha256) == bindparam("sha256"))


def get_blob(session: Session, sha256: str) -> Blob | None:
    return session.get(Blob, sha256)


def served_blob(connection: Connection, sha256: str) -> ServedBlob | None:
    """What a download needs of the blob's row, if there is one; on a plain connection,
    as an ORM session would cost more than the query a download waits for."""
    row = connection.execute(_SERVED_BLOB, {"sha256": sha256}).first()
    return None if row is None else ServedBlob(*row)


def upsert_blob(
    session: Session,
    *,
    sha256: str,
    size: int,
    media_type: str,
    file_name: str | None,
    stored_at: datetime | None = None,
    uploaded_by_source_id: int | None = None,
) -> Blob:
    """Record bytes now in S3; safe when two writers store the same content at once: the
    first writer's row stands, a later one only fills a file name the first did not know."""
    values = {
        "sha256": sha256,
        "size": size,
        "media_type": media_type,
        "file_name": file_name,
        "stored_at": stored_at or utcnow(),
        "uploaded_by_source_id": uploaded_by_source_id,
    }
    session.execute(_insert_blobs(session), values)
    blob = session.get(Blob, sha256, populate_existing=True)
    assert blob is not None  # noqa: S101 - written just above, in this transaction
    return blob


def _insert_blobs(session: Session) -> Any:
    """INSERT into blobs where a row already there keeps all but a file name it lacked."""
    dialect = session.get_bind().dialect.name
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(Blob)
    return statement.on_conflict_do_update(
        index_elements=[col(Blob.sha256)],
        set_={"file_name": func.coalesce(col(Blob.file_name), statement.excluded.file_name)},
    )


def record_verification(session: Session, sha256: str, status: str, at: datetime) -> None:
    """Record a check of the stored bytes: ``ok``, ``corrupt`` or ``missing``."""
    session.execute(
        update(Blob)
        .where(col(Blob.sha256) == sha256)
        .values(verify_status=status, last_verified_at=at)
    )


# --- the fetch queue -------------------------------------------------------------------------


def objects_of_resources(session: Session, resource_ids: Sequence[str]) -> list[DigitalObject]:
    if not resource_ids:
        return []
    statement = select(DigitalObject).where(col(DigitalObject.resource_id).in_(resource_ids))
    return list(session.exec(statement))


class DueObject(NamedTuple):
    """What the fetcher needs of a due row (whole ORM rows cost more than the download)."""

    id: int
    url: str
    source_id: int | None
    attempts: int


def due_objects(
    session: Session, now: datetime, *, limit: int, source_id: int | None = None
) -> list[DueObject]:
    """Pending rows whose next attempt is due, the longest waiting first."""
    statement = (
        select(DigitalObject.id, DigitalObject.url, DigitalObject.source_id, DigitalObject.attempts)
        .where(DigitalObject.status == "pending")
        # A pending row that knows its sha256 awaits a copy from a mirror's upstream.
        .where(col(DigitalObject.sha256).is_(None))
        .where(_due(now))
        .order_by(col(DigitalObject.next_attempt_at).is_not(None), col(DigitalObject.id))
        .limit(limit)
    )
    if source_id is not None:
        statement = statement.where(DigitalObject.source_id == source_id)
    return [
        DueObject(row_id, url, source, attempts)
        for row_id, url, source, attempts in session.exec(statement)
        if row_id is not None
    ]


def _due(now: datetime) -> Any:
    next_attempt = col(DigitalObject.next_attempt_at)
    return or_(next_attempt.is_(None), next_attempt <= now)


LEASE_CHUNK = 500  # ids per statement, well under every database's parameter limit


def lease_objects(
    session: Session, object_ids: Sequence[int], now: datetime | None, until: datetime
) -> set[int]:
    """Compare-and-set: take the pending rows of ``object_ids`` due at ``now`` (with ``now``
    None: a fetcher's own, to renew) until ``until``; the ids taken, without those another
    worker took or finished meanwhile.  One statement per ``LEASE_CHUNK`` ids."""
    taken: set[int] = set()
    for first in range(0, len(object_ids), LEASE_CHUNK):
        statement = (
            update(DigitalObject)
            .where(col(DigitalObject.id).in_(object_ids[first : first + LEASE_CHUNK]))
            .where(col(DigitalObject.status) == "pending")
            .values(next_attempt_at=until)
            .returning(col(DigitalObject.id))
            # No ORM rows of these ids are loaded in the session: nothing to refresh.
            .execution_options(synchronize_session=False)
        )
        if now is not None:
            statement = statement.where(_due(now))
        taken.update(session.execute(statement).scalars())
    return taken


def source_policies(
    session: Session, source_ids: set[int | None]
) -> dict[int | None, tuple[bool, int | None]]:
    """source id → (may reach private networks, per-object byte cap or None)."""
    ids = [i for i in source_ids if i is not None]
    if not ids:
        return {}
    statement = select(Source).where(col(Source.id).in_(ids))
    return {s.id: (s.allow_private_network, s.max_object_bytes) for s in session.exec(statement)}


def sources_over_quota(session: Session, quota: int) -> set[int | None]:
    """Sources whose stored objects (distinct files) add up to ``quota`` bytes or more."""
    per_file = (
        select(DigitalObject.source_id, DigitalObject.sha256, func.max(DigitalObject.size))
        .where(DigitalObject.status == "stored")
        .group_by(col(DigitalObject.source_id), col(DigitalObject.sha256))
        .subquery()
    )
    statement = (
        select(per_file.c.source_id)
        .group_by(per_file.c.source_id)
        .having(func.sum(per_file.c[2]) >= quota)
    )
    return set(session.execute(statement).scalars())


def mark_links(session: Session, ids: Sequence[int], status: str, when: datetime) -> None:
    _set(session, ids, link_status=status, link_checked_at=when)


def _set(session: Session, ids: Sequence[int], **values: Any) -> None:
    """Set ``values`` on the objects rows ``ids``."""
    session.execute(update(DigitalObject).where(col(DigitalObject.id).in_(ids)).values(**values))


# --- verification and link checks -------------------------------------------------------------


def blobs_to_verify(session: Session, sample: int | None) -> list[str]:
    """sha256 of stored blobs: a random sample, or all (the least recently verified first)."""
    verified = col(Blob.last_verified_at)
    statement = select(Blob.sha256)
    if sample is not None:
        statement = statement.order_by(func.random()).limit(sample)
    else:
        statement = statement.order_by(verified.is_not(None), verified)
    return list(session.exec(statement))


def mark_objects_verified(session: Session, sha256: str, at: datetime) -> None:
    """Rows holding ``sha256``: their copy was just read back intact."""
    session.execute(
        update(DigitalObject).where(col(DigitalObject.sha256) == sha256).values(last_verified_at=at)
    )


def refetch(session: Session, sha256: str, reason: str) -> int:
    """Send every row holding ``sha256`` back to the fetcher; returns how many."""
    result: Any = session.execute(
        update(DigitalObject)
        .where(col(DigitalObject.sha256) == sha256)
        .values(
            status="pending",
            sha256=None,
            attempts=0,
            next_attempt_at=None,
            status_reason=f"{reason}; fetching again",
        )
    )
    return int(result.rowcount or 0)


def links_to_check(session: Session, before: datetime, sample: int) -> list[DigitalObject]:
    """Rows with a source link not checked since ``before``, chosen at random."""
    checked = col(DigitalObject.link_checked_at)
    statement = (
        select(DigitalObject)
        .where(col(DigitalObject.status).in_(("stored", "failed")))
        .where(or_(checked.is_(None), checked < before))
        .order_by(func.random())
        .limit(sample)
    )
    return list(session.exec(statement))


def status_counts(session: Session) -> list[tuple[str, str, int, int]]:
    """(source slug, status, objects, bytes) for every source and status."""
    # 'local' inline, not a bound parameter: PostgreSQL sees each bound parameter as a
    # distinct value, so the selected expression would not be the grouped one.
    slug = func.coalesce(Source.slug, literal_column("'local'"))
    statement = (
        select(
            slug,
            DigitalObject.status,
            func.count(),
            func.coalesce(func.sum(DigitalObject.size), 0),
        )
        .select_from(DigitalObject)
        .outerjoin(Source, col(Source.id) == col(DigitalObject.source_id))
        .group_by(slug, col(DigitalObject.status))
        .order_by(slug, col(DigitalObject.status))
    )
    return [(str(a), str(b), int(c), int(d)) for a, b, c, d in session.execute(statement)]


# --- mirrored objects ---------------------------------------------------------------------------


def awaiting_copy(session: Session, source_id: int | None) -> dict[str, list[int]]:
    """sha256 → ids of the source's pending rows that expect those bytes from upstream."""
    statement = (
        select(DigitalObject.id, DigitalObject.sha256)
        .where(DigitalObject.status == "pending")
        .where(col(DigitalObject.sha256).is_not(None))
        .where(DigitalObject.source_id == source_id)
        .order_by(col(DigitalObject.id))
    )
    waiting: dict[str, list[int]] = {}
    for row_id, sha256 in session.exec(statement):
        if row_id is not None and sha256 is not None:
            waiting.setdefault(sha256, []).append(row_id)
    return waiting


def mark_stored(
    session: Session, ids: Sequence[int], *, sha256: str, size: int | None, media_type: str | None
) -> None:
    _set(session, ids, **stored_columns(sha256, size, media_type, utcnow()))


def stored_columns(
    sha256: str, size: int | None, media_type: str | None, now: datetime
) -> dict[str, Any]:
    """The columns of a row whose file is now held (fetched, or copied from upstream)."""
    return {
        "status": "stored",
        "status_reason": None,
        "sha256": sha256,
        "size": size,
        "media_type": media_type,
        "fetched_at": now,
        "last_verified_at": now,
        "next_attempt_at": None,
    }


def note_reason(session: Session, ids: Sequence[int], reason: str) -> None:
    _set(session, ids, status_reason=reason[:2000])


# --- the fetcher's batches ----------------------------------------------------------------------


_HELD = (
    select(Blob.sha256)
    .where(col(Blob.sha256) == bindparam("sha256"))
    .where(or_(col(Blob.verify_status).is_(None), col(Blob.verify_status) == "ok"))
)


def blob_is_held(connection: Connection, sha256: str) -> bool:
    """S3 holds these bytes, as far as we know (verification found nothing wrong); on a
    plain connection, as the fetcher asks once per download."""
    return connection.execute(_HELD, {"sha256": sha256}).first() is not None


def record_fetched_blobs(session: Session, blobs: Sequence[dict[str, Any]]) -> None:
    """Upsert many blobs at once (``upsert_blob`` semantics; other keys are ignored);
    ``verified`` ones were hashed on their way into S3 just now: their copy is intact."""
    if not blobs:
        return
    columns = ("sha256", "size", "media_type", "file_name", "stored_at")
    rows = {blob["sha256"]: {k: blob[k] for k in columns} for blob in blobs}
    session.execute(_insert_blobs(session), [rows[sha] for sha in sorted(rows)])
    verified = sorted({blob["sha256"] for blob in blobs if blob.get("verified")})
    if verified:
        session.execute(
            update(Blob)
            .where(col(Blob.sha256).in_(verified))
            .values(verify_status="ok", last_verified_at=blobs[0]["stored_at"])
            .execution_options(synchronize_session=False)
        )


def update_objects(session: Session, changes: Sequence[dict[str, Any]]) -> None:
    """Apply per-row changes (each a dict with ``id`` and the columns to set) with
    SQLAlchemy's bulk UPDATE by primary key: one executemany per set of columns, the
    changes that set the same columns being put side by side."""
    session.execute(update(DigitalObject), sorted(changes, key=sorted))


def fill_file_names(session: Session, names: Sequence[tuple[int, str]]) -> None:
    """Give rows without a file name the one their download brought."""
    if not names:
        return
    session.execute(
        update(DigitalObject)
        .where(col(DigitalObject.file_name).is_(None))
        # The rows are not loaded in this session: there is nothing to synchronise.
        .execution_options(synchronize_session=None),
        [{"id": row_id, "file_name": name[:300]} for row_id, name in names],
    )


# --- what is held ---------------------------------------------------------------------------


def blob_totals(session: Session) -> tuple[int, int]:
    """(distinct files held, their bytes)."""
    statement = select(func.count(), func.coalesce(func.sum(Blob.size), 0)).select_from(Blob)
    files, size = session.execute(statement).one()
    return int(files), int(size)


def object_counts(
    session: Session, source_id: int | None = None
) -> list[tuple[str, str | None, int, int]]:
    """(status, link status, rows, bytes) of the ``objects`` rows, all or one source's."""
    size = func.coalesce(func.sum(DigitalObject.size), 0)
    statement = select(DigitalObject.status, DigitalObject.link_status, func.count(), size)
    if source_id is not None:
        statement = statement.where(DigitalObject.source_id == source_id)
    by = (col(DigitalObject.status), col(DigitalObject.link_status))
    statement = statement.group_by(*by).order_by(*by)
    return [(str(a), b, int(c), int(d or 0)) for a, b, c, d in session.execute(statement)]


def every_blob(session: Session) -> list[tuple[str, int, str]]:
    """(sha256, size, media type) of every blob, in sha256 order (what a backup copies)."""
    statement = select(Blob.sha256, Blob.size, Blob.media_type).order_by(col(Blob.sha256))
    return [(str(a), int(b), str(c)) for a, b, c in session.execute(statement)]

"""The change feed: journal entries after a serial, each with its resource's current record.

A mirror asks for ``since`` = the last serial it applied and applies the entries in
order: an entry with a record replaces the mirror's copy, an entry without one removes
it.  Every serial in the window is returned, even several of one resource, so a mirror
can check that it saw them all; the record is always the current state (read in the
same transaction as the journal), so applying a page leaves the mirror consistent.
"""

from __future__ import annotations

from sqlmodel import Session

from app.catalogue import repository as catalogue
from app.errors import Gone, InvalidParameter
from app.mirror import repository
from app.mirror.manifest import index_stored, manifest
from app.mirror.schemas import ChangeEntry, ChangesResponse, Op

SNAPSHOT_PATH = "/api/v1/snapshot"


def changes_since(session: Session, since: int, limit: int) -> ChangesResponse:
    """At most ``limit`` entries with serials after ``since``, in serial order.

    Raises ``Gone`` when entries after ``since`` were compacted away (the mirror must
    start again from the snapshot), and ``InvalidParameter`` when ``since`` is ahead of
    the journal, which only a restored or replaced database can cause.
    """
    latest = catalogue.last_serial(session)
    if since > latest:
        message = (
            f"since={since} is ahead of the newest serial {latest}: this is not the "
            f"catalogue the mirror followed; start again from {SNAPSHOT_PATH}"
        )
        raise InvalidParameter([{"parameter": "since", "message": message}])
    floor = repository.journal_floor(session)
    if since < floor:
        raise Gone(
            {
                "message": f"changes up to serial {floor} are no longer kept; "
                f"load the snapshot and follow the feed from its serial",
                "since": since,
                "journal_floor": floor,
                "snapshot": SNAPSHOT_PATH,
            }
        )
    window = catalogue.journal_since(session, since, limit + 1)
    more = len(window) > limit
    window = window[:limit]
    upserted = sorted({entry.resource_id for entry in window if entry.op == "upsert"})
    live = repository.live_rows(session, upserted)
    stored = index_stored(repository.stored_objects(session, list(live)))
    entries = []
    for entry in window:
        assert entry.serial is not None  # noqa: S101 - read from the database
        op: Op = "delete" if entry.op == "delete" else "upsert"
        current = live.get(entry.resource_id) if op == "upsert" else None
        if current is None:
            entries.append(
                ChangeEntry(serial=entry.serial, op=op, id=entry.resource_id, record=None)
            )
            continue
        record, digest = current
        entries.append(
            ChangeEntry(
                serial=entry.serial,
                op="upsert",
                id=entry.resource_id,
                record=record,
                content_hash=digest,
                objects=manifest(entry.resource_id, record, stored),
            )
        )
    return ChangesResponse(
        entries=entries,
        last_serial=entries[-1].serial if entries else since,
        latest_serial=latest,
        more=more,
    )

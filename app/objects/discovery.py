"""Follow the change journal into the ``objects`` table: one row per resource × file URL.

The rows follow the files (``objects`` in the profile) each published, live record
lists: new URLs become ``pending`` for the fetcher; URLs no longer listed, and the files
of deleted or unpublishable records, lose their rows (S3 content is shared: none is
deleted here).  The cursor advances in the same transaction as the rows it wrote, so a
crash just means entries are applied again, which changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.catalogue import repository as catalogue
from app.catalogue.models import DigitalObject, Resource
from app.db import session_scope
from app.objects import repository

CURSOR = "objects"


@dataclass
class DiscoveryResult:
    serial: int
    added: int = 0
    removed: int = 0


def wanted_objects(resource: Resource | None) -> dict[str, dict[str, Any]]:
    """url → declared object of a record whose files we keep; empty for the others."""
    if resource is None or resource.deleted or not resource.publishable:
        return {}
    wanted: dict[str, dict[str, Any]] = {}
    for ref in resource.record.get("objects") or []:
        url = str(ref.get("url") or "").strip()
        if url and len(url) <= 2000:
            wanted.setdefault(url, ref)
    return wanted


def sync_objects(session: Session, resources: dict[str, Resource | None]) -> tuple[int, int]:
    """Make the rows of these resources match their records; returns (added, removed)."""
    held: dict[str, dict[str, DigitalObject]] = {rid: {} for rid in resources}
    for found in repository.objects_of_resources(session, list(resources)):
        held[found.resource_id][found.url] = found
    added = removed = 0
    for resource_id, resource in resources.items():
        wanted = wanted_objects(resource)
        rows = held[resource_id]
        for url, held_row in rows.items():
            if url not in wanted:
                session.delete(held_row)
                removed += 1
        for url, ref in wanted.items():
            row = rows.get(url)
            if row is None:
                assert resource is not None  # noqa: S101 - only live resources want files
                name = _bounded(ref.get("name"), 300)
                row = DigitalObject(
                    resource_id=resource_id, source_id=resource.source_id, url=url, file_name=name
                )
                added += 1
            row.declared_format = _bounded(ref.get("format"), 200)
            row.declared_size = _size(ref.get("size"))
            session.add(row)
    session.flush()
    return added, removed


def discover(engine: Engine, *, batch_size: int = 1000) -> DiscoveryResult:
    """Apply every journal entry after the ``objects`` cursor."""
    with session_scope(engine) as session:
        result = DiscoveryResult(serial=catalogue.get_cursor(session, CURSOR))
    while True:
        with session_scope(engine) as session:
            entries = catalogue.journal_since(session, result.serial, batch_size)
            if not entries:
                break
            ids = list(dict.fromkeys(entry.resource_id for entry in entries))
            found = {r.id: r for r in catalogue.get_resources(session, ids)}
            added, removed = sync_objects(session, {rid: found.get(rid) for rid in ids})
            last = entries[-1].serial
            assert last is not None  # noqa: S101 - journal rows always have a serial
            catalogue.set_cursor(session, CURSOR, last)
        result.serial = last
        result.added += added
        result.removed += removed
    return result


def _bounded(value: Any, limit: int) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text[:limit] or None


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None

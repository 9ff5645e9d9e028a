"""Storing normalised resources: upserts and deletions, each journalled in the same transaction.

The store is the source of truth.  A record whose raw bytes did not change is left
alone (no journal entry), so re-harvesting an unchanged source costs no index work.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from app.catalogue import repository
from app.catalogue.models import Resource
from app.sources.models import utcnow
from metadata.profile import Issue, ResourceRecord
from metadata.validate import quality_score


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    ALREADY_ABSENT = "already_absent"


def resource_id_for(source_slug: str, oai_identifier: str) -> str:
    """A stable, URL-safe id: the same source record always gets the same id."""
    digest = hashlib.sha256(oai_identifier.encode("utf-8")).hexdigest()[:20]
    return f"{source_slug}-{digest}"


def content_hash(record: ResourceRecord) -> str:
    """Hash of the normalised content; harvest time is left out so re-harvests compare equal."""
    data = record.model_dump(mode="json", exclude={"provenance": {"harvested_at"}})
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredRecord:
    """What the harvest job hands to the store for one live record."""

    record: ResourceRecord
    issues: list[Issue]
    source_id: int | None
    oai_identifier: str
    datestamp: str
    metadata_prefix: str
    raw_xml: bytes
    raw_sha256: str


class Batch:
    """Catalogue writes inside one transaction, with the rows they touch read in one query.

    A harvest page touches hundreds of resources; reading them one by one (and flushing
    before each read) dominated harvest time.
    """

    def __init__(self, session: Session, resource_ids: Iterable[str]) -> None:
        self.session = session
        self._ids = set(resource_ids)
        self._rows = {row.id: row for row in repository.get_resources(session, list(self._ids))}

    def _row(self, resource_id: str) -> Resource | None:
        if resource_id in self._ids:
            return self._rows.get(resource_id)
        return repository.get_resource(self.session, resource_id)

    def upsert(self, item: StoredRecord) -> Outcome:
        existing = self._row(item.record.id)
        if existing is not None and not existing.deleted and existing.raw_sha256 == item.raw_sha256:
            return Outcome.UNCHANGED
        digest = content_hash(item.record)
        fields: dict[str, Any] = {
            "source_id": item.source_id,
            "oai_identifier": item.oai_identifier,
            "datestamp": item.datestamp,
            "metadata_prefix": item.metadata_prefix,
            "deleted": False,
            "publishable": not any(issue.severity == "error" for issue in item.issues),
            "quality": quality_score(item.record),
            "record": item.record.model_dump(mode="json"),
            "issues": [issue.model_dump(mode="json") for issue in item.issues],
            "raw_xml": item.raw_xml,
            "raw_sha256": item.raw_sha256,
            "content_hash": digest,
        }
        if existing is None:
            row = Resource(id=item.record.id, **fields)
            outcome = Outcome.CREATED
        else:
            row = existing
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            outcome = Outcome.UPDATED
        self.session.add(row)
        self._ids.add(row.id)
        self._rows[row.id] = row
        repository.append_journal(self.session, row.id, "upsert", digest)
        return outcome

    def delete(self, resource_id: str, datestamp: str | None = None) -> Outcome:
        """Tombstone a resource: the row stays (with its provenance), marked deleted."""
        existing = self._row(resource_id)
        if existing is None or existing.deleted:
            return Outcome.ALREADY_ABSENT
        existing.deleted = True
        if datestamp:
            existing.datestamp = datestamp
        existing.updated_at = utcnow()
        self.session.add(existing)
        repository.append_journal(self.session, resource_id, "delete", None)
        return Outcome.DELETED


def upsert(session: Session, item: StoredRecord) -> Outcome:
    return Batch(session, [item.record.id]).upsert(item)


def delete(session: Session, resource_id: str, datestamp: str | None = None) -> Outcome:
    """Tombstone a resource: the row stays (with its provenance), marked deleted."""
    return Batch(session, [resource_id]).delete(resource_id, datestamp)

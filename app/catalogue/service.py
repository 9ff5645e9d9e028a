"""Storing normalised resources: upserts and deletions, each journalled in the same transaction.

The store is the source of truth.  A record whose raw bytes did not change is left
alone (no journal entry), so re-harvesting an unchanged source costs no index work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from app.catalogue import clusters, repository
from app.catalogue.models import DigitalObject, Resource
from app.clock import utcnow
from app.institutions.authority import Authority
from metadata.matching import match_keys
from metadata.profile import Issue, ResourceRecord
from metadata.validate import publishable, quality_score


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    ALREADY_ABSENT = "already_absent"


def issue_codes(issues: Iterable[dict[str, Any]]) -> dict[str, str]:
    """The distinct codes of a record's stored issues, each with its severity (``error``
    when any issue of that code is an error): the record's rows of ``resource_issues``.
    Codes are cut to the column's 100 characters (ours are short words)."""
    codes: dict[str, str] = {}
    for issue in issues:
        code = issue.get("code")
        if not isinstance(code, str):
            continue
        severity = "error" if issue.get("severity") == "error" else "warning"
        if codes.get(code[:100]) != "error":
            codes[code[:100]] = severity
    return codes


def resource_id_for(source_slug: str, oai_identifier: str) -> str:
    """A stable, URL-safe id: the same source record always gets the same id."""
    digest = hashlib.sha256(oai_identifier.encode("utf-8")).hexdigest()[:20]
    return f"{source_slug}-{digest}"


def content_hash(record: ResourceRecord) -> str:
    """Hash of the normalised content; harvest time is left out so re-harvests compare equal.

    pydantic's serialiser writes fields in declaration order and maps in the order the
    reader filled them, which the same raw record always reproduces.
    """
    canonical = record.model_dump_json(exclude={"provenance": {"harvested_at"}})
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SourceSummary:
    """What the catalogue holds of one source."""

    live_records: int
    mean_quality: float | None  # None when the source has no live record


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

    A harvest page touches hundreds of resources.  Reading them one by one, and building
    an ORM object per new resource and journal entry, dominated harvest time; so existing
    rows are read in one query, and new rows and journal entries are written by ``flush``
    as two multi-row inserts.  Call ``flush`` before the transaction commits.
    """

    def __init__(self, session: Session, resource_ids: Iterable[str]) -> None:
        self.session = session
        self.now = utcnow()
        self.institutions = Authority(session)
        self._ids = set(resource_ids)
        self._rows = {row.id: row for row in repository.get_resources(session, list(self._ids))}
        self._new: dict[str, dict[str, Any]] = {}
        self._journal: list[dict[str, Any]] = []
        # resource id → its rows of ``resource_issues`` now (none for a tombstone).
        self._issue_rows: dict[str, list[dict[str, Any]]] = {}
        # resource id → its match keys now (none unless live and publishable).
        self._match_keys: dict[str, list[str]] = {}

    def _state(self, resource_id: str) -> tuple[bool, str | None] | None:
        """(deleted, raw sha256) of the stored or pending row; None when there is none."""
        pending = self._new.get(resource_id)
        if pending is not None:
            return pending["deleted"], pending["raw_sha256"]
        row = self._row(resource_id)
        return None if row is None else (row.deleted, row.raw_sha256)

    def _row(self, resource_id: str) -> Resource | None:
        if resource_id in self._ids:
            return self._rows.get(resource_id)
        return repository.get_resource(self.session, resource_id)

    def _journal_entry(self, resource_id: str, op: str, digest: str | None) -> None:
        self._journal.append(
            {"resource_id": resource_id, "op": op, "content_hash": digest, "created_at": self.now}
        )

    def upsert(self, item: StoredRecord) -> Outcome:
        resource_id = item.record.id
        state = self._state(resource_id)
        if state is not None and not state[0] and state[1] == item.raw_sha256:
            return Outcome.UNCHANGED
        dump = item.record.model_dump(mode="json")
        digest = content_hash(item.record)
        fields: dict[str, Any] = {
            "source_id": item.source_id,
            "oai_identifier": item.oai_identifier,
            "datestamp": item.datestamp,
            "metadata_prefix": item.metadata_prefix,
            "deleted": False,
            "publishable": publishable(item.issues),
            "quality": quality_score(item.record),
            "record": dump,
            "issues": [issue.model_dump(mode="json") for issue in item.issues],
            "raw_xml": item.raw_xml,
            "raw_sha256": item.raw_sha256,
            "content_hash": digest,
            "institution_id": self.institutions.institution_for(item.record),
            "updated_at": self.now,
        }
        pending, row = self._new.get(resource_id), None
        if pending is not None:  # the same record twice in one page
            pending.update(fields)
            outcome = Outcome.UPDATED
        elif (row := self._row(resource_id)) is None:
            self._new[resource_id] = {"id": resource_id, "created_at": self.now, **fields}
            outcome = Outcome.CREATED
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            self.session.add(row)
            outcome = Outcome.UPDATED
        self._issue_rows[resource_id] = [
            {"resource_id": resource_id, "code": code, "source_id": item.source_id, "severity": sev}
            for code, sev in issue_codes(fields["issues"]).items()
        ]
        self._match_keys[resource_id] = (
            match_keys(item.record, fields["institution_id"]) if fields["publishable"] else []
        )
        self._journal_entry(resource_id, "upsert", digest)
        return outcome

    def delete(self, resource_id: str, datestamp: str | None = None) -> Outcome:
        """Tombstone a resource: the row stays (with its provenance), marked deleted."""
        state = self._state(resource_id)
        if state is None or state[0]:
            return Outcome.ALREADY_ABSENT
        changes: dict[str, Any] = {"deleted": True, "updated_at": self.now}
        if datestamp:
            changes["datestamp"] = datestamp
        pending = self._new.get(resource_id)
        if pending is not None:
            pending.update(changes)
        else:
            row = self._row(resource_id)
            assert row is not None  # noqa: S101 - _state found it
            for name, value in changes.items():
                setattr(row, name, value)
            self.session.add(row)
        self._issue_rows[resource_id] = []
        self._match_keys[resource_id] = []
        self._journal_entry(resource_id, "delete", None)
        return Outcome.DELETED

    def flush(self) -> None:
        """Write the new rows, the records' issue codes and match keys and the journal
        entries (in order, so serials follow them), then the clusters of the records."""
        fresh = set(self._new)
        if self._new:
            self.session.execute(insert(Resource), list(self._new.values()))
            # From now on these rows are read from the database like any other.
            self._ids.difference_update(self._new)
            self._new.clear()
        if self._issue_rows:
            repository.replace_issue_rows(self.session, self._issue_rows)
            self._issue_rows = {}
        journalled = {entry["resource_id"] for entry in self._journal}
        if self._journal:
            repository.append_journal_entries(self.session, self._journal)
            self._journal = []
        if self._match_keys:
            repository.replace_match_keys(self.session, self._match_keys, fresh)
            clusters.update(self.session, self._match_keys, journalled)
            self._match_keys = {}


def upsert(session: Session, item: StoredRecord) -> Outcome:
    batch = Batch(session, [item.record.id])
    outcome = batch.upsert(item)
    batch.flush()
    return outcome


def delete(session: Session, resource_id: str, datestamp: str | None = None) -> Outcome:
    """Tombstone a resource: the row stays (with its provenance), marked deleted."""
    batch = Batch(session, [resource_id])
    outcome = batch.delete(resource_id, datestamp)
    batch.flush()
    return outcome


# --- reading ---------------------------------------------------------------------------------


def get_resource(session: Session, resource_id: str) -> Resource | None:
    """A resource by id, tombstones included (the caller decides how to show them)."""
    return repository.get_resource(session, resource_id)


def published_resources(session: Session, ids: Sequence[str]) -> list[Resource]:
    """The resources of ``ids`` a learner may see (live, published); unknown ids left out."""
    return repository.published_resources(session, ids)


def published_by_oai_identifier(
    session: Session, source_id: int | None, identifiers: Sequence[str]
) -> list[Resource]:
    """The live, published resources of one source with these OAI identifiers."""
    return repository.published_by_oai_identifier(session, source_id, identifiers)


def files_of_resource(session: Session, resource_id: str) -> list[DigitalObject]:
    """The files a resource names and their storage state, in the order they were noted."""
    return repository.objects_of_resource(session, resource_id)


def live_ids_of_source(session: Session, source_id: int) -> list[str]:
    """Ids of the source's resources that are not tombstones."""
    return repository.live_ids_of_source(session, source_id)


def records_with_errors(session: Session, source_id: int, *, limit: int) -> list[Resource]:
    """Live resources of the source that validation errors keep unpublished."""
    return repository.unpublishable_of_source(session, source_id, limit=limit)


def institution_counts(session: Session) -> dict[str, int]:
    """Live, published courses per institution id (a course of several records once)."""
    return repository.institution_counts(session)


def resources_of_institution(session: Session, institution_id: str) -> list[Resource]:
    """Every resource (tombstones too) the institution authority gave this school."""
    return repository.resources_of_institution(session, institution_id)


def resources_for_seeding(
    session: Session, *, every: bool, after: str = "", limit: int = 1000
) -> list[Resource]:
    """Resources the institution authority has not resolved (``every``: all of them), in
    id order after ``after``."""
    return repository.resources_for_seeding(session, after=after, limit=limit, every=every)


def set_institution(session: Session, resource: Resource, institution_id: str | None) -> None:
    """Give a resource another school; journalled, so the index follows."""
    if resource.institution_id == institution_id:
        return
    resource.institution_id = institution_id
    session.add(resource)
    session.flush()
    journal_resources(session, [resource])
    # The school is part of a course's match keys.
    clusters.refresh(session, [resource], journalled=[resource.id])


def journal_resources(session: Session, resources: Iterable[Resource]) -> None:
    """Journal live resources whose search documents changed though their records did not
    (their school was renamed or merged): the indexer makes them again.  The content hash
    is the record's, so a mirror sees nothing new in them."""
    now = utcnow()
    entries = [
        {"resource_id": r.id, "op": "upsert", "content_hash": r.content_hash, "created_at": now}
        for r in resources
        if not r.deleted
    ]
    if entries:
        repository.append_journal_entries(session, entries)


def source_summary(session: Session, source_id: int) -> SourceSummary:
    count, mean = repository.live_count_and_quality(session, source_id)
    return SourceSummary(live_records=count, mean_quality=mean)


# --- a source's quality and issues, for its health -----------------------------------------

QUALITY_BUCKETS = 10


@dataclass(frozen=True)
class SourceQuality:
    """The quality of one source's live records."""

    live_records: int
    published_records: int  # without errors (``metadata.validate.publishable``): public
    mean_quality: float | None  # None when the source has no live record
    histogram: tuple[int, ...]  # live records per tenth of the score: [0, 0.1) … [0.9, 1]

    @property
    def published_share(self) -> float | None:
        """Share of live records that meet the profile's required fields (None for none)."""
        return self.published_records / self.live_records if self.live_records else None


def quality_bucket(score: float) -> int:
    """The tenth of [0, 1] a score falls in; a score of 1 in the last."""
    return min(max(int(score * QUALITY_BUCKETS + 1e-9), 0), QUALITY_BUCKETS - 1)


def _quality(groups: Iterable[tuple[bool, float, int]]) -> SourceQuality:
    histogram = [0] * QUALITY_BUCKETS
    live = published = 0
    total = 0.0
    for is_published, score, count in groups:
        live += count
        published += count if is_published else 0
        total += score * count
        histogram[quality_bucket(score)] += count
    return SourceQuality(
        live_records=live,
        published_records=published,
        mean_quality=total / live if live else None,
        histogram=tuple(histogram),
    )


def source_quality(session: Session, source_id: int) -> SourceQuality:
    """Counts, mean quality and the quality histogram of the source's live records."""
    return _quality(repository.quality_groups(session, source_id))


def quality_of_sources(session: Session) -> dict[int | None, SourceQuality]:
    """``SourceQuality`` of every source with live records, in one read of an index."""
    groups: dict[int | None, list[tuple[bool, float, int]]] = {}
    for source_id, is_published, score, count in repository.quality_groups_by_source(session):
        groups.setdefault(source_id, []).append((is_published, score, count))
    return {source_id: _quality(found) for source_id, found in groups.items()}


@dataclass(frozen=True)
class IssueCount:
    """How many live records of a source carry an issue code."""

    code: str
    severity: str  # error | warning
    records: int


def _merged_counts(rows: Iterable[tuple[str, str, int]]) -> list[IssueCount]:
    """One count per code (a code seen as error and warning is an error), most records
    first, then by code."""
    merged: dict[str, tuple[str, int]] = {}
    for code, severity, count in rows:
        known, records = merged.get(code, (severity, 0))
        merged[code] = ("error" if "error" in (known, severity) else severity, records + count)
    counts = [IssueCount(code, severity, n) for code, (severity, n) in merged.items()]
    return sorted(counts, key=lambda c: (-c.records, c.code))


def issue_counts(session: Session, source_id: int) -> list[IssueCount]:
    """Live records of the source per issue code, most first."""
    return _merged_counts(repository.issue_counts_of_source(session, source_id))


def issue_counts_of_sources(session: Session) -> dict[int | None, list[IssueCount]]:
    """``issue_counts`` of every source that has issues, in one query."""
    rows: dict[int | None, list[tuple[str, str, int]]] = {}
    for source_id, code, severity, count in repository.issue_counts_by_source(session):
        rows.setdefault(source_id, []).append((code, severity, count))
    return {source_id: _merged_counts(found) for source_id, found in rows.items()}


@dataclass(frozen=True)
class IssueRecord:
    """A live record that carries an issue code, with that code's issues."""

    id: str
    oai_identifier: str
    published: bool  # no error keeps it out of the public catalogue
    title: dict[str, str]
    issues: list[dict[str, Any]]  # the record's stored issues of the code: severity, message, path


@dataclass(frozen=True)
class IssueRecordPage:
    count: IssueCount | None  # live records of the source with the code; None: none
    records: list[IssueRecord]  # this page's, in id order

    @property
    def total(self) -> int:
        return self.count.records if self.count else 0


def records_with_issue(
    session: Session, source_id: int, code: str, *, offset: int, limit: int
) -> IssueRecordPage:
    """The source's live records whose stored issues carry ``code``, in resource id order
    (stable across pages), ``limit`` from ``offset``."""
    counts = _merged_counts(
        (code, severity, n)
        for severity, n in repository.count_with_issue(session, source_id, code).items()
    )
    ids = repository.ids_with_issue(session, source_id, code, offset=offset, limit=limit)
    rows = {row[0]: row for row in repository.issue_listing(session, ids)}
    records = []
    for resource_id in ids:
        row = rows.get(resource_id)
        if row is None:  # not possible in one transaction; never a reason to fail a page
            continue
        _, oai_identifier, published, record, issues = row
        title = record.get("title") if isinstance(record, dict) else None
        records.append(
            IssueRecord(
                id=resource_id,
                oai_identifier=oai_identifier,
                published=published,
                title=dict(title) if isinstance(title, dict) else {},
                issues=[
                    issue
                    for issue in issues or []
                    if isinstance(issue, dict) and str(issue.get("code", ""))[:100] == code
                ],
            )
        )
    return IssueRecordPage(count=counts[0] if counts else None, records=records)


# --- the live catalogue in pages, for sitemaps -------------------------------------------------


@dataclass(frozen=True)
class LivePage:
    """A run of live, publishable resources in id order: ``first <= id < before``."""

    first: str
    before: str | None  # None: to the end
    count: int
    last_modified: datetime


def live_pages(session: Session, size: int) -> list[LivePage]:
    """The live catalogue cut into pages of ``size`` resources, each resource in one page.

    A page is named by its bounds, so reading it (``live_page``) is one range of the
    primary key however far into the catalogue it lies.  Finding the bounds walks the
    catalogue's index once, a page at a time from the last bound found.
    """
    pages: list[LivePage] = []
    first = repository.live_id_after(session, "", 0)
    while first is not None:
        before = repository.live_id_after(session, first, size)
        count, newest = repository.live_range_summary(session, first, before)
        if count and newest is not None:
            pages.append(LivePage(first, before, count, newest))
        first = before
    return pages


def live_page(
    session: Session, first: str, before: str | None, limit: int
) -> list[tuple[str, datetime]]:
    """(id, updated_at) of the live, publishable resources with ``first <= id < before``,
    in id order, at most ``limit``."""
    return repository.live_stamps(session, first, before, limit)


# --- the live catalogue by first harvest, for the catalogue files ------------------------------


@dataclass(frozen=True)
class LiveCourse:
    """A live, publishable resource as the catalogue files list it."""

    id: str
    record: dict[str, Any]  # the stored profile record, as JSON
    institution_id: str | None
    first_harvested: datetime  # when it was first stored (``created_at``)


def live_courses_by_first_harvest(
    session: Session,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    institution_ids: Sequence[str] | None = None,
    source_ids: Sequence[int | None] | None = None,
    batch_size: int = 500,
) -> Iterator[list[LiveCourse]]:
    """Live, publishable courses first stored in ``[start, end)``, oldest first (then by
    id), in batches: each batch is one keyset page of an index, so memory stays that of a
    batch however many there are.  ``institution_ids`` / ``source_ids`` keep those of
    these schools / sources (a ``None`` source: records stored locally)."""
    after: tuple[datetime, str] | None = None
    while True:
        rows = repository.live_by_first_harvest(
            session,
            start=start,
            end=end,
            institution_ids=institution_ids,
            source_ids=source_ids,
            after=after,
            limit=batch_size,
        )
        if not rows:
            return
        yield [LiveCourse(*row) for row in rows]
        last = rows[-1]
        after = (last[3], last[0])


def count_first_harvested(session: Session, start: datetime | None, end: datetime | None) -> int:
    """How many live, publishable courses were first stored in ``[start, end)``."""
    return repository.count_live_first_harvested(session, start, end)


def first_harvest_span(session: Session) -> tuple[datetime, datetime] | None:
    """When the earliest and the latest live course were first stored; None for none."""
    first, last = repository.live_first_harvest_span(session)
    return None if first is None or last is None else (first, last)

"""Follow the change journal into Meilisearch.

The indexer reads journal entries after the last indexed serial (kept in the database,
cursor ``search``), sends them as batched additions and deletions, waits for Meilisearch
to report success, and only then advances the cursor.  A crash or an outage anywhere in
between just means the same entries are applied again later, which is harmless:
documents are keyed by resource id.

Batches are sent without waiting for each (up to ``WINDOW_DOCUMENTS`` ahead): Meilisearch
then indexes consecutive batches together, and our process reads and maps the next batch
while Meilisearch indexes the last.

A course with several records (``app.catalogue.clusters``) is one document: its canonical
member's, listing every record in ``provenances``; the other members are not indexed.
Clustering journals every member whose cluster changes, so the index follows.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy.engine import Engine

from app.catalogue import clusters, repository
from app.catalogue.models import Resource
from app.db import session_scope, taking_turns
from app.institutions import service as institutions
from app.institutions.models import Institution
from app.search import suggest
from app.search.documents import DOCUMENT_VERSION, InstitutionEntry, Provenance, to_document
from app.search.gateway import SearchError, SearchIndex, TaskInfo
from app.search.index_settings import index_settings
from app.sources.models import Source
from metadata.abbreviations import BUILT_IN, Vocabulary
from metadata.profile import ResourceRecord

log = logging.getLogger(__name__)

CURSOR = "search"
MAPPING_CURSOR = "search-documents"
"""Not a serial: the ``DOCUMENT_VERSION`` the index's documents were made by."""


WINDOW_DOCUMENTS = 20_000
"""Documents sent and not yet confirmed, at most: how far the index may run ahead of the
cursor, and how much Meilisearch may queue from one indexer."""


class _Window:
    """Tasks sent and not yet waited for, each with the journal serial it brings the
    index to; ``settle`` waits for them in order and confirms the serial all reached."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self.tasks: list[tuple[TaskInfo | None, int]] = []
        self.documents = 0

    def send(self, task: TaskInfo | None, serial: int, documents: int) -> None:
        """Note a task sent (None: entries that needed none, confirmed in their turn)."""
        self.tasks.append((task, serial))
        self.documents += documents

    @property
    def full(self) -> bool:
        return self.documents >= WINDOW_DOCUMENTS

    def settle(self, confirmed: Callable[[int], None]) -> None:
        """Wait for every task sent; ``confirmed(serial)`` once all up to a serial succeeded
        (also when a later one fails, before its ``SearchError`` is raised)."""
        reached = None
        try:
            for task, serial in self.tasks:
                if task is not None:
                    self.index.wait_for_task(task, timeout=TASK_TIMEOUT, poll_ms=POLL_MS)
                reached = serial
        finally:
            self.tasks, self.documents = [], 0
            if reached is not None:
                confirmed(reached)


POLL_MS = 50
"""How often a window's tasks are asked after: each ask costs both processes CPU, and a
window of thousands of documents takes seconds."""
TASK_TIMEOUT = 600.0
"""Seconds one sent batch may take to be indexed, counted from the wait for it (the
batches before it in the window are indexed by then)."""


@dataclass
class SyncResult:
    applied_serial: int
    upserted: int = 0
    removed: int = 0


def document_for(
    resource: Resource,
    source_slug: str,
    institution: Institution | None = None,
    duplicates: list[Provenance] | None = None,
) -> dict[str, Any]:
    record = ResourceRecord.model_validate(resource.record)
    entry = None
    if institution is not None:
        entry = InstitutionEntry(institution.id, institution.name_zh, institution.name_en)
    return to_document(
        record,
        source=source_slug,
        updated_at=resource.updated_at,
        content_hash=resource.content_hash,
        institution=entry,
        first_harvested=resource.created_at,
        duplicates=duplicates,
    )


def _provenance(session: Any, resource: Resource, slugs: dict[int, str]) -> Provenance:
    record = resource.record if isinstance(resource.record, dict) else {}
    url = record.get("url")
    named = [url, *(record.get("identifiers") or [])]
    return Provenance(
        id=resource.id,
        source=_slug(session, resource.source_id, slugs),
        oai_identifier=resource.oai_identifier,
        url=url if isinstance(url, str) else None,
        identifiers=tuple(i for i in named if isinstance(i, str) and i.strip()),
    )


MAX_PROVENANCES = 50
"""Records a course's document lists at most (the canonical one first): a repository
listing one course thousands of times makes one hit, not a document of thousands."""


def documents_for(
    session: Any, resources: list[Resource], slugs: dict[int, str]
) -> list[dict[str, Any]]:
    """Search documents of ``resources`` (canonical members and resources alone), each
    with its source, its school and the other records of its course."""
    schools = institutions.institutions_by_id(session, (r.institution_id for r in resources))
    members = clusters.members_of_clusters(session, (r.id for r in resources if r.cluster_id))
    return [
        document_for(
            r,
            _slug(session, r.source_id, slugs),
            schools.get(r.institution_id) if r.institution_id else None,
            [
                _provenance(session, other, slugs)
                for other in islice(
                    (o for o in members.get(r.id, []) if o.id != r.id and is_searchable(o)),
                    MAX_PROVENANCES - 1,
                )
            ],
        )
        for r in resources
    ]


def is_searchable(resource: Resource | None) -> bool:
    return resource is not None and not resource.deleted and resource.publishable


def is_indexed(resource: Resource | None) -> bool:
    """Searchable, and its course's document: alone, or its cluster's canonical member."""
    return (
        resource is not None
        and is_searchable(resource)
        and resource.cluster_id in (None, resource.id)
    )


def sync_index(
    engine: Engine,
    index: SearchIndex,
    uid: str,
    *,
    batch_size: int = 1000,
    vocabulary: Vocabulary = BUILT_IN,
) -> SyncResult:
    """Apply every journal entry not yet in the index; returns the serial reached.

    An index whose documents an older mapping made (``DOCUMENT_VERSION``) is rebuilt first,
    so a new field reaches every course, not only the ones that change.  ``vocabulary``
    gives the index's synonyms (``Settings.search_vocabulary``).  Indexers of every
    process take turns: two reading the store at different moments could otherwise
    leave the older state of a course in the index, after the newer one.
    """
    with taking_turns(engine, f"search-index-{uid}"):
        return _sync_index(engine, index, uid, batch_size=batch_size, vocabulary=vocabulary)


def _sync_index(
    engine: Engine, index: SearchIndex, uid: str, *, batch_size: int, vocabulary: Vocabulary
) -> SyncResult:
    index.ensure_index(uid, index_settings(vocabulary))
    with session_scope(engine) as session:
        serial = repository.get_cursor(session, CURSOR)
        made_by = repository.get_cursor(session, MAPPING_CURSOR)
    if made_by != DOCUMENT_VERSION and serial > 0:
        log.info("search documents of mapping %s: rebuilding with %s", made_by, DOCUMENT_VERSION)
        _reindex(engine, index, uid, batch_size=batch_size, vocabulary=vocabulary)
        with session_scope(engine) as session:
            serial = repository.get_cursor(session, CURSOR)
        made_by = DOCUMENT_VERSION
    result = SyncResult(applied_serial=serial)
    slugs: dict[int, str] = {}
    window = _Window(index)

    def confirmed(serial: int) -> None:
        nonlocal made_by
        with session_scope(engine) as session:
            repository.set_cursor(session, CURSOR, serial)
            if made_by != DOCUMENT_VERSION:
                # The index's first documents (the cursor was at 0): made by this mapping.
                repository.set_cursor(session, MAPPING_CURSOR, DOCUMENT_VERSION)
                made_by = DOCUMENT_VERSION

    read = serial  # the journal is read ahead of what the index has confirmed
    while True:
        with session_scope(engine) as session:
            entries = repository.journal_since(session, read, batch_size)
            if not entries:
                break
            # Only the newest state of each resource matters; read it from the store.
            ids = list(dict.fromkeys(entry.resource_id for entry in entries))
            resources = {r.id: r for r in repository.get_resources(session, ids)}
            searchable = [
                resource
                for resource_id in ids
                if (resource := resources.get(resource_id)) is not None and is_indexed(resource)
            ]
            documents = documents_for(session, searchable, slugs)
            kept = {r.id for r in searchable}
            removals = [resource_id for resource_id in ids if resource_id not in kept]
            last = entries[-1].serial
        assert last is not None  # noqa: S101 - journal rows always have a serial
        if documents:
            window.send(index.add_documents(uid, documents), last, len(documents))
        if removals:
            window.send(index.delete_documents(uid, removals), last, len(removals))
        if not documents and not removals:
            window.send(None, last, 0)  # nothing to index in these entries
        read = last
        result.upserted += len(documents)
        result.removed += len(removals)
        if window.full:
            window.settle(confirmed)
    window.settle(confirmed)
    result.applied_serial = read
    if result.upserted or result.removed:
        suggest.changed(index.url, uid)
    return result


def _slug(session: Any, source_id: int | None, cache: dict[int, str]) -> str:
    if source_id is None:
        return "local"
    if source_id not in cache:
        source = session.get(Source, source_id)
        cache[source_id] = source.slug if source else "unknown"
    return cache[source_id]


def reindex(
    engine: Engine,
    index: SearchIndex,
    uid: str,
    *,
    batch_size: int = 1000,
    vocabulary: Vocabulary = BUILT_IN,
) -> int:
    """Rebuild the index from the database into a fresh one and swap it in atomically.

    Searches keep answering from the old index meanwhile.  The journal serial is noted
    *before* the store is read, and the cursor is set back to it afterwards: changes made
    during the rebuild are then applied by the next sync (applying one twice is harmless).
    """
    with taking_turns(engine, f"search-index-{uid}"):
        return _reindex(engine, index, uid, batch_size=batch_size, vocabulary=vocabulary)


def _reindex(
    engine: Engine, index: SearchIndex, uid: str, *, batch_size: int, vocabulary: Vocabulary
) -> int:
    with session_scope(engine) as session:
        serial = repository.last_serial(session)
    staging = f"{uid}-rebuild-{secrets.token_hex(4)}"
    index.create_index(staging, index_settings(vocabulary))
    count = 0
    slugs: dict[int, str] = {}
    after = ""
    window = _Window(index)
    try:
        while True:
            with session_scope(engine) as session:
                rows = repository.live_resources_after(session, after, batch_size)
                documents = documents_for(session, [r for r in rows if is_indexed(r)], slugs)
            if not rows:
                break
            if documents:
                window.send(index.add_documents(staging, documents), 0, len(documents))
            count += len(documents)
            after = rows[-1].id
            if window.full:
                window.settle(lambda _serial: None)
        window.settle(lambda _serial: None)
        if index.index_exists(uid):
            index.swap_indexes(uid, staging)
            index.delete_index(staging)  # now holds the old contents
        else:
            index.rename_index(staging, uid)
    except BaseException:
        with contextlib.suppress(SearchError):
            index.delete_index(staging)
        raise
    with session_scope(engine) as session:
        current = repository.get_cursor(session, CURSOR)
        repository.set_cursor(session, CURSOR, min(current, serial))
        repository.set_cursor(session, MAPPING_CURSOR, DOCUMENT_VERSION)
    suggest.changed(index.url, uid)
    return count


def index_lag(engine: Engine) -> int:
    """How many serials the search index is behind the journal."""
    with session_scope(engine) as session:
        return repository.last_serial(session) - repository.get_cursor(session, CURSOR)


def forget_index(engine: Engine) -> None:
    """Note that the search index holds nothing of this database (a restored one): the next
    sync starts from the first serial, and ``coursefed reindex`` rebuilds it all at once."""
    with session_scope(engine) as session:
        repository.set_cursor(session, CURSOR, 0)
        repository.set_cursor(session, MAPPING_CURSOR, 0)

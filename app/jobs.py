"""Background jobs: harvest a source, bring the search index up to date, run what is due.

Each job opens its own transactions; side effects such as indexing run only after the
harvest's commits, and a search outage only postpones indexing (the journal keeps the
work).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.objects.discovery import discover
from app.objects.fetcher import FetchReport, fetch_due
from app.objects.links import check_links
from app.objects.store import ObjectStore, ObjectStoreError
from app.search.gateway import SearchError, SearchIndex
from app.search.indexer import SyncResult, reindex, sync_index
from app.settings import Settings
from app.sources import service as sources
from app.sources.harvest import HarvestOptions, ProgressHook, SourceBusy, harvest
from app.sources.models import HarvestRun
from app.sources.reconcile import reconcile

log = logging.getLogger(__name__)

T = TypeVar("T")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # This thread already runs an event loop (an async caller): use a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def run_harvest(
    engine: Engine,
    settings: Settings,
    source_id: int,
    *,
    full: bool = False,
    progress: ProgressHook | None = None,
) -> HarvestRun:
    """Harvest one source now, schedule its next harvest, then bring the index up to date.

    Raises ``SourceBusy`` when another worker is harvesting the source.
    """
    options = HarvestOptions.from_settings(settings)
    run = run_sync(harvest(engine, source_id, full=full, options=options, progress=progress))
    with session_scope(engine) as session:
        sources.schedule_next(session, source_id)
    sync_search_quietly(engine, settings)
    return run


def run_reconcile(
    engine: Engine, settings: Settings, source_id: int, *, force: bool = False
) -> HarvestRun:
    """Tombstone what the source no longer lists (guarded against mass deletion)."""
    run = run_sync(
        reconcile(
            engine,
            source_id,
            max_share=settings.reconcile_max_share,
            force=force,
            options=HarvestOptions.from_settings(settings),
        )
    )
    sync_search_quietly(engine, settings)
    return run


def sync_search(engine: Engine, settings: Settings) -> SyncResult:
    with SearchIndex.from_settings(settings) as index:
        return sync_index(engine, index, settings.meili_index)


def rebuild_search(engine: Engine, settings: Settings) -> int:
    """Rebuild the search index from the database and swap it in; then catch up."""
    with SearchIndex.from_settings(settings) as index:
        count = reindex(engine, index, settings.meili_index)
        sync_index(engine, index, settings.meili_index)
    return count


def sync_search_quietly(engine: Engine, settings: Settings) -> SyncResult | None:
    """Index what the journal holds; if Meilisearch fails, leave it for the next round.

    The journal keeps every change, so nothing is lost: the next sync starts from the
    last serial Meilisearch confirmed.
    """
    try:
        return sync_search(engine, settings)
    except SearchError as exc:
        log.warning("search index not updated, will retry: %s", exc)
        return None


def run_objects(
    engine: Engine,
    settings: Settings,
    *,
    limit: int = 200,
    source_id: int | None = None,
    store: ObjectStore | None = None,
) -> FetchReport:
    """Note the files new records name, then fetch those that are due into S3.

    S3 being down costs nothing but time: the rows stay pending and are tried again.
    """
    discover(engine)
    if store is None:
        store = ObjectStore(settings)
    try:
        store.ensure_bucket()
    except ObjectStoreError as exc:
        return FetchReport(store_error=str(exc))
    return run_sync(fetch_due(engine, settings, store, limit=limit, source_id=source_id))


def run_objects_quietly(
    engine: Engine, settings: Settings, store: ObjectStore | None = None
) -> FetchReport | None:
    """One background round of object fetching; failures are logged, never raised."""
    if not settings.objects_fetch:
        return None
    try:
        report = run_objects(engine, settings, store=store)
        if settings.objects_check_sample > 0:
            # A few source links a round: colleges are never asked for all at once.
            run_sync(check_links(engine, settings, sample=settings.objects_check_sample))
    except Exception:  # a background round must never take the scheduler down
        log.exception("object fetching round failed")
        return None
    if report.store_error:
        log.warning("objects not stored, will retry: %s", report.store_error)
    return report


def run_due(engine: Engine, settings: Settings) -> list[HarvestRun]:
    """Harvest every due source another worker is not already harvesting.

    Sources that never announce deletions (``deletedRecord`` no or transient) are
    reconciled after their harvest when the last reconciliation is old enough.
    """
    with session_scope(engine) as session:
        due = [source.id for source in sources.due_sources(session) if source.id is not None]
    runs = []
    for source_id in due:
        try:
            run = run_harvest(engine, settings, source_id)
        except SourceBusy:
            continue
        runs.append(run)
        with session_scope(engine) as session:
            needs = sources.needs_reconciliation(
                session, source_id, settings.reconcile_interval_days
            )
        if run.status != "failed" and needs:
            with contextlib.suppress(SourceBusy):
                runs.append(run_reconcile(engine, settings, source_id))
    return runs


class Scheduler:
    """Runs due harvests and index catch-up in a background thread of ``coursefed serve``."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="coursefed-scheduler", daemon=True)
        self._store = ObjectStore(settings)  # one S3 client for every round

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                run_due(self.engine, self.settings)
                sync_search_quietly(self.engine, self.settings)
                run_objects_quietly(self.engine, self.settings, self._store)
            except Exception:  # the loop must outlive any one failing round
                log.exception("scheduler round failed")
            self._stop.wait(self.settings.scheduler_interval)

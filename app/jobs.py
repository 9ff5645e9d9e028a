"""Background jobs: harvest a source, bring the search index up to date, run what is due.

Each job opens its own transactions; side effects such as indexing run only after the
harvest's commits, and a search outage only postpones indexing (the journal keeps the
work).  ``Scheduler`` runs harvests, indexing and file fetching side by side, so a
source that stalls or never ends delays nothing else.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.objects.discovery import discover
from app.objects.fetcher import FetchReport, fetch_due
from app.objects.links import check_links
from app.objects.store import ObjectStore, ObjectStoreError
from app.search.gateway import SearchError, SearchIndex
from app.search.indexer import SyncResult, index_lag, reindex, sync_index
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
    index: bool = True,
) -> HarvestRun:
    """Harvest one source now, schedule its next harvest, then (``index``) bring the index
    up to date.

    Raises ``SourceBusy`` when another worker is harvesting the source.
    """
    options = HarvestOptions.from_settings(settings)
    run = run_sync(harvest(engine, source_id, full=full, options=options, progress=progress))
    with session_scope(engine) as session:
        sources.schedule_next(session, source_id)
    if index:
        sync_search_quietly(engine, settings)
    return run


class _Following:
    """Rounds of following the journal into Meilisearch, one after another: an outage is
    logged once, not every round, and its end once."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self.failing = False

    def round(self, index: SearchIndex) -> None:
        try:
            sync_index(
                self.engine,
                index,
                self.settings.meili_index,
                vocabulary=self.settings.search_vocabulary(),
            )
        except SearchError as exc:
            if not self.failing:
                log.warning("search index not updated, will retry: %s", exc)
            self.failing = True
            return
        if self.failing:
            log.info("search index reachable again, caught up")
        self.failing = False


ROUND_SHARE = 10
"""While harvests run, a round of indexing waits for new entries making a tenth of what the
index holds.  Part of Meilisearch's cost of a batch grows with the index, not with the
batch, so larger rounds cost it less per course, the more so the larger the index.  The
rounds are later than every ``index_interval``: the harvests' records become searchable
up to ``ROUND_LONGEST_WAIT`` seconds later, and all of them when the harvests end."""
ROUND_LEAST, ROUND_MOST = 1_000, 50_000
ROUND_LONGEST_WAIT = 60.0
"""Seconds after a round that the next one is due, however few entries are new."""


class _Pacing:
    """When the next round of indexing alongside harvests is due (see ``ROUND_SHARE``)."""

    def __init__(self, now: float) -> None:
        self.size, self.since = 0, now

    def due(self, lag: int, now: float) -> bool:
        return lag >= self.size or now - self.since >= ROUND_LONGEST_WAIT

    def after_round(self, held: int | None, now: float) -> None:
        """``held``: documents in the index now (None: unknown, the next check is a round)."""
        self.size = 0 if held is None else max(ROUND_LEAST, min(ROUND_MOST, held // ROUND_SHARE))
        self.since = now


@contextlib.contextmanager
def indexing_alongside(engine: Engine, settings: Settings) -> Iterator[None]:
    """Follow the journal into Meilisearch in a thread of its own while the block runs
    (harvests, one after another or side by side), in rounds paced by ``_Pacing`` (checked
    every ``index_interval`` seconds); then, unless interrupted, to the journal's end.

    Meilisearch indexes the sources' records while they are harvested, instead of the
    harvests waiting for it in turn.
    """
    stop = threading.Event()
    following = _Following(engine, settings)

    def held(index: SearchIndex) -> int | None:
        try:
            return index.document_count(settings.meili_index)
        except SearchError:
            return None

    def follow() -> None:
        with SearchIndex.from_settings(settings) as index:
            pacing = _Pacing(time.monotonic())
            while not stop.wait(settings.index_interval):
                try:
                    if pacing.due(index_lag(engine), time.monotonic()):
                        following.round(index)
                        pacing.after_round(held(index), time.monotonic())
                except Exception:  # the harvests go on; the last sync tries again
                    log.exception("indexing alongside the harvests failed")

    thread = threading.Thread(target=follow, name="coursefed-indexer", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    # Not after an interruption (Ctrl-C): the next sync catches up on what is left.
    sync_search_quietly(engine, settings)


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
        return sync_index(
            engine, index, settings.meili_index, vocabulary=settings.search_vocabulary()
        )


def rebuild_search(engine: Engine, settings: Settings) -> int:
    """Rebuild the search index from the database and swap it in; then catch up."""
    with SearchIndex.from_settings(settings) as index:
        vocabulary = settings.search_vocabulary()
        count = reindex(engine, index, settings.meili_index, vocabulary=vocabulary)
        sync_index(engine, index, settings.meili_index, vocabulary=vocabulary)
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
        with contextlib.closing(ObjectStore(settings)) as own:
            return _fetch(engine, settings, own, limit=limit, source_id=source_id)
    return _fetch(engine, settings, store, limit=limit, source_id=source_id)


def _fetch(
    engine: Engine, settings: Settings, store: ObjectStore, *, limit: int, source_id: int | None
) -> FetchReport:
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


async def harvest_due(engine: Engine, settings: Settings, source_id: int) -> list[HarvestRun]:
    """Harvest one due source, schedule its next harvest, reconcile it if that is due.

    Sources that never announce deletions (``deletedRecord`` no or transient) are
    reconciled after their harvest when the last reconciliation is old enough.  Raises
    ``SourceBusy`` when another worker is harvesting the source or has just harvested it.
    Indexing is left to the indexer, which follows the journal on its own cadence.
    """
    options = HarvestOptions.from_settings(settings)
    run = await harvest(engine, source_id, options=options, scheduled=True)
    with session_scope(engine) as session:
        needs = sources.needs_reconciliation(session, source_id, settings.reconcile_interval_days)
    runs = [run]
    if run.status != "failed" and needs:
        with contextlib.suppress(SourceBusy):
            runs.append(
                await reconcile(
                    engine,
                    source_id,
                    max_share=settings.reconcile_max_share,
                    options=options,
                )
            )
    return runs


def due_source_ids(engine: Engine) -> list[int]:
    """Due sources, those never harvested first, then the longest waiting."""
    with session_scope(engine) as session:
        due = sources.due_sources(session)
    oldest = datetime.min.replace(tzinfo=UTC)
    due.sort(key=lambda s: (s.next_harvest_at is not None, _aware(s.next_harvest_at) or oldest))
    return [source.id for source in due if source.id is not None]


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands datetimes back without their zone; they were written in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def run_due(engine: Engine, settings: Settings) -> list[HarvestRun]:
    """Harvest every due source another worker is not already harvesting; wait for all.

    Sources are harvested side by side, at most ``harvest_concurrency`` at once, so one
    slow source does not hold the others back.  Runs come back in the order of the due
    sources.  (``coursefed worker --once``; the long-running worker and ``serve`` use
    ``Scheduler``, which does not wait for slow sources.)
    """
    due = due_source_ids(engine)
    if not due:
        return []

    def one(source_id: int) -> list[HarvestRun]:
        try:
            return asyncio.run(harvest_due(engine, settings, source_id))
        except SourceBusy:
            return []

    workers = min(settings.harvest_concurrency, len(due))
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="harvest") as pool:
        return [run for runs in pool.map(one, due) for run in runs]


class _Harvest(threading.Thread):
    """One due source's harvest (and reconciliation) on an event loop of its own.

    ``cancel()`` may be called from any thread: the harvest stops at its next ``await``
    (a network read, a retry wait), releases the source's lease and leaves its run
    ``running`` with the checkpoint of its last page, to be resumed by the next harvest.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        source_id: int,
    ) -> None:
        super().__init__(name=f"coursefed-harvest-{source_id}", daemon=True)
        self.scheduler = scheduler
        self.source_id = source_id
        self.runs: list[HarvestRun] = []
        self.completed = False  # False: cancelled, busy elsewhere, or crashed
        self._cancelled = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except asyncio.CancelledError:
            log.info(
                "harvest of source %s stopped at shutdown; the next one resumes it", self.source_id
            )
        except SourceBusy:
            log.debug("source %s is being harvested by another worker", self.source_id)
        except Exception:  # a failing harvest must never take the scheduler down
            log.exception("harvest of source %s failed", self.source_id)
        finally:
            self.scheduler.harvest_finished(self)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self._cancelled.is_set():
            return
        scheduler = self.scheduler
        self.runs = await harvest_due(scheduler.engine, scheduler.settings, self.source_id)
        self.completed = True

    def cancel(self) -> None:
        self._cancelled.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                loop.call_soon_threadsafe(task.cancel)


class Scheduler:
    """The background work of ``coursefed serve`` and ``coursefed worker``, kept apart.

    Three loops in threads of their own, none waiting for another:

    - **harvests**: every ``scheduler_interval`` seconds (and whenever a harvest ends),
      each due source's harvest starts in a thread of its own, at most
      ``harvest_concurrency`` at once, never one source twice (the source lease keeps
      other processes off it);
    - **indexer**: every ``index_interval`` seconds, the journal is followed into
      Meilisearch, so new records become searchable while harvests are still running;
    - **objects**: every ``scheduler_interval`` seconds, one round of file discovery,
      fetching (one S3 client for every round) and link checks.

    A source that trickles, stalls or never ends its list holds one harvest slot and
    nothing else.  ``stop()`` cancels running harvests (see ``_Harvest.cancel``) and
    waits at most ``scheduler_stop_seconds`` for every thread; all are daemon threads,
    so one still blocked (in a DNS lookup, on a database lock, in a long page) is left
    behind and ends with the process instead of holding up shutdown.
    """

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        on_run: Callable[[HarvestRun], None] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.on_run = on_run  # told of every finished run (the worker prints reports)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._harvests: dict[int, _Harvest] = {}
        # A source whose harvest did not complete stays due (its next harvest is only
        # scheduled by a complete one): it waits a round before it is tried again.
        self._not_before: dict[int, float] = {}
        self._store = ObjectStore(settings)  # one S3 client for every round, closed with the loop
        self._loops = [
            threading.Thread(target=target, name=f"coursefed-{name}", daemon=True)
            for name, target in (
                ("harvests", self._harvest_loop),
                ("indexer", self._index_loop),
                ("objects", self._objects_loop),
            )
        ]

    def start(self) -> None:
        for thread in self._loops:
            thread.start()

    @property
    def harvesting(self) -> list[int]:
        """Ids of the sources being harvested now."""
        with self._lock:
            return sorted(self._harvests)

    def stop(self, timeout: float | None = None) -> list[str]:
        """Stop every loop and cancel running harvests; returns the threads left running.

        Waits at most ``timeout`` seconds (default ``scheduler_stop_seconds``) in all.
        """
        self._stop.set()
        self._wake.set()
        with self._lock:  # no harvest starts once this is taken
            harvests = list(self._harvests.values())
        for job in harvests:
            job.cancel()
        wait = self.settings.scheduler_stop_seconds if timeout is None else timeout
        deadline = time.monotonic() + wait
        threads: list[threading.Thread] = [*self._loops, *harvests]
        for thread in threads:
            if thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        left = [thread.name for thread in threads if thread.is_alive()]
        if left:
            log.warning(
                "shutdown left %s still running; they end with the process", ", ".join(left)
            )
        return left

    # --- the loops ----------------------------------------------------------------------

    def _every(self, seconds: float, work: Callable[[], object], what: str) -> None:
        while not self._stop.is_set():
            try:
                work()
            except Exception:  # the loop must outlive any one failing round
                log.exception("%s round failed", what)
            self._stop.wait(seconds)

    def _harvest_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._start_due_harvests()
            except Exception:
                log.exception("starting due harvests failed")
            self._wake.wait(self.settings.scheduler_interval)
            self._wake.clear()

    def _start_due_harvests(self) -> None:
        due = due_source_ids(self.engine)
        now = time.monotonic()
        with self._lock:
            for source_id in due:
                if self._stop.is_set() or len(self._harvests) >= self.settings.harvest_concurrency:
                    return
                if source_id in self._harvests or self._not_before.get(source_id, 0.0) > now:
                    continue
                self._not_before.pop(source_id, None)
                job = _Harvest(self, source_id)
                self._harvests[source_id] = job
                job.start()

    def harvest_finished(self, job: _Harvest) -> None:
        with self._lock:
            self._harvests.pop(job.source_id, None)
            if not job.completed:
                self._not_before[job.source_id] = (
                    time.monotonic() + self.settings.scheduler_interval
                )
        self._wake.set()  # a slot is free: start the next due source now
        if self.on_run is not None:
            for run in job.runs:
                try:
                    self.on_run(run)
                except Exception:
                    log.exception("reporting run %s failed", run.id)

    def _index_loop(self) -> None:
        following = _Following(self.engine, self.settings)
        with SearchIndex.from_settings(self.settings) as index:
            self._every(self.settings.index_interval, lambda: following.round(index), "indexing")

    def _objects_loop(self) -> None:
        with contextlib.closing(self._store):  # closed when the loop ends
            self._every(
                self.settings.scheduler_interval,
                lambda: run_objects_quietly(self.engine, self.settings, self._store),
                "object fetching",
            )

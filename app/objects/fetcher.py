"""Fetch pending digital objects from their sources into content-addressed S3 storage.

One round (``fetch_due``) claims due ``pending`` rows, downloads each distinct URL once
(spooled to a file, hashed on the way, under the source's network policy and size cap),
stores the bytes under their sha256 unless S3 holds them already, and records the
outcome on every row naming the URL: ``stored``; refused for good (``not_allowed``,
``too_large``, ``unsupported``); retried later with backoff until ``failed`` (a 404 or
410 fails at once and marks the link broken); or, while S3 is down, postponed with
nothing held against it.  Metadata harvesting never waits for objects.

Rows are leased by a compare-and-set on ``next_attempt_at``, renewed while the round
lives, so workers never download the same row at once.  Side effects precede the commit
that records them, which is safe: a content-addressed PUT is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.clock import utcnow
from app.db import session_scope
from app.objects import repository
from app.objects.download import (
    Downloaded,
    DownloadFailed,
    ObjectRefused,
    download,
    object_client,
)
from app.objects.store import ObjectStore, ObjectStoreError
from app.observability.metrics import OBJECT_FETCHES
from app.settings import Settings

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(days=1)
WRITE_BATCH = 50  # outcomes per transaction


@dataclass
class FetchReport:
    """What one round did, by outcome; ``postponed`` rows wait for S3 to come back."""

    claimed: int = 0
    stored: int = 0
    reused: int = 0  # bytes already in S3 (the same file referenced again)
    retrying: int = 0
    postponed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    store_error: str | None = None


@dataclass(frozen=True)
class Job:
    """One distinct URL to fetch, and the rows (resource × url) waiting for it."""

    url: str
    row_ids: tuple[int, ...]
    allow_private: bool
    max_bytes: int
    attempts: int
    over_quota: bool = False  # every source naming the URL has used up its storage quota


@dataclass(frozen=True)
class Outcome:
    """What became of one job, to be written to its rows."""

    job: Job
    status: str  # stored | failed | not_allowed | too_large | unsupported | retry | postpone
    reason: str | None = None
    got: Downloaded | None = None
    verified: bool = False  # stored by this round: the bytes were hashed on their way in
    next_attempt_at: datetime | None = None
    link_broken: bool = False


class Fetcher:
    """Downloads claimed jobs concurrently (bounded in all and per host) and stores them;
    outcomes are written in batches, so small files do not cost a commit each."""

    def __init__(self, engine: Engine, settings: Settings, store: ObjectStore) -> None:
        self.engine = engine
        self.settings = settings
        self.store = store
        self.spool = settings.data_dir / "tmp"
        self.policy = settings.address_policy()
        self._all = asyncio.Semaphore(max(1, settings.objects_concurrency))
        self._uploads = asyncio.Semaphore(max(1, settings.objects_store_concurrency))
        self._spools = asyncio.Semaphore(
            max(1, settings.objects_concurrency) + max(1, settings.objects_store_concurrency)
        )
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._store_down: str | None = None
        # Two URLs can bring the same bytes: one of them stores, the other finds them held.
        self._storing: dict[str, asyncio.Lock] = {}
        self._held: set[str] = set()  # stored in this round
        self._outcomes: list[Outcome] = []
        self._writing = asyncio.Lock()  # one batch at a time: writers would only wait on each other
        self._leased: set[int] = set()  # rows of the round without an outcome yet

    async def run(self, jobs: list[Job], report: FetchReport) -> None:
        self.spool.mkdir(parents=True, exist_ok=True)
        self._leased = {row_id for job in jobs for row_id in job.row_ids}
        keeper = asyncio.create_task(self._keep_leases())
        try:
            async with object_client(self.policy, timeout=self.settings.objects_timeout) as client:
                await asyncio.gather(*(self._one(client, job, report) for job in jobs))
            await self._flush()
        finally:
            keeper.cancel()

    async def _keep_leases(self) -> None:
        """Renew the lease of the rows still waiting or downloading, every third of it; on
        the event loop's thread, where outcomes are noted, so a row whose outcome is being
        written is never renewed after it."""
        seconds = self.settings.objects_lease_seconds
        while True:
            await asyncio.sleep(seconds / 3)
            if not self._leased:
                continue
            until = utcnow() + timedelta(seconds=seconds)
            try:
                with session_scope(self.engine) as session:
                    repository.lease_objects(session, sorted(self._leased), None, until)
            except SQLAlchemyError as exc:
                log.warning("object leases not renewed, will retry: %s", exc)

    def _host(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(max(1, self.settings.objects_host_concurrency))
        return self._hosts[host]

    async def _one(self, client: httpx.AsyncClient, job: Job, report: FetchReport) -> None:
        await self._done(await self._fetch(client, job, report), report)

    async def _fetch(self, client: httpx.AsyncClient, job: Job, report: FetchReport) -> Outcome:
        if job.over_quota:
            quota = self.settings.objects_source_max_bytes or 0
            reason = f"the source's storage quota of {quota:,} bytes is used up"
            return Outcome(job, "too_large", reason)
        # A download frees its slot once the bytes are spooled, and waits for an upload
        # slot of its own: slow sources do not hold S3 back, nor S3 the sources.  At most
        # both limits' worth of spools are alive at once.
        async with self._spools:
            with tempfile.NamedTemporaryFile(dir=self.spool) as spool:
                async with self._all, self._host(job.url):
                    if self._store_down is not None:
                        return self._postponed(job)
                    try:
                        got = await download(
                            job.url,
                            spool,
                            client=client,
                            policy=self.policy.permitting(allow_private=job.allow_private),
                            max_bytes=job.max_bytes,
                            total_timeout=self.settings.objects_download_deadline,
                        )
                    except ObjectRefused as refused:
                        return Outcome(job, refused.kind, refused.reason)
                    except DownloadFailed as failed:
                        return self._failed(job, failed)
                spool.flush()
                try:
                    async with self._uploads:
                        reused = await self._store(Path(spool.name), got)
                except ObjectStoreError as exc:  # stop the round: keep every row pending
                    self._store_down = report.store_error = str(exc)
                    return self._postponed(job)
        report.reused += reused
        verified = not reused and got.sha256 in self._held
        return Outcome(job, "stored", got=got, verified=verified)

    async def _store(self, spool: Path, got: Downloaded) -> bool:
        """Put the spooled file in S3 unless held already; True when they were."""
        async with self._storing.setdefault(got.sha256, asyncio.Lock()):
            if got.sha256 in self._held:
                return True
            held = await asyncio.to_thread(self._put_unless_held, spool, got)
            self._held.add(got.sha256)
            return held

    def _put_unless_held(self, spool: Path, got: Downloaded) -> bool:
        """Put the bytes in S3 unless the blobs table lists them; True when it does.

        The table knows what S3 holds (verify catches any drift), so S3 is not asked
        first: under a content key, storing the same bytes twice changes nothing."""
        with self.engine.connect() as connection:
            if repository.blob_is_held(connection, got.sha256):
                return True
        self.store.put_file(got.sha256, spool, got.size, got.media_type)
        return False

    # --- outcomes ------------------------------------------------------------------------------

    def _failed(self, job: Job, failed: DownloadFailed) -> Outcome:
        attempts = job.attempts + 1
        if not failed.retryable or attempts >= self.settings.objects_max_attempts:
            return Outcome(job, "failed", failed.reason, link_broken=failed.status in {404, 410})
        delay = retry_delay(attempts, self.settings.objects_retry_base_seconds)
        if failed.retry_after is not None:
            delay = max(delay, timedelta(seconds=failed.retry_after))
        reason = f"attempt {attempts} failed: {failed.reason}"
        return Outcome(job, "retry", reason, next_attempt_at=utcnow() + delay)

    def _postponed(self, job: Job) -> Outcome:
        wait = timedelta(seconds=self.settings.objects_store_retry_seconds)
        reason = f"object store unavailable: {self._store_down}"
        return Outcome(job, "postpone", reason, next_attempt_at=utcnow() + wait)

    async def _done(self, outcome: Outcome, report: FetchReport) -> None:
        self._leased.difference_update(outcome.job.row_ids)
        OBJECT_FETCHES.labels(outcome.status).inc()
        rows = len(outcome.job.row_ids)
        if outcome.status == "stored":
            report.stored += 1
            report.outcomes["stored"] += rows
        elif outcome.status == "retry":
            report.retrying += rows
        elif outcome.status == "postpone":
            report.postponed += rows
        else:
            report.outcomes[outcome.status] += rows
        self._outcomes.append(outcome)
        if len(self._outcomes) >= WRITE_BATCH:
            await self._flush()

    async def _flush(self) -> None:
        """Write the outcomes so far on a worker thread.  The job waiting for it holds no
        download or upload slot any more, so the other downloads go on meanwhile."""
        async with self._writing:
            batch, self._outcomes = self._outcomes, []
            if batch:
                await asyncio.to_thread(self._write, batch)

    def _write(self, batch: list[Outcome]) -> None:
        """One transaction for a batch of outcomes, a few statements for all of them."""
        now = utcnow()
        blobs = [
            {**asdict(o.got), "stored_at": now, "verified": o.verified} for o in batch if o.got
        ]
        changes = [_change(row_id, o, now) for o in batch for row_id in o.job.row_ids]
        with session_scope(self.engine) as session:
            repository.record_fetched_blobs(session, blobs)
            repository.update_objects(session, changes)
            # A stored row keeps the name it was declared with; the download's fills a gap.
            named = [
                (row_id, o.got.file_name)
                for o in batch
                if o.got is not None and o.got.file_name
                for row_id in o.job.row_ids
            ]
            repository.fill_file_names(session, named)


def _change(row_id: int, outcome: Outcome, now: datetime) -> dict[str, Any]:
    """The columns an outcome sets on one of its rows."""
    got = outcome.got
    if outcome.status == "stored" and got is not None:
        held = repository.stored_columns(got.sha256, got.size, got.media_type, now)
        return {"id": row_id, **held, "link_checked_at": now, "link_status": "ok"}
    change: dict[str, Any] = {
        "id": row_id,
        "status_reason": (outcome.reason or "")[:2000] or None,
    }
    if outcome.status in {"retry", "postpone"}:
        change["next_attempt_at"] = outcome.next_attempt_at
        if outcome.status == "retry":
            change["attempts"] = outcome.job.attempts + 1
        return change
    change["status"] = outcome.status
    change["next_attempt_at"] = None
    if outcome.link_broken:
        change["link_status"] = "broken"
        change["link_checked_at"] = now
    return change


def retry_delay(attempts: int, base_seconds: float) -> timedelta:
    """Exponential backoff with full jitter on the upper half, capped at a day."""
    ceiling = min(base_seconds * 2 ** (attempts - 1), MAX_BACKOFF.total_seconds())
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311


def claim(
    engine: Engine, settings: Settings, *, limit: int, source_id: int | None = None
) -> list[Job]:
    """Lease up to ``limit`` due pending rows; identical URLs become one job."""
    now = utcnow()
    quota = settings.objects_source_max_bytes
    with session_scope(engine) as session:
        candidates = repository.due_objects(session, now, limit=limit, source_id=source_id)
        until = now + timedelta(seconds=settings.objects_lease_seconds)
        taken = repository.lease_objects(session, [row.id for row in candidates], now, until)
        claimed = [row for row in candidates if row.id in taken]
        policies = repository.source_policies(session, {r.source_id for r in claimed})
        over = set() if quota is None else repository.sources_over_quota(session, quota)
    by_url: dict[str, list[repository.DueObject]] = {}
    for row in claimed:
        by_url.setdefault(row.url, []).append(row)
    jobs = []
    for url, rows in by_url.items():
        allow, cap = strictest(policies, [row.source_id for row in rows])
        jobs.append(
            Job(
                url=url,
                row_ids=tuple(row.id for row in rows),
                allow_private=allow,
                max_bytes=cap or settings.objects_max_bytes,
                attempts=max(row.attempts for row in rows),
                over_quota=all(row.source_id in over for row in rows),
            )
        )
    return jobs


def strictest(
    policies: dict[int | None, tuple[bool, int | None]], source_ids: list[int | None]
) -> tuple[bool, int | None]:
    """The policy for a URL that several sources name: private networks only if every
    source allows them, and the smallest byte cap any of them sets."""
    found = [policies.get(source_id, (False, None)) for source_id in source_ids]
    return all(allow for allow, _ in found), min((cap for _, cap in found if cap), default=None)


async def fetch_due(
    engine: Engine,
    settings: Settings,
    store: ObjectStore,
    *,
    limit: int = 200,
    source_id: int | None = None,
) -> FetchReport:
    """Fetch up to ``limit`` due objects now."""
    jobs = claim(engine, settings, limit=limit, source_id=source_id)
    report = FetchReport(claimed=sum(len(job.row_ids) for job in jobs))
    await Fetcher(engine, settings, store).run(jobs, report)
    return report

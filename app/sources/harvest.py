"""The harvest job: pull one source over OAI-PMH, normalise each record, store it.

Leased, Identify first, the richest format chosen, each page committed with its checkpoint so
a stopped run resumes, bounded in time and pages; the shape of a run is docs/harvesting.md.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import logging
import os
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.catalogue import service as catalogue
from app.catalogue.normalise import normalise
from app.clock import utcnow
from app.db import session_scope
from app.identity import node_id, self_harvest_reason
from app.observability import metrics
from app.settings import Settings
from app.sources import repository, service
from app.sources.models import HarvestRun
from harvesters.net import AddressPolicy
from harvesters.oai import dates
from harvesters.oai.client import DEFAULT_DEADLINE, OAIClient
from harvesters.oai.errors import (
    BadResumptionToken,
    HarvestError,
    OAIError,
    public_description,
)
from harvesters.oai.records import Identify, Page, RawRecord
from metadata.profile import Provenance, ResourceRecord
from metadata.readers import READERS, UnsupportedFormat
from metadata.validate import DROPPED_VALUE_ERRORS

log = logging.getLogger(__name__)

MAX_EVENTS = 200
LISTED_DROPS = 50  # "dropped" events (a value that broke a rule) a run's report lists
LISTED_REPAIRS = 20  # distinct byte repairs a run's report lists
STORE_SLICE = 500  # records written (and forgotten) at a time within a page's transaction

# Most preferred first: the richest format we can normalise wins.
FORMAT_PREFERENCE = (
    "lom", "oai_lom", "lom_ims", "ims_lom", "nl_lom", "oai_lre", "lre", "oai_lom-de",
    "nsdl_dc", "oai_qdc", "qdc", "dcterms",
    "oai_dc",
)  # fmt: skip
LOM_NAMESPACES = ("http://ltsc.ieee.org/xsd/LOM", "http://www.imsglobal.org/xsd/imsmd_v1p2")


class SourceBusy(HarvestError):
    """Another worker holds the source's lease."""


class LeaseLost(HarvestError):
    """Another worker took the source over (our lease ran out); this run stops."""


class _RunLimit(Exception):
    """The run reached one of its bounds (pages or wall clock); it ends ``partial``."""


@dataclass(frozen=True)
class HarvestOptions:
    """Knobs of a harvest, from ``Settings`` (tests shorten them)."""

    overlap_seconds: int = 300
    lease_seconds: int = 600
    timeout: float = 60.0
    max_retries: int = 5
    backoff_base: float = 1.0
    host_concurrency: int = 2
    politeness_delay: float = 0.0
    max_retry_after: float = 600.0
    policy: AddressPolicy = field(default_factory=AddressPolicy)
    deadline: float = DEFAULT_DEADLINE  # one answer, first byte to last
    max_seconds: float = 4 * 3600.0  # one run, wall clock
    max_pages: int = 10_000  # one run
    public_url: str | None = None  # ours, to recognise ourselves
    repository_identifier: str = ""  # ours, likewise

    @classmethod
    def from_settings(cls, settings: Settings) -> HarvestOptions:
        return cls(
            policy=settings.address_policy(),
            deadline=settings.harvest_deadline,
            max_seconds=settings.harvest_max_seconds,
            max_pages=settings.harvest_max_pages,
            public_url=settings.resolved_public_url,
            repository_identifier=settings.oai_repository_identifier,
            overlap_seconds=settings.harvest_overlap_seconds,
            lease_seconds=settings.harvest_lease_seconds,
            timeout=settings.harvest_timeout,
            max_retries=settings.harvest_max_retries,
            backoff_base=settings.harvest_backoff_base,
            host_concurrency=settings.harvest_host_concurrency,
            politeness_delay=settings.harvest_politeness_delay,
        )


ProgressHook = Callable[[HarvestRun], None]
"""Told of the run after every committed page (for progress bars)."""


def describe(exc: HarvestError) -> str:
    """A failure for a (public) report: its kind and our words, never the server's bytes."""
    return public_description(exc)


def worker_id() -> str:
    """Who holds a lease: host and process, so a dead holder on this host is recognisable."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- leases ---------------------------------------------------------------------------------


def _holder_is_gone(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(
    engine: Engine, source_id: int, owner: str, seconds: int, *, if_due: bool = False
) -> bool:
    """Take the source's lease if it is free, ours, run out, or held by a dead process.

    A compare-and-swap on the lease columns, so two workers (on PostgreSQL, on several
    hosts) can never both win.  ``if_due``: only while the source's next harvest is due,
    so a worker that read the due sources before another finished one does not harvest
    it again at once.
    """
    with session_scope(engine) as session:
        source = repository.get_source(session, source_id)
        if source is None:
            raise LookupError(f"no source with id {source_id}")
        held_by, until = source.lease_owner, source.lease_until
        now = utcnow()
        free = (
            held_by is None
            or held_by == owner
            or until is None
            or until < now
            or _holder_is_gone(held_by)
        )
        if not free:
            return False
        return repository.take_lease(
            session,
            source_id,
            held_by=held_by,
            owner=owner,
            until=now + timedelta(seconds=seconds),
            due_at=now if if_due else None,
        )


def release(engine: Engine, source_id: int, owner: str) -> None:
    with session_scope(engine) as session:
        repository.release_lease(session, source_id, owner=owner)


@contextlib.asynccontextmanager
async def holding(
    engine: Engine, source_id: int, owner: str, seconds: int, *, if_due: bool = False
) -> AsyncIterator[None]:
    """Hold the source's lease while the body runs: claimed, renewed every third of its
    length, released at the end.

    Renewal does not wait for the work to make progress (one answer may take longer than
    the lease), so a live worker keeps its source, and a dead one stops renewing: its
    lease runs out and another worker takes the source over.  Raises ``SourceBusy`` when
    another live worker holds it (or, ``if_due``, when it is no longer due).
    """
    if not claim(engine, source_id, owner, seconds, if_due=if_due):
        raise SourceBusy(f"source {source_id} is being harvested by another worker")
    keeper = asyncio.create_task(_keep(engine, source_id, owner, seconds))
    try:
        yield
    finally:
        keeper.cancel()
        release(engine, source_id, owner)


async def _keep(engine: Engine, source_id: int, owner: str, seconds: int) -> None:
    while True:
        await asyncio.sleep(seconds / 3)
        until = utcnow() + timedelta(seconds=seconds)
        try:
            with session_scope(engine) as session:
                kept = repository.extend_lease(session, source_id, owner=owner, until=until)
        except SQLAlchemyError as exc:  # the database is away: pages cannot be stored either
            log.warning("lease of source %s not renewed, will retry: %s", source_id, exc)
            continue
        if not kept:  # the run stops at its next page (LeaseLost)
            log.warning("source %s was taken over by another worker", source_id)
            return


# --- dates ------------------------------------------------------------------------------------


def from_argument(high_water: str, granularity: str | None, overlap_seconds: int) -> str | None:
    """The ``from`` to send: the high-water mark minus the overlap, in the source's granularity.

    Sending seconds to a day-granularity repository gets ``badArgument``; a day is
    inclusive, so the whole day of the high-water mark is asked again.  A mark that
    cannot be read gives no ``from`` at all (a full harvest) rather than a bad argument.
    """
    moment = dates.parse_lenient(high_water)
    if moment is None:
        return None
    moment -= timedelta(seconds=overlap_seconds)
    if granularity == dates.DAY or "T" not in high_water:
        return dates.format_datestamp(moment, dates.DAY)
    return dates.format_datestamp(moment, dates.SECONDS)


def newest(current: str | None, candidate: str | None) -> str | None:
    """The later of two datestamps; one that cannot be read never wins."""
    if not candidate or dates.parse_lenient(candidate) is None:
        return current
    if not current:
        return candidate
    a, b = dates.parse_lenient(current), dates.parse_lenient(candidate)
    return candidate if a is None or (b is not None and b > a) else current


# --- format choice ------------------------------------------------------------------------------


def choose_format(offered: list[tuple[str, str]]) -> str | None:
    """The best ``(prefix, namespace)`` offered that we can normalise, by preference."""
    prefixes = {prefix for prefix, _ in offered}
    for prefix in FORMAT_PREFERENCE:
        if prefix in prefixes and prefix in READERS:
            return prefix
    for prefix, namespace in offered:  # a LOM binding under a local prefix name
        if namespace in LOM_NAMESPACES:
            return prefix
    return None


# --- the run --------------------------------------------------------------------------


async def harvest(
    engine: Engine,
    source_id: int,
    *,
    full: bool = False,
    options: HarvestOptions | None = None,
    progress: ProgressHook | None = None,
    owner: str | None = None,
    scheduled: bool = False,
) -> HarvestRun:
    """Harvest one source; returns the finished run (succeeded, partial or failed).

    ``scheduled``: a harvest found due by a scheduler.  It starts only while the source
    is still due, and schedules the next one before letting the source go, so another
    worker that read the due sources meanwhile does not harvest it again at once.
    Raises ``SourceBusy`` when another live worker holds the source (or, ``scheduled``,
    when it is no longer due).
    """
    job = _Harvest(engine, source_id, options or HarvestOptions(), owner or worker_id(), progress)
    lease = job.options.lease_seconds
    async with holding(engine, source_id, job.owner, lease, if_due=scheduled):
        run = await job.run(full=full)
        if scheduled:
            with session_scope(engine) as session:
                service.schedule_next(session, source_id)
        return run


class _Harvest:
    """One run of one leased source, from Identify to the final report."""

    def __init__(
        self,
        engine: Engine,
        source_id: int,
        options: HarvestOptions,
        owner: str,
        progress: ProgressHook | None,
    ) -> None:
        self.engine = engine
        self.source_id = source_id
        self.options = options
        self.owner = owner
        self.progress = progress
        self.events: list[dict[str, Any]] = []
        self.run_id = 0
        self.slug = self.base_url = self.prefix = ""
        self.set_spec: str | None = None
        self.granularity: str | None = None
        self.pages_this_run = 0
        self.dropped_listed = 0
        self.repairs_seen: set[str] = set()
        self.started = time.monotonic()

    def event(self, kind: str, detail: str) -> None:
        log.info("harvest %s: %s: %s", self.slug or self.source_id, kind, detail)
        if len(self.events) < MAX_EVENTS:
            self.events.append({"at": utcnow().isoformat(), "kind": kind, "detail": detail})

    async def run(self, *, full: bool) -> HarvestRun:
        with session_scope(self.engine) as session:
            source = repository.get_source(session, self.source_id)
            assert source is not None  # noqa: S101 - claim() checked it
            self.slug, self.base_url = source.slug, source.base_url
            pinned = source.prefix_pinned
            allow_private = source.allow_private_network
        started = self.started = time.monotonic()
        limit: str | None = None
        async with OAIClient(
            self.base_url,
            timeout=self.options.timeout,
            max_retries=self.options.max_retries,
            backoff_base=self.options.backoff_base,
            host_concurrency=self.options.host_concurrency,
            politeness_delay=self.options.politeness_delay,
            max_retry_after=self.options.max_retry_after,
            on_retry=self._on_retry,
            policy=self.options.policy.permitting(allow_private=allow_private),
            deadline=self.options.deadline,
        ) as client:
            try:
                # Page commits are synchronous: the clock can only stop the run while it
                # waits for the network or a retry, never half-way through a page.
                async with asyncio.timeout(self.options.max_seconds):
                    error = await self._identify(client, pinned=pinned)
                    self._open_run(full=full)
                    if error is None:
                        error = await self._pages(client)
            except LeaseLost as exc:
                # The run now belongs to the worker that took the source: leave it be.
                log.warning("harvest %s stopped: %s", self.slug, exc)
                with session_scope(self.engine) as session:
                    return self._run(session)
            except _RunLimit as exc:
                limit = str(exc)
            except builtins.TimeoutError:  # asyncio.timeout: the wall clock ran out
                limit = (
                    f"stopped after {time.monotonic() - started:.0f} s, the limit of one run"
                    " (COURSEFED_HARVEST_MAX_SECONDS); the next run continues from here"
                )
                error = None
        if not self.run_id:  # the clock ran out before the run was opened
            self._open_run(full=full)
        if limit is not None:
            return self._finish_limited(limit)
        return self._finish(error)

    def _on_retry(self, reason: str, delay: float) -> None:
        self.event("retry", f"{reason}; waited {delay:.1f} s")

    def _renew_lease(self, session: Session) -> None:
        until = utcnow() + timedelta(seconds=self.options.lease_seconds)
        if not repository.extend_lease(session, self.source_id, owner=self.owner, until=until):
            raise LeaseLost(f"another worker took over source {self.slug or self.source_id}")

    async def _identify(self, client: OAIClient, *, pinned: bool) -> str | None:
        """Identify first; choose the format unless pinned. Returns an error, or None."""
        try:
            identify = await client.identify()
            oneself = self._oneself(identify)
            if oneself is not None:
                return oneself
            offered = None if pinned else await client.list_metadata_formats()
        except HarvestError as exc:
            return describe(exc)
        error = None
        with session_scope(self.engine) as session:
            source = repository.get_source(session, self.source_id)
            assert source is not None  # noqa: S101
            source.repository_name = identify.repository_name or source.repository_name
            source.granularity = identify.granularity or source.granularity
            source.earliest_datestamp = identify.earliest_datestamp or None
            source.deleted_record = identify.deleted_record or None
            source.identified_at = utcnow()
            if offered is not None:
                chosen = choose_format([(f.prefix, f.namespace) for f in offered])
                if chosen is None:
                    names = ", ".join(f.prefix for f in offered) or "none"
                    error = f"no metadata format we can normalise is offered ({names})"
                elif chosen != source.metadata_prefix:
                    self.event("format", f"harvesting {chosen} (was {source.metadata_prefix})")
                    source.metadata_prefix = chosen
            repository.save(session, source)
        return error

    def _oneself(self, identify: Identify) -> str | None:
        """Refuse to harvest this very repository (it would copy itself for ever)."""
        reason = self_harvest_reason(
            identify,
            node=node_id(self.engine),
            public_url=self.options.public_url,
            repository_identifier=self.options.repository_identifier,
        )
        if reason is None:
            return None
        return f"SelfHarvest: this source is this coursefed itself ({reason}); not harvested"

    def _open_run(self, *, full: bool) -> None:
        """Resume the run a dead process left mid-list, continue one that reached its
        bounds, or start a new one."""
        with session_scope(self.engine) as session:
            source = repository.get_source(session, self.source_id)
            assert source is not None  # noqa: S101
            run = None if full else _interrupted_run(session, self.source_id)
            limited = None if full or run is not None else _limited_run(session, self.source_id)
            if run is not None:
                run.resumed += 1
                self.events.extend(run.events)
                self.event("resume", f"resuming run {run.id} after page {run.pages}")
            elif limited is not None:
                run = HarvestRun(
                    source_id=self.source_id,
                    metadata_prefix=limited.metadata_prefix,
                    set_spec=limited.set_spec,
                    from_date=limited.from_date,
                    response_date=limited.response_date,
                    resumption_token=limited.resumption_token,
                    last_datestamp=limited.last_datestamp,
                    datestamps_ordered=limited.datestamps_ordered,
                )
                self.event("continue", f"continuing where run {limited.id} stopped")
            else:
                from_date = None
                if not full and source.high_water:
                    from_date = from_argument(
                        source.high_water, source.granularity, self.options.overlap_seconds
                    )
                run = HarvestRun(
                    source_id=self.source_id,
                    full=full,
                    metadata_prefix=source.metadata_prefix,
                    set_spec=source.set_spec,
                    from_date=from_date,
                )
            run.events = list(self.events)
            repository.save(session, run)
            assert run.id is not None  # noqa: S101 - set by the flush
            # A resumed run keeps the format and set it started with.
            self.run_id = run.id
            self.prefix = run.metadata_prefix or source.metadata_prefix
            self.set_spec = run.set_spec
            self.granularity = source.granularity

    async def _pages(self, client: OAIClient) -> str | None:
        """Follow the list to its end; returns an error message, or None when complete."""
        with session_scope(self.engine) as session:
            run = self._run(session)
            token, from_date = run.resumption_token, run.from_date
        restarted = False
        while True:
            try:
                pages = client.list_records_pages(
                    self.prefix, set=self.set_spec, from_=from_date, resumption_token=token
                )
                async for page in pages:
                    self._store_page(page)
                    self.pages_this_run += 1
                    if page.token is not None and self.pages_this_run >= self.options.max_pages:
                        raise _RunLimit(
                            f"stopped after {self.pages_this_run} pages, the limit of one run"
                            " (COURSEFED_HARVEST_MAX_PAGES); the next run continues from here"
                        )
                return None
            except LeaseLost:
                raise
            except HarvestError as exc:
                failure = describe(exc)
                # An OAI error other than an expired token is the repository's answer, not
                # a failure a second try would mend.
                if isinstance(exc, OAIError) and not isinstance(exc, BadResumptionToken):
                    return failure
                with session_scope(self.engine) as session:
                    run = self._run(session)
                    last_datestamp, ordered = run.last_datestamp, run.datestamps_ordered
                    if restarted or not (run.pages or last_datestamp):
                        return failure
                restarted, token = True, None
                if ordered and last_datestamp is not None:
                    # The list came in datestamp order: nothing older is still unseen.
                    from_date = from_argument(
                        last_datestamp, self.granularity, self.options.overlap_seconds
                    )
                    self.event("restart", f"{failure}; asking again from {from_date}")
                else:
                    # Not in datestamp order (Zenodo and DSpace list by internal id): an
                    # older record may be unseen, so the run's whole window is asked again;
                    # records already stored come back unchanged and cost little.
                    self.event(
                        "restart",
                        f"{failure}; the list was not in datestamp order, asking again "
                        f"from {from_date or 'the beginning'}",
                    )

    def _run(self, session: Session) -> HarvestRun:
        run = repository.get_run(session, self.run_id)
        assert run is not None  # noqa: S101 - created by _open_run
        return run

    def _store_page(self, page: Page) -> None:
        for repair in page.repairs:
            if repair not in self.repairs_seen and len(self.repairs_seen) < LISTED_REPAIRS:
                self.repairs_seen.add(repair)
                self.event("repair", repair)
        with session_scope(self.engine) as session:
            run = self._run(session)
            run.response_date = run.response_date or page.response_date or None
            run.pages += 1
            run.datestamps_ordered = run.datestamps_ordered and _in_order(
                run.last_datestamp, [r.datestamp for r in page.records]
            )
            issue_counts = Counter(run.issue_counts)
            # One transaction for the page, written in slices: a page of tens of thousands
            # of records never holds all their rows and normalised records at once.
            for offset in range(0, len(page.records), STORE_SLICE):
                chunk = page.records[offset : offset + STORE_SLICE]
                ids = (catalogue.resource_id_for(self.slug, r.identifier) for r in chunk)
                batch = catalogue.Batch(session, ids)
                for raw in chunk:
                    self._store_one(session, batch, run, raw, issue_counts)
                batch.flush()
                session.flush()
                del batch
            run.issue_counts = dict(issue_counts)
            run.resumption_token = page.token
            run.events = list(self.events)
            repository.save(session, run)
            # Renew the lease with every page; a page of a run that lost its lease is
            # rolled back, never stored twice by two workers.
            self._renew_lease(session)
        if self.progress is not None:
            self.progress(run)

    def _store_one(
        self,
        session: Session,
        batch: catalogue.Batch,
        run: HarvestRun,
        raw: RawRecord,
        issue_counts: Counter[str],
    ) -> None:
        run.records_seen += 1
        run.last_datestamp = newest(run.last_datestamp, raw.datestamp)
        if not raw.identifier:
            _fail(session, run, raw, "the record header has no identifier")
            return
        resource_id = catalogue.resource_id_for(self.slug, raw.identifier)
        if raw.deleted:
            if batch.delete(resource_id, raw.datestamp) is catalogue.Outcome.DELETED:
                run.records_deleted += 1
            return
        metadata = None if raw.error is not None else raw.metadata  # lazy records parse here
        if metadata is None:
            _fail(session, run, raw, raw.error or "the record has no <metadata>")
            return
        try:
            content, issues = normalise(metadata, self.prefix)
        except UnsupportedFormat as exc:
            _fail(session, run, raw, str(exc))
            return
        except Exception as exc:  # one record must never stop its siblings
            log.exception("normalising %s failed", raw.identifier)
            _fail(session, run, raw, f"could not be normalised: {exc.__class__.__name__}: {exc}")
            return
        issue_counts.update({issue.code for issue in issues})
        for issue in issues:
            if issue.code in DROPPED_VALUE_ERRORS and self.dropped_listed < LISTED_DROPS:
                # Where, not what: the value itself may be a script and stays out of reports.
                self.dropped_listed += 1
                self.event("dropped", f"{raw.identifier}: {issue.path} ({issue.code})")
        raw_sha256 = hashlib.sha256(raw.raw).hexdigest()
        record = ResourceRecord(
            id=resource_id,
            provenance=Provenance(
                source=self.slug,
                oai_identifier=raw.identifier,
                datestamp=raw.datestamp or "",
                metadata_prefix=self.prefix,
                harvested_at=utcnow(),
                raw_sha256=raw_sha256,
                base_url=self.base_url,
            ),
            **dict(content),
        )
        outcome = batch.upsert(
            catalogue.StoredRecord(
                record=record,
                issues=issues,
                source_id=self.source_id,
                oai_identifier=raw.identifier,
                datestamp=raw.datestamp or "",
                metadata_prefix=self.prefix,
                raw_xml=raw.raw,
                raw_sha256=raw_sha256,
            )
        )
        if outcome is catalogue.Outcome.CREATED:
            run.records_added += 1
        elif outcome is catalogue.Outcome.UPDATED:
            run.records_updated += 1
        else:
            run.records_unchanged += 1

    def _finish_limited(self, reason: str) -> HarvestRun:
        """End a run that reached a bound: ``partial``, checkpoint kept for the next run."""
        self.event("limit", reason)
        with session_scope(self.engine) as session:
            run = self._run(session)
            run.finished_at = utcnow()
            run.events = list(self.events)
            run.status, run.error = "partial", reason
            service.note_catalogue(session, run)
            repository.save(session, run)
        log.warning("harvest %s: %s", self.slug, reason)
        self._count(run)
        return run

    def _finish(self, error: str | None) -> HarvestRun:
        with session_scope(self.engine) as session:
            run = self._run(session)
            run.finished_at = utcnow()
            run.events = list(self.events)
            if error:
                run.status, run.error = "failed", error
            else:
                run.status = "partial" if run.records_failed else "succeeded"
                run.resumption_token = None
                source = repository.get_source(session, self.source_id)
                if source is not None and run.response_date:
                    source.high_water = run.response_date
                    repository.save(session, source)
            service.note_catalogue(session, run)
            repository.save(session, run)
        log.info(
            "harvest %s: %s; %d seen, %d added, %d updated, %d unchanged, %d deleted, %d failed",
            self.slug, run.status, run.records_seen, run.records_added, run.records_updated,
            run.records_unchanged, run.records_deleted, run.records_failed,
        )  # fmt: skip
        self._count(run)
        return run

    def _count(self, run: HarvestRun) -> None:
        """The finished run in the harvest metrics (after its commit)."""
        records = {
            "seen": run.records_seen,
            "added": run.records_added,
            "updated": run.records_updated,
            "unchanged": run.records_unchanged,
            "deleted": run.records_deleted,
            "failed": run.records_failed,
        }
        seconds = time.monotonic() - self.started
        metrics.harvest_finished(self.slug or str(self.source_id), run.status, records, seconds)


def _in_order(previous: str | None, datestamps: list[str]) -> bool:
    """Whether ``datestamps`` continue ``previous`` without going back in time."""
    last = dates.parse_lenient(previous) if previous else None
    for value in datestamps:
        moment = dates.parse_lenient(value) if value else None
        if moment is None:
            continue
        if last is not None and moment < last:
            return False
        last = moment
    return True


def _interrupted_run(session: Session, source_id: int) -> HarvestRun | None:
    """A harvest of this source that stopped mid-list (its process died): resume it."""
    return repository.latest_run(session, source_id, kind="harvest", status="running")


def _limited_run(session: Session, source_id: int) -> HarvestRun | None:
    """The latest run, when it stopped at a bound with a list still to go."""
    latest = repository.latest_run(session, source_id, kind="harvest")
    if latest is None or latest.status != "partial":
        return None
    # A bound keeps the checkpoint; a run that was partial for failed records cleared it.
    return latest if latest.resumption_token or latest.error else None


def _fail(session: Session, run: HarvestRun, raw: RawRecord, reason: str) -> None:
    run.records_failed += 1
    repository.add_failed_record(
        session,
        run_id=run.id or 0,
        source_id=run.source_id,
        identifier=raw.identifier or None,
        datestamp=raw.datestamp or None,
        reason=reason,
        raw=raw.raw or None,
    )

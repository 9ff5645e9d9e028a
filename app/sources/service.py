"""Registering sources and finding which ones are due for a harvest."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlmodel import Session

from app.catalogue import service as catalogue
from app.clock import utcnow
from app.errors import Conflict, InvalidParameter
from app.sources import repository
from app.sources.models import ConformanceResult, HarvestRun, Source
from harvesters.net.endpoints import endpoint_key

if TYPE_CHECKING:
    from app.sources.conformance import Check

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw]?)\s*$", re.IGNORECASE)
_MINUTES = {"": 1, "m": 1, "h": 60, "d": 1440, "w": 10080}
MAX_INTERVAL_MINUTES = 366 * 1440  # a source harvested less than yearly is not being harvested


def parse_interval(text: str) -> int:
    """Minutes from ``90``, ``30m``, ``12h``, ``1d`` or ``1w``."""
    match = _INTERVAL.match(text)
    if match is None:
        raise InvalidParameter(f"interval {text!r}: use minutes or a unit, e.g. 30m, 12h, 1d, 1w")
    minutes = float(match.group(1)) * _MINUTES[match.group(2).lower()]
    if not 1 <= round(min(minutes, MAX_INTERVAL_MINUTES + 1)) <= MAX_INTERVAL_MINUTES:
        raise InvalidParameter("interval must be from one minute to 366 days")
    return round(minutes)


def find_duplicate(
    session: Session,
    base_url: str,
    *,
    set_spec: str | None,
    metadata_prefix: str | None,
    slug: str | None,
) -> Source | None:
    """Another source (not the one with ``slug``) harvesting the same endpoint, set and
    format: the same records twice, under two names."""
    key = (endpoint_key(base_url), set_spec or None, metadata_prefix)
    for source in list_sources(session):
        asked = source.metadata_prefix if source.prefix_pinned else None
        if source.slug != slug and (
            (endpoint_key(source.base_url), source.set_spec or None, asked) == key
        ):
            return source
    return None


def slug_for(session: Session, name: str, base_url: str) -> str:
    """A free slug from the name (ASCII words) or else the repository's host name."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    if not words:
        words = re.findall(r"[a-z0-9]+", (urlsplit(base_url).hostname or "source").lower())
    base = "-".join(words)[:56].strip("-") or "source"
    slug, n = base, 1
    while get_by_slug(session, slug) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def add_source(
    session: Session,
    *,
    base_url: str,
    name: str | None = None,
    slug: str | None = None,
    metadata_prefix: str | None = None,
    set_spec: str | None = None,
    interval_minutes: int = 1440,
    allow_private_network: bool = False,
) -> Source:
    """Register a source, or update the one with this slug (so re-running is safe).

    A ``metadata_prefix`` given here is pinned; without one the harvest chooses the
    richest format the repository offers.  ``Conflict`` when another source already
    harvests this endpoint, set and format.
    """
    if not base_url.startswith(("http://", "https://")):
        raise InvalidParameter(f"base URL {base_url!r} must start with http:// or https://")
    if not 1 <= interval_minutes <= MAX_INTERVAL_MINUTES:
        raise InvalidParameter("interval must be from one minute to 366 days")
    if slug is not None and not _SLUG.match(slug):
        raise InvalidParameter(
            f"slug {slug!r}: use 2-63 lowercase letters, digits and '-', starting alphanumeric"
        )
    duplicate = find_duplicate(
        session, base_url, set_spec=set_spec, metadata_prefix=metadata_prefix, slug=slug
    )
    if duplicate is not None:
        raise Conflict(
            f"source {duplicate.slug!r} already harvests {duplicate.base_url}"
            + (f" set {set_spec!r}" if set_spec else "")
            + (f" in {metadata_prefix}" if metadata_prefix else "")
            + f"; update it with slug {duplicate.slug!r} instead"
        )
    # The name may come from a repository's Identify: kept to what the table holds.
    display = (name or slug or urlsplit(base_url).hostname or base_url)[:300]
    source = get_by_slug(session, slug) if slug else None
    if source is None:
        source = Source(
            slug=slug or slug_for(session, display, base_url), name=display, base_url=base_url
        )
    source.name = display if name else source.name
    source.base_url = base_url
    source.prefix_pinned = metadata_prefix is not None
    source.metadata_prefix = metadata_prefix or source.metadata_prefix or "oai_dc"
    source.set_spec = set_spec
    source.interval_minutes = interval_minutes
    source.allow_private_network = allow_private_network
    repository.save(session, source)
    return source


def find_source(session: Session, reference: str) -> Source | None:
    """A source by id, slug or name (what `coursefed harvest` accepts)."""
    # An id beyond the column's range is no id (PostgreSQL would refuse to compare it).
    if reference.isascii() and reference.isdigit() and len(reference) < 10:
        found = repository.get_source(session, int(reference))
        if found is not None:
            return found
    return get_by_slug(session, reference) or repository.source_by_name(session, reference)


def get_source(session: Session, source_id: int) -> Source | None:
    return repository.get_source(session, source_id)


def get_by_slug(session: Session, slug: str) -> Source | None:
    return repository.source_by_slug(session, slug)


def list_sources(session: Session) -> list[Source]:
    """Every source, in slug order."""
    return repository.list_sources(session)


def due_sources(session: Session) -> list[Source]:
    """Enabled sources whose next harvest time has come (never-harvested ones first)."""
    now = utcnow()
    due = []
    for source in list_sources(session):
        if not source.enabled:
            continue
        if source.next_harvest_at is None or source.next_harvest_at <= now:
            due.append(source)
    return due


def needs_reconciliation(session: Session, source_id: int, interval_days: float) -> bool:
    """Whether a source that does not announce every deletion is due for a reconciliation."""
    source = repository.get_source(session, source_id)
    if source is None or source.deleted_record not in ("no", "transient"):
        return False
    last = source.last_reconciled_at
    return last is None or last + timedelta(days=interval_days) <= utcnow()


def schedule_next(session: Session, source_id: int) -> None:
    source = repository.get_source(session, source_id)
    if source is not None:
        source.next_harvest_at = utcnow() + timedelta(minutes=source.interval_minutes)
        repository.save(session, source)


def last_run(session: Session, source_id: int) -> HarvestRun | None:
    """The source's newest run of any kind."""
    return repository.latest_run(session, source_id)


def note_catalogue(session: Session, run: HarvestRun) -> None:
    """Keep on a finishing run what the source's catalogue holds now (live and published
    records, mean quality): the points of its charts over time."""
    quality = catalogue.source_quality(session, run.source_id)
    run.live_records = quality.live_records
    run.published_records = quality.published_records
    run.mean_quality = None if quality.mean_quality is None else round(quality.mean_quality, 4)


@dataclass(frozen=True)
class RunPage:
    """One page of a source's runs, newest first."""

    total: int
    page: int
    per_page: int
    runs: list[HarvestRun]


def run_history(session: Session, source_id: int, *, page: int, per_page: int) -> RunPage:
    """The source's runs of every kind, newest first, ``per_page`` a page."""
    runs, total = repository.runs_of_source(
        session, source_id, offset=(page - 1) * per_page, limit=per_page
    )
    return RunPage(total=total, page=page, per_page=per_page, runs=runs)


def get_run(session: Session, source_id: int, run_id: int) -> HarvestRun | None:
    """A run of this source (None for another source's run)."""
    run = repository.get_run(session, run_id)
    return run if run is not None and run.source_id == source_id else None


def runs_older_than(session: Session, seconds: float) -> list[tuple[str, HarvestRun]]:
    """Runs still ``running`` that started more than ``seconds`` ago, with their source's slug.

    A run whose process died counts too, until the source's next harvest resumes it.
    """
    return repository.running_since(session, utcnow() - timedelta(seconds=seconds))


@dataclass(frozen=True)
class LastRun:
    """A source's newest finished harvest, in figures (for monitoring)."""

    source: str
    status: str
    started_at: datetime
    finished_at: datetime
    records: dict[str, int]


def last_runs(session: Session) -> list[LastRun]:
    """Every source's newest finished harvest, by slug."""
    runs = []
    for row in repository.latest_finished_harvests(session):
        slug, status, started, finished, *counts, _error = row
        names = ("seen", "added", "updated", "unchanged", "deleted", "failed")
        runs.append(
            LastRun(
                source=slug,
                status=status,
                started_at=started,
                finished_at=finished,
                records=dict(zip(names, counts, strict=True)),
            )
        )
    return runs


def last_successes(session: Session) -> dict[str, datetime]:
    """When each source's newest harvest that listed everything finished, by slug."""
    return dict(repository.last_success_times(session))


# --- conformance checks ----------------------------------------------------------------------


def sources_at(session: Session, base_url: str) -> list[Source]:
    """The registered sources that harvest the endpoint at ``base_url`` (any set or
    format), in slug order."""
    key = endpoint_key(base_url)
    return [s for s in list_sources(session) if endpoint_key(s.base_url) == key]


def record_conformance(
    session: Session, source: Source, base_url: str, checks: Iterable[Check]
) -> ConformanceResult:
    """Keep ``checks`` as the source's latest conformance check, replacing the one before."""
    listed = [{"name": c.name, "outcome": c.outcome, "detail": c.detail} for c in checks]
    assert source.id is not None  # noqa: S101 - a registered source
    result = repository.get_conformance(session, source.id) or ConformanceResult(
        source_id=source.id, base_url=base_url
    )
    result.checked_at = utcnow()
    result.base_url = base_url
    result.checks = listed
    result.passed = sum(1 for c in listed if c["outcome"] == "pass")
    result.warned = sum(1 for c in listed if c["outcome"] == "warn")
    result.failed = sum(1 for c in listed if c["outcome"] == "fail")
    repository.save(session, result)
    return result


def latest_conformance(session: Session, source_id: int) -> ConformanceResult | None:
    """The source's latest stored conformance check; None if it was never checked."""
    return repository.get_conformance(session, source_id)

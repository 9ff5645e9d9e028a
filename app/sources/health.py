"""A source's health as data for pages and the API: runs over time, quality, issues, checks.

``overview(session)`` gives one ``SourceOverview`` per source (the list of all sources);
``source_health(session, source)`` gives a ``SourceHealth`` (one source's page and
``GET /api/v1/sources/{id}/health``).  Both are plain dataclasses of numbers, words and
links; a page decides how to draw them.  Figures come from the catalogue's and the objects
domain's services and from the source's kept runs; nothing here is SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlmodel import Session

from app.catalogue import service as catalogue
from app.objects import service as objects
from app.sources import repository
from app.sources.conformance import format_checks
from app.sources.models import ConformanceResult, HarvestRun, Source
from metadata.issue_codes import issue_code

RUNS_CHARTED = 30


@dataclass(frozen=True)
class SourceOverview:
    """One source in the list of all sources."""

    id: int
    slug: str
    name: str
    base_url: str
    enabled: bool
    last_run_status: str | None  # running, succeeded, partial, failed; None: never run
    last_run_at: datetime | None  # when the newest run (of any kind) started
    last_success_at: datetime | None  # when the newest harvest that listed everything ended
    next_harvest_at: datetime | None
    live_records: int
    published_records: int  # live records without errors: those in the public catalogue
    published_share: float | None  # published / live: share meeting the required fields
    mean_quality: float | None  # 0–1, share of recommended fields present, over live records
    trend: float | None  # mean quality of the last finished run minus the one before
    issue_counts: dict[str, int]  # issue code → live records carrying it, most first
    health_url: str  # GET: this source's SourceHealth


@dataclass(frozen=True)
class RunPoint:
    """One finished run as a point of the charts over time."""

    run_id: int
    kind: str  # harvest or reconcile
    status: str  # succeeded, partial or failed
    finished_at: datetime
    added: int
    updated: int
    deleted: int
    failed: int  # records the run could not read or store
    live_records: int | None  # the source's catalogue when the run ended (None: not kept)
    published_share: float | None
    mean_quality: float | None


@dataclass(frozen=True)
class QualityBucket:
    """Live records whose quality score is in [lower, upper) ([0.9, 1] for the last)."""

    lower: float
    upper: float
    records: int


@dataclass(frozen=True)
class QualitySummary:
    """The quality of the source's live records now."""

    live_records: int
    published_records: int
    published_share: float | None  # share meeting the profile's required fields (no error)
    mean_quality: float | None
    histogram: list[QualityBucket]  # ten buckets from 0 to 1


@dataclass(frozen=True)
class IssueSummary:
    """An issue code of the source: how many live records carry it, and what it means."""

    code: str
    severity: str  # error (the record is not published, but for dropped values) or warning
    records: int
    meaning_zh: str | None
    meaning_en: str | None
    fix_zh: str | None
    fix_en: str | None
    records_url: str  # GET: the paged list of the records carrying it


@dataclass(frozen=True)
class SourceIssues:
    """A source's issue codes with their counts (``GET .../issues``)."""

    source: str  # slug
    live_records: int
    issues: list[IssueSummary]  # most records first


@dataclass(frozen=True)
class IssueLinks:
    course: str | None  # the course page; None while errors keep the record unpublished
    record: str  # the stored record and all its issues (JSON)
    raw: str  # the record exactly as harvested


@dataclass(frozen=True)
class IssueOccurrence:
    severity: str
    message: str
    path: str | None  # where in the record


@dataclass(frozen=True)
class IssueRecordItem:
    """A live record carrying the code, with where and why."""

    id: str
    oai_identifier: str
    title: dict[str, str]  # by language
    published: bool
    severity: str  # of the code in this record: error if any occurrence is one
    occurrences: list[IssueOccurrence]  # each issue of the code in the record
    links: IssueLinks


@dataclass(frozen=True)
class IssueRecords:
    """One page of the records carrying an issue code (``GET .../issues?code=``), in a
    stable order (resource id)."""

    source: str  # slug
    issue: IssueSummary  # the code, its count and meaning
    total: int
    page: int
    per_page: int
    records: list[IssueRecordItem]


@dataclass(frozen=True)
class CheckLine:
    name: str
    outcome: str  # pass, warn or fail
    detail: str


@dataclass(frozen=True)
class ConformanceSummary:
    """The latest conformance check (``coursefed sources check``) of the source."""

    checked_at: datetime
    base_url: str
    passed: int
    warned: int
    failed: int
    checks: list[CheckLine]  # in the order they ran
    lines: list[str]  # as the command printed them: "PASS identify: ..."


@dataclass(frozen=True)
class SourceLinks:
    """The API addresses of the source's details."""

    runs: str
    issues: str
    conformance: str
    report: str


@dataclass(frozen=True)
class SourceHealth:
    """Everything one source's page shows."""

    source: SourceOverview
    runs: list[RunPoint]  # the last finished runs (up to 30), oldest first: for charts
    quality: QualitySummary
    issues: list[IssueSummary]  # most records first
    conformance: ConformanceSummary | None  # None: never checked
    files: objects.SourceFiles
    links: SourceLinks


# --- building them ------------------------------------------------------------------------------


def api_base(source: Source) -> str:
    return f"/api/v1/sources/{quote(source.slug)}"


def issues_url(source: Source, code: str) -> str:
    return f"{api_base(source)}/issues?code={quote(code, safe='')}"


def _trend(runs: list[HarvestRun]) -> float | None:
    """Mean quality of the newest finished run that kept it, minus the one before."""
    kept = [run.mean_quality for run in runs if run.mean_quality is not None]
    return round(kept[0] - kept[1], 4) if len(kept) >= 2 else None


def _overview(
    session: Session,
    source: Source,
    quality: catalogue.SourceQuality | None,
    issues: list[catalogue.IssueCount],
) -> SourceOverview:
    source_id = source.id or 0
    last = repository.latest_run(session, source_id)
    success = repository.last_success(session, source_id)
    live = quality.live_records if quality else 0
    published = quality.published_records if quality else 0
    mean = quality.mean_quality if quality else None
    return SourceOverview(
        id=source_id,
        slug=source.slug,
        name=source.name,
        base_url=source.base_url,
        enabled=source.enabled,
        last_run_status=last.status if last else None,
        last_run_at=last.started_at if last else None,
        last_success_at=success.finished_at if success else None,
        next_harvest_at=source.next_harvest_at,
        live_records=live,
        published_records=published,
        published_share=round(published / live, 4) if live else None,
        mean_quality=round(mean, 4) if mean is not None else None,
        trend=_trend(repository.finished_runs(session, source_id, limit=2, kept=True)),
        issue_counts={count.code: count.records for count in issues},
        health_url=f"{api_base(source)}/health",
    )


def overview(session: Session) -> list[SourceOverview]:
    """Every source in slug order, with its last run, records, quality, trend and issues."""
    qualities = catalogue.quality_of_sources(session)
    issues = catalogue.issue_counts_of_sources(session)
    return [
        _overview(session, source, qualities.get(source.id), issues.get(source.id, []))
        for source in repository.list_sources(session)
    ]


def _run_point(run: HarvestRun) -> RunPoint:
    assert run.id is not None and run.finished_at is not None  # noqa: S101 - finished runs
    live, published = run.live_records, run.published_records
    return RunPoint(
        run_id=run.id,
        kind=run.kind,
        status=run.status,
        finished_at=run.finished_at,
        added=run.records_added,
        updated=run.records_updated,
        deleted=run.records_deleted,
        failed=run.records_failed,
        live_records=live,
        published_share=round((published or 0) / live, 4) if live else None,
        mean_quality=run.mean_quality,
    )


def conformance_summary(result: ConformanceResult) -> ConformanceSummary:
    checks = [
        CheckLine(name=c.get("name", ""), outcome=c.get("outcome", ""), detail=c.get("detail", ""))
        for c in result.checks
    ]
    return ConformanceSummary(
        checked_at=result.checked_at,
        base_url=result.base_url,
        passed=result.passed,
        warned=result.warned,
        failed=result.failed,
        checks=checks,
        lines=format_checks(checks),
    )


def issue_summaries(source: Source, counts: list[catalogue.IssueCount]) -> list[IssueSummary]:
    """Counts of the source's issue codes with what each means and how to fix it."""
    summaries = []
    for count in counts:
        words = issue_code(count.code)
        summaries.append(
            IssueSummary(
                code=count.code,
                severity=count.severity,
                records=count.records,
                meaning_zh=words.meaning_zh,
                meaning_en=words.meaning_en,
                fix_zh=words.fix_zh,
                fix_en=words.fix_en,
                records_url=issues_url(source, count.code),
            )
        )
    return summaries


def source_health(session: Session, source: Source) -> SourceHealth:
    """One source's health: its runs over time, quality now, issues, check and files."""
    source_id = source.id or 0
    quality = catalogue.source_quality(session, source_id)
    counts = catalogue.issue_counts(session, source_id)
    runs = repository.finished_runs(session, source_id, limit=RUNS_CHARTED)
    width = 1 / catalogue.QUALITY_BUCKETS
    histogram = [
        QualityBucket(lower=round(n * width, 2), upper=round((n + 1) * width, 2), records=count)
        for n, count in enumerate(quality.histogram)
    ]
    share = quality.published_share
    mean = quality.mean_quality
    checked = repository.get_conformance(session, source_id)
    base = api_base(source)
    return SourceHealth(
        source=_overview(session, source, quality, counts),
        runs=[_run_point(run) for run in reversed(runs)],
        quality=QualitySummary(
            live_records=quality.live_records,
            published_records=quality.published_records,
            published_share=round(share, 4) if share is not None else None,
            mean_quality=round(mean, 4) if mean is not None else None,
            histogram=histogram,
        ),
        issues=issue_summaries(source, counts),
        conformance=conformance_summary(checked) if checked else None,
        files=objects.source_files(session, source_id),
        links=SourceLinks(
            runs=f"{base}/runs",
            issues=f"{base}/issues",
            conformance=f"{base}/conformance",
            report=f"{base}/report",
        ),
    )


def source_issues(session: Session, source: Source) -> SourceIssues:
    """The source's issue codes, each with its count, meaning and the link to its records."""
    source_id = source.id or 0
    counts = catalogue.issue_counts(session, source_id)
    live = catalogue.source_quality(session, source_id).live_records
    return SourceIssues(
        source=source.slug, live_records=live, issues=issue_summaries(source, counts)
    )


def _occurrence(issue: dict[str, Any]) -> IssueOccurrence:
    path = issue.get("path")
    return IssueOccurrence(
        severity=str(issue.get("severity", "")),
        message=str(issue.get("message", "")),
        path=str(path) if path is not None else None,
    )


def issue_records(
    session: Session, source: Source, code: str, *, page: int, per_page: int
) -> IssueRecords:
    """Page ``page`` of the source's live records whose issues carry ``code``."""
    found = catalogue.records_with_issue(
        session, source.id or 0, code, offset=(page - 1) * per_page, limit=per_page
    )
    items = []
    for record in found.records:
        occurrences = [_occurrence(issue) for issue in record.issues]
        rid = quote(record.id, safe="")
        items.append(
            IssueRecordItem(
                id=record.id,
                oai_identifier=record.oai_identifier,
                title=record.title,
                published=record.published,
                severity=(
                    "error" if any(o.severity == "error" for o in occurrences) else "warning"
                ),
                occurrences=occurrences,
                links=IssueLinks(
                    course=f"/courses/{rid}" if record.published else None,
                    record=f"/api/v1/resources/{rid}",
                    raw=f"/api/v1/resources/{rid}/raw",
                ),
            )
        )
    counted = found.count or catalogue.IssueCount(
        code=code, severity=issue_code(code).severity or "warning", records=0
    )
    (summary,) = issue_summaries(source, [counted])
    return IssueRecords(
        source=source.slug,
        issue=summary,
        total=found.total,
        page=page,
        per_page=per_page,
        records=items,
    )


def latest_conformance(session: Session, source: Source) -> ConformanceSummary | None:
    """The source's latest stored conformance check; None if it was never checked."""
    result = repository.get_conformance(session, source.id or 0)
    return conformance_summary(result) if result else None

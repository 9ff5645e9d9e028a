"""The sources' pages: ``/sources`` (every repository we harvest and how it is doing),
``/sources/{slug}`` (one source's health: runs over time, quality, issues, the latest
conformance check, files) and ``/sources/{slug}/issues/{code}`` (the records carrying one
issue, paged, each with its course page and its raw record).

Every figure comes from ``app.sources.health``, the same numbers as the source health
API; this module only turns them into what the templates show (words for statuses and
trends, chart points, page links).  Issue codes link to their explanation on the quality
page (``/quality#code``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from babel.dates import format_skeleton, format_time
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.auth import rate_limited
from app.deps import SessionDep
from app.sources import health
from app.sources import service as sources
from app.web import i18n
from app.web.errors import render_error
from app.web.i18n import Text
from app.web.quality import issue_name, severity
from app.web.templating import render
from metadata.issue_codes import ISSUE_CODES

router = APIRouter(include_in_schema=False)

Language = Annotated[Literal["zh", "en"] | None, Query()]
PER_PAGE = 50
"""Records per page of an issue's list."""
RUNS_LISTED = 10
"""The newest runs in the table of a source's page (the charts show up to 30)."""
STEADY = 0.0005
"""A change of mean quality smaller than this (0.05 points) is no trend."""


# --- words and links --------------------------------------------------------------------


def source_href(slug: str) -> str:
    return f"/sources/{quote(slug, safe='')}"


def issue_href(slug: str, code: str, page: int = 1) -> str:
    href = f"{source_href(slug)}/issues/{quote(code, safe='')}"
    return href + (f"?{urlencode({'page': page})}" if page > 1 else "")


def guide_href(code: str) -> str:
    """Where the quality page explains ``code``."""
    return f"/quality#{quote(code, safe='')}"


@dataclass(frozen=True)
class Trend:
    """Which way a source's mean quality moved between its last two runs."""

    direction: Literal["up", "down", "steady", "none"]
    points: float  # the change in percentage points, signed (0 when there is none)


def trend(change: float | None) -> Trend:
    if change is None:
        return Trend("none", 0.0)
    points = round(change * 100, 1)
    if abs(change) < STEADY:
        return Trend("steady", 0.0)
    return Trend("up" if change > 0 else "down", points)


def source_name(overview: health.SourceOverview, lang: str) -> Text:
    """The name a source goes by, with its language when it is not the page's."""
    name = overview.name or overview.slug
    return i18n.foreign(Text(name, i18n.guessed_language(name)), lang)


def run_label(moment: datetime, lang: str) -> str:
    """A run on a chart's axis: day and time (3月1日 08:05)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    locale = i18n.LOCALES[lang]
    day = format_skeleton("MMMd", utc, locale=locale)
    return f"{day} {format_time(utc, 'HH:mm', tzinfo=UTC, locale=locale)}"


# --- the list of sources ----------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One source in the list, as the page shows it."""

    href: str
    name: Text
    figures: health.SourceOverview
    trend: Trend
    errors: int  # records × error codes
    warnings: int  # records × warning codes


def source_row(overview: health.SourceOverview, lang: str) -> SourceRow:
    errors = warnings = 0
    for code, records in overview.issue_counts.items():
        if severity(code) == "warning":
            warnings += records
        else:
            errors += records
    return SourceRow(
        href=source_href(overview.slug),
        name=source_name(overview, lang),
        figures=overview,
        trend=trend(overview.trend),
        errors=errors,
        warnings=warnings,
    )


@router.api_route(
    "/sources",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def sources_page(request: Request, session: SessionDep, lang: Language = None) -> Response:
    page_lang = i18n.request_language(request)
    rows = [source_row(overview, page_lang) for overview in health.overview(session)]
    return render(
        request,
        "sources.html",
        {"rows": rows, "live_records": sum(row.figures.live_records for row in rows)},
    )


# --- one source -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueRow:
    """One issue code of a source, with its count and links."""

    code: str
    name: str
    severity: str  # error, dropped or warning
    records: int
    href: str  # the paged list of its records
    guide: str  # its explanation


def issue_rows(slug: str, issues: Sequence[health.IssueSummary], lang: str) -> list[IssueRow]:
    return [
        IssueRow(
            code=issue.code,
            name=issue_name(issue.code, lang),
            severity=severity(issue.code) or issue.severity,
            records=issue.records,
            href=issue_href(slug, issue.code),
            guide=guide_href(issue.code),
        )
        for issue in issues
    ]


def run_points(
    runs: Sequence[health.RunPoint], lang: str
) -> list[tuple[str, dict[str, int | float]]]:
    """Records added, updated and deleted by each run, oldest first: a chart's points."""
    return [
        (
            run_label(run.finished_at, lang),
            {"added": run.added, "updated": run.updated, "deleted": run.deleted},
        )
        for run in runs
    ]


def quality_points(
    runs: Sequence[health.RunPoint], lang: str
) -> list[tuple[str, dict[str, int | float]]]:
    """Mean quality and the share meeting the required fields after each run that kept
    them, in percent, oldest first."""
    return [
        (
            run_label(run.finished_at, lang),
            {
                "mean_quality": round(run.mean_quality * 100, 1),
                "published_share": round((run.published_share or 0) * 100, 1),
            },
        )
        for run in runs
        if run.mean_quality is not None
    ]


def histogram_points(
    buckets: Sequence[health.QualityBucket], lang: str
) -> list[tuple[str, dict[str, int | float]]]:
    """The quality histogram as columns: (score range in percent, {"records": n}),
    0–10, …, 90–100."""
    return [
        (
            f"{i18n.number(round(b.lower * 100), lang)}–{i18n.number(round(b.upper * 100), lang)}",
            {"records": b.records},
        )
        for b in buckets
    ]


@router.api_route(
    "/sources/{slug}",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def source_page(
    request: Request, slug: str, session: SessionDep, lang: Language = None
) -> Response:
    source = sources.get_by_slug(session, slug)
    if source is None:
        return render_error(request, 404, what="source")
    page_lang = i18n.request_language(request)
    state = health.source_health(session, source)
    return render(
        request,
        "source.html",
        {
            "health": state,
            "name": source_name(state.source, page_lang),
            "trend": trend(state.source.trend),
            "issues": issue_rows(source.slug, state.issues, page_lang),
            "run_points": run_points(state.runs, page_lang),
            "quality_points": quality_points(state.runs, page_lang),
            "histogram": histogram_points(state.quality.histogram, page_lang),
            "last_runs": [
                (run_label(run.finished_at, page_lang), run)
                for run in list(reversed(state.runs))[:RUNS_LISTED]
            ],
        },
    )


# --- one issue of one source ------------------------------------------------------------


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap
    href: str
    current: bool


def page_links(slug: str, code: str, page: int, last: int, around: int = 2) -> list[PageLink]:
    """The first and last pages and ``around`` either side of this one, gaps between."""
    shown = sorted({1, last, *range(max(1, page - around), min(last, page + around) + 1)})
    links: list[PageLink] = []
    for number in shown:
        if links and number - (links[-1].number or 0) > 1:
            links.append(PageLink(None, "", current=False))
        links.append(PageLink(number, issue_href(slug, code, number), current=number == page))
    return links


@dataclass(frozen=True)
class RecordRow:
    """A record carrying the issue: its title, where and why, and where to see it."""

    id: str
    title: Text
    oai_identifier: str
    published: bool
    occurrences: list[health.IssueOccurrence]
    course: str | None
    raw: str
    record: str


def record_row(item: health.IssueRecordItem, lang: str) -> RecordRow:
    title = i18n.foreign(i18n.pick(item.title, lang), lang)
    return RecordRow(
        id=item.id,
        title=title,
        oai_identifier=item.oai_identifier,
        published=item.published,
        occurrences=item.occurrences,
        course=item.links.course,
        raw=item.links.raw,
        record=item.links.record,
    )


@router.api_route(
    "/sources/{slug}/issues/{code}",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def issue_page(
    request: Request,
    *,
    slug: str,
    code: str,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    lang: Language = None,
) -> Response:
    source = sources.get_by_slug(session, slug)
    if source is None:
        return render_error(request, 404, what="source")
    found = health.issue_records(session, source, code, page=page, per_page=PER_PAGE)
    if found.total == 0 and code not in ISSUE_CODES:
        return render_error(request, 404)
    last = max(1, math.ceil(found.total / PER_PAGE))
    if page > last:
        return render_error(request, 404)
    page_lang = i18n.request_language(request)
    return render(
        request,
        "source_issue.html",
        {
            "slug": source.slug,
            "source_href": source_href(source.slug),
            "name": i18n.foreign(
                Text(source.name or source.slug, i18n.guessed_language(source.name)), page_lang
            ),
            "code": code,
            "issue_name": issue_name(code, page_lang),
            "severity": severity(code) or found.issue.severity,
            "guide": guide_href(code),
            "total": found.total,
            "first_number": (page - 1) * PER_PAGE + 1,
            "records": [record_row(item, page_lang) for item in found.records],
            "pages": page_links(source.slug, code, page, last) if last > 1 else [],
            "prev_href": issue_href(source.slug, code, page - 1) if page > 1 else None,
            "next_href": issue_href(source.slug, code, page + 1) if page < last else None,
            "api_url": found.issue.records_url + (f"&page={page}" if page > 1 else ""),
        },
    )

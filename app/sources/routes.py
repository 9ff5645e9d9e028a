"""HTTP routes for sources: register (admin), list, harvest reports, the run history, and a
source's health: issues and the records carrying each, the latest conformance check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from app.auth import RegisterDep
from app.deps import SessionDep, StateDep
from app.errors import ErrorBody, NotFound
from app.sources import health, registration, service
from app.sources.models import HarvestRun, Source
from app.sources.report import run_fields, run_report
from app.sources.schemas import (
    IssueParams,
    PageParams,
    RunPage,
    RunPublic,
    SourceCreate,
    SourcePublic,
)

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "no such source (id, slug or name)"}
}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SourcePublic)
async def create_source(body: SourceCreate, state: StateDep, _access: RegisterDep) -> Source:
    """Register a source after checking that it answers OAI-PMH Identify (admin token)."""
    return await registration.register(
        state.engine,
        state.settings,
        base_url=body.base_url,
        name=body.name,
        slug=body.slug,
        metadata_prefix=body.metadata_prefix,
        set_spec=body.set_spec,
        interval_minutes=service.parse_interval(body.interval),
        allow_private_network=body.allow_private_network,
    )


@router.get("", response_model=list[SourcePublic])
def list_sources(session: SessionDep) -> list[Source]:
    return service.list_sources(session)


def _source(session: SessionDep, reference: str) -> Source:
    source = service.find_source(session, reference)
    if source is None or source.id is None:
        raise NotFound(f"no source {reference!r}")
    return source


@router.get("/{reference}", response_model=SourcePublic)
def get_source(reference: str, session: SessionDep) -> Source:
    """A source by id, slug or name."""
    return _source(session, reference)


@router.get("/{reference}/report")
def latest_report(reference: str, session: SessionDep) -> dict[str, Any]:
    """The report of the source's latest harvest: counts, events, failures, issues."""
    source = _source(session, reference)
    run = service.last_run(session, source.id or 0)
    if run is None:
        raise NotFound(f"source {source.slug!r} has not been harvested yet")
    return run_report(session, run)


def run_public(source: Source, run: HarvestRun) -> RunPublic:
    fields = run_fields(run)
    links = {"report": f"/api/v1/sources/{source.slug}/runs/{run.id}"}
    return RunPublic.model_validate({"id": run.id, **fields, "links": links})


@router.get("/{reference}/runs", response_model=RunPage, responses=_NOT_FOUND)
def list_runs(
    reference: str, session: SessionDep, params: Annotated[PageParams, Query()]
) -> RunPage:
    """Every harvest and reconciliation of the source, newest first: counts, duration,
    status, errors, the format and set harvested, and the catalogue each left."""
    source = _source(session, reference)
    found = service.run_history(session, source.id or 0, page=params.page, per_page=params.per_page)
    return RunPage(
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        runs=[run_public(source, run) for run in found.runs],
    )


@router.get("/{reference}/runs/{run_id}", responses=_NOT_FOUND)
def run_report_of(
    reference: str, run_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep
) -> dict[str, Any]:
    """The report of one run of the source (as ``/report`` gives the latest)."""
    source = _source(session, reference)
    run = service.get_run(session, source.id or 0, run_id)
    if run is None:
        raise NotFound(f"source {source.slug!r} has no run {run_id}")
    return run_report(session, run)


@router.get(
    "/{reference}/issues",
    response_model=health.SourceIssues | health.IssueRecords,
    responses=_NOT_FOUND,
)
def source_issues(
    reference: str, session: SessionDep, params: Annotated[IssueParams, Query()]
) -> health.SourceIssues | health.IssueRecords:
    """Without ``code``: the source's issue codes, each with the live records carrying
    it, what it means and how to fix it.  With ``code``: a page of those records (in
    resource id order), each with where and why, and links to its course page (when
    published) and to the record as harvested."""
    source = _source(session, reference)
    if params.code is None:
        return health.source_issues(session, source)
    return health.issue_records(
        session, source, params.code, page=params.page, per_page=params.per_page
    )


@router.get(
    "/{reference}/conformance",
    response_model=health.ConformanceSummary,
    responses={404: {"model": ErrorBody, "description": "no such source, or never checked"}},
)
def source_conformance(reference: str, session: SessionDep) -> health.ConformanceSummary:
    """The latest conformance check of the source (``coursefed sources check``)."""
    source = _source(session, reference)
    found = health.latest_conformance(session, source)
    if found is None:
        raise NotFound(
            f"source {source.slug!r} has not been checked yet: "
            f"run `coursefed sources check {source.slug}`"
        )
    return found


@router.get("/{reference}/health", response_model=health.SourceHealth, responses=_NOT_FOUND)
def source_health(reference: str, session: SessionDep) -> health.SourceHealth:
    """The source at a glance: its finished runs over time (for charts), the quality of
    its live records (histogram, share published), issues by code, the latest
    conformance check and its files (stored, failed, broken links)."""
    return health.source_health(session, _source(session, reference))

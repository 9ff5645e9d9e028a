"""HTTP routes for sources: register (admin), list, and the latest harvest report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from app.auth import RegisterDep
from app.deps import SessionDep, StateDep
from app.errors import NotFound
from app.sources import registration, service
from app.sources.models import Source
from app.sources.report import run_report
from app.sources.schemas import SourceCreate, SourcePublic

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])


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

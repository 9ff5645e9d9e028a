"""``GET /api/v1/institutions`` and ``/api/v1/institutions/{id}``: the institution authority."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.auth import rate_limited
from app.deps import SessionDep
from app.errors import ErrorBody, NotFound
from app.institutions import service
from app.institutions.schemas import InstitutionDetail, InstitutionList, InstitutionPublic

router = APIRouter(prefix="/api/v1", tags=["institutions"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "no institution with this id"}
}


class ListParams(BaseModel):
    """Query parameters of ``GET /api/v1/institutions``; an unknown parameter is an error."""

    model_config = ConfigDict(extra="forbid")

    all: bool = Field(default=False, description="also institutions without a live course")


def _public(summary: service.InstitutionSummary) -> dict[str, Any]:
    return {
        "id": summary.id,
        "name_zh": summary.name_zh,
        "name_en": summary.name_en,
        "label": summary.labels(),
        "count": summary.count,
        "search_url": f"/api/v1/search?institution={quote(summary.id)}",
    }


@router.get("/institutions", response_model=InstitutionList, dependencies=[rate_limited("search")])
def list_institutions(
    session: SessionDep, params: Annotated[ListParams, Query()]
) -> InstitutionList:
    """Every institution with its number of live courses, most courses first; one entry
    per school whatever language or spelling its records use."""
    rows = service.list_institutions(session, with_courses_only=not params.all)
    return InstitutionList(
        institutions=[InstitutionPublic.model_validate(_public(row)) for row in rows],
        total=len(rows),
    )


@router.get(
    "/institutions/{institution_id}",
    response_model=InstitutionDetail,
    responses=_NOT_FOUND,
    dependencies=[rate_limited("search")],
)
def get_institution(institution_id: str, session: SessionDep) -> InstitutionDetail:
    """An institution: its names, the names records use for it, its number of courses."""
    summary = service.get_institution(session, institution_id)
    if summary is None:
        raise NotFound(f"no institution with id {institution_id!r}")
    return InstitutionDetail.model_validate({**_public(summary), "aliases": summary.aliases})

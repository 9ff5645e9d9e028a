"""HTTP routes for single resources: the profile JSON and the raw harvested XML."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.catalogue import repository
from app.catalogue.models import Resource
from app.deps import SessionDep
from app.errors import Gone, NotFound
from metadata.profile import profile_json_schema

router = APIRouter(prefix="/api/v1", tags=["resources"])


def _live(session: SessionDep, resource_id: str) -> Resource:
    resource = repository.get_resource(session, resource_id)
    if resource is None:
        raise NotFound(f"no resource with id {resource_id!r}")
    if resource.deleted:
        raise Gone(f"resource {resource_id!r} was deleted at its source")
    return resource


@router.get("/profile.schema.json")
def profile_schema() -> JSONResponse:
    """The JSON Schema of the course-resource profile (see docs/profile.md)."""
    return JSONResponse(profile_json_schema(), media_type="application/schema+json")


@router.get("/resources/{resource_id}")
def get_resource(resource_id: str, session: SessionDep) -> dict[str, Any]:
    """The profile record with provenance and validation issues."""
    resource = _live(session, resource_id)
    return {
        **resource.record,
        "issues": resource.issues,
        "publishable": resource.publishable,
        "updated_at": resource.updated_at.isoformat(),
    }


@router.get("/resources/{resource_id}/raw")
def get_raw(resource_id: str, session: SessionDep) -> Response:
    """The harvested record exactly as received."""
    resource = _live(session, resource_id)
    return Response(resource.raw_xml or b"", media_type="application/xml")

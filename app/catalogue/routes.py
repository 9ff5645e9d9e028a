"""HTTP routes for single resources: the profile JSON and the raw harvested XML."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.catalogue import repository
from app.catalogue.models import DigitalObject, Resource
from app.deps import SessionDep, StateDep
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
def get_resource(resource_id: str, session: SessionDep, state: StateDep) -> dict[str, Any]:
    """The profile record with provenance, validation issues and the state of its files.

    ``files`` has one entry per file the record names: whether we hold a copy
    (``status`` stored, with its sha256 and our ``href``), when that copy was last
    verified, and whether the source's own link still works (``source_link``).
    """
    resource = _live(session, resource_id)
    base = state.settings.resolved_public_url
    return {
        **resource.record,
        "issues": resource.issues,
        "publishable": resource.publishable,
        "updated_at": resource.updated_at.isoformat(),
        "files": [
            _file_state(row, base) for row in repository.objects_of_resource(session, resource_id)
        ],
    }


def _file_state(row: DigitalObject, base_url: str) -> dict[str, Any]:
    stored = row.status == "stored" and row.sha256 is not None
    return {
        "url": row.url,
        "status": row.status,
        "reason": row.status_reason if row.status != "stored" else None,
        "sha256": row.sha256 if stored else None,
        "href": f"{base_url}/api/v1/objects/{row.sha256}" if stored else None,
        "size": row.size if stored else row.declared_size,
        "media_type": row.media_type if stored else row.declared_format,
        "last_verified_at": _iso(row.last_verified_at),
        "source_link": row.link_status,
        "source_link_checked_at": _iso(row.link_checked_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@router.get("/resources/{resource_id}/raw")
def get_raw(resource_id: str, session: SessionDep) -> Response:
    """The harvested record exactly as received."""
    resource = _live(session, resource_id)
    return Response(resource.raw_xml or b"", media_type="application/xml")

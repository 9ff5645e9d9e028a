"""HTTP routes for single resources: the profile JSON and the raw harvested XML."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app.auth import ClusterDep
from app.catalogue import clusters, service
from app.catalogue.models import DigitalObject, Resource
from app.db import session_scope
from app.deps import SessionDep, StateDep
from app.errors import Conflict, Gone, NotFound
from app.sources import service as sources
from metadata.profile import ResourceRecord, profile_json_schema
from metadata.urls import http_url, screen_urls

router = APIRouter(prefix="/api/v1", tags=["resources"])


def _live(session: SessionDep, resource_id: str) -> Resource:
    resource = service.get_resource(session, resource_id)
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

    ``duplicates_of``: when another record of the same course (from another repository,
    or listed twice) stands for it in search, that record's id, else None;
    ``provenances``: every record of the course, that one first, each with its source,
    OAI identifier and link.
    """
    resource = _live(session, resource_id)
    base = state.settings.resolved_public_url
    return {
        **_screened(resource.record),
        **_cluster(session, resource),
        "issues": resource.issues,
        "publishable": resource.publishable,
        "updated_at": resource.updated_at.isoformat(),
        "files": [
            _file_state(row, base) for row in service.files_of_resource(session, resource_id)
        ],
    }


def _cluster(session: Session, resource: Resource) -> dict[str, Any]:
    """The course's records: which one stands for it (``duplicates_of``), and all of them."""
    slugs: dict[int, str] = {}

    def slug(source_id: int | None) -> str:
        if source_id is None:
            return "local"
        if source_id not in slugs:
            source = sources.get_source(session, source_id)
            slugs[source_id] = source.slug if source else "unknown"
        return slugs[source_id]

    canonical = resource.cluster_id
    return {
        "duplicates_of": canonical if canonical not in (None, resource.id) else None,
        "provenances": [
            {
                "id": member.id,
                "source": slug(member.source_id),
                "oai_identifier": member.oai_identifier,
                "url": http_url(member.record.get("url")),
                "api_url": f"/api/v1/resources/{member.id}",
                "canonical": member.id == (canonical or resource.id),
            }
            for member in clusters.members(session, resource)
        ],
    }


class MergeBody(BaseModel):
    """``POST /api/v1/resources/{id}/merge``: the other record of the same course."""

    model_config = ConfigDict(extra="forbid")

    other_id: str = Field(min_length=1, max_length=100, description="a resource id")


@router.post("/resources/{resource_id}/split")
def split_resource(resource_id: str, state: StateDep, _admin: ClusterDep) -> dict[str, Any]:
    """Take a record out of its course cluster, for good (admin): it is a search hit of
    its own again, and stays one across re-harvests until merged explicitly."""
    with session_scope(state.engine) as session:
        try:
            clusters.split(session, resource_id)
        except clusters.UnknownResource as exc:
            raise NotFound(str(exc)) from exc
        resource = _live(session, resource_id)
        return {"id": resource.id, **_cluster(session, resource)}


@router.post("/resources/{resource_id}/merge")
def merge_resources(
    resource_id: str, body: MergeBody, state: StateDep, _admin: ClusterDep
) -> dict[str, Any]:
    """Make two records one course (admin), whatever their identifiers and titles say."""
    with session_scope(state.engine) as session:
        try:
            clusters.merge(session, resource_id, body.other_id)
        except clusters.UnknownResource as exc:
            raise NotFound(str(exc)) from exc
        except clusters.ClusterError as exc:
            raise Conflict(str(exc)) from exc
        resource = _live(session, resource_id)
        return {"id": resource.id, **_cluster(session, resource)}


def _screened(record: dict[str, Any]) -> dict[str, Any]:
    """The stored record without URLs that break the rule of ``metadata.urls``.

    Only records stored before the rule hold any; the others are served as stored.
    """
    profile = ResourceRecord.model_validate(record)
    clean, dropped = screen_urls(profile)
    return clean.model_dump(mode="json") if dropped else record


def _file_state(row: DigitalObject, base_url: str) -> dict[str, Any]:
    stored = row.status == "stored" and row.sha256 is not None
    return {
        "url": row.url,  # what the record named; status says whether we fetch it
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


_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")
RAW_HEADERS = {
    # A record may carry XHTML (<h:script>, <h:img onerror>): in a sandbox with nothing
    # allowed to load, a browser shows it without running or fetching anything.
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


@router.get(
    "/resources/{resource_id}/raw",
    responses={200: {"content": {"application/xml": {}, "application/json": {}}}},
)
def get_raw(resource_id: str, session: SessionDep) -> Response:
    """The harvested record exactly as received, shown by browsers but never run.

    XML as ``application/xml`` (a browser then reads the encoding the record declares,
    GB 18030 included); a record copied from a mirror's upstream is JSON.  Served under
    ``Content-Security-Policy: sandbox; default-src 'none'`` and ``nosniff``.
    """
    resource = _live(session, resource_id)
    body = resource.raw_xml or b""
    json_record = body.lstrip()[:1] == b"{"
    name = _UNSAFE_IN_NAME.sub("_", resource_id)
    extension = "json" if json_record else "xml"
    headers = {**RAW_HEADERS, "Content-Disposition": f'inline; filename="{name}.{extension}"'}
    media_type = "application/json" if json_record else "application/xml"
    return Response(body, media_type=media_type, headers=headers)

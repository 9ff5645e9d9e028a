"""What browsers and crawlers ask a site for: ``/favicon.ico``, ``/robots.txt``,
``/opensearch.xml`` (the search box offered to the browser).

Outside the OpenAPI schema (they are not the API) and outside the rate limits (each is a
small fixed answer).  The pages link the icons and the OpenSearch description through
``templates/_head_links.html``, included in every page's ``<head>``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from fastapi.templating import Jinja2Templates

from app.deps import StateDep

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")

DAY = 24 * 3600
OPENSEARCH_TYPE = "application/opensearchdescription+xml"


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
def favicon() -> FileResponse:
    return FileResponse(
        HERE / "static" / "favicon.ico",
        media_type="image/x-icon",
        headers={"Cache-Control": f"public, max-age={7 * DAY}"},
    )


@router.api_route("/robots.txt", methods=["GET", "HEAD"])
def robots(request: Request, state: StateDep) -> Response:
    return templates.TemplateResponse(
        request,
        "robots.txt",
        {"base": state.settings.resolved_public_url},
        media_type="text/plain",
        headers={"Cache-Control": f"public, max-age={DAY}"},
    )


@router.api_route("/opensearch.xml", methods=["GET", "HEAD"])
def opensearch(request: Request, state: StateDep) -> Response:
    return templates.TemplateResponse(
        request,
        "opensearch.xml",
        {"base": state.settings.resolved_public_url},
        media_type=OPENSEARCH_TYPE,
        headers={"Cache-Control": f"public, max-age={DAY}"},
    )

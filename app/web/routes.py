"""The learner's pages: search at ``/``, one course at ``/courses/{id}``.

Plain server-rendered HTML.  A course page shows the record in both languages, its
files (our stored copy to download, the source's link and whether it still works) and
embeds the record as schema.org JSON-LD for search engines.  A record's URL becomes a
link only through the ``http_url`` filter; record text is always escaped (search
snippets through ``highlighted``, which lets only ``<mark>`` through).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from app.auth import rate_limited
from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject
from app.deps import SessionDep, StateDep
from app.filenames import clean_file_name, file_name_from_url
from app.search import service
from app.search.gateway import SearchError
from metadata.profile import ResourceRecord
from metadata.urls import http_url, screen_urls
from metadata.vocabularies import EDUCATION_LEVELS, RESOURCE_TYPES, labels_of
from metadata.writers.jsonld import write_jsonld

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# The pages' stylesheet, mounted at /static: no inline style, so the CSP needs no exception.
static = StaticFiles(directory=Path(__file__).parent / "static")

_MARK = re.compile("(</?mark>)")


def link_filter(value: object) -> str:
    """``href`` of a record's URL: the URL when it passes ``http_url``, else nothing.

    Every link to a record's URL goes through it, so a record stored before the URL
    rule (``javascript:…``) renders no link.
    """
    return http_url(value) or ""


def highlighted(text: str) -> Markup:
    """A search snippet as markup: only ``<mark>``/``</mark>`` survive, balanced; the rest
    is escaped, whatever the search service handed over."""
    parts: list[str] = []
    open_ = False
    for piece in _MARK.split(text):
        if piece in {"<mark>", "</mark>"}:
            if (piece == "<mark>") != open_:
                parts.append(piece)
                open_ = not open_
        else:
            parts.append(str(escape(html.unescape(piece))))
    if open_:
        parts.append("</mark>")
    return Markup("".join(parts))  # noqa: S704 - every piece escaped above


templates.env.filters["http_url"] = link_filter
templates.env.tests["http_url"] = lambda value: http_url(value) is not None
templates.env.filters["highlighted"] = highlighted


@router.api_route(
    "/", methods=["GET", "HEAD"], response_class=HTMLResponse, dependencies=[rate_limited("search")]
)
def search_page(
    request: Request,
    state: StateDep,
    q: Annotated[str, Query(max_length=500)] = "",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> HTMLResponse:
    result, error = None, None
    if q:
        try:
            result = service.search(
                state.search, state.settings.meili_index, q=q, page=page, per_page=20
            )
        except SearchError:
            error = "搜索暂时不可用，请稍后再试 · Search is temporarily unavailable."
    return templates.TemplateResponse(
        request,
        "search.html",
        {"q": q, "result": result, "error": error, "page": page},
        status_code=503 if error else 200,
    )


@router.api_route("/courses/{resource_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def course_page(
    request: Request, resource_id: str, session: SessionDep, state: StateDep
) -> HTMLResponse:
    resource = catalogue.get_resource(session, resource_id)
    if resource is None or resource.deleted or not resource.publishable:
        gone = resource is not None and resource.deleted
        return templates.TemplateResponse(
            request,
            "missing.html",
            {"resource_id": resource_id, "gone": gone},
            status_code=410 if gone else 404,
        )
    # Stored before the URL rule, a record may hold what readers now drop.
    record, _ = screen_urls(ResourceRecord.model_validate(resource.record))
    base = state.settings.resolved_public_url
    page_url = f"{base}/courses/{resource_id}"
    files = [_file(row, base) for row in catalogue.files_of_resource(session, resource_id)]
    return templates.TemplateResponse(
        request,
        "course.html",
        {
            "record": record,
            "files": files,
            "level": labels_of(EDUCATION_LEVELS, record.education_level),
            "kind": labels_of(RESOURCE_TYPES, record.resource_type),
            "jsonld": _script_json(write_jsonld(record, url=page_url)),
            "api_url": f"/api/v1/resources/{resource_id}",
        },
    )


def _file(row: DigitalObject, base_url: str) -> dict[str, Any]:
    held = row.status == "stored" and row.sha256 is not None
    # A record's declared name is shown as a download would save it (no bidi overrides).
    name = clean_file_name(row.file_name) or file_name_from_url(row.url.rstrip("/")) or row.url
    return {
        "name": name,
        "href": f"{base_url}/api/v1/objects/{row.sha256}" if held else None,
        "source": http_url(row.url),
        "media_type": row.media_type if held else row.declared_format,
        "size": row.size if held else row.declared_size,
        "status": row.status,
        "broken": row.link_status == "broken",
    }


def _script_json(node: dict[str, Any]) -> Markup:
    """JSON for a <script> element: no "</" or "<!--" can end or confuse it."""
    text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # noqa: S704 - escaped above

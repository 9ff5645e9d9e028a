"""A course's own page at ``/courses/{id}``: the record, its files, its JSON-LD.

A course page shows the record, its files (our stored copy to download, the source's
link and whether it still works) and embeds the record as schema.org JSON-LD for search
engines.  An unknown course is a 404 page, a removed one a 410 page.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.responses import Response

from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject
from app.deps import SessionDep, StateDep
from app.filenames import clean_file_name, file_name_from_url
from app.web.errors import render_error
from app.web.templating import render
from metadata.profile import ResourceRecord
from metadata.urls import http_url, screen_urls
from metadata.writers.jsonld import write_jsonld

router = APIRouter(include_in_schema=False)


@router.api_route("/courses/{resource_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def course_page(
    request: Request, resource_id: str, session: SessionDep, state: StateDep
) -> Response:
    resource = catalogue.get_resource(session, resource_id)
    if resource is None or resource.deleted or not resource.publishable:
        gone = resource is not None and resource.deleted
        return render_error(request, 410 if gone else 404, what="course")
    # Stored before the URL rule, a record may hold what readers now drop.
    record, _ = screen_urls(ResourceRecord.model_validate(resource.record))
    base = state.settings.resolved_public_url
    page_url = f"{base}/courses/{resource_id}"
    files = [_file(row, base) for row in catalogue.files_of_resource(session, resource_id)]
    return render(
        request,
        "course.html",
        {
            "record": record,
            "files": files,
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

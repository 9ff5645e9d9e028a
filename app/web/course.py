"""A course's own page at ``/courses/{id}``, and the inline view of its PDF files.

The page shows the record in the visitor's language (values as words), its files (our
stored copy to play, view or download, the source's link and whether it still works),
its licence, where it comes from, its other parts and related courses, and embeds the
record as schema.org JSON-LD.  An unknown course is a 404 page, a removed one a 410 page.
What the page shows is gathered in ``app.web.course_page``.

``/courses/{id}/view/{sha256}`` serves one of the course's stored PDFs for the page's
``<object>``: streamed through the app whatever ``objects_serve`` says (a redirect to S3
would leave our origin, which the page's policy does not embed, and nginx's ``accel``
answer carries the headers that forbid framing), and framable by our own pages only.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.auth import rate_limited
from app.catalogue import service as catalogue
from app.db import session_scope
from app.deps import SessionDep, StateDep
from app.objects import service as objects
from app.objects.sniff import PDF
from app.objects.store import is_sha256
from app.search.documents import teachers
from app.web import course_page
from app.web.errors import render_error
from app.web.i18n import pick, request_language
from app.web.templating import address_links, render
from metadata.profile import ResourceRecord
from metadata.urls import screen_urls
from metadata.writers.jsonld import write_jsonld

router = APIRouter(include_in_schema=False)

# The PDF view is a document of its own: it loads nothing and only our pages frame it.
VIEW_POLICY = "default-src 'none'; frame-ancestors 'self'"
DESCRIPTION_CHARS = 160


@router.api_route("/courses/{resource_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
def course_page_route(
    request: Request, resource_id: str, session: SessionDep, state: StateDep
) -> Response:
    resource = catalogue.get_resource(session, resource_id)
    if resource is None or resource.deleted or not resource.publishable:
        gone = resource is not None and resource.deleted
        return render_error(request, 410 if gone else 404, what="course")
    # Stored before the URL rule, a record may hold what readers now drop.
    record, _ = screen_urls(ResourceRecord.model_validate(resource.record))
    lang = request_language(request)
    base = state.settings.resolved_public_url
    finder = course_page.Finder(session, state.search, state.settings.meili_index, base)
    school = course_page.school(session, resource, record, lang)
    relations = course_page.relation_groups(finder, resource, record, lang, school)
    # The course's other records are listed where it comes from, never as related courses.
    others = course_page.other_records(session, resource)
    shown = [
        resource_id,
        *(other.id for other in others),
        *(link.id for group in relations for link in group.links if link.id),
    ]
    files = [
        course_page.course_file(row, base_url=base, resource_id=resource_id)
        for row in catalogue.files_of_resource(session, resource_id)
    ]
    return render(
        request,
        "course.html",
        {
            **_canonical_links(base, lang, resource.id, resource.cluster_id, others),
            "record": record,
            "description": _meta_description(record, lang),
            "teachers": teachers(record),
            "files": files,
            "licence": course_page.licence_badge(record.license, lang),
            "relations": relations,
            "school": school,
            "related": course_page.related_courses(finder, record, lang, school, shown),
            "origin": course_page.origin(session, resource, record),
            "other_records": others,
            "jsonld": _script_json(write_jsonld(record, url=f"{base}/courses/{resource_id}")),
            "api_url": f"/api/v1/resources/{resource_id}",
        },
    )


def _canonical_links(
    base: str,
    lang: str,
    resource_id: str,
    cluster_id: str | None,
    others: list[course_page.OtherRecord],
) -> dict[str, Any]:
    """A course several records describe has one address for search engines: the page of
    the record search shows (its cluster's canonical one), in each language."""
    if not cluster_id or cluster_id == resource_id or all(o.id != cluster_id for o in others):
        return {}
    page = f"{base}/courses/{quote(cluster_id, safe='/')}"
    return address_links({"zh": page, "en": f"{page}?lang=en"}, lang)


@router.api_route(
    "/courses/{resource_id}/view/{sha256}",
    methods=["GET", "HEAD"],
    dependencies=[rate_limited("objects")],
)
async def pdf_view(request: Request, resource_id: str, sha256: str, state: StateDep) -> Response:
    """One of the course's stored PDFs, inline, for the course page to frame."""
    if not is_sha256(sha256) or not await run_in_threadpool(
        _has_stored_pdf, state.engine, resource_id, sha256
    ):
        return render_error(request, 404)
    blob = await objects.find_blob(state.engine, state.blobs, sha256)
    response = await objects.serve(
        blob,
        method=request.method,
        headers=request.headers,
        store=state.objects,
        settings=state.settings,
        mode="proxy",
    )
    response.headers["Content-Security-Policy"] = VIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _has_stored_pdf(engine: Engine, resource_id: str, sha256: str) -> bool:
    with session_scope(engine) as session:
        resource = catalogue.get_resource(session, resource_id)
        if resource is None or resource.deleted or not resource.publishable:
            return False
        return any(
            row.sha256 == sha256 and row.status == "stored" and row.media_type == PDF
            for row in catalogue.files_of_resource(session, resource_id)
        )


def _meta_description(record: ResourceRecord, lang: str) -> str:
    """The description's first words, for search engines' result snippets."""
    text = " ".join(pick(record.description, lang).text.split())
    if len(text) <= DESCRIPTION_CHARS:
        return text
    return text[: DESCRIPTION_CHARS - 1].rstrip() + "…"


def _script_json(node: dict[str, Any]) -> Markup:
    """JSON for a <script> element: no "</" or "<!--" can end or confuse it."""
    text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # noqa: S704 - escaped above

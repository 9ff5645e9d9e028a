"""What browsers and crawlers ask a site for: ``/favicon.ico``, ``/robots.txt``,
``/opensearch.xml`` (the search box offered to the browser) and the sitemaps.

``/sitemap.xml`` is a sitemap index: one child for the site's own pages, then the live
courses in id order cut into children of ``COURSEFED_SITEMAP_PAGE_SIZE`` (45,000).  A
course child is named by its bounds
(``/sitemaps/courses.xml?from=<first id>&before=<next child's first id>``), so it is read
as one range of a covering index, as cheap for the last child of a million courses as
for the first, and each live course is in exactly one child even while the catalogue
changes between a crawler's reads of the index and of the children: a child lists what
its bounds hold when it is read, up to the protocol's 50,000 URLs (the headroom above
the page size is for courses added in between).  Each course appears once, with its
last change and its Chinese (plain URL, also ``x-default``) and English (``?lang=en``)
versions as hreflang alternates, as the pages name them.

None of this is in the OpenAPI schema (it is not the API).  The icon, robots.txt and the
OpenSearch description are small fixed answers, outside the rate limits; the sitemaps
read the database and draw on the ``sitemap`` budget.  The pages link the icons and the
OpenSearch description through ``templates/_head_links.html``, in every page's ``<head>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.templating import Jinja2Templates

from app.auth import rate_limited
from app.catalogue import service as catalogue
from app.deps import SessionDep, StateDep
from app.institutions import service as institutions
from app.web import sitemaps
from app.web.sitemaps import Entry

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


# --- sitemaps -----------------------------------------------------------------------------


def site_pages(base: str, schools: Iterable[str] = ()) -> list[Entry]:
    """The site's own pages, each with its English version: the home page, the statistics,
    the catalogue files, the sources, the quality guide, the list of institutions and the
    page of each school (``schools``: the ids of those with courses)."""
    urls = [f"{base}/", f"{base}/stats", f"{base}/catalogue", f"{base}/sources", f"{base}/quality"]
    urls.append(f"{base}/institutions")
    urls += [f"{base}/institutions/{quote(school, safe='')}" for school in schools]
    return [Entry(url, alternates=_versions(url)) for url in urls]


def _versions(url: str) -> tuple[tuple[str, str], ...]:
    # As the pages' own hreflang links: the plain URL is Chinese and the default.
    return (("zh-CN", url), ("en", f"{url}?lang=en"), ("x-default", url))


def course_entries(base: str, rows: Iterable[tuple[str, datetime]]) -> Iterable[Entry]:
    for resource_id, updated_at in rows:
        url = f"{base}/courses/{quote(resource_id, safe='')}"
        yield Entry(url, lastmod=updated_at, alternates=_versions(url))


@router.api_route("/sitemap.xml", methods=["GET", "HEAD"], dependencies=[rate_limited("sitemap")])
def sitemap_index(state: StateDep, session: SessionDep) -> Response:
    base = state.settings.resolved_public_url
    children = [Entry(f"{base}/sitemaps/pages.xml")]
    for page in catalogue.live_pages(session, state.settings.sitemap_page_size):
        bounds = (
            {"from": page.first, "before": page.before} if page.before else {"from": page.first}
        )
        query = urlencode(bounds)
        children.append(Entry(f"{base}/sitemaps/courses.xml?{query}", lastmod=page.last_modified))
    return Response(sitemaps.index(children), media_type=sitemaps.MEDIA_TYPE)


@router.api_route(
    "/sitemaps/pages.xml", methods=["GET", "HEAD"], dependencies=[rate_limited("sitemap")]
)
def pages_sitemap(state: StateDep, session: SessionDep) -> StreamingResponse:
    schools = [s.id for s in institutions.list_institutions(session, with_courses_only=True)]
    entries = site_pages(state.settings.resolved_public_url, schools)
    return StreamingResponse(sitemaps.urlset(entries), media_type=sitemaps.MEDIA_TYPE)


@router.api_route(
    "/sitemaps/courses.xml", methods=["GET", "HEAD"], dependencies=[rate_limited("sitemap")]
)
def courses_sitemap(
    state: StateDep,
    session: SessionDep,
    first: Annotated[str, Query(alias="from", max_length=100)] = "",
    before: Annotated[str | None, Query(max_length=100)] = None,
) -> StreamingResponse:
    """Live courses with ``from <= id < before``: a page when the index was read, and
    up to the protocol's 50,000 should courses have been added in between."""
    rows = catalogue.live_page(session, first, before, sitemaps.MAX_URLS)
    entries = course_entries(state.settings.resolved_public_url, rows)
    return StreamingResponse(sitemaps.urlset(entries), media_type=sitemaps.MEDIA_TYPE)

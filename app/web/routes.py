"""The learner's pages: the home page at ``/`` and the results at ``/search``.

``/`` shows the catalogue: its size, disciplines and levels with their counts,
institutions and the newest courses.  ``/search`` lists courses: every course when the
query is empty, with facets, removable filter chips, sorts and numbered pages, all of it
in the URL (``results.SearchState``).  ``/`` given search parameters (``/?q=…``, as
older links and OpenSearch clients send) answers with a permanent redirect to
``/search`` with the same query.  The course page is ``app.web.course``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from app.auth import rate_limited
from app.deps import StateDep
from app.errors import InvalidParameter, ServiceUnavailable
from app.institutions import service as institutions
from app.observability import metrics
from app.publication import links as publication
from app.search import service
from app.search.gateway import SearchError
from app.web import results
from app.web.i18n import LANGUAGES, request_language
from app.web.templating import render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
# The pages' stylesheet, mounted at /static: no inline style, so the CSP needs no exception.
static = StaticFiles(directory=Path(__file__).parent / "static")

Language = Annotated[str | None, Query(pattern=f"^({'|'.join(LANGUAGES)})$")]
SEARCH_PARAMETERS = frozenset({"q", "page", "sort", "open", *results.PAGE_FILTERS})
HOME_FACETS = ("subject", "level", "institution")
RETRY_AFTER = {"Retry-After": "30"}


@router.api_route(
    "/", methods=["GET", "HEAD"], response_class=HTMLResponse, dependencies=[rate_limited("search")]
)
def home_page(request: Request, state: StateDep, lang: Language = None) -> Response:
    if SEARCH_PARAMETERS & set(request.query_params):
        query = request.url.query
        return RedirectResponse("/search" + (f"?{query}" if query else ""), status_code=301)
    overview, unavailable = service.Overview(), False
    try:
        overview = service.overview(
            state.search,
            state.settings.meili_index,
            facets=HOME_FACETS,
            newest=6,
            labels={"institution": institutions.facet_labels(state.engine)},
        )
    except SearchError:
        # The home page still offers its search box and links; browsing waits.
        log.warning("the home page could not read the catalogue", exc_info=True)
        unavailable = True
    page_lang = request_language(request)
    return render(
        request,
        "home.html",
        {
            "overview": overview,
            "unavailable": unavailable,
            "categories": [
                (results.value_label("subject", v.value, v.label, page_lang), v)
                for v in overview.facets.get("subject", [])
                if len(v.value) == 2
            ],
            "levels": overview.facets.get("level", []),
            "institutions": [
                (results.value_label("institution", v.value, v.label, page_lang), v)
                for v in overview.facets.get("institution", [])[:8]
            ],
            "institution_count": len(overview.facets.get("institution", [])),
            "newest": [results.card(hit, page_lang) for hit in overview.newest],
        },
    )


class ResultsQuery(BaseModel):
    """The results page's parameters; others (e.g. campaign tags) are ignored."""

    model_config = ConfigDict(extra="ignore")

    q: str = Field(default="", max_length=500)
    page: int = Field(default=1, ge=1)
    sort: str | None = Field(default=None, max_length=20)
    subject: list[str] = Field(default_factory=list)
    level: list[str] = Field(default_factory=list)
    type: list[str] = Field(default_factory=list)
    language: list[str] = Field(default_factory=list)
    institution: list[str] = Field(default_factory=list)
    license: list[str] = Field(default_factory=list)
    source: list[str] = Field(default_factory=list)
    teacher: list[str] = Field(default_factory=list)
    open: bool = False
    lang: Literal["zh", "en"] | None = None


@router.api_route(
    "/search",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def search_page(
    request: Request, state: StateDep, params: Annotated[ResultsQuery, Query()]
) -> Response:
    filters = {name: getattr(params, name) for name in results.PAGE_FILTERS}
    try:
        search = results.SearchState.of(
            q=params.q,
            page=params.page,
            sort=params.sort,
            filters=filters,
            lang=params.lang,
            open_only=params.open,
        )
    except results.BadParameter as exc:
        raise InvalidParameter([{"parameter": exc.parameter, "message": str(exc)}]) from exc
    labels = {"institution": institutions.facet_labels(state.engine)}
    try:
        with metrics.SEARCH_PAGE.time():
            answer = service.faceted_search(
                state.search,
                state.settings.meili_index,
                q=search.q,
                page=search.page,
                per_page=results.PER_PAGE,
                filters=search.filters,
                sort=search.effective_sort,
                open_only=search.open_only,
                labels=labels,
                vocabulary=state.settings.search_vocabulary(),
            )
        browse = None
        if answer.total == 0:
            browse = service.overview(
                state.search, state.settings.meili_index, facets=("subject",), newest=0
            )
    except SearchError as exc:
        log.warning("search failed on the results page", exc_info=True)
        raise ServiceUnavailable("search is unavailable", headers=RETRY_AFTER) from exc
    page_lang = request_language(request)
    return render(
        request,
        "search.html",
        {
            "q": search.q,
            "search": search,
            "result": answer,
            "cards": [results.card(hit, page_lang) for hit in answer.hits],
            "facets": results.facet_groups(search, answer.facets, page_lang),
            "chips": results.chips(search, answer.facets, page_lang),
            "open_switch": results.open_switch(search, answer.facets),
            "sorts": results.sort_links(search),
            "pages": results.pages(answer.total, search.page),
            "browse": [
                (results.value_label("subject", v.value, v.label, page_lang), v)
                for v in (browse.facets.get("subject", []) if browse else [])
                if len(v.value) == 2
            ],
            "capped": answer.total >= results.MAX_TOTAL_HITS,
            "feed_url": publication.feed_url(
                q=search.q, filters=search.filters, open_only=search.open_only, lang=page_lang
            ),
            # A file lists courses by their facts: a search for words has none.
            "download_url": None
            if search.q
            else publication.file_url("csv", filters=search.filters, open_only=search.open_only),
        },
    )

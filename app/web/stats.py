"""The statistics page ``/stats``: the catalogue by discipline, level, type, language,
institution, licence and source, courses added per month, files held and the health of
their links; each as a chart and a table, each value a link to the courses it counts.

The numbers are ``app.stats``' (those of ``GET /api/v1/stats``); what the page shows of
them is ``stats_page``'s.  Meilisearch down: an HTML 503, as the results page answers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.auth import rate_limited
from app.deps import StateDep
from app.errors import ServiceUnavailable
from app.search.gateway import SearchError
from app.stats import service
from app.web import stats_page
from app.web.i18n import request_language
from app.web.templating import render

router = APIRouter(include_in_schema=False)

Language = Annotated[Literal["zh", "en"] | None, Query()]


@router.api_route(
    "/stats",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def statistics_page(request: Request, state: StateDep, lang: Language = None) -> Response:
    try:
        numbers = service.catalogue_stats(state.engine, state.search, state.settings.meili_index)
    except SearchError as exc:
        raise ServiceUnavailable(
            "statistics are unavailable", headers={"Retry-After": "30"}
        ) from exc
    page_lang = request_language(request)
    institutions = numbers.dimensions["institution"]
    return render(
        request,
        "stats.html",
        {
            "stats": numbers,
            "sections": stats_page.sections(numbers, page_lang, lang),
            "months": stats_page.months(numbers.dimensions["added"].values),
            "institution_count": len(institutions.values) if institutions.complete else None,
            "files": numbers.files,
        },
    )

"""HTTP routes of the search API (thin: parameters in, service call, response out)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import Field, JsonValue

from app.auth import rate_limited
from app.deps import StateDep
from app.errors import InvalidParameter, ServiceUnavailable
from app.institutions import service as institutions
from app.observability import metrics
from app.search import service
from app.search.gateway import SearchUnavailable
from app.search.index_settings import MAX_TOTAL_HITS
from app.search.query import FILTERS, SORTS, InvalidFilter
from app.search.schemas import SearchFilters, SearchResponse

router = APIRouter(prefix="/api/v1", tags=["search"])


class SearchParams(SearchFilters):
    """Query parameters of ``GET /api/v1/search``; an unknown parameter is an error."""

    q: str = Field(default="", max_length=500, description="words to look for")
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=20, ge=1, le=service.MAX_PER_PAGE)
    sort: str = Field(
        default="relevance",
        description=f"one of {', '.join(SORTS)}",
        json_schema_extra={"enum": list[JsonValue](SORTS)},
    )
    correct: bool = Field(
        default=True,
        description="false: search q as typed, never its correction (see corrected_query)",
    )


@router.get("/search", response_model=SearchResponse, dependencies=[rate_limited("search")])
def search(state: StateDep, params: Annotated[SearchParams, Query()]) -> Response:
    """Search the catalogue: typo-tolerant, Chinese and English, with facets.

    Repeat a filter to accept any of its values (OR); different filters must all hold (AND).
    """
    if (params.page - 1) * params.per_page >= MAX_TOTAL_HITS:
        message = f"results are available up to the {MAX_TOTAL_HITS:,}th; narrow the search"
        raise InvalidParameter([{"parameter": "page", "message": message}])
    filters = {name: getattr(params, name) for name in FILTERS if getattr(params, name)}
    with metrics.SEARCH_API.time():
        # Built and checked by its model already: written out once, not validated again.
        body = _search(state, params, filters).model_dump_json()
    return Response(body, media_type="application/json")


def _search(state: StateDep, params: SearchParams, filters: dict[str, list[str]]) -> SearchResponse:
    try:
        return service.search(
            state.search,
            state.settings.meili_index,
            q=params.q,
            page=params.page,
            per_page=params.per_page,
            filters=filters,
            sort=params.sort,
            open_only=params.open,
            labels={"institution": institutions.facet_labels(state.engine)},
            vocabulary=state.settings.search_vocabulary(),
            correct=params.correct,
        )
    except InvalidFilter as exc:
        raise InvalidParameter([{"parameter": exc.parameter, "message": str(exc)}]) from exc
    except SearchUnavailable as exc:
        raise ServiceUnavailable("search is temporarily unavailable; try again shortly") from exc

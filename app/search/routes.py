"""HTTP routes of the search API (thin: parameters in, service call, response out)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import StateDep
from app.errors import ServiceUnavailable
from app.search import service
from app.search.gateway import SearchUnavailable
from app.search.schemas import SearchResponse

router = APIRouter(prefix="/api/v1", tags=["search"])


@router.get("/search", response_model=SearchResponse)
def search(
    state: StateDep,
    q: Annotated[str, Query(max_length=500, description="words to look for")] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 20,
) -> SearchResponse:
    """Search the catalogue: typo-tolerant, Chinese and English."""
    try:
        return service.search(
            state.search, state.settings.meili_index, q=q, page=page, per_page=per_page
        )
    except SearchUnavailable as exc:
        raise ServiceUnavailable("search is temporarily unavailable; try again shortly") from exc

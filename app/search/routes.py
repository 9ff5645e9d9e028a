"""HTTP routes of the search API (thin: parameters in, service call, response out)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.json_schema import JsonDict

from app.auth import rate_limited
from app.deps import StateDep
from app.errors import InvalidParameter, ServiceUnavailable
from app.institutions import service as institutions
from app.search import service
from app.search.gateway import SearchUnavailable
from app.search.index_settings import MAX_TOTAL_HITS
from app.search.query import FILTERS, SORTS, InvalidFilter
from app.search.schemas import SearchResponse
from metadata.vocabularies import EDUCATION_LEVELS, RESOURCE_TYPES


def _items(**schema: JsonValue) -> JsonDict:
    """OpenAPI for a repeatable filter's values (checked by ``app.search.query``)."""
    return {"items": {"type": "string", **schema}}


_TEXT_VALUE = _items(minLength=1, maxLength=200, pattern=r"^[^\\\x00-\x1f\x7f]*$")

router = APIRouter(prefix="/api/v1", tags=["search"])


class SearchParams(BaseModel):
    """Query parameters of ``GET /api/v1/search``; an unknown parameter is an error."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=500, description="words to look for")
    page: int = Field(default=1, ge=1, le=10_000)
    per_page: int = Field(default=20, ge=1, le=service.MAX_PER_PAGE)
    subject: list[str] = Field(
        default_factory=list,
        description="discipline code, e.g. 0812",
        json_schema_extra=_items(pattern="^[0-9]{2,6}$"),
    )
    level: list[str] = Field(
        default_factory=list,
        description="education level",
        json_schema_extra=_items(enum=list[JsonValue](EDUCATION_LEVELS)),
    )
    language: list[str] = Field(
        default_factory=list,
        description="language tag, e.g. zh",
        json_schema_extra=_items(pattern="^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
    )
    institution: list[str] = Field(
        default_factory=list,
        description="institution id (see /api/v1/institutions); a name is accepted too",
        json_schema_extra=_TEXT_VALUE,
    )
    license: list[str] = Field(
        default_factory=list,
        description="SPDX id (e.g. CC-BY-4.0), all-rights-reserved, or other",
        json_schema_extra=_TEXT_VALUE,
    )
    open: bool = Field(
        default=False, description="true: only courses under an open licence (CC, CC0, ...)"
    )
    type: list[str] = Field(
        default_factory=list,
        description="CELTS-41 resource type",
        json_schema_extra=_items(enum=list[JsonValue](RESOURCE_TYPES)),
    )
    source: list[str] = Field(
        default_factory=list,
        description="source slug",
        json_schema_extra=_items(pattern="^[a-z0-9][a-z0-9-]{0,62}$"),
    )
    teacher: list[str] = Field(
        default_factory=list, description="a teacher's name", json_schema_extra=_TEXT_VALUE
    )
    sort: str = Field(
        default="relevance",
        description=f"one of {', '.join(SORTS)}",
        json_schema_extra={"enum": list[JsonValue](SORTS)},
    )


@router.get("/search", response_model=SearchResponse, dependencies=[rate_limited("search")])
def search(state: StateDep, params: Annotated[SearchParams, Query()]) -> SearchResponse:
    """Search the catalogue: typo-tolerant, Chinese and English, with facets.

    Repeat a filter to accept any of its values (OR); different filters must all hold (AND).
    """
    if (params.page - 1) * params.per_page >= MAX_TOTAL_HITS:
        message = f"results are available up to the {MAX_TOTAL_HITS:,}th; narrow the search"
        raise InvalidParameter([{"parameter": "page", "message": message}])
    filters = {name: getattr(params, name) for name in FILTERS if getattr(params, name)}
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
        )
    except InvalidFilter as exc:
        raise InvalidParameter([{"parameter": exc.parameter, "message": str(exc)}]) from exc
    except SearchUnavailable as exc:
        raise ServiceUnavailable("search is temporarily unavailable; try again shortly") from exc

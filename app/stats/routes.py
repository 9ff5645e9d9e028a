"""``GET /api/v1/stats`` and ``GET /api/v1/stats.csv``: the catalogue's statistics (thin)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.responses import Response

from app.auth import rate_limited
from app.deps import StateDep
from app.errors import ServiceUnavailable
from app.search.gateway import SearchError
from app.stats import service
from app.stats.schemas import Dimension, Files, StatsResponse, StatValue

router = APIRouter(prefix="/api/v1", tags=["statistics"])

# The numbers are kept for MAX_AGE seconds; caches may keep them as long.
CACHE_CONTROL = f"public, max-age={int(service.MAX_AGE)}"
UNAVAILABLE = "statistics are temporarily unavailable; try again shortly"


def current(state: StateDep) -> service.CatalogueStats:
    """The statistics, or a 503 when the search engine cannot count them."""
    try:
        return service.catalogue_stats(state.engine, state.search, state.settings.meili_index)
    except SearchError as exc:
        raise ServiceUnavailable(UNAVAILABLE, headers={"Retry-After": "30"}) from exc


def _dimension(dimension: service.Dimension) -> Dimension:
    values = []
    for item in dimension.values:
        wanted = dimension.search_value(item.value)
        url = None
        if dimension.filter is not None and wanted is not None:
            url = "/api/v1/search?" + urlencode({dimension.filter: wanted})
        values.append(
            StatValue(value=item.value, count=item.count, label=item.label, search_url=url)
        )
    return Dimension(
        label=dict(dimension.label),
        filter=dimension.filter,
        values=values,
        not_stated=dimension.not_stated,
        others=dimension.others,
        complete=dimension.complete,
    )


@router.get("/stats", response_model=StatsResponse, dependencies=[rate_limited("search")])
def stats(state: StateDep, response: Response) -> StatsResponse:
    """The catalogue in numbers: live courses by discipline category and discipline, level,
    resource type, language, institution, licence (open or not, and each), source and the
    month they were first harvested; files held and the health of their links.

    Counted from the search index (each count equals the search API's facet count) and
    kept for 30 seconds.
    """
    numbers = current(state)
    response.headers["Cache-Control"] = CACHE_CONTROL
    files = numbers.files
    return StatsResponse(
        total=numbers.total,
        dimensions={name: _dimension(d) for name, d in numbers.dimensions.items()},
        files=Files(held=files.files, bytes=files.bytes, objects=files.objects, links=files.links),
        computed_at=numbers.computed_at,
    )


@router.get(
    "/stats.csv",
    response_class=Response,
    dependencies=[rate_limited("search")],
    responses={200: {"content": {"text/csv": {}}, "description": "one row per number"}},
)
def stats_csv(state: StateDep) -> Response:
    """The same numbers as one tidy CSV: ``dimension,value,label_zh,label_en,count``, UTF-8
    with a byte-order mark (so Excel and WPS read the Chinese labels)."""
    text = service.stats_csv(current(state))
    return Response(
        content="\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": CACHE_CONTROL,
            "Content-Disposition": 'attachment; filename="coursefed-stats.csv"',
        },
    )

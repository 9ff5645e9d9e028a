"""HTTP routes of catalogue publication (thin): ``GET /api/v1/catalogue.csv`` and
``.json`` (the files), ``GET /api/v1/catalogue/files`` (the months that have one) and
``GET /feeds/courses.atom`` (new courses matching a search).

The files stream as they are read and draw on the snapshot's rate budget (both send the
catalogue at length); the feed is a search and draws on the search budget.  Bad
parameters are a JSON 422 on every route, the feed's too (feed readers are programs).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from app.auth import rate_limited
from app.deps import SessionDep, StateDep
from app.errors import InvalidParameter, ServiceUnavailable
from app.publication import links, service
from app.publication.atom import MEDIA_TYPE as ATOM_TYPE
from app.publication.links import Format
from app.publication.schemas import (
    CatalogueFilesResponse,
    CatalogueParams,
    FeedParams,
    MonthFileOut,
)
from app.publication.selection import SELECTION_FILTERS, Selection
from app.publication.writers import CSV_MEDIA_TYPE, JSON_MEDIA_TYPE
from app.search.gateway import SearchError
from app.search.query import InvalidFilter
from app.search.schemas import SearchFilters

router = APIRouter(prefix="/api/v1", tags=["catalogue files"])
feeds = APIRouter(include_in_schema=False)

FEED_MAX_AGE = 300  # seconds a reader may keep a feed before asking again
_MEDIA_TYPES: dict[Format, str] = {"csv": CSV_MEDIA_TYPE, "json": JSON_MEDIA_TYPE}


def _selection(params: SearchFilters, *, month: str | None = None, q: str = "") -> Selection:
    filters = {name: getattr(params, name) for name in SELECTION_FILTERS}
    try:
        return Selection.of(filters=filters, month=month, open_only=params.open, q=q)
    except InvalidFilter as exc:
        raise InvalidParameter([{"parameter": exc.parameter, "message": str(exc)}]) from exc


def _file(state: StateDep, params: CatalogueParams, fmt: Format) -> StreamingResponse:
    if params.q:
        message = (
            "catalogue files list courses by their facts, not by words: use the filters, "
            "or /api/v1/search (and its Atom feed) to find words"
        )
        raise InvalidParameter([{"parameter": "q", "message": message}])
    selection = _selection(params, month=params.month)
    current = service.CatalogueFile(
        state.engine, selection, base=state.settings.resolved_public_url
    )
    return StreamingResponse(
        current.chunks(fmt),
        media_type=_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{current.filename(fmt)}"'},
    )


@router.get(
    "/catalogue.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
    dependencies=[rate_limited("snapshot")],
)
def catalogue_csv(state: StateDep, params: Annotated[CatalogueParams, Query()]) -> Response:
    """The live courses first harvested in `month` (or ever) that pass the filters, as CSV.

    UTF-8 with a byte order mark (so Excel reads Chinese), one row per course, oldest
    first; several values in one cell are joined by `; `.  A cell that a spreadsheet
    would run as a formula starts with an apostrophe.
    """
    return _file(state, params, "csv")


@router.get(
    "/catalogue.json",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}}},
    dependencies=[rate_limited("snapshot")],
)
def catalogue_json(state: StateDep, params: Annotated[CatalogueParams, Query()]) -> Response:
    """The same courses as the CSV file, as one JSON object: `courses` (oldest first) and
    their `count`, after what the file holds (`month`, `filters`, `generated_at`)."""
    return _file(state, params, "json")


@router.get(
    "/catalogue/files",
    response_model=CatalogueFilesResponse,
    dependencies=[rate_limited("search")],
)
def catalogue_files(state: StateDep, session: SessionDep) -> CatalogueFilesResponse:
    """The catalogue files: one per month in which courses were first harvested (newest
    first, with how many), and one of every live course."""
    base = state.settings.resolved_public_url
    return CatalogueFilesResponse(
        total=service.catalogue_size(session),
        csv=base + links.file_url("csv"),
        json_url=base + links.file_url("json"),
        months=[
            MonthFileOut(
                month=str(item.month),
                count=item.count,
                csv=base + item.csv_url,
                json_url=base + item.json_url,
            )
            for item in service.monthly_files(session)
        ],
    )


@feeds.api_route(
    "/feeds/courses.atom", methods=["GET", "HEAD"], dependencies=[rate_limited("search")]
)
def course_feed(
    request: Request,
    state: StateDep,
    session: SessionDep,
    params: Annotated[FeedParams, Query()],
) -> Response:
    """The 50 courses first harvested most recently that match a search, as Atom."""
    selection = _selection(params, q=params.q)
    try:
        body = service.course_feed(
            session,
            state.search,
            state.settings.meili_index,
            selection,
            lang=params.lang,
            base=state.settings.resolved_public_url,
            vocabulary=state.settings.search_vocabulary(),
        )
    except InvalidFilter as exc:
        raise InvalidParameter([{"parameter": exc.parameter, "message": str(exc)}]) from exc
    except SearchError as exc:
        raise ServiceUnavailable(
            "search is temporarily unavailable; try again shortly", headers={"Retry-After": "30"}
        ) from exc
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={FEED_MAX_AGE}"}
    if etag in _tags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=ATOM_TYPE, headers=headers)


def _tags(header: str) -> set[str]:
    """The entity tags of an If-None-Match header, weak ones as their strong form."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}

"""The learner's pages: search at ``/`` (the course page is ``app.web.course``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from app.auth import rate_limited
from app.deps import StateDep
from app.search import service
from app.search.gateway import SearchError
from app.web.i18n import LANGUAGES
from app.web.templating import render

router = APIRouter(include_in_schema=False)
# The pages' stylesheet, mounted at /static: no inline style, so the CSP needs no exception.
static = StaticFiles(directory=Path(__file__).parent / "static")

Language = Annotated[str | None, Query(pattern=f"^({'|'.join(LANGUAGES)})$")]


@router.api_route(
    "/", methods=["GET", "HEAD"], response_class=HTMLResponse, dependencies=[rate_limited("search")]
)
@router.api_route(
    "/search",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def search_page(
    request: Request,
    state: StateDep,
    q: Annotated[str, Query(max_length=500)] = "",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
    lang: Language = None,
) -> Response:
    result, error = None, False
    if q:
        try:
            result = service.search(
                state.search, state.settings.meili_index, q=q, page=page, per_page=20
            )
        except SearchError:
            error = True
    return render(
        request,
        "search.html",
        {"q": q, "result": result, "error": error, "page": page},
        status_code=503 if error else 200,
    )

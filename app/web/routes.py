"""The learner's search page at ``/``: a plain server-rendered form and result list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.deps import StateDep
from app.search import service
from app.search.gateway import SearchError

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    state: StateDep,
    q: Annotated[str, Query(max_length=500)] = "",
    page: Annotated[int, Query(ge=1, le=500)] = 1,
) -> HTMLResponse:
    result, error = None, None
    if q:
        try:
            result = service.search(
                state.search, state.settings.meili_index, q=q, page=page, per_page=20
            )
        except SearchError:
            error = "搜索暂时不可用，请稍后再试 · Search is temporarily unavailable."
    return templates.TemplateResponse(
        request,
        "search.html",
        {"q": q, "result": result, "error": error, "page": page},
        status_code=503 if error else 200,
    )

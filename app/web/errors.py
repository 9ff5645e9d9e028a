"""Error pages for people: a page route answers its errors in HTML, in the visitor's
language, with a way back; ``/api``, ``/oai`` and the other machine paths keep theirs.

``app.errors`` renders every error; it asks ``error_page`` first, which answers only for
page routes (anything whose first path segment is not a machine one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.web.templating import page_url, render

# First path segments that are not pages: they answer JSON, XML or files.
MACHINE_SEGMENTS = frozenset(
    {
        "api",
        "oai",
        "feeds",
        "static",
        "docs",
        "redoc",
        "openapi.json",
        "healthz",
        "readyz",
        "metrics",
    }
)


def is_page(request: Request) -> bool:
    """Whether ``request`` is for a page, which a person reads (not the API, OAI, files)."""
    first = request.url.path.lstrip("/").split("/", 1)[0]
    return first not in MACHINE_SEGMENTS


def _problems(request: Request, detail: Any) -> list[dict[str, str]]:
    """The parameters a 422 names, with the values given (never the validator's words:
    they are English and technical)."""
    if not isinstance(detail, list):
        return []
    problems = []
    for item in detail:
        if isinstance(item, Mapping) and item.get("parameter"):
            name = str(item["parameter"])
            values = request.query_params.getlist(name)
            problems.append({"parameter": name, "value": ", ".join(values)[:100]})
    return problems


def error_page(
    request: Request,
    status_code: int,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response | None:
    """The HTML answer to an error on a page route, else ``None`` (the caller answers JSON)."""
    if not is_page(request):
        return None
    return render_error(request, status_code, detail, headers)


def render_error(
    request: Request,
    status_code: int,
    detail: Any = None,
    headers: Mapping[str, str] | None = None,
    *,
    what: str = "page",
) -> Response:
    """An error page: ``what`` names the thing that is missing (``page``, ``course``)."""
    problems = _problems(request, detail) if status_code == 422 else []
    named = {problem["parameter"] for problem in problems}
    retry = page_url(request, **dict.fromkeys(named)) if named else None
    return render(
        request,
        "error.html",
        {"status": status_code, "what": what, "problems": problems, "retry_url": retry},
        status_code=status_code,
        headers=headers,
    )

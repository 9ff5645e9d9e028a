"""The API error family, rendered in one place as JSON ``{"error": ..., "detail": ...}``.

Services raise these; the handlers installed by ``install_error_handlers`` turn them,
FastAPI's validation errors and any unexpected exception into the same JSON shape, so a
user never sees a traceback.  A page route's errors (other than a 500) are answered by
the ``pages`` renderer given to it instead: HTML for people, JSON for programs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.observability.logs import REQUEST_ID

log = logging.getLogger(__name__)


class AppError(Exception):
    """Base of every error the API reports on purpose."""

    status_code = 400
    error = "bad_request"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class NotFound(AppError):
    status_code = 404
    error = "not_found"


class Gone(AppError):
    status_code = 410
    error = "gone"


class InvalidParameter(AppError):
    status_code = 422
    error = "invalid_parameter"


class Unauthorized(AppError):
    status_code = 401
    error = "unauthorized"


class Conflict(AppError):
    """The request would duplicate something that exists (e.g. a source registered twice)."""

    status_code = 409
    error = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    error = "too_large"


class UnsupportedMediaType(AppError):
    status_code = 415
    error = "unsupported_media_type"


class RangeNotSatisfiable(AppError):
    status_code = 416
    error = "range_not_satisfiable"


class ServiceUnavailable(AppError):
    status_code = 503
    error = "service_unavailable"


def public_reason(exc: BaseException) -> str:
    """What went wrong with a dependency, in words fit for a public body.

    Never the exception's text: it names internal hosts, ports and addresses.  The
    caller logs the exception itself.  Looks through the chain of causes, since our
    wrappers (``ObjectStoreError``, ``SearchUnavailable``) hide the network error.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    names: list[str] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError):
            return "timed out"
        if isinstance(current, ConnectionError):
            return "unreachable"
        names.append(type(current).__name__.lower())
        current = current.__cause__ or current.__context__
    if any("timeout" in name for name in names):
        return "timed out"
    if any("connect" in name or "unavailable" in name for name in names):
        return "unreachable"
    return "failing"


class ErrorBody(BaseModel):
    """Every error the API answers with (as OpenAPI documents it)."""

    error: str
    detail: Any = None


# Declared on every operation: FastAPI would otherwise document its own 422 shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "a parameter or the body is invalid"},
}


def error_body(error: str, detail: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail}


# A 500 is answered outside every middleware (Starlette's outermost layer): it carries
# the edge's security headers itself (``app.security`` adds them to everything else).
UNEXPECTED_ERROR_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


PageErrors = Callable[[Request, int, Any, Mapping[str, str] | None], Response | None]
"""Renders an error as a page for a page route; ``None`` for any other route."""


def install_error_handlers(app: FastAPI, pages: PageErrors | None = None) -> None:
    def answer(
        request: Request,
        status_code: int,
        error: str,
        detail: Any,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        page = pages(request, status_code, detail, headers) if pages else None
        if page is not None:
            return page
        return JSONResponse(
            error_body(error, detail),
            status_code=status_code,
            headers=dict(headers) if headers else None,
        )

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        return answer(request, exc.status_code, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {
                "parameter": ".".join(str(p) for p in err.get("loc", ()) if p != "query"),
                "message": err.get("msg", "invalid"),
            }
            for err in exc.errors()
        ]
        return answer(request, 422, "invalid_parameter", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        name = "not_found" if exc.status_code == 404 else "http_error"
        return answer(request, exc.status_code, name, exc.detail, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        # Answered outside the app's middleware: the request id is added here.
        request_id = REQUEST_ID.get()
        return JSONResponse(
            error_body("internal_error", "an unexpected error occurred; it has been logged"),
            status_code=500,
            headers=UNEXPECTED_ERROR_HEADERS | ({"X-Request-ID": request_id} if request_id else {}),
        )

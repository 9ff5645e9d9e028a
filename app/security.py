"""What every request and response passes at the public edge.

``EdgeMiddleware`` (pure ASGI, one per app) refuses request targets longer than
``MAX_TARGET_BYTES`` with a JSON 414, answers CORS preflights, and adds the security
headers to every response: a Content-Security-Policy without inline script (a route
that set its own, like the raw-record route, keeps it), ``nosniff``, a referrer policy,
no framing, and HSTS when the public URL is https.  CORS: any origin may read the
public read API (``GET``/``HEAD`` of ``/api/v1/…`` and ``/oai``), without credentials;
nothing else is shared, and a preflight for any other method or path is refused.

``single_valued_query`` is an app-wide dependency: a query parameter a route declares
as one value, given more than once, is a 422 instead of FastAPI quietly keeping one.
List-valued parameters (search filters repeated for OR) may repeat.  ``/oai`` declares
no parameters and applies OAI-PMH's own rule (a repeated argument is ``badArgument``).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel

from app.errors import InvalidParameter, error_body
from app.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Longer request targets (path and query) are refused: no page or API call needs one,
# and every layer below would otherwise parse and log it.
MAX_TARGET_BYTES = 8 * 1024

# Pages: scripts and styles only from this origin; pictures and media from anywhere on
# the web (a course's files may be served from the S3 public endpoint or a college's
# site); embedded documents (a course's PDF view) and frames from this origin only; no
# <base>, not framed, forms only to us.  The API docs run under it too (app.web.api_docs:
# /docs as it is, /redoc with a policy of its own for its styles).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data: https: http:; media-src 'self' https: http:; "
    "object-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"

# The public read API, shared with every origin.
CORS_PREFIXES = ("/api/v1/",)
CORS_PATHS = frozenset({"/oai"})
CORS_METHODS = frozenset({"GET", "HEAD"})
# Request headers a cross-origin reader may send (beyond the CORS-safelisted ones):
# conditional and range requests.  Not Authorization: the shared API needs no credential.
CORS_REQUEST_HEADERS = frozenset(
    {"accept", "accept-language", "content-language", "if-none-match", "if-range", "range"}
)
CORS_EXPOSE_HEADERS = (
    "Accept-Ranges, Content-Disposition, Content-Range, ETag, Location, Retry-After, "
    "X-Coursefed-Serial"
)
CORS_MAX_AGE = "600"


def _h(name: str, value: str) -> tuple[bytes, bytes]:
    return name.encode("latin-1"), value.encode("latin-1")


class EdgeMiddleware:
    """Target length, CORS and security headers for every HTTP request (see the module)."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        common = [
            _h("X-Content-Type-Options", "nosniff"),
            _h("Referrer-Policy", "strict-origin-when-cross-origin"),
            _h("X-Frame-Options", "DENY"),
        ]
        if settings.resolved_public_url.lower().startswith("https://"):
            common.append(_h("Strict-Transport-Security", HSTS))
        self._common = common
        self._csp = _h("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self._cors = [
            _h("Access-Control-Allow-Origin", "*"),
            _h("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        target = len(scope.get("raw_path") or path.encode()) + len(scope["query_string"]) + 1
        if target > MAX_TARGET_BYTES:
            detail = f"the request target is over {MAX_TARGET_BYTES} bytes"
            await self._json(send, 414, error_body("uri_too_long", detail))
            return
        shared = path.startswith(CORS_PREFIXES) or path in CORS_PATHS
        if method == "OPTIONS" and _is_preflight(scope):
            await self._preflight(scope, send, shared)
            return
        added = self._common + self._cors if shared and method in CORS_METHODS else self._common

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in added if h[0].lower() not in present]
                if b"content-security-policy" not in present:
                    headers.append(self._csp)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _preflight(self, scope: Scope, send: Send, shared: bool) -> None:
        asked = _header(scope, b"access-control-request-method").upper()
        wanted = {
            name.strip().lower()
            for name in _header(scope, b"access-control-request-headers").split(",")
            if name.strip()
        }
        if not shared or asked not in CORS_METHODS or not wanted <= CORS_REQUEST_HEADERS:
            detail = "only GET and HEAD of the public API may be read from another origin"
            await self._json(send, 403, error_body("cors_refused", detail))
            return
        headers = [
            *self._common,
            self._csp,
            _h("Access-Control-Allow-Origin", "*"),
            _h("Access-Control-Allow-Methods", "GET, HEAD"),
            _h("Access-Control-Allow-Headers", ", ".join(sorted(CORS_REQUEST_HEADERS))),
            _h("Access-Control-Max-Age", CORS_MAX_AGE),
            _h("Content-Length", "0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _json(self, send: Send, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        headers = [
            *self._common,
            self._csp,
            _h("Content-Type", "application/json"),
            _h("Content-Length", str(len(data))),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _is_preflight(scope: Scope) -> bool:
    names = {key for key, _ in scope["headers"]}
    return b"origin" in names and b"access-control-request-method" in names


# --- single-valued query parameters -------------------------------------------------------


def _repeatable(annotation: Any) -> bool:
    """Whether a parameter of this type takes every value given (a list, set or tuple)."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType, Annotated):
        return any(_repeatable(arg) for arg in get_args(annotation))
    return (origin or annotation) in (list, set, frozenset, tuple)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, UnionType, Annotated):
        found = [m for m in map(_model_of, get_args(annotation)) if m is not None]
        return found[0] if found else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def single_valued_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route (with its dependencies) takes one value of."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        pending.extend(current.dependencies)
        for field in current.query_params:
            annotation = field.field_info.annotation
            model = _model_of(annotation)
            if model is None:
                if not _repeatable(annotation):
                    names.add(field.alias)
                continue
            for name, info in model.model_fields.items():
                if not _repeatable(info.annotation):
                    names.add(info.alias or name)
    return frozenset(names)


# Per route (by id, checked against a weak reference: routes are not hashable).
_SINGLE_VALUED: dict[int, tuple[weakref.ref[Any], frozenset[str]]] = {}


async def single_valued_query(request: Request) -> None:
    """422 when a single-valued query parameter is repeated (``?page=1&page=2``)."""
    if not request.scope["query_string"]:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    cached = _SINGLE_VALUED.get(id(route))
    if cached is not None and cached[0]() is route:
        names = cached[1]
    else:
        names = single_valued_names(dependant)
        _SINGLE_VALUED[id(route)] = (weakref.ref(route), names)
    if not names:
        return
    seen: set[str] = set()
    repeated: set[str] = set()
    for name, _value in request.query_params.multi_items():
        if name in names:
            (repeated if name in seen else seen).add(name)
    if repeated:
        message = "give this parameter once"
        raise InvalidParameter([{"parameter": n, "message": message} for n in sorted(repeated)])

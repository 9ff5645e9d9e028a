"""Every HTTP request gets an id: the caller's ``X-Request-ID`` when it is safe to log,
else a new one.  The id is set in ``REQUEST_ID`` for every log line written while the
request is served, and sent back in the response's ``X-Request-ID``."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.observability.logs import REQUEST_ID

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = "X-Request-ID"
_HEADER_KEY = b"x-request-id"

# What a proxy or client commonly sends (UUIDs, hex, base64, "Root=1-…" trace ids), and
# nothing that could break a log line or a header: no spaces, quotes or control bytes.
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}")


def accepted(value: bytes | None) -> str | None:
    """The incoming id if it is short and made of safe characters only, else None."""
    if value is None or len(value) > 128:
        return None
    text = value.decode("latin-1")
    return text if SAFE_ID.fullmatch(text) else None


def new_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets ``REQUEST_ID`` for the request and adds ``X-Request-ID`` to its response.

    The id is not reset afterwards: each request runs in a context of its own, and the
    server's last words on the request (its access line, an unexpected error) still
    belong to it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name == _HEADER_KEY:
                incoming = value
                break
        request_id = accepted(incoming) or new_id()
        REQUEST_ID.set(request_id)
        header = (_HEADER_KEY, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0].lower() != _HEADER_KEY]
                headers.append(header)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)

"""Responses gzip'd for clients that accept it: Starlette's ``GZipMiddleware`` at its
core, with three rules of ours around it.

- The client's word is read properly: ``gzip;q=0`` refuses gzip (``accepts_gzip``).
- Stored files (``/api/v1/objects/…``, a course page's PDF view ``/courses/…/view/…``)
  and the snapshot pass untouched and unbuffered:
  their bytes are already compressed media or gzip, and downloads answer ranges and
  ETags of exactly those bytes.  Media and archive types are left alone on any route.
- A strong ETag on a body we compressed becomes weak, as the compressed bytes are not
  the ones it names (so a range request can never mix the two).

Everything else of ``minimum_size`` bytes or more is compressed as it is sent, streamed
bodies chunk by chunk (pages, API JSON, ``/oai`` XML, the change feed, sitemaps).
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipResponder, IdentityResponder
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 1024  # below about one TCP segment, compressing saves no round trip
LEVEL = 6  # zlib's default: most of level 9's gain at a fraction of its time
PASSED_THROUGH = ("/api/v1/objects/", "/api/v1/snapshot")
_FILE_VIEW = re.compile(r"/courses/[^/]+/view/")


def passed_through(path: str) -> bool:
    """Whether a path's answers are stored bytes, sent as they are."""
    return path.startswith(PASSED_THROUGH) or _FILE_VIEW.match(path) is not None


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (``q=0`` refuses it)."""
    for item in (header or "").split(","):
        coding, _, parameters = item.strip().partition(";")
        if coding.strip().lower() in {"gzip", "x-gzip", "*"}:
            quality = parameters.strip().removeprefix("q=").strip()
            try:
                return float(quality or "1") > 0
            except ValueError:
                return False
    return False


class Compression:
    """Pure ASGI middleware: gzip where the module says, identity elsewhere."""

    def __init__(self, app: ASGIApp, *, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or passed_through(scope["path"]):
            await self.app(scope, receive, send)
            return
        if not accepts_gzip(Headers(scope=scope).get("accept-encoding")):
            # Still says "Vary: Accept-Encoding" on what it would have compressed.
            await IdentityResponder(self.app, self.minimum_size)(scope, receive, send)
            return
        encoded_by_app = False

        async def app(scope: Scope, receive: Receive, to_gzip: Send) -> None:
            async def noted(message: Message) -> None:
                nonlocal encoded_by_app
                if message["type"] == "http.response.start":
                    encoded_by_app = "content-encoding" in Headers(raw=message.get("headers", []))
                await to_gzip(message)

            await self.app(scope, receive, noted)

        async def weaken_etag(message: Message) -> None:
            if message["type"] == "http.response.start" and not encoded_by_app:
                headers = MutableHeaders(raw=message["headers"])
                etag = headers.get("etag")
                if etag and not etag.startswith("W/") and "content-encoding" in headers:
                    headers["etag"] = f"W/{etag}"
            await send(message)

        await GZipResponder(app, self.minimum_size, compresslevel=LEVEL)(
            scope, receive, weaken_etag
        )

"""Loopback HTTP for OAI-PMH peers we did not write: third-party servers, replayed captures.

* ``LoopbackServer`` serves a WSGI application on 127.0.0.1 in a daemon thread (the
  standard library's ``wsgiref``, one thread per request), the way small data providers
  are deployed behind a WSGI container.
* ``OAIApp`` turns a handler "request arguments → ``Reply``" into such an application:
  it reads GET query strings and form-encoded POST bodies, logs every request, and
  answers HTTP 500 (keeping the exception) when the handler raises.
* ``Replay`` is such a handler answering from a table of captured responses: each row
  matches some request arguments (most specific row wins; a request with a resumption
  token only matches rows naming one) and serves its replies in order, the last one
  for ever.  ``Replay.capture`` derives the row from the capture's
  own ``<request>`` echo, so a chain of pages is replayed by the tokens it names.

Nothing here reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

log = logging.getLogger(__name__)

XML_TYPE = "text/xml; charset=utf-8"
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Handler = Callable[[dict[str, str]], "Reply"]


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, headers and body bytes exactly as they go out."""

    body: bytes
    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", XML_TYPE),)

    @classmethod
    def of(cls, body: bytes, status: int = 200, **headers: str) -> Reply:
        """``Reply.of(body, 503, Retry_After="1")`` (underscores become dashes)."""
        named = {"Content-Type": XML_TYPE} | {k.replace("_", "-"): v for k, v in headers.items()}
        return cls(body, status, tuple(named.items()))


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class LoopbackServer:
    """Serve ``app`` at ``http://127.0.0.1:<free port><path>`` until ``stop()``."""

    def __init__(self, app: WSGIApp, *, path: str = "/oai") -> None:
        self.app = app
        self.path = path
        self._httpd: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> str:
        if self._httpd is not None:
            return self.base_url
        httpd = make_server(
            "127.0.0.1",
            0,
            self._route,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        self._httpd = httpd
        self.base_url = f"http://127.0.0.1:{httpd.server_port}{self.path}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") != self.path:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [f"the OAI-PMH base URL is {self.path}".encode()]
        return self.app(environ, start_response)


@dataclass
class OAIApp:
    """A WSGI application around ``handler``; ``requests`` and ``errors`` are kept."""

    handler: Handler
    requests: list[dict[str, str]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            query = "&".join(
                filter(None, (query, environ["wsgi.input"].read(length).decode("utf-8")))
            )
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        self.requests.append(params)
        try:
            reply = self.handler(params)
        except Exception as exc:  # the peer's own bug: an HTTP 500, as in production
            self.errors.append(exc)
            log.exception("OAI-PMH handler failed on %s", params)
            reply = Reply(b"internal server error", 500, (("Content-Type", "text/plain"),))
        headers = [*reply.headers, ("Content-Length", str(len(reply.body)))]
        status = HTTPStatus(reply.status)
        start_response(f"{status.value} {status.phrase}", headers)
        return [reply.body]

    def verbs(self) -> list[str]:
        return [r.get("verb", "") for r in self.requests]


def serve(handler: Handler) -> tuple[LoopbackServer, OAIApp]:
    """A started server around ``handler`` (the caller stops it)."""
    app = OAIApp(handler)
    server = LoopbackServer(app)
    server.start()
    return server, app


_REQUEST = re.compile(rb"<request\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"""([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_MATCHED_ECHO = ("verb", "resumptionToken")


def request_echo(body: bytes) -> dict[str, str]:
    """The arguments a response says it answers (its ``<request>`` attributes)."""
    found = _REQUEST.search(body)
    if found is None:
        return {}
    return {
        m.group(1).decode(): html.unescape((m.group(2) or m.group(3) or b"").decode())
        for m in _ATTRIBUTE.finditer(found.group(1))
    }


@dataclass
class Replay:
    """A scripted repository: rows of (arguments to match, replies served in turn)."""

    rows: list[tuple[dict[str, str], list[Reply]]] = field(default_factory=list)
    unmatched: list[dict[str, str]] = field(default_factory=list)

    def add(self, replies: Reply | bytes | list[Reply], **match: str) -> Self:
        """Answer requests carrying all of ``match`` (``from_`` means ``from``)."""
        if isinstance(replies, bytes):
            replies = [Reply(replies)]
        elif isinstance(replies, Reply):
            replies = [replies]
        arguments = {k.rstrip("_"): v for k, v in match.items()}
        self.rows.append((arguments, list(replies)))
        return self

    def capture(self, body: bytes, *, status: int = 200, **headers: str) -> Self:
        """Replay a captured body for the request its ``<request>`` echo names.

        Only the verb and the resumption token are matched: the harvester's first
        request carries other dates or sets than the one captured.
        """
        echo = request_echo(body)
        match = {k: v for k, v in echo.items() if k in _MATCHED_ECHO}
        if "verb" not in match:
            raise ValueError("the capture names no verb; use add(..., verb=...)")
        return self.add(Reply.of(body, status, **headers), **match)

    def __call__(self, params: Mapping[str, str]) -> Reply:
        # resumptionToken is exclusive: a continuation only matches rows naming a token.
        continuation = "resumptionToken" in params
        candidates = [
            (arguments, replies)
            for arguments, replies in self.rows
            if all(params.get(k) == v for k, v in arguments.items())
            and continuation == ("resumptionToken" in arguments)
        ]
        if not candidates:
            self.unmatched.append(dict(params))
            return Reply(b"no such page in this replay", 404, (("Content-Type", "text/plain"),))
        _, replies = max(candidates, key=lambda row: len(row[0]))
        return replies.pop(0) if len(replies) > 1 else replies[0]

"""Serve a demo OAI-PMH repository over real HTTP on loopback, in a background thread.

Harvester tests and benchmarks point an ordinary HTTP client at it, so they exercise
sockets, form-encoded POST and gzip exactly as against a college's repository::

    with DemoRepositoryServer(generate_corpus(200), page_size=50) as server:
        harvest(server.base_url)

Only the standard library's ``http.server`` is used; it logs nothing per request.
"""

from __future__ import annotations

import gzip
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self, cast
from urllib.parse import parse_qs, urlsplit

from app.compression import accepts_gzip
from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.files import demo_file
from app.demo.repository import DemoRepository

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/xml; charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_BODY = 64 * 1024  # OAI-PMH requests are a handful of short arguments
MAX_FIELDS = 32


@dataclass(frozen=True)
class LoggedRequest:
    """What a client sent, kept so tests can check how a harvester talks."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str] = field(default_factory=dict)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: DemoRepositoryServer

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up mid-response are normal in tests; keep stderr quiet.
        logger.debug("error while serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as harvesters reuse connections
    # Headers and body go out in two writes; with Nagle's algorithm the second waits
    # for the client's delayed ACK, adding ~40 ms to every response on keep-alive.
    disable_nagle_algorithm = True
    server_version = "coursefed-demo-oai/1.0"

    @property
    def _owner(self) -> DemoRepositoryServer:
        return cast("_HTTPServer", self.server).owner

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def do_POST(self) -> None:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the unread body would be taken for the next request
            self._send_text(HTTPStatus.BAD_REQUEST, "bad Content-Length")
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        if content_type != FORM_TYPE:
            self._send_text(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"POST must be {FORM_TYPE}")
            return
        self._serve(with_body=True, form=body)

    def _serve(self, *, with_body: bool, form: str | None = None) -> None:
        url = urlsplit(self.path)
        found = demo_file(url.path) if self._owner.serve_files and form is None else None
        if found is not None:
            payload, media_type = found
            self._send(HTTPStatus.OK, payload, {"Content-Type": media_type}, with_body=with_body)
            return
        if url.path != self._owner.path:
            self._send_text(HTTPStatus.NOT_FOUND, f"the OAI-PMH base URL is {self._owner.path}")
            return
        params: dict[str, list[str]] = {}
        try:
            for query in (url.query, form):
                for name, values in parse_qs(
                    query or "", keep_blank_values=True, errors="replace", max_num_fields=MAX_FIELDS
                ).items():
                    params.setdefault(name, []).extend(values)
        except ValueError:  # more fields than any OAI-PMH request has
            self._send_text(HTTPStatus.BAD_REQUEST, "too many arguments")
            return
        self._owner.record_request(
            LoggedRequest(self.command, url.path, params, dict(self.headers.items()))
        )
        payload = self._owner.repository.handle(params)
        headers = {"Content-Type": CONTENT_TYPE, "Vary": "Accept-Encoding"}
        if accepts_gzip(self.headers.get("Accept-Encoding")):
            payload = gzip.compress(payload, mtime=0)
            headers["Content-Encoding"] = "gzip"
        self._send(HTTPStatus.OK, payload, headers, with_body=with_body)

    def _send_text(self, status: HTTPStatus, text: str) -> None:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        self._send(status, text.encode(), headers, with_body=self.command != "HEAD")

    def _send(
        self, status: HTTPStatus, payload: bytes, headers: dict[str, str], *, with_body: bool
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if with_body:
            self.wfile.write(payload)


class DemoRepositoryServer:
    """A DemoRepository on ``http://127.0.0.1:<port>/oai``, started and stopped by tests.

    ``source`` is a ready DemoRepository (its ``page_size`` applies; an empty
    ``base_url`` or ``compression`` is filled in on start) or the records to serve,
    by default the standard demo corpus.  ``port=0`` picks a free port.  ``start()``
    returns the base URL; ``with`` starts and stops the server.  ``serve_files`` also
    answers ``/files/…`` with small stand-in files (``app.demo.files``).
    """

    def __init__(
        self,
        source: DemoRepository | Sequence[DemoRecord] | None = None,
        *,
        page_size: int = 100,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/oai",
        serve_files: bool = False,
    ) -> None:
        self._source = generate_corpus() if source is None else source
        self.serve_files = serve_files
        self.page_size = page_size
        self.host = host
        self.port = port
        self.path = path
        self._url: str | None = None
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._repository: DemoRepository | None = None
        self._requests: list[LoggedRequest] = []
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        """The URL this server answers OAI-PMH requests on (once started)."""
        if self._url is None:
            raise RuntimeError("the demo repository server has not been started")
        return self._url

    @property
    def repository(self) -> DemoRepository:
        """The repository being served (once started: it needs the base URL)."""
        if self._repository is None:
            raise RuntimeError("the demo repository server has not been started")
        return self._repository

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request served so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def record_request(self, request: LoggedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def start(self) -> str:
        """Bind, start serving in a daemon thread and return the base URL."""
        if self._httpd is not None:
            return self.base_url
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.owner = self
        host, port = httpd.server_address[:2]
        self.port = int(port)
        self._url = f"http://{host!s}:{self.port}{self.path}"
        if isinstance(self._source, DemoRepository):
            repository = self._source
            repository.base_url = repository.base_url or self._url
            repository.compression = repository.compression or ("gzip",)
        else:
            repository = DemoRepository(
                self._source, self._url, self.page_size, compression=("gzip",)
            )
        self._repository = repository
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"demo-oai-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self._url

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
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

"""A static OAI-PMH server for benchmarks: every response pre-rendered, served from its own process.

At start-up the server process renders, with ``app.demo.repository.DemoRepository``,
Identify, ListMetadataFormats and every page of ``ListRecords`` (following the
resumption tokens once), each as a complete HTTP/1.1 response in memory.  A request
then costs a dictionary look-up and one write on an asyncio event loop (keep-alive,
TCP_NODELAY, no thread per connection), so the harvester measured against it, running
in another process and so not sharing the server's GIL, is the bottleneck: on loopback
it serves the 200 pages of 20,000 records ~10x faster than sickle can read them, even
with a new connection per request as sickle makes.

Query strings are matched whatever their argument order or percent-encoding (clients
encode differently); a request that was not pre-rendered is rendered on the fly and
reported on stderr, as it would skew timings.

    with StaticOAIServer(records=20_000) as server:
        harvest(server.base_url)
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import re
import signal
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import TYPE_CHECKING, Self, cast
from urllib.parse import parse_qs, parse_qsl, urlsplit
from xml.sax.saxutils import unescape

if TYPE_CHECKING:
    from app.demo.repository import DemoRepository

PAGE_SIZE = 100
READY_TIMEOUT = 600.0  # rendering 100,000 records takes ~15 s on the 2-core machine
_TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")

Key = tuple[tuple[str, str], ...]


def request_key(query: str) -> Key:
    """The arguments of a query string, decoded and in a canonical order."""
    return tuple(sorted(parse_qsl(query, keep_blank_values=True)))


def _response(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Server: coursefed-bench-static-oai\r\n"
        "Content-Type: text/xml; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


@dataclass(frozen=True)
class Rendered:
    """What the server process reports once it listens."""

    base_url: str
    pages: int
    records: int
    list_bytes: int  # bodies of the ListRecords pages

    @property
    def bytes_per_record(self) -> float:
        return self.list_bytes / self.records if self.records else 0.0


def render(
    records: int, base_url: str, prefix: str, page_size: int
) -> tuple[dict[Key, bytes], Rendered, DemoRepository]:
    """Every response a full harvest asks for, as HTTP responses keyed by request."""
    # Imported here: the parent process (and each contender) must not pay for them.
    from app.demo.corpus import generate_corpus  # noqa: PLC0415
    from app.demo.repository import DemoRepository  # noqa: PLC0415

    repository = DemoRepository(generate_corpus(records), base_url, page_size=page_size)
    responses: dict[Key, bytes] = {
        (("verb", verb),): _response(repository.handle({"verb": verb}))
        for verb in ("Identify", "ListMetadataFormats")
    }
    params = {"verb": "ListRecords", "metadataPrefix": prefix}
    pages = list_bytes = 0
    while True:
        body = repository.handle(params)
        responses[tuple(sorted(params.items()))] = _response(body)
        pages += 1
        list_bytes += len(body)
        match = _TOKEN.search(body)
        if match is None:
            break
        params = {"verb": "ListRecords", "resumptionToken": unescape(match.group(1).decode())}
    return responses, Rendered(base_url, pages, records, list_bytes), repository


class _Site:
    """HTTP/1.1 over asyncio streams, just enough for OAI-PMH harvesters.

    ``http.server.ThreadingHTTPServer`` starts a thread per connection, which cost
    ~1.2 ms per request here; sickle opens a connection per request, so the server
    would have weighed on its figures.  An event loop answers in ~0.1 ms.
    """

    def __init__(self, responses: Mapping[Key, bytes], repository: DemoRepository) -> None:
        self.responses = responses
        self.repository = repository

    def answer(self, query: str) -> bytes:
        response = self.responses.get(request_key(query))
        if response is None:
            print(f"static OAI server: not pre-rendered, rendering: {query}", file=sys.stderr)
            response = _response(self.repository.handle(parse_qs(query)))
        return response

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ValueError):
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                request_line, _, header_text = head.partition("\r\n")
                method, target, version = request_line.split(" ", 2)
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (
                        line.partition(":") for line in header_text.split("\r\n")
                    )
                }
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                query = body.decode("latin-1") if method == "POST" else urlsplit(target).query
                writer.write(self.answer(query) if method in {"GET", "POST"} else _NOT_ALLOWED)
                await writer.drain()
                connection = headers.get("connection", "").lower()
                if connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive"):
                    break
        writer.close()

    async def serve(self, listener: socket.socket) -> None:
        server = await asyncio.start_server(self.connection, sock=listener, backlog=128)
        async with server:
            await server.serve_forever()


_NOT_ALLOWED = b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, POST\r\nContent-Length: 0\r\n\r\n"


def _serve(sender: Connection, records: int, prefix: str, page_size: int) -> None:
    # The parent stops this process; Ctrl-C must not print a traceback from here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    listener = socket.create_server(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{listener.getsockname()[1]}/oai"
    responses, rendered, repository = render(records, base_url, prefix, page_size)
    sender.send(rendered)
    sender.close()
    asyncio.run(_Site(responses, repository).serve(listener))


class StaticOAIServer:
    """Start the static server in a separate process; stop it on exit, whatever happens."""

    def __init__(self, records: int, *, prefix: str = "oai_dc", page_size: int = PAGE_SIZE) -> None:
        self.records = records
        self.prefix = prefix
        self.page_size = page_size
        self._process: multiprocessing.process.BaseProcess | None = None
        self.rendered: Rendered | None = None

    @property
    def base_url(self) -> str:
        assert self.rendered is not None, "the server is not started"
        return self.rendered.base_url

    def start(self) -> Rendered:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve,
            args=(sender, self.records, self.prefix, self.page_size),
            name="static-oai-server",
            daemon=True,
        )
        self._process.start()
        sender.close()
        try:
            if not receiver.poll(READY_TIMEOUT):
                raise TimeoutError(f"the static OAI server was not ready in {READY_TIMEOUT:.0f} s")
            self.rendered = cast("Rendered", receiver.recv())
        except EOFError:
            raise RuntimeError("the static OAI server died while rendering") from None
        finally:
            receiver.close()
        return self.rendered

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.is_alive():  # False too when it never started
            process.terminate()
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
        process.close()

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

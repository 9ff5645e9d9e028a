"""A hostile OAI-PMH provider: a real HTTP server on loopback that misbehaves on purpose.

Each instance runs one **mode**, one attack a repository on the internet can mount on a
harvester, chosen by the constructor's first argument::

    with HostileProvider("trickle", interval=5) as provider:
        register(provider.base_url)          # Identify answers normally
        ...                                  # ListRecords trickles
        assert provider.count("ListRecords") == 1

The server speaks HTTP/1.1 over raw asyncio streams in a thread of its own, so it can
misbehave below HTTP (stall mid-response, trickle bytes, never answer).  Every response
closes its connection.  Requests are counted in every mode (``requests``, ``count``), so
a test can assert that a server was never called.

Modes (verbs a mode does not attack are answered as ``normal``):

``normal``
    A small valid repository over the demo corpus (``count`` records, ``page_size`` per
    page): all six verbs, oai_dc and lom, resumption tokens (``app.demo.repository``);
    ``page_delay`` seconds pass before each ListRecords or ListIdentifiers page.
``trickle``
    Sends the status line, headers and the start of a valid ListRecords document at
    once (chunked transfer coding), then one byte (a space, legal between elements)
    every ``interval`` seconds (default 5), forever: no read timeout ever fires.
    Attacks ListRecords and ListIdentifiers unless ``verbs`` says otherwise.
``stall``
    Reads the request and never answers; with ``send_headers=True`` it sends a 200 with
    ``Content-Length: 4096`` and then no body at all.  Verbs as for ``trickle``.
``endless``
    Every ListRecords (and ListIdentifiers) page carries ``page_size`` records and a
    new resumption token (``endless-1-<prefix>``, ``endless-2-<prefix>``, …), forever.
    ``fresh=True`` (default): new records on every page; ``fresh=False``: the same
    records with new tokens.  ``page_delay`` seconds pass before each page (default 0).
``huge``
    One ListRecords page of about ``megabytes`` MB (default 60) of valid oai_dc records
    and no token, generated in chunks while it is sent, so this process never holds it.
    ``declare_length`` (default True) sends its exact ``Content-Length``; False sends
    none (the body ends when the connection closes).  ``body_size`` is its size.
``redirect``
    Answers every request with ``status`` (default 302) to ``location``, e.g.
    ``http://127.0.0.2:<port>/oai`` or ``http://169.254.169.254/latest/meta-data/``.
``self``
    Identify answers with ``repository_identifier`` (in the ``oai-identifier``
    description) and ``identify_base_url`` as baseURL: a repository impersonating ours.
    The other verbs are ``normal``.
``records``
    Serves ``records`` (bare metadata documents as bytes, or a mapping of local
    identifier to bytes) as one ListRecords page of ``metadata_prefix`` (``oai_dc`` or
    ``lom``), each wrapped in a header/metadata envelope byte for byte; GetRecord and
    ListIdentifiers too.  Identifiers are ``oai:hostile.example:<local id>`` (local ids
    ``rec-1``, ``rec-2``, … for a sequence).  Only that format is listed.
``error_body``
    Answers HTTP ``status`` (default 500) with an HTML body holding ``secret`` (default
    a random ``HOSTILE-SECRET-…`` string), to prove no public output echoes what an
    upstream sent.  Attacks every verb unless ``verbs`` says otherwise.

``verbs`` names the verbs a ``trickle``, ``stall``, ``redirect`` or ``error_body`` server
attacks (``"all"``: every request, even one without a verb).

Shutdown: ``stop()`` (or leaving the ``with`` block) closes the listening socket, aborts
every open connection, stalled or trickling, and cancels its handler, so a test's
teardown never waits for a misbehaving response; the thread ends within a second.  The
server binds port 0 (a free port chosen by the kernel, no race with other tests) on
``host``, 127.0.0.1 by default; other loopback addresses (127.0.0.2, …) stand for other
hosts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import secrets
import threading
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Literal, Self
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.repository import DemoRepository
from app.demo.xml import METADATA_FORMATS
from app.oai.provider import OAI_IDENTIFIER_NS, OAI_NS, format_datestamp

Mode = Literal[
    "normal", "trickle", "stall", "endless", "huge", "redirect", "self", "records", "error_body"
]
MODES: tuple[str, ...] = Mode.__args__  # type: ignore[attr-defined]

LIST_VERBS = frozenset({"ListRecords", "ListIdentifiers"})
_DEFAULT_VERBS: dict[str, frozenset[str] | None] = {
    "trickle": LIST_VERBS,
    "stall": LIST_VERBS,
    "redirect": None,  # None: every request
    "error_body": None,
}
MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024
XML_TYPE = "text/xml; charset=utf-8"
STALL_LENGTH = 4096
RECORDS_NAMESPACE = "hostile.example"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    """One request the provider received."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def verb(self) -> str:
        values = self.params.get("verb", [])
        return values[0] if len(values) == 1 else ""


class HostileProvider:
    """One misbehaving OAI-PMH server on ``http://<host>:<port>/oai`` (see the module doc)."""

    def __init__(
        self,
        mode: Mode,
        *,
        host: str = "127.0.0.1",
        count: int = 30,
        page_size: int = 10,
        verbs: Collection[str] | Literal["all"] | None = None,
        interval: float = 5.0,
        send_headers: bool = False,
        fresh: bool = True,
        page_delay: float = 0.0,
        megabytes: float = 60.0,
        declare_length: bool = True,
        location: str | None = None,
        status: int | None = None,
        repository_identifier: str = "coursefed",
        identify_base_url: str | None = None,
        records: Sequence[bytes] | Mapping[str, bytes] | None = None,
        metadata_prefix: str = "oai_dc",
        secret: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        if mode == "redirect" and not location:
            raise ValueError("the redirect mode needs a location")
        if mode == "records":
            if records is None:
                raise ValueError("the records mode needs records")
            if metadata_prefix not in METADATA_FORMATS:
                raise ValueError(f"records are served as {', '.join(METADATA_FORMATS)}")
        self.mode = mode
        self.host = host
        self.port = 0
        self.page_size = page_size
        self.interval = interval
        self.send_headers = send_headers
        self.fresh = fresh
        self.page_delay = page_delay
        self.declare_length = declare_length
        self.location = location or ""
        self.status = status or (302 if mode == "redirect" else 500)
        self.repository_identifier = repository_identifier
        self.identify_base_url = identify_base_url
        self.metadata_prefix = metadata_prefix
        self.secret = secret or f"HOSTILE-SECRET-{secrets.token_hex(8)}"
        if verbs == "all":
            self.verbs: frozenset[str] | None = None
        elif verbs is not None:
            self.verbs = frozenset(verbs)
        else:
            self.verbs = _DEFAULT_VERBS.get(mode, frozenset())
        if isinstance(records, Mapping):
            self.records: dict[str, bytes] = dict(records)
        else:
            self.records = {f"rec-{n}": data for n, data in enumerate(records or (), start=1)}
        self._corpus = generate_corpus(count)
        self._repository = DemoRepository(self._corpus, "", page_size)
        self._huge = _HugePage(megabytes) if mode == "huge" else None
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._url: str | None = None

    # ------------------------------------------------------------------ public

    @property
    def base_url(self) -> str:
        if self._url is None:
            raise RuntimeError("the hostile provider has not been started")
        return self._url

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def count(self, verb: str) -> int:
        """Requests received for ``verb``."""
        return sum(1 for request in self.requests if request.verb == verb)

    @property
    def open_connections(self) -> int:
        return len(self._writers)

    @property
    def body_size(self) -> int:
        """Bytes of the ``huge`` page's body."""
        if self._huge is None:
            raise RuntimeError("only the huge mode has a fixed body size")
        return self._huge.size

    def start(self) -> str:
        """Bind, serve in a daemon thread and return the base URL."""
        if self._url is not None:
            return self._url
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=_run_loop, args=(loop,), name=f"hostile-{self.mode}", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._connection, self.host, 0, limit=MAX_HEAD), loop
        ).result(timeout=10)
        self._server = server
        self.port = int(server.sockets[0].getsockname()[1])
        self._url = f"http://{self.host}:{self.port}/oai"
        self._repository.base_url = self._url
        return self._url

    def stop(self) -> None:
        """Abort every connection, stop serving and end the thread; safe to call twice."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()

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

    # ------------------------------------------------------------------ serving

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=2)
        if self._server is not None:
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        answered = False
        try:
            request = await _read_request(reader)
            if request is None:
                return
            with self._lock:
                self._requests.append(request)
            await self._respond(request, writer)
            answered = True
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client hung up or sent garbage: nothing to answer
        except asyncio.CancelledError:
            # stop() ends stalled and trickling answers this way.  The handler returns
            # normally: asyncio 3.11 logs a traceback for a cancelled connection task.
            pass
        finally:
            self._writers.discard(writer)
            self._handlers.discard(task)
            if answered:
                # drain() leaves up to a buffer's worth unsent: close lets it go out
                # (a body whose end is the connection's end must arrive whole).
                writer.close()
                with contextlib.suppress(ConnectionError, TimeoutError):
                    await asyncio.wait_for(writer.wait_closed(), 5)
            writer.transport.abort()

    def _attacks(self, verb: str) -> bool:
        return self.verbs is None or verb in self.verbs

    async def _respond(self, request: Request, writer: asyncio.StreamWriter) -> None:
        verb = request.verb
        mode = self.mode
        if mode in _DEFAULT_VERBS and not self._attacks(verb):
            mode = "normal"
        if mode == "redirect":
            await _send(writer, self.status, b"", headers={"Location": self.location})
        elif mode == "error_body":
            await _send(writer, self.status, self._error_page(), content_type="text/html")
        elif mode == "stall":
            await self._stall(writer)
        elif mode == "trickle":
            await self._trickle(request, writer)
        elif mode == "endless" and verb in LIST_VERBS:
            await self._endless(request, writer)
        elif mode == "huge" and verb == "ListRecords":
            await self._send_huge(request, writer)
        elif mode == "self" and verb == "Identify":
            await _send(writer, 200, self._impersonating_identify(request))
        elif mode == "records" and verb != "Identify":
            await _send(writer, 200, self._records_response(request))
        else:
            if self.page_delay and verb in LIST_VERBS:
                await asyncio.sleep(self.page_delay)
            await _send(writer, 200, self._repository.handle(request.params))

    async def _stall(self, writer: asyncio.StreamWriter) -> None:
        if self.send_headers:
            head = _head(200, {"Content-Type": XML_TYPE, "Content-Length": str(STALL_LENGTH)})
            writer.write(head)
            await writer.drain()
        await asyncio.get_running_loop().create_future()  # until stop() cancels us

    async def _trickle(self, request: Request, writer: asyncio.StreamWriter) -> None:
        # Chunked, as servers stream: a client can tell a cut-off body from a whole one.
        head = _head(200, {"Content-Type": XML_TYPE, "Transfer-Encoding": "chunked"})
        writer.write(head + _chunk(self._document_start(request)))
        await writer.drain()
        while True:
            await asyncio.sleep(self.interval)
            writer.write(_chunk(b" "))
            await writer.drain()

    async def _endless(self, request: Request, writer: asyncio.StreamWriter) -> None:
        token = _single(request.params, "resumptionToken")
        prefix = _single(request.params, "metadataPrefix") or ""
        page = 0
        if token is not None:  # endless-<page>-<prefix>
            number, _, prefix = token.removeprefix("endless-").partition("-")
            if not token.startswith("endless-") or not number.isdigit():
                await _send(writer, 200, self._error(request, "badResumptionToken", token))
                return
            page = int(number)
        if prefix not in METADATA_FORMATS:
            await _send(writer, 200, self._error(request, "cannotDisseminateFormat", prefix))
            return
        if self.page_delay:
            await asyncio.sleep(self.page_delay)
        headers_only = request.verb == "ListIdentifiers"
        parts = []
        for n in range(self.page_size):
            local = f"p{page:06d}-r{n:03d}" if self.fresh else f"r{n:03d}"
            base = self._corpus[(page * self.page_size + n) % len(self._corpus)]
            record = dataclasses.replace(
                base,
                identifier=f"oai:endless.{RECORDS_NAMESPACE}:{local}",
                datestamp=EPOCH + timedelta(seconds=page),
                deleted=False,
            )
            parts.append(_record_bytes(record, prefix, headers_only=headers_only))
        parts.append(f"<resumptionToken>endless-{page + 1}-{prefix}</resumptionToken>".encode())
        body = self._document_start(request) + b"".join(parts) + self._document_end(request)
        await _send(writer, 200, body)

    async def _send_huge(self, request: Request, writer: asyncio.StreamWriter) -> None:
        assert self._huge is not None
        start, end = self._document_start(request), self._document_end(request)
        headers = {"Content-Type": XML_TYPE}
        if self.declare_length:
            headers["Content-Length"] = str(len(start) + self._huge.size + len(end))
        writer.write(_head(200, headers) + start)
        for chunk in self._huge.chunks():
            writer.write(chunk)
            await writer.drain()
        writer.write(end)
        await writer.drain()

    def _impersonating_identify(self, request: Request) -> bytes:
        document = etree.fromstring(self._repository.handle(request.params))
        namespaces = {"oai": OAI_NS, "id": OAI_IDENTIFIER_NS}
        for element in document.iterfind(".//oai:Identify/oai:baseURL", namespaces):
            element.text = self.identify_base_url or self.base_url
        for element in document.iterfind(".//id:repositoryIdentifier", namespaces):
            element.text = self.repository_identifier
        sample = f"oai:{self.repository_identifier}:course-00001"
        for element in document.iterfind(".//id:sampleIdentifier", namespaces):
            element.text = sample
        return etree.tostring(document, xml_declaration=True, encoding="UTF-8")

    def _records_response(self, request: Request) -> bytes:
        verb = request.verb
        prefix = self.metadata_prefix
        if verb == "ListMetadataFormats":
            fmt = METADATA_FORMATS[prefix]
            body = (
                "<metadataFormat>"
                f"<metadataPrefix>{escape(fmt.prefix)}</metadataPrefix>"
                f"<schema>{escape(fmt.schema)}</schema>"
                f"<metadataNamespace>{escape(fmt.namespace)}</metadataNamespace>"
                "</metadataFormat>"
            ).encode()
            return self._document_start(request) + body + self._document_end(request)
        if verb not in {"ListRecords", "ListIdentifiers", "GetRecord"}:
            return self._repository.handle(request.params)
        asked = _single(request.params, "metadataPrefix")
        if asked != prefix:
            return self._error(request, "cannotDisseminateFormat", str(asked))
        chosen = self.records
        if verb == "GetRecord":
            local = (_single(request.params, "identifier") or "").rpartition(":")[2]
            if local not in self.records:
                return self._error(request, "idDoesNotExist", local)
            chosen = {local: self.records[local]}
        elif _single(request.params, "resumptionToken") is not None:
            return self._error(request, "badResumptionToken", "no list continues")
        parts = []
        for local, metadata in chosen.items():
            header = (
                f"<header><identifier>oai:{RECORDS_NAMESPACE}:{escape(local)}</identifier>"
                f"<datestamp>{format_datestamp(EPOCH)}</datestamp></header>"
            ).encode()
            if verb == "ListIdentifiers":
                parts.append(header)
            else:
                parts.append(
                    b"<record>" + header + b"<metadata>" + _bare(metadata) + b"</metadata></record>"
                )
        return self._document_start(request) + b"".join(parts) + self._document_end(request)

    def _error_page(self) -> bytes:
        return (
            "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body>"
            "<h1>Internal Server Error</h1>"
            f"<pre>Traceback (most recent call last):\n  db password: {self.secret}\n"
            f"  upstream token: {self.secret}</pre></body></html>"
        ).encode()

    def _document_start(self, request: Request) -> bytes:
        """The XML declaration, OAI-PMH root, responseDate, request and the verb's element."""
        attributes = "".join(
            f" {name}={quoteattr(values[0])}"
            for name, values in request.params.items()
            if name != "verb" and len(values) == 1
        )
        verb = request.verb or "ListRecords"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI_NS}">'
            f"<responseDate>{format_datestamp(datetime.now(UTC))}</responseDate>"
            f"<request verb={quoteattr(verb)}{attributes}>{escape(self.base_url)}</request>"
            f"<{verb}>"
        ).encode()

    def _document_end(self, request: Request) -> bytes:
        return f"</{request.verb or 'ListRecords'}></OAI-PMH>".encode()

    def _error(self, request: Request, code: str, detail: str) -> bytes:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI_NS}">'
            f"<responseDate>{format_datestamp(datetime.now(UTC))}</responseDate>"
            f"<request>{escape(self.base_url)}</request>"
            f"<error code={quoteattr(code)}>{escape(detail)}</error></OAI-PMH>"
        ).encode()


class _HugePage:
    """The records of one ``huge`` page, generated chunk by chunk: sizes known in advance.

    Identifiers have a fixed width, so every copy of a template record has the same
    length and the page's size is known before a byte is sent.
    """

    TEMPLATES = 50
    CHUNK_RECORDS = 64

    def __init__(self, megabytes: float) -> None:
        target = int(megabytes * 1024 * 1024)
        self._templates = [
            _record_bytes(
                dataclasses.replace(record, identifier="{id}", deleted=False),
                "oai_dc",
                headers_only=False,
            ).split(b"{id}")
            for record in generate_corpus(self.TEMPLATES)
        ]
        self._width = len(self._identifier(0))
        lengths = [sum(map(len, parts)) + self._width for parts in self._templates]
        cycle = sum(lengths)
        cycles = target // cycle
        self.records, self.size = cycles * len(lengths), cycles * cycle
        for length in lengths:  # part of one more cycle, up to the target
            if self.size >= target:
                break
            self.records += 1
            self.size += length

    @staticmethod
    def _identifier(number: int) -> bytes:
        return f"oai:huge.{RECORDS_NAMESPACE}:r{number:09d}".encode()

    def chunks(self) -> Iterator[bytes]:
        batch: list[bytes] = []
        for number in range(self.records):
            parts = self._templates[number % len(self._templates)]
            batch.append(self._identifier(number).join(parts))
            if len(batch) == self.CHUNK_RECORDS:
                yield b"".join(batch)
                batch = []
        if batch:
            yield b"".join(batch)


# ---------------------------------------------------------------------- HTTP helpers


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    """The request line, headers and (form) body; None when the client sent nothing."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    lines = head.decode("latin-1").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    target = rest.partition(" ")[0]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    url = urlsplit(target)
    queries = [url.query]
    length = headers.get("content-length", "0")
    if method == "POST" and length.isdigit() and 0 < int(length) <= MAX_BODY:
        queries.append((await reader.readexactly(int(length))).decode("utf-8", "replace"))
    params: dict[str, list[str]] = {}
    for query in queries:
        for name, values in parse_qs(query, keep_blank_values=True).items():
            params.setdefault(name, []).extend(values)
    return Request(method, url.path, params, headers)


def _head(status: int, headers: Mapping[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1")


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    *,
    content_type: str = XML_TYPE,
    headers: Mapping[str, str] | None = None,
) -> None:
    all_headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
    all_headers.update(headers or {})
    writer.write(_head(status, all_headers) + body)
    await writer.drain()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    return values[0] if len(values) == 1 else None


def _bare(document: bytes) -> bytes:
    """A metadata document without its XML declaration, to sit inside ``<metadata>``."""
    stripped = document.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"<?xml"):
        stripped = stripped[stripped.index(b"?>") + 2 :].lstrip()
    return stripped


def _record_bytes(record: DemoRecord, prefix: str, *, headers_only: bool) -> bytes:
    header = (
        f"<header><identifier>{escape(record.identifier)}</identifier>"
        f"<datestamp>{format_datestamp(record.datestamp)}</datestamp></header>"
    ).encode()
    if headers_only:
        return header
    metadata = etree.tostring(METADATA_FORMATS[prefix].render(record), encoding="UTF-8")
    return b"<record>" + header + b"<metadata>" + _bare(metadata) + b"</metadata></record>"

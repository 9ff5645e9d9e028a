"""``ObjectClient``: the HTTP/1.1 client that fetches colleges' files (``download``, ``probe``).

GETs on asyncio, parsed by httptools' C parser (uvicorn's), pooled by address and TLS
name.  It does what the downloader needs and nothing else, so it spends a fraction of a
general client's CPU on each file: no redirects (each hop is checked by the caller), no
decoding, no cookies, and no proxies (the environment is never read; a proxy, not us,
would choose the address connected to).  It connects to the address it is given, never
to a name: ``app.objects.safety`` chose and checked that address.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections import deque
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Self

import httptools
import httpx

from app.objects.safety import DEFAULT_PORTS, Target

# Body bytes a connection holds before it stops reading its socket (one socket read, at
# most 256 KiB, can come on top), and the level at which it reads again.
_PAUSE_AT = 512 * 1024
# Status line and headers (with any interim answers) longer than this are refused.
MAX_HEAD_BYTES = 64 * 1024
_RESUME_AT = 128 * 1024
_VISIBLE = re.compile(r"[\x21-\x7e]+")  # a request target or Host: no space, CR or LF
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")

_Key = tuple[bool, str, int, str | None]  # TLS, address, port, TLS name


class TransportError(Exception):
    """A request failed below HTTP: connecting, TLS, a timeout, or a broken answer."""


class Timeout(TransportError):
    """A step took longer than its timeout."""


class ConnectTimeout(Timeout):
    """No connection (TCP and TLS handshake) within the connect timeout."""


class ReadTimeout(Timeout):
    """The server sent nothing for the whole timeout."""


class PoolTimeout(Timeout):
    """No connection slot came free within the timeout."""


class ConnectError(TransportError):
    """No connection: refused, unreachable, or the TLS handshake failed."""


class ReadError(TransportError):
    """The connection broke while an answer was awaited or read."""


class RemoteProtocolError(TransportError):
    """The server's answer is not HTTP/1.1, or stops short of its announced length."""


class LocalProtocolError(TransportError):
    """The request cannot be written as HTTP/1.1."""


class ObjectClient:
    """HTTP/1.1 GETs to checked addresses, for ``download`` and ``probe``.

    ``timeout`` bounds each wait for the server and for a free connection slot;
    ``connect_timeout`` the TCP connection with its TLS handshake.  At most
    ``max_connections`` are open at once, and an idle one is closed after
    ``keepalive_expiry`` seconds.  Connections are pooled by scheme, address, port and TLS
    name, so one verified for one host name never carries a request for another.
    ``verify`` is True (the CA bundle httpx would use), False, or an ``ssl.SSLContext``.
    Use it as an async context manager, within one event loop.
    """

    def __init__(
        self,
        *,
        timeout: float | None = 60.0,
        connect_timeout: float | None = 10.0,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_connections = max(1, max_connections)
        self.keepalive_expiry = keepalive_expiry
        self._verify = verify
        self._context: ssl.SSLContext | None = None  # made by the first https request
        self._slots = asyncio.Semaphore(self.max_connections)  # requests in flight
        self._idle: dict[_Key, list[_Connection]] = {}
        self._open: set[_Connection] = set()  # busy and idle
        self._closed = False

    async def get(
        self, target: Target, headers: Mapping[str, str], *, keep_alive: bool = True
    ) -> Response:
        """GET ``target.url`` from ``target.address``, with ``Host`` and ``headers``.

        Returns once the status and headers are in; the body is read from the
        ``Response``, which must be closed.  ``keep_alive=False`` asks the server to
        close the connection after this answer.
        """
        url = target.url
        tls = url.scheme == "https"
        address = str(target.address)
        # TLS verifies the host name, or the address when the URL named one.
        name = target.extensions.get("sni_hostname", address) if tls else None
        key: _Key = (tls, address, url.port or DEFAULT_PORTS[url.scheme], name)
        request = _request_head(target, headers, keep_alive=keep_alive)
        await self._acquire()
        try:
            while True:
                connection = self._reuse(key)
                fresh = connection is None
                if connection is None:
                    connection = await self._connect(key)
                try:
                    await connection.ask(request, self.timeout)
                except (ReadError, RemoteProtocolError):
                    self._discard(connection)
                    if fresh or connection.received:
                        raise
                    continue  # a kept connection the server closed while idle: ask anew
                except BaseException:
                    self._discard(connection)
                    raise
                return Response(self, connection, keep_alive=keep_alive)
        except BaseException:
            self._slots.release()
            raise

    async def aclose(self) -> None:
        """Close every connection; answers still being read fail."""
        self._closed = True
        for connection in list(self._open):
            self._discard(connection)
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing their sockets

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _acquire(self) -> None:
        if self._closed:
            raise RuntimeError("the ObjectClient is closed")
        if not self._slots.locked():
            await self._slots.acquire()  # a free slot: taken without waiting
            return
        try:
            async with asyncio.timeout(self.timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolTimeout(f"no free connection within {self.timeout} s") from None

    def _reuse(self, key: _Key) -> _Connection | None:
        idle = self._idle.get(key)
        if not idle:
            return None
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to be closed
            if connection.usable and now - connection.idle_since < self.keepalive_expiry:
                return connection
            self._discard(connection)
        return None

    async def _connect(self, key: _Key) -> _Connection:
        tls, address, port, name = key
        self._make_room()
        connection = _Connection(self, key)
        where = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        try:
            async with asyncio.timeout(self.connect_timeout):
                # An address, never a name: asyncio connects without a DNS lookup.
                await asyncio.get_running_loop().create_connection(
                    lambda: connection,
                    address,
                    port,
                    ssl=self._ssl_context() if tls else None,
                    server_hostname=name,
                )
        except TimeoutError:  # before OSError, of which it is one
            reason = f"no connection to {where} within {self.connect_timeout} s"
            raise ConnectTimeout(reason) from None
        except OSError as exc:  # refused, unreachable, TLS handshake or certificate
            raise ConnectError(f"cannot connect to {where}: {exc}") from exc
        self._open.add(connection)
        return connection

    def _ssl_context(self) -> ssl.SSLContext:
        if self._context is None:
            context = httpx.create_ssl_context(verify=self._verify, trust_env=False)
            context.set_alpn_protocols(["http/1.1"])
            self._context = context
        return self._context

    def _make_room(self) -> None:
        """Before a new connection: close the idle ones past their expiry, and the longest
        idle one if the limit is reached."""
        now = asyncio.get_running_loop().time()
        for key, kept in list(self._idle.items()):
            for connection in [c for c in kept if now - c.idle_since >= self.keepalive_expiry]:
                kept.remove(connection)
                self._discard(connection)
            if not kept:
                del self._idle[key]
        if len(self._open) >= self.max_connections and self._idle:
            idle = [connection for kept in self._idle.values() for connection in kept]
            oldest = min(idle, key=lambda connection: connection.idle_since)
            self._idle[oldest.key].remove(oldest)
            self._discard(oldest)

    def _release(self, connection: _Connection, *, reuse: bool) -> None:
        if reuse and not self._closed and connection.reusable:
            connection.rest(asyncio.get_running_loop().time())
            self._idle.setdefault(connection.key, []).append(connection)
        else:
            self._discard(connection)
        self._slots.release()

    def _discard(self, connection: _Connection) -> None:
        self._open.discard(connection)
        connection.close()

    def _lost(self, connection: _Connection) -> None:
        """The connection closed (either side): it no longer counts, nor waits idle."""
        self._open.discard(connection)
        idle = self._idle.get(connection.key)
        if idle is not None and connection in idle:
            idle.remove(connection)
        if not idle:
            self._idle.pop(connection.key, None)


def _request_head(target: Target, headers: Mapping[str, str], *, keep_alive: bool) -> bytes:
    path = target.url.raw_path.decode("ascii")  # percent-encoded by httpx.URL
    host = target.host_header
    if not (_VISIBLE.fullmatch(path) and _VISIBLE.fullmatch(host)):
        raise LocalProtocolError(f"cannot ask for {path!r} from {host!r}")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        if not (_VISIBLE.fullmatch(name) and _FIELD_VALUE.fullmatch(value)):
            raise LocalProtocolError(f"invalid request header {name!r}: {value!r}")
        lines.append(f"{name}: {value}")
    if not keep_alive:
        lines.append("Connection: close")
    lines += ["", ""]
    return "\r\n".join(lines).encode("ascii")


class Response:
    """An answer's status and headers; ``aiter_raw`` reads its body.  Close it."""

    def __init__(self, client: ObjectClient, connection: _Connection, *, keep_alive: bool) -> None:
        self._client = client
        self._connection: _Connection | None = connection
        self._keep_alive = keep_alive
        self.status_code = connection.status
        self.headers = connection.headers  # lower-case names; repeated fields joined by ", "

    @property
    def tls_name(self) -> str | None:
        """The host name (or address) TLS verified; None over plain http."""
        transport = self._connection.transport if self._connection is not None else None
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        return getattr(ssl_object, "server_hostname", None)

    async def aiter_raw(self, chunk_size: int) -> AsyncIterator[bytes]:
        """The body as it arrives, in pieces of at most ``chunk_size`` bytes."""
        connection = self._connection
        if connection is None:
            raise RuntimeError("the response is closed")
        timeout = self._client.timeout
        while piece := await connection.read(chunk_size, timeout):
            yield piece

    def close(self) -> None:
        """Give the connection back: kept for the next request if the answer is complete,
        else closed (an unread body is not read to its end)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._client._release(connection, reuse=self._keep_alive)


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: a request at a time, its answer parsed as it arrives.

    Body bytes wait in ``chunks`` until read; past ``_PAUSE_AT`` of them the socket is not
    read, so a fast server cannot fill memory ahead of a slower reader.
    """

    def __init__(self, client: ObjectClient, key: _Key) -> None:
        self.client = client
        self.key = key
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.idle_since = 0.0
        self.closed = False  # lost, or closed by us
        self.eof = False  # the server will send nothing more
        self.paused = False
        self.waiter: asyncio.Future[None] | None = None
        self._start()

    def _start(self) -> None:
        """Forget the previous answer: a new request is going out."""
        self.asked = False  # a request is out and its answer not complete
        self.received = False  # any byte of the answer
        self.head_bytes = 0  # received before the (final) status and headers were complete
        self.fields: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.headers: dict[str, str] = {}
        self.has_head = False
        self.complete = False
        self.keep_alive = False
        self.extra = False  # bytes after the answer: the connection cannot be kept
        self.failure: TransportError | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self._resume()

    @property
    def usable(self) -> bool:
        return (
            not self.closed
            and not self.eof
            and not self.extra
            and self.failure is None
            and self.transport is not None
            and not self.transport.is_closing()
        )

    @property
    def reusable(self) -> bool:
        """The answer is complete and the server keeps the connection open."""
        return self.complete and self.keep_alive and self.usable

    def rest(self, now: float) -> None:
        """Wait idle for the next request; body bytes nobody read are dropped."""
        self.idle_since = now
        self.chunks.clear()
        self.buffered = 0
        self._resume()  # so that the server closing it is noticed

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            # No TLS close_notify exchange: nothing more is read from this connection.
            self.transport.abort()

    async def ask(self, request: bytes, patience: float | None) -> None:
        """Send ``request`` and wait for the answer's status and headers, each wait for the
        server at most ``patience`` seconds."""
        if self.transport is None:
            raise ReadError("not connected")
        self._start()
        self.asked = True
        # A few hundred bytes: the socket takes them at once.  Had the server closed the
        # connection, its end is seen below, before any answer.
        self.transport.write(request)
        while not self.has_head:
            if self.failure is not None:
                raise self.failure
            if self.eof:
                raise RemoteProtocolError("the server closed the connection without an answer")
            await self._wait(patience)

    async def read(self, limit: int, patience: float | None) -> bytes:
        """The next body bytes, at most ``limit``; b"" after the last."""
        while True:
            if self.chunks:
                piece = self.chunks.popleft()
                if len(piece) > limit:
                    self.chunks.appendleft(piece[limit:])
                    piece = piece[:limit]
                self.buffered -= len(piece)
                if self.buffered <= _RESUME_AT:
                    self._resume()
                return piece
            if self.complete:
                return b""
            if self.failure is not None:
                raise self.failure
            if self.eof:
                if self._ends_at_close():
                    self.complete = True
                    self.asked = False
                    return b""
                raise RemoteProtocolError(
                    "the server closed the connection before the end of the body"
                )
            await self._wait(patience)

    def _ends_at_close(self) -> bool:
        """Neither Content-Length nor chunked: the body ends when the connection does."""
        coding = self.headers.get("transfer-encoding", "").lower()
        return "content-length" not in self.headers and "chunked" not in coding

    async def _wait(self, patience: float | None) -> None:
        """Until the server sends something or goes (ReadTimeout after ``patience`` s).

        A timer on the future, not asyncio.timeout: one per wait, and cheaper."""
        waiter = self.loop.create_future()
        self.waiter = waiter
        timer = None
        if patience is not None:
            timer = self.loop.call_later(patience, _expire, waiter, patience)
        try:
            await waiter
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()

    def _resume(self) -> None:
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: TransportError) -> None:
        if self.failure is None:
            self.failure = error

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - a stream connection
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.asked:  # nothing asked, or the answer is complete: out of turn
            self.extra = True
            return
        self.received = True
        if self.head_bytes > MAX_HEAD_BYTES:  # headers without end must not fill memory
            self._fail(RemoteProtocolError(f"headers longer than {MAX_HEAD_BYTES} bytes"))
            self._wake()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(RemoteProtocolError("the server switched protocols, unasked"))
        except httptools.HttpParserError as exc:
            if self.complete:
                self.extra = True  # garbage after a complete answer
            else:
                self._fail(RemoteProtocolError(f"invalid HTTP answer: {exc}"))
        if not self.has_head:
            self.head_bytes += len(data)
        if self.buffered > _PAUSE_AT and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake()
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.eof = True
        if exc is not None and self.asked and not self.complete:
            error = ReadError(f"connection lost: {exc}")
            error.__cause__ = exc
            self._fail(error)
        self.client._lost(self)
        self._wake()

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self.complete:
            self.extra = True  # a second answer to one request
        else:
            self.fields = []  # the final answer after an interim (1xx) one

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.complete:
            self.fields.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if self.complete or status < 200:  # 1xx: interim, the final answer follows
            return
        self.status = status
        self.headers = _header_dict(self.fields)
        self.keep_alive = self.parser.should_keep_alive()
        self.has_head = True

    def on_body(self, body: bytes) -> None:
        if self.has_head and not self.complete:
            self.chunks.append(body)
            self.buffered += len(body)

    def on_message_complete(self) -> None:
        if self.has_head and not self.complete:
            self.complete = True
            self.asked = False


def _expire(waiter: asyncio.Future[None], patience: float) -> None:
    if not waiter.done():
        waiter.set_exception(ReadTimeout(f"nothing received for {patience} s"))


def _header_dict(fields: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header fields by lower-case name, repeated ones joined by ", " (RFC 9110 5.3)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in fields:
        name = raw_name.decode("latin-1").lower()
        try:
            value = raw_value.decode("utf-8").strip(" \t")
        except UnicodeDecodeError:
            value = raw_value.decode("latin-1").strip(" \t")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers

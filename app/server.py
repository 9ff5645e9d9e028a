"""The HTTP server: uvicorn, with one ASGI extension for relaying a socket's bytes.

Streaming a large file from S3 through the app costs two copies of every byte in
user space (read from S3, write to the client) and a trip through Python per chunk.
On Linux, ``splice(2)`` moves the bytes from the S3 socket through a pipe to the
client's socket inside the kernel.  Uvicorn does not expose the client's socket, so
this server offers the extension ``coursefed.socket_relay`` in each plain-HTTP
request's scope.  After ``http.response.start`` (with a Content-Length) and any body
messages, the app may send::

    {"type": "coursefed.socket_relay", "socket": <socket.socket>, "count": <int>,
     "more_body": <bool>}

and the server moves exactly ``count`` bytes from that socket to the client.  The app
keeps ownership of the socket.  If the client goes away the message returns quietly,
as uvicorn's ``send`` does; if the socket ends early, fails or stalls, the client's
connection is closed (the response can no longer be completed) and ``RelayFailed``
is raised.  Over TLS, or on a platform without ``os.splice``, the extension is not
offered and the app streams the bytes itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

SOCKET_RELAY = "coursefed.socket_relay"
# How long one side may stall (no byte readable from the socket, none writable to the
# client) before the relay gives up.
IDLE_SECONDS = 60.0
# Bytes moved per splice call: the pipe is grown to this where the system allows.
PIPE_BYTES = 1 << 20
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ, named by the fcntl module from Python 3.10 on Linux
_CLIENT_GONE = frozenset({errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, errno.ESHUTDOWN})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class RelayFailed(OSError):
    """The relayed socket ended early, failed or stalled; the client's connection is closed."""


class _ClientGone(Exception):
    pass


def config(app: Any, *, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    """Uvicorn's configuration for ``app``, with the socket relay where it can work."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=RelayingProtocol,
        # Uvicorn would believe X-Forwarded-For from loopback; the app decides whom to
        # believe (COURSEFED_TRUSTED_PROXIES, app/ratelimit.py) from the real peer.
        proxy_headers=False,
    )


def run(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` until interrupted (uvicorn's signal handling)."""
    uvicorn.Server(config(app, host=host, port=port, log_level=log_level)).run()


def relay_available() -> bool:
    return hasattr(os, "splice")


class RelayingProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol, offering ``coursefed.socket_relay`` to each request."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        transport = cycle.transport
        client = transport.get_extra_info("socket")
        if relay_available() and client is not None and not transport.get_extra_info("sslcontext"):
            app = _RelayingApp(app, cycle, client.fileno())
        super()._start_asgi_task(cycle, app)


class _RelayingApp:
    """One request's app, its ``send`` taught the relay message."""

    def __init__(self, app: ASGIApp, cycle: RequestResponseCycle, client_fd: int) -> None:
        self.app = app
        self.cycle = cycle
        self.client_fd = client_fd

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["extensions"] = {**(scope.get("extensions") or {}), SOCKET_RELAY: {}}

        async def relaying_send(message: Message) -> None:
            if message["type"] != SOCKET_RELAY:
                await send(message)
                return
            await self._relay(message, send)

        await self.app(scope, receive, relaying_send)

    async def _relay(self, message: Message, send: Send) -> None:
        cycle = self.cycle
        count = int(message["count"])
        if not cycle.response_started or cycle.response_complete or cycle.chunked_encoding:
            raise RuntimeError(f"{SOCKET_RELAY} needs a started response with a Content-Length")
        if count > cycle.expected_content_length:
            raise RuntimeError("Response content longer than Content-Length")
        if cycle.disconnected:
            return
        try:
            # Bytes the server already queued (the headers, earlier body messages, an
            # earlier response on this connection) must reach the client first.
            await _drained(cycle.transport)
            await _splice(message["socket"], self.client_fd, count)
        except _ClientGone:
            cycle.disconnected = True
            cycle.transport.close()
            return
        except OSError as exc:
            cycle.disconnected = True  # the response cannot be completed: drop the connection
            cycle.transport.close()
            raise RelayFailed(exc.errno, str(exc)) from exc
        cycle.expected_content_length -= count
        await send(
            {
                "type": "http.response.body",
                "body": b"",
                "more_body": message.get("more_body", False),
            }
        )


async def _drained(transport: asyncio.WriteTransport) -> None:
    """Until the transport has sent all it holds (rare: usually it holds nothing)."""
    deadline = asyncio.get_running_loop().time() + IDLE_SECONDS
    while transport.get_write_buffer_size():
        if transport.is_closing() or asyncio.get_running_loop().time() > deadline:
            raise _ClientGone
        await asyncio.sleep(0.002)


async def _splice(source: socket.socket, client_fd: int, count: int) -> None:
    """Move ``count`` bytes from ``source`` to the client, through a pipe, in the kernel."""
    # A descriptor of our own for the client's socket: the event loop refuses to watch
    # the one its transport owns, and closing ours leaves the connection open.
    import fcntl  # noqa: PLC0415 - POSIX only, and only reached where splice exists

    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    client = -1
    try:
        client = os.dup(client_fd)
        with contextlib.suppress(OSError):  # a smaller pipe only means more calls
            fcntl.fcntl(write_end, _F_SETPIPE_SZ, PIPE_BYTES)
        source_fd = source.fileno()
        flags = os.SPLICE_F_MOVE | os.SPLICE_F_NONBLOCK
        left = count
        while left:
            try:
                filled = os.splice(source_fd, write_end, min(left, PIPE_BYTES), flags=flags)
            except BlockingIOError:
                await _ready(source_fd, write=False)
                continue
            if not filled:
                raise OSError(errno.EPIPE, f"the source ended {left} bytes short")
            left -= filled
            while filled:
                try:
                    filled -= os.splice(read_end, client, filled, flags=flags)
                except BlockingIOError:
                    await _ready(client, write=True, gone=True)
                except OSError as exc:
                    if exc.errno in _CLIENT_GONE:
                        raise _ClientGone from exc
                    raise
    finally:
        os.close(read_end)
        os.close(write_end)
        if client >= 0:
            os.close(client)


async def _ready(fd: int, *, write: bool, gone: bool = False) -> None:
    """Wait until ``fd`` can be read (or written); a stall past IDLE_SECONDS fails.

    A future and a timer of its own, cheaper than ``asyncio.wait_for``: a relay waits
    thousands of times a second when S3 is the slower side."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(True)

    def expire() -> None:
        if not ready.done():
            ready.set_result(False)

    (loop.add_writer if write else loop.add_reader)(fd, wake)
    timer = loop.call_later(IDLE_SECONDS, expire)
    try:
        if await ready:
            return
    finally:
        timer.cancel()
        (loop.remove_writer if write else loop.remove_reader)(fd)
    if gone:
        raise _ClientGone
    raise OSError(errno.ETIMEDOUT, f"no byte for {IDLE_SECONDS:g} s")

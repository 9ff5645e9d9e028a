"""The server's socket relay (``app.server``), through real uvicorn and real sockets."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app import server
from app.server import SOCKET_RELAY, RelayFailed
from tests.services_plugin import serving

BODY = hashlib.shake_256(b"relayed lecture").digest(5 * 1024 * 1024 + 17)


class Feeder:
    """The far end of a socket pair: writes ``data`` (then closes) in a thread of its own."""

    def __init__(self, data: bytes, *, hold: bool = False) -> None:
        self.near, far = socket.socketpair()
        self.near.settimeout(10)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._feed, args=(far, data, hold), daemon=True)
        self._thread.start()

    def _feed(self, far: socket.socket, data: bytes, hold: bool) -> None:
        # OSError: the relay stopped reading, the client having gone away.
        with far, contextlib.suppress(OSError):
            far.sendall(data)
            if hold:  # silent, but open: a stalled S3
                self._closed.wait(30)

    def close(self) -> None:
        self._closed.set()
        self.near.close()
        self._thread.join(10)


def relaying_app(body: bytes, *, prefix: int = 0) -> Any:
    """An ASGI app that answers ``body[:prefix]`` itself and relays the rest from a socket
    (which holds ``body[prefix:]``).  At ``/short`` the socket ends 1 MB into the body; at
    ``/stall`` it sends 1 MB, then nothing, and stays open."""
    seen: dict[str, Any] = {"clients": []}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        seen["extensions"] = scope.get("extensions") or {}
        seen["clients"].append(scope["client"])
        length = len(body)
        body_sent = body[:1_000_000] if scope["path"] in {"/short", "/stall"} else body
        headers = [(b"content-type", b"application/pdf"), (b"content-length", str(length).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if SOCKET_RELAY not in seen["extensions"]:
            await send({"type": "http.response.body", "body": body})
            return
        if prefix:
            await send({"type": "http.response.body", "body": body[:prefix], "more_body": True})
        feeder = Feeder(body_sent[prefix:], hold=scope["path"] == "/stall")
        try:
            await send({"type": SOCKET_RELAY, "socket": feeder.near, "count": length - prefix})
        except RelayFailed as exc:
            seen["failed"] = exc
        finally:
            feeder.close()

    app.seen = seen  # type: ignore[attr-defined]
    return app


@pytest.fixture
def quiet_uvicorn() -> Iterator[None]:
    logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    yield
    logging.getLogger("uvicorn.error").setLevel(logging.NOTSET)


def test_relayed_bytes_reach_the_client_exactly() -> None:
    app = relaying_app(BODY)
    with serving(app) as base:
        answer = httpx.get(base)
    assert SOCKET_RELAY in app.seen["extensions"]
    assert answer.status_code == 200
    assert answer.headers["content-length"] == str(len(BODY))
    assert hashlib.sha256(answer.content).digest() == hashlib.sha256(BODY).digest()


def test_body_sent_by_the_app_then_relayed_keeps_its_order() -> None:
    app = relaying_app(BODY, prefix=70_001)
    with serving(app) as base:
        assert httpx.get(base).content == BODY


def test_a_kept_alive_connection_serves_request_after_request() -> None:
    app = relaying_app(BODY, prefix=3)
    with serving(app) as base, httpx.Client() as client:
        for _ in range(4):
            answer = client.get(base)
            assert answer.content == BODY
    assert len(set(app.seen["clients"])) == 1  # one connection


def test_plain_uvicorn_does_not_offer_the_relay() -> None:
    app = relaying_app(BODY)
    with serving(app, relay=False) as base:
        assert httpx.get(base).content == BODY
    assert SOCKET_RELAY not in app.seen["extensions"]


def test_a_socket_ending_early_drops_the_connection_and_tells_the_app(
    quiet_uvicorn: None,
) -> None:
    """S3 stopping mid-file: the client must see a short body, never a complete-looking one."""
    app = relaying_app(BODY)
    with serving(app) as base, httpx.Client() as client:
        with pytest.raises(httpx.RemoteProtocolError, match="received 1000000 bytes"):
            client.get(f"{base}/short")
        assert isinstance(app.seen.get("failed"), RelayFailed)
        assert client.get(base).content == BODY  # the server goes on serving


def test_a_client_leaving_midway_leaves_the_server_serving() -> None:
    app = relaying_app(BODY)
    with serving(app) as base:
        for _ in range(3):
            with httpx.stream("GET", base) as partial:
                assert next(partial.iter_raw(65536)) == BODY[:65536]
        assert httpx.get(base).content == BODY
    assert "failed" not in app.seen  # a client leaving is not the socket's failure


def test_a_socket_gone_silent_is_given_up_after_the_idle_time(
    quiet_uvicorn: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "IDLE_SECONDS", 0.5)
    app = relaying_app(BODY)
    with serving(app) as base, httpx.Client(timeout=20) as client:
        with pytest.raises(httpx.RemoteProtocolError, match="received 1000000 bytes"):
            client.get(f"{base}/stall")
        assert "no byte for 0.5 s" in str(app.seen["failed"])
        assert client.get(base).content == BODY

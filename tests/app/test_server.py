"""``coursefed serve``'s uvicorn (``app.server``), through a real socket."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import uvicorn

from app import server
from tests.services_plugin import free_port


async def peer_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the client address and scheme the server put in the scope."""
    if scope["type"] != "http":
        return
    body = json.dumps({"client": scope["client"][0], "scheme": scope["scheme"]}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_a_forged_forwarded_for_from_loopback_is_not_believed() -> None:
    """Uvicorn believes X-Forwarded-For from loopback by default; the rate limiter must see
    the real peer and decide itself which proxies to trust."""
    port = free_port()
    running = uvicorn.Server(server.config(peer_app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        forged = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
        seen = httpx.get(f"http://127.0.0.1:{port}/", headers=forged).json()
    finally:
        running.should_exit = True
        thread.join(10)
    assert seen == {"client": "127.0.0.1", "scheme": "http"}

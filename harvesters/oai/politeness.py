"""Politeness towards repositories: at most N requests in flight per host, spaced apart.

One registry per process, shared by every client and event loop, so two harvests of
sources on the same host (or a harvest and a conformance check) still take turns.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass
class _Host:
    active: int = 0
    next_start: float = 0.0


_hosts: dict[str, _Host] = {}
_lock = threading.Lock()


@asynccontextmanager
async def polite(host: str, *, concurrency: int = 2, delay: float = 0.0) -> AsyncIterator[None]:
    """Hold one of ``concurrency`` slots for ``host``; starts are ``delay`` seconds apart."""
    while True:
        with _lock:
            state = _hosts.setdefault(host, _Host())
            now = time.monotonic()
            if state.active < concurrency and now >= state.next_start:
                state.active += 1
                state.next_start = now + delay
                break
            wait = max(state.next_start - now, 0.005)
        await asyncio.sleep(min(wait, 0.25))
    try:
        yield
    finally:
        with _lock:
            state.active -= 1

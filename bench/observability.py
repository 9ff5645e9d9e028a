"""Benchmark: what request ids and metrics add to every search, against the same request
without them, in one run.

Measures, per request, a bare ASGI answer with and without ``RequestIdMiddleware`` (an
incoming id checked and echoed, the context variable set), and a search latency
observation (``SEARCH_API.time()``), in this process's memory and, in a child process, in
prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``).  The target: far
below the search API's budget of +3 ms over raw Meilisearch (``bench.search_api``
measures that whole path).

Run: ``python -m bench.observability [--requests 200000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from app.observability import metrics
from app.observability.requests import RequestIdMiddleware

HEADERS = [(b"host", b"coursefed"), (b"x-request-id", b"lb-7f3a2b9c-1")]


async def _bare(_scope: Any, _receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _sent(_message: Any) -> None:
    return None


async def _received() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _per_request(app: Any, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        scope = {"type": "http", "method": "GET", "path": "/", "headers": list(HEADERS)}
        await app(scope, _received, _sent)
    return (time.perf_counter() - started) / count


def _observation(count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        with metrics.SEARCH_API.time():
            pass
    return (time.perf_counter() - started) / count


def measure(count: int, rounds: int = 5) -> dict[str, float]:
    """Median microseconds per request over ``rounds``."""
    bare, wrapped, observed = [], [], []
    for _ in range(rounds):
        bare.append(asyncio.run(_per_request(_bare, count)))
        wrapped.append(asyncio.run(_per_request(RequestIdMiddleware(_bare), count)))
        observed.append(_observation(count))
    return {
        "bare": statistics.median(bare) * 1e6,
        "request_id": (statistics.median(wrapped) - statistics.median(bare)) * 1e6,
        "observation": statistics.median(observed) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(measure(args.requests)["observation"])
        return
    here = measure(args.requests)
    with tempfile.TemporaryDirectory() as shared:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": shared}
        command = [sys.executable, "-m", "bench.observability", "--child"]
        child = subprocess.run(
            [*command, "--requests", str(args.requests)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        multiprocess = float(child.stdout.strip())
    print(f"{'measure':<44} | µs per request")
    print(f"{'-' * 44}-+---------------")
    print(f"{'bare ASGI answer (the reference)':<44} | {here['bare']:.2f}")
    print(f"{'+ request id (X-Request-ID kept and echoed)':<44} | {here['request_id']:.2f}")
    print(f"{'+ search latency observed, in memory':<44} | {here['observation']:.2f}")
    print(f"{'+ search latency observed, multiprocess mode':<44} | {multiprocess:.2f}")
    added = here["request_id"] + max(here["observation"], multiprocess)
    print(f"\nadded to a search: {added:.1f} µs of the 3,000 µs budget over raw Meilisearch")


if __name__ == "__main__":
    main()

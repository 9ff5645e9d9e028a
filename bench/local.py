"""A local node for benchmarks: Meilisearch and S3 on free ports, the app served by uvicorn."""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from app.services.manager import services_down, services_up
from app.services.ports import free_port, service_ports
from app.settings import Settings


@contextlib.contextmanager
def local_node() -> Iterator[Settings]:
    """Settings of a node in a temporary folder, its Meilisearch and S3 running; stopped
    and removed afterwards.  No rate limit: one client asking thousands of times a minute
    is the point of a benchmark."""
    with tempfile.TemporaryDirectory(prefix="coursefed-bench-") as tmp:
        port = free_port()
        settings = Settings(
            data_dir=Path(tmp),
            scheduler=False,
            rate_limit=False,
            port=port,
            public_url=f"http://127.0.0.1:{port}",
            meili_url=None,
            s3_endpoint=None,
            **service_ports(),
        )
        services_up(settings)
        try:
            yield settings
        finally:
            services_down(settings)


@contextlib.contextmanager
def serving(app: FastAPI, port: int) -> Iterator[str]:
    """uvicorn in a thread, as ``coursefed serve`` runs it; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)

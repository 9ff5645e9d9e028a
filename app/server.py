"""``coursefed serve``: the app on plain uvicorn."""

from __future__ import annotations

from typing import Any

import uvicorn


def config(app: Any, *, host: str, port: int, log_level: str = "info") -> uvicorn.Config:
    """Uvicorn's configuration for ``app``."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        # Uvicorn would believe X-Forwarded-For from loopback; the app decides whom to
        # believe (COURSEFED_TRUSTED_PROXIES, app/ratelimit.py) from the real peer.
        proxy_headers=False,
        # Uvicorn's lines go through the root logger coursefed configured
        # (app.observability.logs): the same format, with the request id.
        log_config=None,
    )


def run(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` until interrupted (uvicorn's signal handling)."""
    uvicorn.Server(config(app, host=host, port=port, log_level=log_level)).run()

"""``coursefed serve``: the app on plain uvicorn, in one process or several.

With ``--workers N`` (N > 1) uvicorn's supervisor starts N processes that each import
``http_app`` and serve HTTP from one listening socket; the background work (harvests,
indexing, file fetching) runs once, in the supervising process, not once per worker.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from app.settings import Settings, get_settings


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


def http_app() -> Any:
    """The app of one ``serve --workers`` process: settings from the environment, HTTP
    only (the supervising process runs the scheduler), logging as the supervisor does."""
    from app.main import create_app  # noqa: PLC0415 - imported in the worker process
    from app.observability import logs  # noqa: PLC0415

    settings = get_settings().model_copy(update={"scheduler": False})
    logs.configure(settings.log_format, logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return create_app(settings)


def run_workers(settings: Settings, *, workers: int, log_level: str = "info") -> None:
    """Serve ``http_app`` from ``workers`` processes until SIGINT or SIGTERM; with
    ``settings.scheduler``, run the background work here, once, meanwhile."""
    from app import jobs  # noqa: PLC0415
    from app.db import make_engine  # noqa: PLC0415

    # The worker processes read their settings from the environment: hand them the log
    # format chosen here (``--log-format`` wins over the environment).
    os.environ["COURSEFED_LOG_FORMAT"] = settings.log_format

    supervised = config(
        f"{__name__}:http_app", host=settings.host, port=settings.port, log_level=log_level
    )
    supervised.factory = True
    supervised.workers = workers
    engine = make_engine(settings)
    scheduler = jobs.Scheduler(engine, settings) if settings.scheduler else None
    if scheduler is not None:
        scheduler.start()
    try:
        Multiprocess(supervised, sockets=[supervised.bind_socket()]).run()
    finally:
        if scheduler is not None:
            scheduler.stop()
        engine.dispose()

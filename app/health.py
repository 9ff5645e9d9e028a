"""Liveness (``/healthz``) and readiness (``/readyz``): each dependency reported separately.

``/readyz`` is ``ok`` (200), ``degraded`` (200: it answers, but its data is late) or
``unavailable`` (503: a dependency is down).
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.clock import utcnow
from app.db import session_scope
from app.deps import StateDep
from app.errors import public_reason
from app.objects.store import ObjectStoreError
from app.search import suggest
from app.search.gateway import SearchError
from app.search.indexer import index_lag
from app.settings import Settings
from app.sources import service as sources

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (says nothing about its dependencies)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: StateDep) -> JSONResponse:
    """Database, Meilisearch and S3 each ``ok`` or the error; HTTP 503 when one is down.

    When all are up but the index lags or a harvest is stuck, the status is ``degraded``
    and ``degraded`` lists why, in words.
    """
    checks: dict[str, Any] = {}
    try:
        with state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = _down("database", exc)
    try:
        status = state.search.health()
        checks["meilisearch"] = "ok" if status == "available" else f"error: status {status}"
    except SearchError as exc:
        checks["meilisearch"] = _down("meilisearch", exc)
    try:
        state.objects.check()
        checks["s3"] = "ok"
    except ObjectStoreError as exc:
        checks["s3"] = _down("s3", exc)
    ready = all(value == "ok" for value in checks.values())
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable", "checks": checks}
    # Search works without it; its help ("did you mean") starts once it is ready.
    body["suggestions"] = suggest.state(state.search, state.settings.meili_index)
    if checks["database"] == "ok":
        body["index_lag"] = index_lag(state.engine)
        reasons = degraded_reasons(state.engine, state.settings, body["index_lag"])
        if ready and reasons:
            body["status"] = "degraded"
            body["degraded"] = reasons
    return JSONResponse(body, status_code=200 if ready else 503)


def degraded_reasons(engine: Engine, settings: Settings, lag: int) -> list[str]:
    """Why the service answers but falls behind: the index lags, or a harvest is stuck.

    ``degraded`` keeps HTTP 200: searches, pages and files are still served (a load
    balancer must not take the instance out), only fresher data is late.  Monitoring
    alerts on the status; 503 stays for a dependency that is down.
    """
    reasons = []
    if lag > settings.ready_max_index_lag:
        reasons.append(
            f"the search index is {lag} changes behind the catalogue"
            f" (more than {settings.ready_max_index_lag})"
        )
    with session_scope(engine) as session:
        stuck = sources.runs_older_than(session, settings.ready_max_run_seconds)
        for slug, run in stuck:
            started = run.started_at.replace(tzinfo=run.started_at.tzinfo or UTC)
            minutes = int((utcnow() - started).total_seconds() // 60)
            reasons.append(
                f"the harvest of source {slug!r} has been running for {minutes} minutes"
                f" (more than {settings.ready_max_run_seconds / 60:g})"
            )
    return reasons


def _down(name: str, exc: BaseException) -> str:
    """The public word for a failed check; the detail (addresses, ports) only in the log."""
    log.warning("readiness: %s is down: %s", name, exc)
    return f"error: {public_reason(exc)}"

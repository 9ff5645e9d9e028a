"""Liveness (``/healthz``) and readiness (``/readyz``): each dependency reported separately."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.deps import StateDep
from app.errors import public_reason
from app.objects.store import ObjectStoreError
from app.search.gateway import SearchError
from app.search.indexer import index_lag

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (says nothing about its dependencies)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: StateDep) -> JSONResponse:
    """Database, Meilisearch and S3 each ``ok`` or the error; HTTP 503 when one is down."""
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
    if checks["database"] == "ok":
        body["index_lag"] = index_lag(state.engine)
    return JSONResponse(body, status_code=200 if ready else 503)


def _down(name: str, exc: BaseException) -> str:
    """The public word for a failed check; the detail (addresses, ports) only in the log."""
    log.warning("readiness: %s is down: %s", name, exc)
    return f"error: {public_reason(exc)}"

"""HTTP routes of the mirror API: ``/api/v1/changes`` and ``/api/v1/snapshot`` (thin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from app.auth import rate_limited
from app.deps import StateDep
from app.identity import NODE_HEADER, node_id
from app.mirror import feed, repository
from app.mirror.schemas import ChangesParams, ChangesResponse
from app.mirror.snapshot import Snapshot

router = APIRouter(prefix="/api/v1", tags=["mirror"])

SERIAL_HEADER = "X-Coursefed-Serial"

_ERRORS: dict[int | str, dict[str, Any]] = {
    410: {"description": "`since` is older than the journal keeps: load the snapshot"},
    422: {"description": "an invalid parameter, named in `detail`"},
}


@router.get(
    "/changes",
    response_model=ChangesResponse,
    responses=_ERRORS,
    dependencies=[rate_limited("changes")],
)
def changes(state: StateDep, params: Annotated[ChangesParams, Query()]) -> Response:
    """Journal entries after `since`, oldest first, each with its resource's current record.

    Apply them in order: a record replaces the mirror's copy, a null record removes it.
    Ask again with `since=last_serial` while `more` is true.
    """
    with repository.read_snapshot(state.engine) as session:
        page = feed.changes_since(session, params.since, params.limit)
    return Response(
        page.model_dump_json(),
        media_type="application/json",
        headers={SERIAL_HEADER: str(page.latest_serial), NODE_HEADER: node_id(state.engine)},
    )


@router.get(
    "/snapshot",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/gzip": {}}}},
    dependencies=[rate_limited("snapshot")],
)
def snapshot(state: StateDep) -> StreamingResponse:
    """The live catalogue at one serial as gzip'd NDJSON; then follow `/changes?since=serial`."""
    current = Snapshot(state.engine)
    return StreamingResponse(
        current.chunks(),
        media_type="application/gzip",
        headers={
            SERIAL_HEADER: str(current.serial),
            NODE_HEADER: node_id(state.engine),
            "Content-Disposition": f'attachment; filename="{current.filename}"',
        },
    )

"""HTTP routes for stored files: download by sha256, upload to a source (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from app.auth import UploadDep, rate_limited
from app.deps import StateDep
from app.objects import service
from app.objects.schemas import StoredObject
from app.objects.upload import FIELD, receive_file

router = APIRouter(prefix="/api/v1", tags=["objects"])

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {FIELD: {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


_OBJECT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "the bytes (proxy mode, or HEAD); headers and X-Accel-Redirect (accel)"},
    206: {"description": "the requested byte range (proxy mode)"},
    304: {"description": "If-None-Match names this object's ETag"},
    307: {"description": "redirect to a short-lived presigned S3 URL (redirect mode)"},
    404: {"description": "no stored object with this sha256"},
    416: {"description": "the Range starts past the end"},
    422: {"description": "not a sha256 (64 lowercase hex digits)"},
    503: {"description": "the object store is unavailable"},
}


# Documented, not enforced here: the service answers a malformed one with its own 422.
SHA256 = Annotated[str, Path(json_schema_extra={"pattern": "^[0-9a-f]{64}$"})]


_GET_OR_HEAD: dict[str, Any] = {
    "response_class": Response,
    "responses": _OBJECT_RESPONSES,
    "dependencies": [rate_limited("objects")],
}


@router.get("/objects/{sha256}", operation_id="get_object", **_GET_OR_HEAD)
@router.head("/objects/{sha256}", operation_id="head_object", **_GET_OR_HEAD)
async def get_object(
    sha256: SHA256,
    request: Request,
    state: StateDep,
    download: Annotated[
        bool, Query(description="save the file (attachment) even if a browser could show it")
    ] = False,
) -> Response:
    """A stored file by its sha256, with its original name in Content-Disposition."""
    blob = await service.find_blob(state.engine, state.blobs, sha256)
    return await service.serve(
        blob,
        method=request.method,
        headers=request.headers,
        store=state.objects,
        settings=state.settings,
        download=download,
    )


@router.post(
    "/sources/{reference}/objects",
    status_code=status.HTTP_201_CREATED,
    response_model=StoredObject,
    openapi_extra=_UPLOAD_BODY,
    responses={
        413: {"description": "larger than the source's (or the default) size limit"},
        415: {"description": "a type of file we do not store"},
    },
)
async def upload_object(
    reference: str, request: Request, response: Response, state: StateDep, _access: UploadDep
) -> StoredObject:
    """Upload a file for a source (admin token); the same bytes are stored only once."""
    source_id, max_bytes = await run_in_threadpool(
        service.upload_limit, state.engine, state.settings, reference
    )
    received = await receive_file(
        request.headers.get("content-type"),
        request.headers.get("content-length"),
        request.stream(),
        directory=state.settings.data_dir / "tmp",
        max_bytes=max_bytes,
    )
    try:
        blob = await run_in_threadpool(
            service.store_upload, state.engine, state.objects, source_id, received, state.blobs
        )
    finally:
        await run_in_threadpool(received.path.unlink, missing_ok=True)
    path = f"/api/v1/objects/{blob.sha256}"
    response.headers["Location"] = path
    held = blob.model_dump(include={"sha256", "size", "media_type", "file_name"})
    return StoredObject(**held, url=state.settings.resolved_public_url + path)

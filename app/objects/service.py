"""Serve stored objects (redirect or proxy, with ranges and ETags) and take uploads.

Unlike other domains these functions open their own short transactions
(``session_scope``) instead of using the request's: a download or an upload may stream
for minutes and must not hold a database connection meanwhile.  Bytes go to S3 before
the ``blobs`` row that names them is committed, so a row never points at nothing (an
interrupted upload can at worst leave unreferenced content in S3, which is harmless).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.background import BackgroundTask
from starlette.responses import RedirectResponse, Response, StreamingResponse

from app.db import session_scope
from app.errors import (
    InvalidParameter,
    NotFound,
    RangeNotSatisfiable,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from app.objects import repository
from app.objects.http import (
    ByteRange,
    Unsatisfiable,
    content_disposition,
    etag,
    etag_matches,
    parse_range,
)
from app.objects.models import Blob
from app.objects.sniff import SNIFF_BYTES, is_allowed, sniff
from app.objects.store import ObjectNotFound, ObjectStore, ObjectStoreError, is_sha256
from app.objects.upload import ReceivedFile
from app.settings import Settings
from app.sources.models import utcnow
from app.sources.service import find_source

log = logging.getLogger(__name__)

# Content-addressed bytes never change; a day still lets a takedown reach caches.
CACHE_CONTROL = "public, max-age=86400"


def require_sha256(value: str) -> str:
    if not is_sha256(value):
        raise InvalidParameter(f"{value!r} is not a sha256: 64 lowercase hexadecimal digits")
    return value


def find_blob(engine: Engine, sha256: str) -> Blob:
    require_sha256(sha256)
    with session_scope(engine) as session:
        blob = repository.get_blob(session, sha256)
    if blob is None:
        raise NotFound(f"no stored object with sha256 {sha256}")
    return blob


# --- serving --------------------------------------------------------------------------------


def serve(
    blob: Blob,
    *,
    method: str,
    headers: Mapping[str, str],
    store: ObjectStore,
    settings: Settings,
) -> Response:
    """The response to ``GET`` or ``HEAD`` of a stored object.

    ``HEAD`` is always answered here from the ``blobs`` row (a presigned URL signs one
    method, so a redirected ``HEAD`` would fail at S3).  ``GET`` is redirected to a
    presigned S3 URL or, in proxy mode, streamed through with ranges.
    """
    tag = etag(blob.sha256)
    common = {
        "ETag": tag,
        "Accept-Ranges": "bytes",
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=common)
    if method == "GET" and settings.objects_serve == "redirect":
        return _redirect(blob, store, settings)
    wanted = _wanted_range(blob, headers, tag)
    entity = {
        **common,
        "Content-Type": blob.media_type,
        "Content-Disposition": content_disposition(blob.file_name, blob.media_type, blob.sha256),
    }
    if wanted is None:
        status, length = 200, blob.size
    else:
        status, length = 206, wanted.length
        entity["Content-Range"] = wanted.content_range(blob.size)
    entity["Content-Length"] = str(length)
    if method == "HEAD":
        return Response(status_code=status, headers=entity)
    return _proxy(blob, wanted, status, entity, store)


def _wanted_range(blob: Blob, headers: Mapping[str, str], tag: str) -> ByteRange | None:
    if_range = headers.get("if-range")
    if if_range is not None and if_range.strip() != tag:
        return None  # the client's partial copy is of other bytes: send them all
    try:
        return parse_range(headers.get("range"), blob.size)
    except Unsatisfiable:
        raise RangeNotSatisfiable(
            f"the object has {blob.size} bytes", headers={"Content-Range": f"bytes */{blob.size}"}
        ) from None


def _redirect(blob: Blob, store: ObjectStore, settings: Settings) -> Response:
    try:
        url = store.presigned_get(
            blob.sha256,
            file_name=blob.file_name,
            media_type=blob.media_type,
            expires=settings.objects_presign_seconds,
        )
    except ObjectStoreError as exc:
        raise ServiceUnavailable(f"the object store is unavailable: {exc}") from exc
    # The URL expires soon: nobody may cache the redirect for longer.
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})


def _proxy(
    blob: Blob,
    wanted: ByteRange | None,
    status: int,
    headers: dict[str, str],
    store: ObjectStore,
) -> Response:
    try:
        if wanted is None:
            stream = store.open_range(blob.sha256)
        else:
            stream = store.open_range(blob.sha256, wanted.start, wanted.end)
    except ObjectNotFound:
        log.error("object %s is recorded but S3 does not hold it", blob.sha256)
        raise NotFound(f"the bytes of object {blob.sha256} are missing from storage") from None
    except ObjectStoreError as exc:
        raise ServiceUnavailable(f"the object store is unavailable: {exc}") from exc
    if stream.total != blob.size:
        stream.close()
        log.error("object %s: S3 holds %d bytes, %d recorded", blob.sha256, stream.total, blob.size)
        raise ServiceUnavailable(f"the stored copy of {blob.sha256} does not match its record")
    # Closing twice is harmless; the task covers a client that leaves mid-stream.
    return StreamingResponse(
        stream.chunks(),
        status_code=status,
        headers=headers,
        background=BackgroundTask(stream.close),
    )


# --- uploads --------------------------------------------------------------------------------


def upload_limit(engine: Engine, settings: Settings, reference: str) -> tuple[int, int]:
    """(source id, largest upload in bytes) of a source by id, slug or name."""
    with session_scope(engine) as session:
        source = find_source(session, reference)
        if source is None or source.id is None:
            raise NotFound(f"no source {reference!r}")
        return source.id, source.max_object_bytes or settings.objects_max_bytes


def upload_media_type(received: ReceivedFile) -> str:
    """What the bytes are (never merely what the client declared), or 415 if not stored."""
    with received.path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    found = sniff(head, received.declared_type, complete=received.size <= SNIFF_BYTES)
    if not is_allowed(found.media_type):
        raise UnsupportedMediaType(f"files of type {found.media_type} are not stored")
    return found.media_type


def store_upload(
    engine: Engine, store: ObjectStore, source_id: int, received: ReceivedFile
) -> Blob:
    """Put the file in S3 unless held already, and record it; the ``blobs`` row."""
    media_type = upload_media_type(received)
    try:
        stored_now = not store.exists(received.sha256)
        if stored_now:
            store.put_file(received.sha256, received.path, received.size, media_type)
    except ObjectStoreError as exc:
        raise ServiceUnavailable(f"the object store is unavailable: {exc}") from exc
    with session_scope(engine) as session:
        blob = repository.upsert_blob(
            session,
            sha256=received.sha256,
            size=received.size,
            media_type=media_type,
            file_name=received.file_name,
            uploaded_by_source_id=source_id,
        )
        if stored_now and blob.verify_status in {"missing", "corrupt"}:
            # The bytes a check found bad were just stored again from a hashed upload.
            repository.record_verification(session, blob.sha256, "ok", utcnow())
    return blob


def discard(path: Path) -> None:
    path.unlink(missing_ok=True)

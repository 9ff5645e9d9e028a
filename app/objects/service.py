"""Serve stored objects (redirect, proxy or nginx's X-Accel-Redirect, with ranges and ETags)
and take uploads.

Unlike other domains these functions open their own short transactions instead of using
the request's: a download or an upload may stream for minutes and must not hold a
database connection meanwhile.  Bytes go to S3 before the ``blobs`` row that names them
is committed, so a row never points at nothing.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from app.clock import utcnow
from app.db import session_scope
from app.errors import (
    InvalidParameter,
    NotFound,
    RangeNotSatisfiable,
    ServiceUnavailable,
    UnsupportedMediaType,
    public_reason,
)
from app.objects import repository
from app.objects.cache import BlobCache, ServedBlob
from app.objects.http import (
    ByteRange,
    Unsatisfiable,
    content_disposition,
    etag_matches,
    parse_range,
)
from app.objects.models import Blob
from app.objects.sniff import SNIFF_BYTES, is_allowed, sniff
from app.objects.store import (
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    ObjectStream,
    is_sha256,
)
from app.objects.upload import ReceivedFile
from app.settings import Settings
from app.sources.service import find_source

log = logging.getLogger(__name__)

ServeMode = Literal["redirect", "proxy", "accel"]

# Content-addressed bytes never change; a day still lets a takedown reach caches.
CACHE_CONTROL = "public, max-age=86400"
# The target handed to nginx is fetched at once: a minute covers clock steps and retries.
ACCEL_URL_SECONDS = 60


# Statuses of a file we will not store, for good: an address the policy refuses, too
# large, a type we do not keep (``failed`` is a fetch that ran out of attempts).
REFUSED = frozenset({"too_large", "not_allowed", "unsupported"})


@dataclass(frozen=True)
class SourceFiles:
    """The files a source's live, published records name, and what became of them."""

    total: int  # one per record × file URL
    stored: int  # held in our store
    stored_bytes: int
    pending: int  # waiting to be fetched, or to be tried again
    failed: int  # fetching failed for good (unreachable, errors, every attempt spent)
    refused: int  # not kept: an address we may not fetch, too large, a type we do not keep
    broken_links: int  # the source's link answered with an error at its last check
    by_status: dict[str, int]  # every status → files


def source_files(session: Session, source_id: int) -> SourceFiles:
    """Counts of a source's files by state, and its broken links."""
    by_status: dict[str, int] = {}
    stored_bytes = broken = 0
    for status, link_status, count, size in repository.object_counts(session, source_id):
        by_status[status] = by_status.get(status, 0) + count
        stored_bytes += size if status == "stored" else 0
        broken += count if link_status == "broken" else 0
    return SourceFiles(
        total=sum(by_status.values()),
        stored=by_status.get("stored", 0),
        stored_bytes=stored_bytes,
        pending=by_status.get("pending", 0),
        failed=by_status.get("failed", 0),
        refused=sum(n for status, n in by_status.items() if status in REFUSED),
        broken_links=broken,
        by_status=dict(sorted(by_status.items())),
    )


async def find_blob(engine: Engine, blobs: BlobCache, sha256: str) -> ServedBlob:
    """The row of a stored file: remembered for a few seconds, else from the database."""
    if not is_sha256(sha256):
        raise InvalidParameter(f"{sha256!r} is not a sha256: 64 lowercase hexadecimal digits")
    blob = blobs.get(sha256)
    if blob is None:
        blob = await run_in_threadpool(load_blob, engine, sha256)
        blobs.put(blob)
    return blob


def load_blob(engine: Engine, sha256: str) -> ServedBlob:
    with engine.connect() as connection:  # one read: no session, nothing to commit
        blob = repository.served_blob(connection, sha256)
    if blob is None:
        raise NotFound(f"no stored object with sha256 {sha256}")
    return blob


# --- serving --------------------------------------------------------------------------------


async def serve(
    blob: ServedBlob,
    *,
    method: str,
    headers: Mapping[str, str],
    store: ObjectStore,
    settings: Settings,
    mode: ServeMode | None = None,
    download: bool = False,
) -> Response:
    """The response to ``GET`` or ``HEAD`` of a stored object.

    ``HEAD``, 304 and 416 are answered here from the ``blobs`` row (a presigned URL signs
    one method, so a redirected ``HEAD`` would fail at S3).  ``GET`` is redirected to a
    presigned S3 URL, handed to nginx (``accel``) or streamed through with ranges, as
    ``mode`` says (by default ``objects_serve``; a page framing a file asks for ``proxy``,
    so the bytes come from our own origin with our headers).  ``download`` asks for
    ``Content-Disposition: attachment`` even for a type a browser would show (a PDF).
    """
    common = {
        "ETag": blob.etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    if etag_matches(headers.get("if-none-match"), blob.etag):
        return Response(status_code=304, headers=common)
    mode = mode or settings.objects_serve
    if method == "GET" and mode == "redirect":
        await _require_s3(store)
        url = _presigned(blob, store, download, expires=settings.objects_presign_seconds)
        # The URL expires soon: nobody may cache the redirect for longer.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    wanted = _wanted_range(blob, headers)
    # nginx passes the client's Range on to S3: only one this app honours as sent (others,
    # such as an If-Range of other bytes, are answered by streaming the whole file here).
    if method == "GET" and mode == "accel" and (wanted is not None or "range" not in headers):
        await _require_s3(store)
        return _accel(blob, store, settings, download=download)
    entity = {
        **common,
        "Content-Type": blob.media_type,
        "Content-Disposition": (
            content_disposition(blob.file_name, blob.media_type, blob.sha256, attachment=True)
            if download
            else blob.disposition
        ),
    }
    if wanted is None:
        status, length = 200, blob.size
    else:
        status, length = 206, wanted.length
        entity["Content-Range"] = wanted.content_range(blob.size)
    entity["Content-Length"] = str(length)
    if method == "HEAD":
        return Response(status_code=status, headers=entity)
    return await _proxy(blob, wanted, status, entity, store)


def _wanted_range(blob: ServedBlob, headers: Mapping[str, str]) -> ByteRange | None:
    if_range = headers.get("if-range")
    if if_range is not None and if_range.strip() != blob.etag:
        return None  # the client's partial copy is of other bytes: send them all
    try:
        return parse_range(headers.get("range"), blob.size)
    except Unsatisfiable:
        raise RangeNotSatisfiable(
            f"the object has {blob.size} bytes", headers={"Content-Range": f"bytes */{blob.size}"}
        ) from None


def store_unavailable(store: ObjectStore, exc: BaseException | None = None) -> ServiceUnavailable:
    """The 503 for S3 being down: in words, never its address (the detail goes to the log)."""
    if exc is not None:
        log.warning("the object store failed: %s", exc)
    reason = public_reason(exc) if exc is not None else "unreachable"
    retry = str(max(1, math.ceil(store.availability.fresh_seconds)))
    return ServiceUnavailable(
        f"object store: {reason}; try again shortly", headers={"Retry-After": retry}
    )


async def _require_s3(store: ObjectStore) -> None:
    """503 while S3 is known to be down; sending the client to it would only fail later.
    Once the last word on S3 is stale, one request probes S3 while the others go by it."""
    availability = store.availability
    if not availability.fresh and availability.probing.acquire(blocking=False):
        try:
            await run_in_threadpool(store.probe)
        except ObjectStoreError as exc:
            raise store_unavailable(store, exc) from exc
        finally:
            availability.probing.release()
    if not availability.up:
        raise store_unavailable(store)


def _presigned(blob: ServedBlob, store: ObjectStore, download: bool, **options: Any) -> str:
    """Signing is local and quick (no network): it runs on the event loop."""
    return store.presigned_get(
        blob.sha256,
        file_name=blob.file_name,
        media_type=blob.media_type,
        attachment=download,
        **options,
    )


def _accel(blob: ServedBlob, store: ObjectStore, settings: Settings, *, download: bool) -> Response:
    """Headers only: nginx fetches the bytes at the presigned target from S3, which answers
    with our Content-Type, Content-Disposition and Cache-Control (signed in the query, so
    they come with the file and never with an error) and honours the Range.
    deploy/nginx.conf adds our ETag and the headers the app sends with every file."""
    signed = _presigned(
        blob, store, download, expires=ACCEL_URL_SECONDS, cache_control=CACHE_CONTROL, internal=True
    )
    url = urlsplit(signed)
    target = f"{settings.objects_accel_location.rstrip('/')}{url.path}?{url.query}"
    return Response(status_code=200, headers={"ETag": blob.etag, "X-Accel-Redirect": target})


async def _proxy(
    blob: ServedBlob,
    wanted: ByteRange | None,
    status: int,
    headers: dict[str, str],
    store: ObjectStore,
) -> Response:
    try:
        with store.availability.watching():
            stream, first = await run_in_threadpool(_open, blob, wanted, store)
    except ObjectNotFound:
        log.error("object %s is recorded but S3 does not hold it", blob.sha256)
        raise NotFound(f"the bytes of object {blob.sha256} are missing from storage") from None
    except ObjectStoreError as exc:
        raise store_unavailable(store, exc) from exc
    return _ObjectResponse(stream, first, blob.sha256, status_code=status, headers=headers)


def _open(
    blob: ServedBlob, wanted: ByteRange | None, store: ObjectStore
) -> tuple[ObjectStream, bytes]:
    """Open the bytes in S3 and read their first chunk, in one trip to a worker thread
    (a small file is then sent without another)."""
    bounds = (None, None) if wanted is None else (wanted.start, wanted.end)
    stream = store.open_range(blob.sha256, *bounds)
    try:
        if stream.total != blob.size:
            log.error(
                "object %s: S3 holds %d bytes, %d recorded", blob.sha256, stream.total, blob.size
            )
            raise ServiceUnavailable(f"the stored copy of {blob.sha256} does not match its record")
        return stream, stream.read()
    except BaseException:
        stream.close()
        raise


class _ObjectResponse(StreamingResponse):
    """Bytes streamed from S3: the first chunk at once, each next one read on a worker
    thread.  The S3 read is closed however the response ends: every byte sent, S3
    failing, the client leaving, or the response never starting.  S3 failing midway
    leaves the response unfinished, so the server drops the connection and the client
    sees a short body, never a complete-looking one."""

    def __init__(self, stream: ObjectStream, first: bytes, sha256: str, **response: Any) -> None:
        super().__init__(_chunks(stream, first), **response)
        self._stream = stream
        self._sha256 = sha256

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except ObjectStoreError as exc:
            log.warning(
                "object %s: S3 stopped mid-download, connection dropped: %s", self._sha256, exc
            )
        finally:
            # A read in flight is waited for, not abandoned, when the request is cancelled.
            self._stream.close()


async def _chunks(stream: ObjectStream, first: bytes) -> AsyncIterator[bytes]:
    chunk = first
    while chunk:
        yield chunk
        chunk = b"" if stream.done else await run_in_threadpool(stream.read)


# --- uploads --------------------------------------------------------------------------------


def upload_limit(engine: Engine, settings: Settings, reference: str) -> tuple[int, int]:
    """(source id, largest upload in bytes) of a source by id, slug or name."""
    with session_scope(engine) as session:
        source = find_source(session, reference)
        if source is None or source.id is None:
            raise NotFound(f"no source {reference!r}")
        return source.id, source.max_object_bytes or settings.objects_max_bytes


def store_upload(
    engine: Engine,
    store: ObjectStore,
    source_id: int,
    received: ReceivedFile,
    blobs: BlobCache | None = None,
) -> Blob:
    """Put the file in S3 unless held already, and record it; the ``blobs`` row.  Its type
    is what the bytes are (never merely what the client declared), or 415 if not stored;
    ``blobs`` forgets the row, which may have gained a file name."""
    with received.path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    complete = received.size <= SNIFF_BYTES
    media_type = sniff(head, received.declared_type, complete=complete).media_type
    if not is_allowed(media_type):
        raise UnsupportedMediaType(f"files of type {media_type} are not stored")
    try:
        with store.availability.watching():
            stored_now = not store.exists(received.sha256)
            if stored_now:
                store.put_file(received.sha256, received.path, received.size, media_type)
    except ObjectStoreError as exc:
        raise store_unavailable(store, exc) from exc
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
    if blobs is not None:
        blobs.forget(blob.sha256)
    return blob


# --- what is held ---------------------------------------------------------------------------

LINK_STATES = ("ok", "broken", "unchecked")


@dataclass(frozen=True)
class Holdings:
    """The files courses name and what we hold of them: ``files`` and ``bytes`` of distinct
    contents in S3; ``objects``, the files courses name by state; ``links``, the same
    files by the last check of their source link (``unchecked`` for those not checked).
    """

    files: int = 0
    bytes: int = 0
    objects: dict[str, int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LINK_STATES, 0))


def holdings(session: Session) -> Holdings:
    """What is held now (two counting queries)."""
    files, size = repository.blob_totals(session)
    objects: Counter[str] = Counter()
    links: Counter[str] = Counter(dict.fromkeys(LINK_STATES, 0))
    for status, link_status, count, _ in repository.object_counts(session):
        objects[status] += count
        links[link_status if link_status in LINK_STATES else "unchecked"] += count
    return Holdings(files=files, bytes=size, objects=dict(objects), links=dict(links))

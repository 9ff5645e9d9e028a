"""``coursefed mirror --objects``: copy the upstream's stored files by their sha256.

The change feed and the snapshot list, for each record, the files the upstream holds
(``objects`` with ``sha256``).  After each committed page the mirror notes those hashes
on its own ``objects`` rows (still ``pending``: the bytes are not here yet), then copies
what is missing: ``GET {upstream}/api/v1/objects/{sha256}`` (a redirect to the
upstream's S3, or the bytes themselves), streamed to a temporary file, its sha256
checked, stored under the same content key here.  A file both nodes' records share is
copied once; one we hold already is not copied at all.

Rows awaiting a copy keep their expected sha256; the object fetcher leaves them alone.
If S3 or the upstream fails, they stay pending and the next ``mirror`` run copies them.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.filenames import file_name_from_disposition
from app.objects import repository
from app.objects.discovery import discover
from app.objects.store import ObjectStore, ObjectStoreError, is_sha256
from app.settings import Settings
from harvesters.net import AddressRefused

log = logging.getLogger(__name__)

CHUNK = 1 << 20
AWAITING = "to be copied from the upstream"

Expected = dict[tuple[str, str], str]
"""(resource id, url) → sha256 of the upstream's copy."""


@dataclass
class CopyReport:
    copied: int = 0
    held: int = 0  # bytes already here
    failed: int = 0
    store_error: str | None = None


def expected_objects(resource_id: str, manifests: Iterable[dict[str, object]] | None) -> Expected:
    """The held files of one feed or snapshot entry (``objects`` with a sha256)."""
    found: Expected = {}
    for item in manifests or ():
        sha256, url = item.get("sha256"), item.get("url")
        if isinstance(sha256, str) and isinstance(url, str) and is_sha256(sha256):
            found[resource_id, url] = sha256
    return found


class ObjectCopier:
    """Copies the files of mirrored records from the upstream into this node's S3."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        upstream: str,
        http: httpx.Client,
        *,
        store: ObjectStore | None = None,
    ) -> None:
        self.engine = engine
        self.upstream = upstream.rstrip("/")
        self.http = http
        self.store = store or ObjectStore(settings)
        self.spool = settings.data_dir / "tmp"
        self.max_bytes = settings.objects_max_bytes

    def note(self, expected: Expected) -> None:
        """After a committed page: rows of these records expect these upstream hashes."""
        discover(self.engine)
        if not expected:
            return
        with session_scope(self.engine) as session:
            ids = sorted({resource_id for resource_id, _url in expected})
            for row in repository.objects_of_resources(session, ids):
                sha256 = expected.get((row.resource_id, row.url))
                if sha256 is None or (row.status == "stored" and row.sha256 == sha256):
                    continue
                row.status = "pending"
                row.sha256 = sha256
                row.status_reason = AWAITING
                row.attempts = 0
                row.next_attempt_at = None
                session.add(row)

    def copy_pending(self, source_id: int | None) -> CopyReport:
        """Copy every file rows of ``source_id`` await; stops early if S3 fails."""
        report = CopyReport()
        with session_scope(self.engine) as session:
            waiting = repository.awaiting_copy(session, source_id)
        try:
            self.store.ensure_bucket()
        except ObjectStoreError as exc:
            report.store_error = str(exc)
            return report
        for sha256, row_ids in waiting.items():
            try:
                held = self.store.exists(sha256)
                if held:
                    report.held += 1
                    with session_scope(self.engine) as session:
                        blob = repository.get_blob(session, sha256)
                    size, media_type = (blob.size, blob.media_type) if blob else (None, None)
                    if blob is None:
                        info = self.store.head(sha256)
                        size, media_type = info.size, info.media_type or "application/octet-stream"
                        self._record_blob(sha256, size, media_type)
                else:
                    size, media_type = self._copy(sha256)
                    report.copied += 1
            except ObjectStoreError as exc:
                report.store_error = str(exc)
                return report
            except CopyFailed as exc:
                log.warning("mirror: %s", exc)
                report.failed += 1
                with session_scope(self.engine) as session:
                    repository.note_reason(session, row_ids, f"{AWAITING}; last try: {exc}")
                continue
            with session_scope(self.engine) as session:
                repository.mark_stored(
                    session, row_ids, sha256=sha256, size=size, media_type=media_type
                )
        return report

    def _copy(self, sha256: str) -> tuple[int, str]:
        """Stream the upstream's copy into S3 here, checking its sha256; (size, type)."""
        self.spool.mkdir(parents=True, exist_ok=True)
        url = f"{self.upstream}/api/v1/objects/{sha256}"
        with tempfile.NamedTemporaryFile(dir=self.spool) as spool:
            digest = hashlib.sha256()
            size = 0
            try:
                with self.http.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise CopyFailed(f"{url} answered HTTP {response.status_code}")
                    media_type = response.headers.get("content-type", "application/octet-stream")
                    name = file_name_from_disposition(response.headers.get("content-disposition"))
                    for chunk in response.iter_bytes(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        if size > self.max_bytes:
                            raise CopyFailed(f"{url} sent more than {self.max_bytes} bytes")
                        spool.write(chunk)
            except httpx.HTTPError as exc:
                # The class names the failure; its text may quote what the upstream sent.
                reason = str(exc) if isinstance(exc, AddressRefused) else type(exc).__name__
                raise CopyFailed(f"{url}: {reason}") from exc
            if digest.hexdigest() != sha256:
                raise CopyFailed(f"{url} sent bytes whose sha256 is {digest.hexdigest()}")
            media_type = media_type.split(";")[0].strip() or "application/octet-stream"
            spool.flush()
            self.store.put_file(sha256, Path(spool.name), size, media_type)
        self._record_blob(sha256, size, media_type, name)
        return size, media_type

    def _record_blob(
        self, sha256: str, size: int, media_type: str, file_name: str | None = None
    ) -> None:
        with session_scope(self.engine) as session:
            repository.upsert_blob(
                session,
                sha256=sha256,
                size=size,
                media_type=media_type,
                file_name=file_name,
                stored_at=datetime.now(UTC),
            )


class CopyFailed(Exception):
    """The upstream did not deliver a file intact (it stays pending for the next run)."""

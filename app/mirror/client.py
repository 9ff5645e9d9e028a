"""``coursefed mirror``: make this node a mirror of another coursefed.

A mirror starts from the upstream's snapshot and then follows its change feed.  Each
page of changes is applied in one transaction together with the upstream serial it
reaches (a cursor in our database), so a mirror stopped at any moment, SIGKILL
included, resumes exactly where its last committed page ended: nothing is lost and
nothing applied twice.  Mirrored resources keep their ids and their provenance, and go
through our own journal, so our search index and our own feed follow them too.

A ``since`` the upstream has compacted away (HTTP 410) sends the mirror back to a fresh
snapshot, after which resources the snapshot no longer holds are tombstoned.

Every request obeys the outbound address policy (an upstream on a private network needs
``--allow-private-network``); each change page is bounded in size and time, the snapshot
in time; an upstream that answers as this very node is refused.  Errors name the HTTP
status or the failure, never what the upstream sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import Engine

from app.catalogue import repository
from app.catalogue import service as catalogue
from app.db import session_scope
from app.identity import NODE_HEADER, node_id
from app.mirror.objects import Expected, ObjectCopier, expected_objects
from app.sources import service as sources
from harvesters.net import AddressPolicy, AddressRefused, sync_client
from metadata.profile import Issue, ResourceRecord
from metadata.urls import screen_urls
from metadata.validate import validate

log = logging.getLogger(__name__)

PAGE = 5000
BATCH = 500
MAX_PAGE_BYTES = 256 * 1024 * 1024  # a change page of 5,000 full records is tens of MB
PAGE_DEADLINE = 300.0  # seconds for one change page, first byte to last
SNAPSHOT_DEADLINE = 6 * 3600.0  # seconds for the whole snapshot
FILTERABLE = ("subject", "level", "language", "source", "institution")
CURSOR_PREFIX = "mirror-"
UPSTREAM_SUFFIX = "-upstream"


class MirrorError(Exception):
    """The upstream could not be mirrored (unreachable, not a coursefed, bad data)."""


@dataclass
class MirrorResult:
    serial: int
    snapshot_records: int = 0
    upserted: int = 0
    deleted: int = 0
    pages: int = 0
    resnapshots: int = 0
    objects_copied: int = 0
    objects_held: int = 0
    objects_failed: int = 0
    objects_error: str | None = None


@dataclass(frozen=True)
class RecordFilter:
    """Which upstream records this mirror keeps: ``subject=0812`` (code prefix), ``level=…``."""

    conditions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, expressions: Sequence[str]) -> RecordFilter:
        conditions: dict[str, list[str]] = {}
        for expression in expressions:
            name, sep, value = expression.partition("=")
            if not sep or not value or name not in FILTERABLE:
                names = ", ".join(FILTERABLE)
                raise MirrorError(f"filter {expression!r}: use NAME=VALUE, NAME one of {names}")
            conditions.setdefault(name, []).append(value)
        return cls({name: tuple(values) for name, values in conditions.items()})

    def keeps(self, record: Mapping[str, Any]) -> bool:
        for name, values in self.conditions.items():
            if not any(_matches(name, value, record) for value in values):
                return False
        return True


def _matches(name: str, value: str, record: Mapping[str, Any]) -> bool:
    if name == "subject":
        codes = [s.get("code") or "" for s in record.get("subjects", [])]
        return any(code.startswith(value) for code in codes)
    if name == "level":
        return bool(record.get("education_level") == value)
    if name == "language":
        return value in record.get("languages", [])
    if name == "institution":
        return bool(record.get("institution") == value)
    provenance = record.get("provenance") or {}
    return bool(provenance.get("source") == value)


class Mirror:
    """Follows one upstream coursefed into this node's database."""

    def __init__(
        self,
        engine: Engine,
        upstream: str,
        *,
        record_filter: RecordFilter | None = None,
        http: httpx.Client | None = None,
        page_size: int = PAGE,
        objects: Callable[[Mirror], ObjectCopier] | None = None,
        policy: AddressPolicy | None = None,
        allow_private: bool = False,
        api_key: str | None = None,
    ) -> None:
        self.engine = engine
        self.upstream = upstream.rstrip("/")
        self.filter = record_filter or RecordFilter()
        self.page_size = page_size
        allowed = (policy or AddressPolicy()).permitting(allow_private=allow_private)
        # A mirror-scoped key earns the upstream's larger budget; httpx drops the header on
        # a redirect to another host (a presigned S3 URL), so it never leaves the upstream.
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        self.http = http or sync_client(
            allowed, timeout=httpx.Timeout(120, connect=15), headers=headers
        )
        digest = hashlib.sha256(self.upstream.encode()).hexdigest()[:16]
        self.cursor = f"{CURSOR_PREFIX}{digest}"
        # The upstream's newest serial when last asked: how far behind this node is.
        self.upstream_cursor = f"{self.cursor}{UPSTREAM_SUFFIX}"
        with session_scope(engine) as session:
            host = urlsplit(self.upstream).hostname or "upstream"
            existing = sources.find_source(session, f"mirror-{digest[:8]}")
            source = existing or sources.add_source(
                session,
                base_url=f"{self.upstream}/oai",
                name=f"mirror of {self.upstream}",
                slug=f"mirror-{digest[:8]}",
                allow_private_network=allow_private,
            )
            # Mirrored sources are followed by `coursefed mirror`, not harvested.
            source.enabled = False
            session.add(source)
            session.flush()
            assert source.id is not None  # noqa: S101 - set by the flush
            self.source_id = source.id
            log.info("mirroring %s (%s) as source %s", self.upstream, host, source.slug)
        # With --objects, the files the upstream holds are copied too.
        self.objects = objects(self) if objects is not None else None

    def close(self) -> None:
        self.http.close()

    # --- public ---------------------------------------------------------------------------

    def sync(self) -> MirrorResult:
        """Bring this node up to the upstream's latest serial (snapshot first if new)."""
        with session_scope(self.engine) as session:
            serial = repository.get_cursor(session, self.cursor)
        result = MirrorResult(serial=serial)
        if serial == 0:
            # A small first request: a node asked to mirror itself finds out before it
            # opens a snapshot stream.
            self._get("/api/v1/changes", params={"since": 0, "limit": 1})
            self._load_snapshot(result)
        while True:
            response = self._get(
                "/api/v1/changes", params={"since": result.serial, "limit": self.page_size}
            )
            if response.status_code == 410:
                log.warning("upstream compacted its journal past %s: new snapshot", result.serial)
                result.resnapshots += 1
                self._load_snapshot(result)
                continue
            body = self._json(response)
            entries = body.get("entries", [])
            self._note_upstream(body)
            if entries:
                self._apply_changes(entries, int(body["last_serial"]), result)
            if not body.get("more"):
                self._copy_objects(result)
                return result

    def _note_upstream(self, body: dict[str, Any]) -> None:
        latest = body.get("latest_serial")
        if isinstance(latest, int) and not isinstance(latest, bool) and latest >= 0:
            with session_scope(self.engine) as session:
                repository.set_cursor(session, self.upstream_cursor, latest)

    def _copy_objects(self, result: MirrorResult) -> None:
        if self.objects is None:
            return
        copied = self.objects.copy_pending(self.source_id)
        result.objects_copied += copied.copied
        result.objects_held += copied.held
        result.objects_failed += copied.failed
        result.objects_error = copied.store_error

    # --- snapshot ----------------------------------------------------------------------------

    def _load_snapshot(self, result: MirrorResult) -> None:
        try:
            self._stream_snapshot(result)
        except httpx.HTTPError as exc:
            raise MirrorError(f"{self.upstream} snapshot failed: {_failure(exc)}") from exc
        except (ValueError, zlib.error) as exc:
            raise MirrorError(f"{self.upstream} sent a snapshot that is not gzip'd NDJSON") from exc

    def _stream_snapshot(self, result: MirrorResult) -> None:
        with self.http.stream("GET", f"{self.upstream}/api/v1/snapshot") as response:
            if response.status_code != 200:
                raise MirrorError(f"{self.upstream} snapshot answered HTTP {response.status_code}")
            self._refuse_ourselves(response)
            deadline = time.monotonic() + SNAPSHOT_DEADLINE
            lines = _gzip_ndjson(_until(response.iter_bytes(), deadline, "the snapshot"))
            header = next(lines, None)
            if not header or "serial" not in header:
                raise MirrorError(f"{self.upstream} sent a snapshot without its serial line")
            serial = int(header["serial"])
            seen: set[str] = set()
            batch: list[dict[str, Any]] = []
            for line in lines:
                seen.add(line["id"])
                batch.append(line)
                if len(batch) >= BATCH:
                    self._apply_snapshot_batch(batch, result)
                    batch = []
            self._apply_snapshot_batch(batch, result)
        with session_scope(self.engine) as session:
            # What the snapshot no longer holds is gone upstream (or outside our filter).
            ours = catalogue.live_ids_of_source(session, self.source_id)
            vanished = [resource_id for resource_id in ours if resource_id not in seen]
            writer = catalogue.Batch(session, vanished)
            for resource_id in vanished:
                if writer.delete(resource_id) is catalogue.Outcome.DELETED:
                    result.deleted += 1
            writer.flush()
            repository.set_cursor(session, self.cursor, serial)
        result.serial = serial

    def _apply_snapshot_batch(self, lines: list[dict[str, Any]], result: MirrorResult) -> None:
        if not lines:
            return
        with session_scope(self.engine) as session:
            writer = catalogue.Batch(session, [line["id"] for line in lines])
            for line in lines:
                result.snapshot_records += 1
                self._upsert_or_drop(writer, line["id"], line["record"], result)
            writer.flush()
        if self.objects is not None:
            expected: Expected = {}
            for line in lines:
                expected.update(expected_objects(line["id"], line.get("objects")))
            self.objects.note(expected)

    # --- changes ------------------------------------------------------------------------------

    def _apply_changes(
        self, entries: list[dict[str, Any]], last_serial: int, result: MirrorResult
    ) -> None:
        with session_scope(self.engine) as session:
            writer = catalogue.Batch(session, {entry["id"] for entry in entries})
            for entry in entries:
                record = entry.get("record")
                if entry.get("op") == "delete" or record is None:
                    if writer.delete(entry["id"]) is catalogue.Outcome.DELETED:
                        result.deleted += 1
                else:
                    self._upsert_or_drop(writer, entry["id"], record, result)
            writer.flush()
            # The serial reached is committed with the changes themselves.
            repository.set_cursor(session, self.cursor, last_serial)
        result.serial = last_serial
        result.pages += 1
        if self.objects is not None:
            expected: Expected = {}
            for entry in entries:
                if entry.get("op") != "delete" and entry.get("record") is not None:
                    expected.update(expected_objects(entry["id"], entry.get("objects")))
            self.objects.note(expected)

    def _upsert_or_drop(
        self,
        writer: catalogue.Batch,
        resource_id: str,
        record: dict[str, Any],
        result: MirrorResult,
    ) -> None:
        if not self.filter.keeps(record):
            if writer.delete(resource_id) is catalogue.Outcome.DELETED:
                result.deleted += 1
            return
        raw = json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8")
        try:
            profile = ResourceRecord.model_validate(record)
        except ValueError as exc:
            raise MirrorError(
                f"upstream record {resource_id!r} is not a profile record: {exc}"
            ) from exc
        if profile.id != resource_id:
            raise MirrorError(f"upstream entry {resource_id!r} carries record {profile.id!r}")
        # The upstream may be older or careless: its URLs pass our rule or are dropped,
        # exactly as a harvested record's are.
        profile, dropped = screen_urls(profile)
        issues: list[Issue] = [*validate(profile), *dropped]
        provenance = profile.provenance
        outcome = writer.upsert(
            catalogue.StoredRecord(
                record=profile,
                issues=issues,
                source_id=self.source_id,
                oai_identifier=provenance.oai_identifier if provenance else resource_id,
                datestamp=provenance.datestamp if provenance else "",
                metadata_prefix="coursefed",
                raw_xml=raw,
                raw_sha256=hashlib.sha256(raw).hexdigest(),
            )
        )
        if outcome is not catalogue.Outcome.UNCHANGED:
            result.upserted += 1

    # --- HTTP -----------------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any]) -> _Answer:
        """One change page, read whole within its size cap and deadline."""
        url = f"{self.upstream}{path}"
        try:
            with self.http.stream("GET", url, params=dict(params)) as response:
                self._refuse_ourselves(response)
                body = bytearray()
                deadline = time.monotonic() + PAGE_DEADLINE
                for chunk in _until(response.iter_bytes(), deadline, path):
                    body += chunk
                    if len(body) > MAX_PAGE_BYTES:
                        raise MirrorError(f"{url} sent more than {MAX_PAGE_BYTES} bytes")
                return _Answer(response.status_code, path, bytes(body))
        except httpx.HTTPError as exc:
            raise MirrorError(f"{self.upstream} is unreachable: {_failure(exc)}") from exc

    def _json(self, response: _Answer) -> dict[str, Any]:
        if response.status_code != 200:
            raise MirrorError(
                f"{self.upstream}{response.path} answered HTTP {response.status_code}"
            )
        try:
            return dict(json.loads(response.content))
        except ValueError as exc:
            raise MirrorError(f"{self.upstream} did not answer JSON; is it a coursefed?") from exc

    def _refuse_ourselves(self, response: httpx.Response) -> None:
        if response.headers.get(NODE_HEADER) == node_id(self.engine):
            raise MirrorError(
                f"{self.upstream} is this coursefed itself; a node cannot mirror itself"
            )


@dataclass(frozen=True)
class _Answer:
    status_code: int
    path: str
    content: bytes


def _failure(exc: httpx.HTTPError) -> str:
    """The failure in our words: the policy's refusal, else the class of the error (an
    exception's text may quote bytes the upstream sent)."""
    return str(exc) if isinstance(exc, AddressRefused) else type(exc).__name__


def _until(chunks: Iterator[bytes], deadline: float, what: str) -> Iterator[bytes]:
    """``chunks`` until the monotonic ``deadline``: a trickling upstream cannot hold us."""
    for chunk in chunks:
        if time.monotonic() > deadline:
            raise MirrorError(f"{what} took longer than its deadline; try again later")
        yield chunk


def _gzip_ndjson(chunks: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    """JSON lines from a gzip stream, decompressed as the bytes arrive."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    pending = b""
    for chunk in chunks:
        pending += inflate.decompress(chunk)
        *lines, pending = pending.split(b"\n")
        yield from (dict(json.loads(line)) for line in lines if line.strip())
    pending += inflate.flush()
    yield from (dict(json.loads(line)) for line in pending.split(b"\n") if line.strip())

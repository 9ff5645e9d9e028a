"""Snapshots of the live catalogue: content, consistency at one serial, constant memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tracemalloc
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from app.catalogue import repository as catalogue_repository
from app.catalogue.models import DigitalObject, Resource
from app.clock import utcnow
from app.db import session_scope
from app.mirror.snapshot import BATCH_SIZE, FORMAT, Snapshot, write_snapshot
from app.settings import Settings
from metadata.profile import DigitalObjectRef
from tests.app.test_feed import current, mirror_app, remove, store

pytestmark = pytest.mark.postgres


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(mirror_app(settings)) as client:
        yield client


def lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(body).decode("utf-8").splitlines()]


def bulk_insert(engine: Engine, start: int, count: int, text: str = "") -> list[str]:
    """``count`` small live resources and their journal entries, written with Core inserts."""
    ids = []
    now = utcnow()
    for first in range(start, start + count, 2000):
        resources: list[dict[str, Any]] = []
        journal: list[dict[str, Any]] = []
        for n in range(first, min(first + 2000, start + count)):
            rid = f"bulk-{n:06d}"
            record = {"id": rid, "title": {"zh": f"课程 {n}"}, "description": {"zh": text}}
            digest = hashlib.sha256(json.dumps(record).encode()).hexdigest()
            resources.append(
                {
                    "id": rid,
                    "source_id": None,
                    "oai_identifier": f"oai:bulk:{n}",
                    "datestamp": "2026-01-01",
                    "metadata_prefix": "oai_dc",
                    "deleted": False,
                    "publishable": True,
                    "quality": 0.5,
                    "record": record,
                    "issues": [],
                    "raw_xml": None,
                    "raw_sha256": digest,
                    "content_hash": digest,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            journal.append(
                {"resource_id": rid, "op": "upsert", "content_hash": digest, "created_at": now}
            )
            ids.append(rid)
        with session_scope(engine) as session:
            session.execute(insert(Resource), resources)
            catalogue_repository.append_journal_entries(session, journal)
    return ids


def test_snapshot_holds_exactly_the_live_catalogue(api: TestClient, engine: Engine) -> None:
    a = store(engine, 1, "计算机科学导论")
    remove(engine, store(engine, 2, "数据结构"))
    store(engine, 3, "草稿", publishable=False)
    video = DigitalObjectRef(url="http://example.org/v.mp4", format="video/mp4")
    d = store(engine, 4, "机器学习", objects=[video])
    with session_scope(engine) as session:
        session.add(DigitalObject(resource_id=d, url=video.url, sha256="cd" * 32, size=9))
    store(engine, 1, "计算机科学导论（第二版）")

    response = api.get("/api/v1/snapshot")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    assert "content-encoding" not in response.headers, "a .ndjson.gz file, not a transfer coding"
    serial = int(response.headers["X-Coursefed-Serial"])
    assert serial == 6
    assert response.headers["content-disposition"] == (
        f'attachment; filename="coursefed-snapshot-{serial}.ndjson.gz"'
    )
    header, *resources = lines(response.content)
    assert header["serial"] == serial
    assert header["format"] == FORMAT
    assert datetime.fromisoformat(header["generated_at"]).tzinfo is not None
    live = current(engine)
    assert [line["id"] for line in resources] == sorted(live) == sorted([a, d])
    with session_scope(engine) as session:
        for line in resources:
            stored = session.get(Resource, line["id"])
            assert stored is not None
            assert line["record"] == stored.record == live[line["id"]]
            assert line["content_hash"] == stored.content_hash
    assert resources[0]["objects"] == []
    assert resources[1]["objects"][0]["sha256"] == "cd" * 32
    assert resources[1]["objects"][0]["size"] == 9


def test_empty_catalogue_snapshot_is_just_the_header(api: TestClient) -> None:
    response = api.get("/api/v1/snapshot")
    assert response.headers["X-Coursefed-Serial"] == "0"
    (header,) = lines(response.content)
    assert header["serial"] == 0


def test_write_snapshot_writes_the_same_stream_to_a_file(api: TestClient, engine: Engine) -> None:
    bulk_insert(engine, 0, BATCH_SIZE + 10)
    store(engine, 1, "线性代数")
    out = io.BytesIO()

    serial = write_snapshot(engine, out)

    from_file = lines(out.getvalue())
    from_http = lines(api.get("/api/v1/snapshot").content)
    assert serial == from_file[0]["serial"] == from_http[0]["serial"] == BATCH_SIZE + 11
    assert from_file[1:] == from_http[1:]
    assert len(from_file) == 1 + BATCH_SIZE + 11


def stream_and_measure(engine: Engine) -> tuple[int, int, int]:
    """(lines, uncompressed bytes, peak traced memory) of streaming one snapshot."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    newlines = size = 0
    tracemalloc.start()
    try:
        snapshot = Snapshot(engine)
        for chunk in snapshot.chunks():
            data = decompressor.decompress(chunk, 65536)  # bounded, not to count our own use
            while data:
                newlines += data.count(b"\n")
                size += len(data)
                data = decompressor.decompress(decompressor.unconsumed_tail, 65536)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return newlines, size, peak


def test_snapshot_streams_in_constant_memory(engine: Engine) -> None:
    text = "一门关于数据与算法的课程。" * 20
    bulk_insert(engine, 0, 2_000, text=text)
    small_lines, small_size, small_peak = stream_and_measure(engine)
    bulk_insert(engine, 2_000, 18_000, text=text)

    lines, size, peak = stream_and_measure(engine)

    assert (small_lines, lines) == (2_001, 20_001)
    assert size > 10 * small_size - small_size // 10 and size > 15_000_000
    assert peak < size / 5, f"peak {peak:,} bytes while streaming {size:,} bytes"
    assert peak < 1.25 * small_peak, f"peak {peak:,} grew from {small_peak:,} with the catalogue"


def test_change_committed_while_streaming_is_not_in_the_snapshot(
    api: TestClient, engine: Engine
) -> None:
    ids = bulk_insert(engine, 0, 3 * BATCH_SIZE)
    before = current(engine)
    late_update, late_delete = ids[-1], ids[-2]

    snapshot = Snapshot(engine)
    chunks = snapshot.chunks()
    taken = [next(chunks), next(chunks)]  # the header and the first batch
    with session_scope(engine) as session:  # another transaction commits meanwhile
        record = {"id": late_update, "title": {"zh": "改过的标题"}}
        session.execute(
            update(Resource)
            .where(col(Resource.id) == late_update)
            .values(record=record, content_hash="f" * 64)
        )
        session.execute(
            update(Resource).where(col(Resource.id) == late_delete).values(deleted=True)
        )
        catalogue_repository.append_journal_entries(
            session,
            [
                {"resource_id": late_update, "op": "upsert", "content_hash": "f" * 64},
                {"resource_id": late_delete, "op": "delete", "content_hash": None},
            ],
        )
    added = store(engine, 99, "新课程")
    taken.extend(chunks)

    header, *resources = lines(b"".join(taken))
    assert header["serial"] == snapshot.serial == 3 * BATCH_SIZE
    assert {line["id"]: line["record"] for line in resources} == before
    assert resources[-1]["content_hash"] != "f" * 64

    # A mirror loads the snapshot, then follows the feed from its serial: it ends up equal.
    mirror = {line["id"]: line["record"] for line in resources}
    body = api.get("/api/v1/changes", params={"since": header["serial"]}).json()
    assert [e["serial"] for e in body["entries"]] == [
        3 * BATCH_SIZE + 1,
        3 * BATCH_SIZE + 2,
        3 * BATCH_SIZE + 3,
    ]
    for entry in body["entries"]:
        if entry["record"] is None:
            mirror.pop(entry["id"], None)
        else:
            mirror[entry["id"]] = entry["record"]
    assert mirror == current(engine)
    assert added in mirror and late_delete not in mirror


def test_abandoned_stream_ends_its_transaction(engine: Engine) -> None:
    """A client that disconnects mid-download must not pin a connection (or a snapshot)."""
    bulk_insert(engine, 0, BATCH_SIZE + 1)
    snapshot = Snapshot(engine)
    chunks = snapshot.chunks()
    next(chunks)
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    chunks.close()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with Snapshot(engine) as unread:  # opened, never streamed
        assert unread.serial == BATCH_SIZE + 1
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]

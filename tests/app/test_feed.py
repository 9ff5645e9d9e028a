"""The change feed ``GET /api/v1/changes``, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject, JournalEntry, Resource
from app.catalogue.repository import set_cursor
from app.db import session_scope
from app.main import create_app
from app.mirror import repository
from app.settings import Settings
from metadata.profile import DigitalObjectRef, Issue, Provenance, ResourceRecord
from tests.app.records import stored

pytestmark = pytest.mark.postgres


def mirror_app(settings: Settings) -> FastAPI:
    """The app, whose mirror API these tests exercise."""
    return create_app(settings)


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(mirror_app(settings)) as client:
        yield client


def store(
    engine: Engine,
    n: int,
    title: str,
    *,
    publishable: bool = True,
    objects: list[DigitalObjectRef] | None = None,
) -> str:
    """Harvest-like upsert of record ``n`` (a new title is a new version); returns its id."""
    oai_id = f"oai:college:{n}"
    rid = catalogue.resource_id_for("college", oai_id)
    raw = f"<record n='{n}'>{title}</record>".encode()
    record = ResourceRecord(
        id=rid,
        title={"zh": title},
        objects=objects or [],
        provenance=Provenance(
            source="college",
            oai_identifier=oai_id,
            datestamp="2026-01-01T00:00:00Z",
            metadata_prefix="oai_dc",
            harvested_at=datetime.now(UTC),
            raw_sha256=hashlib.sha256(raw).hexdigest(),
        ),
    )
    issues = [] if publishable else [Issue(severity="error", code="no_title", message="x")]
    item = stored(record, raw, oai_id=oai_id, source_id=None, issues=issues)
    with session_scope(engine) as session:
        assert catalogue.upsert(session, item) is not catalogue.Outcome.UNCHANGED
    return rid


def remove(engine: Engine, rid: str) -> None:
    with session_scope(engine) as session:
        assert catalogue.delete(session, rid) is catalogue.Outcome.DELETED


def current(engine: Engine) -> dict[str, dict[str, Any]]:
    """id → record of every live, publishable resource, read straight from the table."""
    with session_scope(engine) as session:
        rows = session.exec(
            select(Resource).where(col(Resource.deleted).is_(False), col(Resource.publishable))
        ).all()
        return {row.id: row.record for row in rows}


def changes(api: TestClient, **params: Any) -> dict[str, Any]:
    response = api.get("/api/v1/changes", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["X-Coursefed-Serial"] == str(body["latest_serial"])
    return body


def test_entries_follow_the_journal_with_current_records(api: TestClient, engine: Engine) -> None:
    a = store(engine, 1, "计算机科学导论")
    b = store(engine, 2, "数据结构")
    c = store(engine, 3, "草稿", publishable=False)
    store(engine, 1, "计算机科学导论（第二版）")
    remove(engine, b)

    body = changes(api)

    entries = body["entries"]
    assert [(e["serial"], e["op"], e["id"]) for e in entries] == [
        (1, "upsert", a),
        (2, "upsert", b),
        (3, "upsert", c),
        (4, "upsert", a),
        (5, "delete", b),
    ]
    first, second = entries[0], entries[3]
    assert first["record"] == second["record"], "every entry carries the current record"
    assert first["record"]["title"] == {"zh": "计算机科学导论（第二版）"}
    assert first["content_hash"] == second["content_hash"] is not None
    assert entries[1]["record"] is None, "the upsert of a since deleted resource has no record"
    assert entries[2]["record"] is None, "an unpublishable resource is not mirrored"
    assert entries[4]["record"] is None and entries[4]["objects"] is None
    assert body["last_serial"] == body["latest_serial"] == 5
    assert body["more"] is False


def test_republished_resource_keeps_every_serial(api: TestClient, engine: Engine) -> None:
    rid = store(engine, 1, "大学物理")
    remove(engine, rid)
    store(engine, 1, "大学物理（重开）")

    entries = changes(api)["entries"]

    assert [(e["serial"], e["op"]) for e in entries] == [
        (1, "upsert"),
        (2, "delete"),
        (3, "upsert"),
    ]
    assert entries[0]["record"] == entries[2]["record"]
    assert entries[2]["record"]["title"] == {"zh": "大学物理（重开）"}
    assert entries[1]["record"] is None


def test_empty_journal_and_since_at_the_newest_serial(api: TestClient, engine: Engine) -> None:
    assert changes(api) == {"entries": [], "last_serial": 0, "latest_serial": 0, "more": False}
    store(engine, 1, "线性代数")
    store(engine, 2, "概率论")
    body = changes(api, since=2)
    assert body == {"entries": [], "last_serial": 2, "latest_serial": 2, "more": False}


def test_limit_pages_and_more(api: TestClient, engine: Engine) -> None:
    for n in range(5):
        store(engine, n, f"课程 {n}")
    body = changes(api, limit=2)
    assert [e["serial"] for e in body["entries"]] == [1, 2]
    assert (body["last_serial"], body["latest_serial"], body["more"]) == (2, 5, True)
    body = changes(api, since=3, limit=2)
    assert [e["serial"] for e in body["entries"]] == [4, 5]
    assert body["more"] is False, "a page that ends exactly at the newest serial has no more"


def test_paging_to_the_end_reproduces_the_live_catalogue(api: TestClient, engine: Engine) -> None:
    ids = [store(engine, n, f"课程 {n}") for n in range(30)]
    for n in range(0, 30, 4):
        store(engine, n, f"课程 {n}（修订）")
    for n in range(1, 30, 5):
        remove(engine, ids[n])
    store(engine, 6, "课程 6（重开）")
    store(engine, 40, "未通过校验", publishable=False)
    with session_scope(engine) as session:
        journal = [e.serial for e in session.exec(select(JournalEntry)) if e.serial is not None]

    mirror: dict[str, dict[str, Any]] = {}
    seen: list[int] = []
    since, pages = 0, 0
    while True:
        body = changes(api, since=since, limit=7)
        pages += 1
        for entry in body["entries"]:
            seen.append(entry["serial"])
            if entry["record"] is None:
                mirror.pop(entry["id"], None)
            else:
                mirror[entry["id"]] = entry["record"]
        assert body["last_serial"] >= since
        since = body["last_serial"]
        if not body["more"]:
            break

    assert seen == sorted(journal), "every serial, in order, exactly once"
    assert since == len(journal)
    assert pages == -(-len(journal) // 7)
    assert mirror == current(engine)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 5001}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"since": -1}, "since"),
        ({"since": "abc"}, "since"),
        ({"since": "1.5"}, "since"),
        ({"from": 3}, "from"),
    ],
)
def test_bad_parameters_are_named(api: TestClient, params: dict[str, Any], parameter: str) -> None:
    response = api.get("/api/v1/changes", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_parameter"
    assert [problem["parameter"] for problem in body["detail"]] == [parameter]


def test_limit_bounds_are_accepted(api: TestClient, engine: Engine) -> None:
    store(engine, 1, "编译原理")
    assert len(changes(api, limit=1)["entries"]) == 1
    assert len(changes(api, limit=5000)["entries"]) == 1


def test_since_ahead_of_the_journal_is_rejected(api: TestClient, engine: Engine) -> None:
    """A mirror ahead of us follows another (or a restored) database: it must resync."""
    store(engine, 1, "操作系统")
    response = api.get("/api/v1/changes", params={"since": 2})
    assert response.status_code == 422
    assert response.json()["detail"][0]["parameter"] == "since"


def test_compacted_journal_sends_the_mirror_to_the_snapshot(
    api: TestClient, engine: Engine
) -> None:
    for n in range(5):
        store(engine, n, f"课程 {n}")
    with session_scope(engine) as session:
        assert repository.journal_floor(session) == 0
        # What compaction does: drop the oldest entries and record the floor.
        session.execute(delete(JournalEntry).where(col(JournalEntry.serial) <= 3))
        set_cursor(session, repository.JOURNAL_FLOOR, 3)
    with session_scope(engine) as session:
        assert repository.journal_floor(session) == 3

    for since in (0, 2):
        response = api.get("/api/v1/changes", params={"since": since})
        assert response.status_code == 410
        body = response.json()
        assert body["error"] == "gone"
        assert body["detail"]["snapshot"] == "/api/v1/snapshot"
        assert body["detail"]["journal_floor"] == 3
    body = changes(api, since=3)
    assert [e["serial"] for e in body["entries"]] == [4, 5]


def test_records_carry_a_manifest_of_their_objects(api: TestClient, engine: Engine) -> None:
    video = DigitalObjectRef(url="http://example.org/v.mp4", format="video/mp4", size=1000)
    slides = DigitalObjectRef(url="http://example.org/s.pdf", name="slides.pdf")
    rid = store(engine, 1, "机器学习", objects=[video, slides])
    with session_scope(engine) as session:
        session.add(
            DigitalObject(
                resource_id=rid,
                url=video.url,
                sha256="ab" * 32,
                size=1024,
                media_type="video/mp4",
                status="stored",
            )
        )
        session.add(DigitalObject(resource_id=rid, url=slides.url))  # not fetched yet

    (entry,) = changes(api)["entries"]

    assert [o["url"] for o in entry["record"]["objects"]] == [video.url, slides.url]
    assert entry["objects"] == [
        {
            "url": video.url,
            "name": None,
            "format": "video/mp4",
            "declared_size": 1000,
            "sha256": "ab" * 32,
            "size": 1024,
            "media_type": "video/mp4",
        },
        {
            "url": slides.url,
            "name": "slides.pdf",
            "format": None,
            "declared_size": None,
            "sha256": None,
            "size": None,
            "media_type": None,
        },
    ]


def test_openapi_documents_the_mirror_api(settings: Settings) -> None:
    spec = mirror_app(settings).openapi()
    changes_op = spec["paths"]["/api/v1/changes"]["get"]
    assert {p["name"] for p in changes_op["parameters"]} == {"since", "limit"}
    assert {"200", "410", "422"} <= set(changes_op["responses"])
    snapshot_op = spec["paths"]["/api/v1/snapshot"]["get"]
    assert "application/gzip" in snapshot_op["responses"]["200"]["content"]

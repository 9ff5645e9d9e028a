"""Ranking by meaning: a course is found by its code, and a title match comes before a match
in a teacher's name or a description, in real Meilisearch."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.catalogue import service as catalogue
from app.db import session_scope
from app.jobs import sync_search
from app.main import create_app
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import Contributor, Provenance, ResourceRecord
from tests.app.records import stored

pytestmark = [pytest.mark.services]


def _course(n: int, title: str, **fields: object) -> tuple[str, ResourceRecord, bytes]:
    oai_id = f"oai:college:{n}"
    raw = f"<record>{n}</record>".encode()
    record = ResourceRecord(
        id=catalogue.resource_id_for("college", oai_id),
        title={"zh": title},
        languages=["zh"],
        provenance=Provenance(
            source="college",
            oai_identifier=oai_id,
            datestamp="2026-01-01T00:00:00Z",
            metadata_prefix="oai_dc",
            harvested_at=datetime.now(UTC),
            raw_sha256=hashlib.sha256(raw).hexdigest(),
        ),
        **fields,  # type: ignore[arg-type]
    )
    return oai_id, record, raw


COURSES = [
    _course(0, "数据库系统原理", contributors=[Contributor(role="author", name="何明远")]),
    _course(1, "机械制图", description={"zh": "制图规范与明远楼的测绘实践。"}),
    _course(2, "明远书院导读", course_code="JLU0701588"),
    _course(3, "工程力学", course_code="XHIT0809187"),
]


@pytest.fixture
def client(live_engine: Engine, live: Settings) -> Iterator[TestClient]:
    with session_scope(live_engine) as session:
        source_id = sources.add_source(
            session, slug="college", base_url="http://example.org/oai"
        ).id
    for oai_id, record, raw in COURSES:
        with session_scope(live_engine) as session:
            catalogue.upsert(session, stored(record, raw, oai_id=oai_id, source_id=source_id))
    sync_search(live_engine, live)
    with TestClient(create_app(live)) as client:
        yield client


def _titles(client: TestClient, q: str) -> list[str]:
    response = client.get("/api/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["hits"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_course_is_found_by_its_code_in_either_case(client: TestClient) -> None:
    assert _titles(client, "XHIT0809187")[:1] == ["工程力学"]
    assert _titles(client, "jlu0701588")[:1] == ["明远书院导读"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_title_match_comes_before_a_description_and_a_teachers_name(
    client: TestClient,
) -> None:
    assert _titles(client, "明远") == ["明远书院导读", "机械制图", "数据库系统原理"]

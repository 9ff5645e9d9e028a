"""The thin slice end to end: demo repository over HTTP → harvest → store → index → search."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue.models import Resource
from app.db import session_scope
from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.server import DemoRepositoryServer
from app.jobs import run_harvest
from app.main import create_app
from app.search.gateway import SearchIndex
from app.settings import Settings
from app.sources import service as sources
from app.sources.harvest import from_argument, harvest
from harvesters.oai.dates import SECONDS

pytestmark = pytest.mark.services

CORPUS_SIZE = 300


@pytest.fixture(scope="module")
def corpus() -> list[DemoRecord]:
    return generate_corpus(CORPUS_SIZE)


@pytest.fixture
def repository(corpus: list[DemoRecord]) -> Iterator[str]:
    with DemoRepositoryServer(corpus, page_size=50) as server:
        yield server.base_url


def _register(engine: Engine, base_url: str) -> int:
    with session_scope(engine) as session:
        source = sources.add_source(
            session, slug="demo", base_url=base_url, allow_private_network=True
        )
        assert source.id is not None
        return source.id


def test_harvest_index_and_search_the_demo_repository(
    client: TestClient,
    live_engine: Engine,
    live: Settings,
    repository: str,
    corpus: list[DemoRecord],
) -> None:
    source_id = _register(live_engine, repository)
    run = run_harvest(live_engine, live, source_id)
    live_records = [r for r in corpus if not r.deleted]
    assert run.status == "succeeded", run.error
    assert run.records_seen == CORPUS_SIZE
    assert run.records_added == len(live_records)
    assert run.metadata_prefix == "lom", "the richest format offered is chosen"
    assert run.pages == CORPUS_SIZE // 50

    with session_scope(live_engine) as session:
        stored = session.exec(select(Resource)).all()
        assert len(stored) == len(live_records)
        sample = next(r for r in stored if r.record["title"].get("zh") == "计算机科学导论")
        assert sample.raw_xml is not None and b"http://ltsc.ieee.org/xsd/LOM" in sample.raw_xml
        assert sample.record["provenance"]["oai_identifier"].startswith("oai:")
        assert sample.metadata_prefix == "lom"
        assert sample.record["education_level"] == "undergraduate"
        assert "0812" in [s["code"] for s in sample.record["subjects"]]

    with SearchIndex.from_settings(live) as index:
        assert index.document_count(live.meili_index) == len(live_records)

    zh = client.get("/api/v1/search", params={"q": "计算机"}).json()
    assert zh["total"] > 0
    assert "计算机科学导论" in [hit["title"] for hit in zh["hits"]]
    en = client.get("/api/v1/search", params={"q": "data"}).json()
    assert en["total"] > 0
    assert any("data" in hit["title"].lower() for hit in en["hits"])

    hit = zh["hits"][0]
    detail = client.get(hit["api_url"])
    assert detail.status_code == 200
    assert detail.json()["id"] == hit["id"]
    raw = client.get(f"{hit['api_url']}/raw")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/xml")
    assert raw.content.lstrip().startswith(b"<")


def test_second_harvest_is_incremental_and_changes_nothing(
    live_engine: Engine, live: Settings, repository: str
) -> None:
    source_id = _register(live_engine, repository)
    first = run_harvest(live_engine, live, source_id)
    assert first.status == "succeeded"
    second = asyncio.run(harvest(live_engine, source_id))
    assert second.status == "succeeded"
    # The high-water mark is the first run's responseDate, minus the overlap window.
    assert first.response_date is not None
    assert second.from_date == from_argument(
        first.response_date, SECONDS, live.harvest_overlap_seconds
    )
    assert second.records_added == second.records_updated == 0
    full = asyncio.run(harvest(live_engine, source_id, full=True))
    assert full.records_seen == CORPUS_SIZE
    assert full.records_added == full.records_updated == 0
    live_count = len([r for r in generate_corpus(CORPUS_SIZE) if not r.deleted])
    assert full.records_unchanged == live_count, "same raw bytes: no journal entry, no index work"
    assert full.records_deleted == 0, "tombstones are not deleted twice"


def test_serve_harvests_due_sources_in_the_background(
    live_engine: Engine, live: Settings, repository: str
) -> None:
    _register(live_engine, repository)
    settings = live.model_copy(update={"scheduler": True, "scheduler_interval": 0.2})
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 60
        while client.get("/api/v1/search", params={"q": "计算机"}).json()["total"] == 0:
            assert time.monotonic() < deadline, "the scheduler never harvested the due source"
            time.sleep(0.2)
    with session_scope(live_engine) as session:
        source = sources.get_by_slug(session, "demo")
        assert source is not None and source.next_harvest_at is not None
        run = sources.last_run(session, source.id or 0)
        assert run is not None and run.status == "succeeded"
        assert source.next_harvest_at > run.started_at, "the next harvest is scheduled"

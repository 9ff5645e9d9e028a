"""The database is the truth: Meilisearch outages and full rebuilds lose nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue import repository
from app.catalogue.models import Resource
from app.db import session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.jobs import rebuild_search, run_harvest, sync_search
from app.main import create_app
from app.search.gateway import SearchError, SearchIndex, TaskInfo
from app.search.indexer import CURSOR, forget_index, index_lag, sync_index
from app.services.manager import services_down, services_up
from app.settings import Settings
from app.sources import service as sources
from tests.app.oai_faults import FaultyRepository
from tests.services_plugin import free_port

pytestmark = pytest.mark.services


def _expected(engine: Engine) -> dict[str, str]:
    """id → content hash of every searchable resource, from the database."""
    with session_scope(engine) as session:
        rows = session.exec(select(Resource)).all()
        return {r.id: r.content_hash for r in rows if not r.deleted and r.publishable}


def _indexed(settings: Settings) -> dict[str, str]:
    with SearchIndex.from_settings(settings) as index:
        documents = index.iter_documents(settings.meili_index, ["id", "content_hash"])
        return {d["id"]: d["content_hash"] for d in documents}


def test_meilisearch_stopped_during_harvest_catches_up_exactly(
    live: Settings, live_engine: Engine, tmp_path: Path
) -> None:
    own = live.model_copy(
        update={"meili_url": None, "meili_port": free_port(), "data_dir": tmp_path / "own"}
    )
    services_up(own)
    try:
        corpus = generate_corpus(400)
        later = [r.identifier for r in corpus[200:]]
        repository = FaultyRepository(corpus, page_size=50, hidden=later)
        with DemoRepositoryServer(repository) as server:
            with session_scope(live_engine) as session:
                source_id = sources.add_source(
                    session, base_url=server.base_url, slug="demo", allow_private_network=True
                ).id
            assert source_id is not None
            assert run_harvest(live_engine, own, source_id).status == "succeeded"
            assert _indexed(own) == _expected(live_engine)

            services_down(own)  # Meilisearch goes away; harvesting goes on
            repository.reveal_all()
            run = run_harvest(live_engine, own, source_id, full=True)
            assert run.status == "succeeded"
            assert run.records_added > 0, "records keep being stored"
            assert index_lag(live_engine) > 0
            with TestClient(create_app(own)) as client:
                ready = client.get("/readyz")
                assert ready.status_code == 503
                assert ready.json()["index_lag"] > 0

        services_up(own)
        sync_search(live_engine, own)
        assert index_lag(live_engine) == 0
        assert _indexed(own) == _expected(live_engine), "ids and content hashes equal the DB"
    finally:
        services_down(own)


def _harvest_demo(live: Settings, live_engine: Engine) -> None:
    """300 demo courses harvested from a source of their own, and indexed."""
    with DemoRepositoryServer(generate_corpus(300)) as server:
        with session_scope(live_engine) as session:
            source_id = sources.add_source(
                session, base_url=server.base_url, slug="demo", allow_private_network=True
            ).id
        assert source_id is not None
        assert run_harvest(live_engine, live, source_id).status == "succeeded"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_reindex_swaps_in_a_rebuilt_index_while_search_keeps_answering(
    live: Settings, live_engine: Engine, client: TestClient
) -> None:
    _harvest_demo(live, live_engine)
    before = client.get("/api/v1/search", params={"q": "计算机"}).json()["total"]
    assert before > 0
    failures: list[int] = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            response = client.get("/api/v1/search", params={"q": "计算机"})
            if response.status_code != 200 or response.json()["total"] != before:
                failures.append(response.status_code)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        count = rebuild_search(live_engine, live)
    finally:
        stop.set()
        searcher.join()
    assert failures == [], "search answered the same throughout the rebuild"
    assert count == len(_expected(live_engine))
    assert _indexed(live) == _expected(live_engine)
    with SearchIndex.from_settings(live) as index:
        leftovers = [uid for uid in index.index_uids() if uid.startswith(f"{live.meili_index}-")]
    assert leftovers == [], "the staging index is gone after the swap"


class _FailingOnce(SearchIndex):
    """A real index whose ``nth`` batch of documents Meilisearch refuses (a bad id)."""

    def __init__(self, settings: Settings, nth: int) -> None:
        index = SearchIndex.from_settings(settings)
        super().__init__(index.url, settings.meili_key.get_secret_value())
        self.nth, self.batches = nth, 0

    def add_documents(self, uid: str, documents: list[dict[str, object]]) -> TaskInfo:
        self.batches += 1
        if self.batches == self.nth:
            documents = [*documents, {"id": "not a valid id!"}]
        return super().add_documents(uid, documents)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failed_batch_among_batches_sent_ahead_keeps_the_cursor_before_it(
    live: Settings, live_engine: Engine
) -> None:
    """Batches are sent without waiting for each; when one fails, the cursor stays after
    the last one that succeeded, and the next sync applies the rest."""
    _harvest_demo(live, live_engine)
    forget_index(live_engine)
    with SearchIndex.from_settings(live) as index:
        index.delete_index(live.meili_index)
    failing = _FailingOnce(live, nth=3)
    with pytest.raises(SearchError):
        sync_index(live_engine, failing, live.meili_index, batch_size=50)
    with session_scope(live_engine) as session:
        cursor = repository.get_cursor(session, CURSOR)
        serials = [e.serial for e in repository.journal_since(session, 0, 100)]
    assert cursor == serials[99], "two batches of 50 entries were confirmed, not the third"
    assert failing.batches > 3, "later batches had been sent ahead"
    sync_search(live_engine, live)
    assert index_lag(live_engine) == 0
    assert _indexed(live) == _expected(live_engine)

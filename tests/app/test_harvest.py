"""The harvest engine against repositories that misbehave the way real ones do."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue.models import JournalEntry, Resource
from app.db import session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.settings import Settings
from app.sources import service as sources
from app.sources.harvest import (
    HarvestOptions,
    SourceBusy,
    choose_format,
    claim,
    from_argument,
    harvest,
    release,
)
from app.sources.models import FailedRecord, HarvestRun, Source
from app.sources.reconcile import reconcile
from tests.app.oai_faults import FaultyRepository
from tests.conftest import CommandLine

FAST = HarvestOptions(overlap_seconds=300, timeout=10, max_retries=1, backoff_base=0.01)
CORPUS = generate_corpus(200)
LIVE = [r for r in CORPUS if not r.deleted]


@pytest.fixture
def serve() -> Iterator[object]:
    servers: list[DemoRepositoryServer] = []

    def start(repository: FaultyRepository) -> str:
        server = DemoRepositoryServer(repository)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


def _source(engine: Engine, base_url: str, prefix: str | None = None, slug: str = "college") -> int:
    with session_scope(engine) as session:
        source = sources.add_source(
            session,
            base_url=base_url,
            slug=slug,
            metadata_prefix=prefix,
            allow_private_network=True,  # the test servers listen on loopback
        )
        assert source.id is not None
        return source.id


def _harvest(engine: Engine, source_id: int, **kwargs: object) -> HarvestRun:
    return asyncio.run(harvest(engine, source_id, options=FAST, **kwargs))  # type: ignore[arg-type]


def _live_ids(engine: Engine) -> set[str]:
    with session_scope(engine) as session:
        rows = session.exec(select(Resource).where(Resource.deleted == False)).all()  # noqa: E712
        return {row.oai_identifier for row in rows}


def test_richest_format_is_chosen_unless_pinned(engine: Engine, serve: object) -> None:
    url = serve(FaultyRepository(CORPUS))  # type: ignore[operator]
    run = _harvest(engine, _source(engine, url))
    assert (run.status, run.metadata_prefix) == ("succeeded", "lom")
    assert any(event["kind"] == "format" for event in run.events)
    pinned = _harvest(engine, _source(engine, url, prefix="oai_dc", slug="pinned"))
    assert (pinned.status, pinned.metadata_prefix) == ("succeeded", "oai_dc")


def test_format_preference_order() -> None:
    offered = [("oai_dc", ""), ("nsdl_dc", ""), ("marc21", "")]
    assert choose_format(offered) == "nsdl_dc"
    assert choose_format([*offered, ("oai_lom", "")]) == "oai_lom"
    assert choose_format([("x_lom", "http://ltsc.ieee.org/xsd/LOM")]) == "x_lom"
    assert choose_format([("marc21", "")]) is None


def test_no_format_we_can_normalise_fails_clearly(engine: Engine, serve: object) -> None:
    url = serve(FaultyRepository(CORPUS, formats=[]))  # type: ignore[operator]
    run = _harvest(engine, _source(engine, url))
    assert run.status == "failed"
    assert run.error is not None and "no metadata format we can normalise" in run.error


def test_day_granularity_source_gets_day_dates(engine: Engine, serve: object) -> None:
    repository = FaultyRepository(CORPUS, day_granularity=True)
    url = serve(repository)  # type: ignore[operator]
    source_id = _source(engine, url)
    first = _harvest(engine, source_id)
    assert first.status == "succeeded", first.error
    second = _harvest(engine, source_id)
    assert second.status == "succeeded", second.error
    assert second.from_date is not None and "T" not in second.from_date
    assert repository.bad_arguments == 0, "seconds were never sent to a day-granularity source"
    with session_scope(engine) as session:
        assert session.get(Source, source_id).granularity == "YYYY-MM-DD"  # type: ignore[union-attr]


def test_overlap_window_in_each_granularity() -> None:
    assert from_argument("2026-03-01T00:02:00Z", "YYYY-MM-DDThh:mm:ssZ", 300) == (
        "2026-02-28T23:57:00Z"
    )
    assert from_argument("2026-03-01T00:02:00Z", "YYYY-MM-DD", 300) == "2026-02-28"
    assert from_argument("2026-03-01", "YYYY-MM-DD", 0) == "2026-03-01"


def test_expired_token_restarts_from_last_datestamp_not_from_zero(
    engine: Engine, serve: object
) -> None:
    repository = FaultyRepository(CORPUS, page_size=40, expire_token_at=2)
    url = serve(repository)  # type: ignore[operator]
    run = _harvest(engine, _source(engine, url))
    assert run.status == "succeeded", run.error
    restart = [e for e in run.events if e["kind"] == "restart"]
    assert len(restart) == 1 and "BadResumptionToken" in restart[0]["detail"]
    assert _live_ids(engine) == {r.identifier for r in LIVE}
    # 200 records in pages of 40: 5 pages; the restart asks from page 2's newest record,
    # so far fewer than 5 further pages are needed.
    assert run.records_seen < 2 * len(CORPUS)


def test_one_broken_record_is_kept_as_failed_while_siblings_are_stored(
    engine: Engine, serve: object
) -> None:
    broken = LIVE[3].identifier
    url = serve(FaultyRepository(CORPUS, broken=[broken]))  # type: ignore[operator]
    run = _harvest(engine, _source(engine, url, prefix="oai_dc"))
    assert run.status == "partial", "a run with failed records is not plain success"
    assert run.records_failed == 1
    assert _live_ids(engine) == {r.identifier for r in LIVE} - {broken}
    with session_scope(engine) as session:
        failed = session.exec(select(FailedRecord)).one()
        assert failed.identifier == broken
        assert failed.raw is not None and b"&bogus;" in failed.raw
        assert failed.run_id == run.id


def test_deleted_headers_tombstone_resources(engine: Engine, serve: object) -> None:
    url = serve(FaultyRepository(CORPUS))  # type: ignore[operator]
    source_id = _source(engine, url, prefix="oai_dc")
    _harvest(engine, source_id)
    deleted = [r for r in CORPUS if r.deleted]
    assert deleted, "the demo corpus has deleted records"
    with session_scope(engine) as session:
        ids = {row.oai_identifier for row in session.exec(select(Resource)).all()}
    assert not ids & {r.identifier for r in deleted}, "never-seen deletions create nothing"


def test_reconciliation_tombstones_vanished_records_with_a_guard(
    engine: Engine, serve: object
) -> None:
    repository = FaultyRepository(CORPUS, deleted_record="no")
    url = serve(repository)  # type: ignore[operator]
    source_id = _source(engine, url, prefix="oai_dc")
    assert _harvest(engine, source_id).status == "succeeded"
    gone = [r.identifier for r in LIVE[:5]]
    repository.hide(gone)
    run = asyncio.run(reconcile(engine, source_id, max_share=0.2, options=FAST))
    assert (run.status, run.records_deleted) == ("succeeded", 5)
    assert _live_ids(engine) == {r.identifier for r in LIVE} - set(gone)

    repository.hide([r.identifier for r in LIVE])  # a broken endpoint that lists nothing
    refused = asyncio.run(reconcile(engine, source_id, max_share=0.2, options=FAST))
    assert refused.status == "failed"
    assert refused.error is not None and "without --force" in refused.error
    assert len(_live_ids(engine)) == len(LIVE) - 5, "nothing was deleted"
    forced = asyncio.run(reconcile(engine, source_id, max_share=0.2, force=True, options=FAST))
    assert forced.records_deleted == len(LIVE) - 5


def test_a_source_is_never_harvested_by_two_workers(engine: Engine, serve: object) -> None:
    url = serve(FaultyRepository(CORPUS))  # type: ignore[operator]
    source_id = _source(engine, url)
    assert claim(engine, source_id, "other-host:1", 600)
    with pytest.raises(SourceBusy):
        _harvest(engine, source_id)
    assert not claim(engine, source_id, "third-host:2", 600)
    release(engine, source_id, "other-host:1")
    assert _harvest(engine, source_id).status == "succeeded"


def test_a_worker_that_read_a_source_as_due_does_not_harvest_it_again_at_once(
    engine: Engine, serve: object
) -> None:
    """Two workers read the due sources; the first harvests one and lets it go: the second,
    claiming it a moment later, finds it no longer due and leaves it."""
    url = serve(FaultyRepository(CORPUS))  # type: ignore[operator]
    source_id = _source(engine, url)
    assert _harvest(engine, source_id, scheduled=True).status == "succeeded"
    with pytest.raises(SourceBusy):
        _harvest(engine, source_id, scheduled=True)
    with session_scope(engine) as session:
        runs = session.exec(select(HarvestRun).where(HarvestRun.source_id == source_id)).all()
        source = session.get(Source, source_id)
    assert len(runs) == 1
    assert source is not None and source.lease_owner is None
    # Asked for by name (``coursefed harvest``), the source is harvested whenever it is.
    assert _harvest(engine, source_id).status == "succeeded"


def test_a_lease_held_by_a_dead_process_on_this_host_is_taken_over(
    engine: Engine, serve: object
) -> None:
    url = serve(FaultyRepository(CORPUS))  # type: ignore[operator]
    source_id = _source(engine, url)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket  # noqa: PLC0415

    assert claim(engine, source_id, f"{socket.gethostname()}:{dead.pid}", 600)
    assert _harvest(engine, source_id).status == "succeeded"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_harvest_killed_mid_list_resumes_and_stores_every_record_once(
    settings: Settings, engine: Engine, serve: object, coursefed: CommandLine
) -> None:
    corpus = generate_corpus(300)
    repository = FaultyRepository(corpus, page_size=20, delay=0.15)  # the kill lands mid-list
    url = serve(repository)  # type: ignore[operator]
    _source(engine, url, prefix="oai_dc")
    env = {
        "COURSEFED_DATA_DIR": str(settings.data_dir),
        "COURSEFED_DATABASE_URL": settings.resolved_database_url,
        "COURSEFED_MEILI_URL": "http://127.0.0.1:9",
        "COURSEFED_HARVEST_MAX_RETRIES": "1",
        "COURSEFED_HARVEST_BACKOFF_BASE": "0.01",
    }
    child = subprocess.Popen(  # a process of its own, to be killed
        [str(Path(sys.executable).with_name("coursefed")), "harvest", "college"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        with session_scope(engine) as session:
            run = session.exec(select(HarvestRun)).first()
            pages = run.pages if run else 0
        if pages >= 3:
            break
        assert time.monotonic() < deadline, "the harvest made no progress"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    with session_scope(engine) as session:
        killed = session.exec(select(HarvestRun)).one()
        assert killed.status == "running" and killed.resumption_token, "stopped mid-list"
    repository.delay = 0

    resumed = coursefed("harvest", "college", env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resumed 1 time(s) from a checkpoint" in resumed.stdout
    with session_scope(engine) as session:
        runs = session.exec(select(HarvestRun)).all()
        assert len(runs) == 1, "the killed run was resumed, not replaced"
        assert runs[0].status == "succeeded"
        journal = Counter(e.resource_id for e in session.exec(select(JournalEntry)).all())
    live = {r.identifier for r in corpus if not r.deleted}
    assert _live_ids(engine) == live
    assert len(journal) == len(live)
    assert set(journal.values()) == {1}, "every record was stored exactly once"

"""Isolation of background work: a stuck or endless source delays nothing else.

The sources are hostile servers (``tests.hostile``) on loopback addresses of their own
(127.0.0.2, 127.0.0.3, …): each stands for another college's host, as requests to one
host are limited by politeness on purpose.  They are registered with
``allow_private_network``, as an operator registers a repository on a private network.
Deadlines in these tests bound a wait; they assert nothing about speed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.clock import utcnow
from app.db import session_scope
from app.demo.corpus import generate_corpus
from app.jobs import Scheduler, run_due, sync_search
from app.main import create_app
from app.settings import Settings
from app.sources import registration
from app.sources import service as sources
from app.sources.harvest import harvest
from app.sources.models import HarvestRun, Source
from tests.app.environment import env_of
from tests.hostile import HostileProvider
from tests.services_plugin import free_port, serving

COURSEFED = str(Path(sys.executable).with_name("coursefed"))
NORMAL_COUNT = 30
LIVE_NORMAL = len([r for r in generate_corpus(NORMAL_COUNT) if not r.deleted])
WAIT = 60.0


def wait_for(predicate: Callable[[], Any], what: str, seconds: float = WAIT) -> Any:
    """Poll until ``predicate`` is true; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(0.1)
    return result


def register(engine: Engine, url: str, slug: str) -> int:
    source = asyncio.run(
        registration.register(
            engine, Settings(), base_url=url, slug=slug, allow_private_network=True
        )
    )
    assert source.id is not None
    return source.id


def last_run(engine: Engine, source_id: int) -> HarvestRun | None:
    with session_scope(engine) as session:
        return sources.last_run(session, source_id)


def status(engine: Engine, source_id: int) -> str | None:
    run = last_run(engine, source_id)
    return run.status if run is not None else None


def leases(engine: Engine) -> dict[str, str | None]:
    with session_scope(engine) as session:
        return {s.slug: s.lease_owner for s in session.exec(select(Source)).all()}


@pytest.fixture
def trickle() -> Iterator[HostileProvider]:
    with HostileProvider("trickle", host="127.0.0.2", interval=1.0) as provider:
        yield provider


@pytest.fixture
def endless() -> Iterator[HostileProvider]:
    with HostileProvider("endless", host="127.0.0.3", page_size=10, page_delay=0.05) as provider:
        yield provider


@pytest.fixture
def normal() -> Iterator[HostileProvider]:
    with HostileProvider("normal", host="127.0.0.4", count=NORMAL_COUNT) as provider:
        yield provider


def quick(settings: Settings, **overrides: Any) -> Settings:
    """The scheduler's cadence shortened for a test; harvest limits left at their defaults."""
    values: dict[str, Any] = {
        "scheduler": True,
        "scheduler_interval": 0.2,
        "index_interval": 0.2,
        "objects_fetch": False,
        **overrides,
    }
    return settings.model_copy(update=values)


# --- the scheduler itself (no search engine needed) ------------------------------------------


def test_a_source_registered_after_a_trickling_and_an_endless_one_is_harvested(
    settings: Settings,
    engine: Engine,
    trickle: HostileProvider,
    endless: HostileProvider,
    normal: HostileProvider,
) -> None:
    trickling = register(engine, trickle.base_url, "trickle")
    unending = register(engine, endless.base_url, "endless")
    scheduler = Scheduler(engine, quick(settings))
    scheduler.start()
    try:
        wait_for(lambda: trickle.count("ListRecords"), "the trickling source's harvest started")
        wait_for(lambda: endless.count("ListRecords") > 3, "the endless source is being harvested")
        later = register(engine, normal.base_url, "normal")
        run = wait_for(
            lambda: status(engine, later) == "succeeded" and last_run(engine, later),
            "the source registered later was harvested",
        )
        assert run.records_seen == NORMAL_COUNT
        assert status(engine, trickling) == status(engine, unending) == "running"
        # The later harvest's thread ends just after its run is marked: wait for it.
        wait_for(
            lambda: scheduler.harvesting == sorted([trickling, unending]),
            "only the trickling and the endless harvests still running",
        )
        assert trickle.count("ListRecords") == 1, "one harvest per source, never two at once"
    finally:
        left = scheduler.stop()
    assert left == [], "every thread ended within the stop deadline"
    assert leases(engine) == {"trickle": None, "endless": None, "normal": None}
    # A stopped harvest leaves its run open with its checkpoint: the next one resumes it.
    assert status(engine, unending) == "running"
    pages_before = last_run(engine, unending).pages  # type: ignore[union-attr]
    assert pages_before > 0


def test_harvests_are_bounded_and_a_waiting_source_starts_when_a_slot_frees(
    settings: Settings, engine: Engine, normal: HostileProvider
) -> None:
    with (
        HostileProvider("stall", host="127.0.0.2") as first,
        HostileProvider("stall", host="127.0.0.3") as second,
    ):
        register(engine, first.base_url, "first")
        register(engine, second.base_url, "second")
        waiting = register(engine, normal.base_url, "waiting")
        # No retries: the stopped server's harvest fails at once and frees its slot.
        scheduler = Scheduler(engine, quick(settings, harvest_concurrency=2, harvest_max_retries=0))
        scheduler.start()
        try:
            wait_for(
                lambda: first.count("ListRecords") and second.count("ListRecords"),
                "both stalling sources are being harvested",
            )
            time.sleep(1.0)  # several dispatcher rounds pass
            assert normal.count("ListRecords") == 0, "no third harvest beyond the limit"
            assert len(scheduler.harvesting) == 2
            first.stop()  # the stalled connection breaks: that harvest fails and ends
            wait_for(
                lambda: status(engine, waiting) == "succeeded",
                "the waiting source was harvested once a slot was free",
            )
        finally:
            assert scheduler.stop() == []


def test_a_source_another_process_harvests_is_not_asked_again_at_once(
    settings: Settings,
    engine: Engine,
    normal: HostileProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source_id = register(engine, normal.base_url, "elsewhere")
    with session_scope(engine) as session:  # a worker on another host holds the source
        source = session.get(Source, source_id)
        assert source is not None
        source.lease_owner, source.lease_until = "other-host:1", utcnow() + timedelta(hours=1)
        session.add(source)
    caplog.set_level(logging.DEBUG, logger="app.jobs")
    # A long interval: after its first try, the source must wait for the next round.
    scheduler = Scheduler(engine, quick(settings, scheduler_interval=3600))
    scheduler.start()
    try:
        wait_for(lambda: _busy_notes(caplog), "the scheduler found the source busy")
        time.sleep(0.5)  # a harvest slot freed at once: a busy loop would try again and again
        assert _busy_notes(caplog) == 1
        assert normal.count("ListRecords") == 0
    finally:
        assert scheduler.stop() == []


def _busy_notes(caplog: pytest.LogCaptureFixture) -> int:
    return sum("harvested by another worker" in r.getMessage() for r in caplog.records)


def test_worker_once_harvests_due_sources_side_by_side(
    settings: Settings, engine: Engine, normal: HostileProvider
) -> None:
    with HostileProvider("normal", host="127.0.0.5", count=12, page_size=5) as other:
        ids = [register(engine, normal.base_url, "one"), register(engine, other.base_url, "two")]
        runs = run_due(engine, quick(settings))
    assert sorted(run.source_id for run in runs) == sorted(ids)
    assert {run.status for run in runs} == {"succeeded"}
    with session_scope(engine) as session:
        assert sources.due_sources(session) == [], "each source's next harvest is scheduled"


# --- in `serve`, with the real search engine --------------------------------------------------


def admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}


def register_over_api(http: httpx.Client, settings: Settings, url: str, slug: str) -> int:
    body = {"base_url": url, "slug": slug, "allow_private_network": True}
    response = http.post("/api/v1/sources", json=body, headers=admin(settings))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def searchable(http: httpx.Client, slug: str) -> int:
    response = http.get("/api/v1/search", params={"source": slug, "per_page": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def records_found(http: httpx.Client, slug: str) -> int:
    """How many of the source's records the courses found list (one hit per course)."""
    response = http.get("/api/v1/search", params={"source": slug, "per_page": 100})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] <= 100, "every course of the source on one page"
    return sum(p["source"] == slug for hit in body["hits"] for p in hit["provenances"])


@pytest.mark.services
def test_serve_harvests_and_indexes_a_later_source_while_others_trickle_and_never_end(
    live: Settings,
    live_engine: Engine,
    trickle: HostileProvider,
    endless: HostileProvider,
    normal: HostileProvider,
) -> None:
    settings = quick(live, scheduler_interval=0.5, index_interval=0.5)
    with (
        serving(create_app(settings)) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as http,
    ):
        trickling = register_over_api(http, settings, trickle.base_url, "trickle")
        unending = register_over_api(http, settings, endless.base_url, "endless")
        wait_for(lambda: trickle.count("ListRecords"), "the trickling harvest started")
        wait_for(lambda: searchable(http, "endless"), "the endless source's first pages indexed")

        register_over_api(http, settings, normal.base_url, "normal")
        wait_for(
            lambda: searchable(http, "normal") == LIVE_NORMAL,
            "the source registered later is searchable",
        )
        assert status(live_engine, trickling) == "running"
        assert status(live_engine, unending) == "running"
        assert trickle.count("ListRecords") == 1

        # The indexer keeps up while the endless harvest goes on: what it had stored a
        # moment ago becomes searchable although the run never ends.
        # The endless source repeats its courses under new identifiers: each is one hit,
        # listing every record of it among its provenances.
        stored = last_run(live_engine, unending).records_added  # type: ignore[union-attr]
        wait_for(lambda: records_found(http, "endless") >= stored, "the endless pages indexed")
        assert status(live_engine, unending) == "running"
        # The endless pages keep coming, so the lag at one instant may be a page or two over
        # the limit while a round is under way; keeping up is coming back under it.
        ready = wait_for(
            lambda: ready_ok(http), "ready, the index within its lag, as the endless harvest runs"
        )
        assert ready["index_lag"] <= settings.ready_max_index_lag
        assert status(live_engine, unending) == "running"


def ready_ok(http: httpx.Client) -> dict[str, Any] | None:
    """``/readyz``'s body when it is 200 and ``ok``, else None."""
    ready = http.get("/readyz")
    assert ready.status_code == 200, ready.text
    body: dict[str, Any] = ready.json()
    return body if body["status"] == "ok" else None


def _serve_env(settings: Settings, port: int) -> dict[str, str]:
    values = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SCHEDULER_INTERVAL": "0.5",
        "INDEX_INTERVAL": "0.5",
        "OBJECTS_FETCH": "false",
    }
    return {**os.environ, **env_of(settings, **values)}


@pytest.mark.services
def test_serve_shuts_down_while_harvests_are_stuck_on_the_network(
    live: Settings, live_engine: Engine, trickle: HostileProvider
) -> None:
    port = free_port()
    with HostileProvider("stall", host="127.0.0.3", send_headers=True) as stall:
        process = subprocess.Popen(
            [COURSEFED, "serve"],
            env=_serve_env(live, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                wait_for(lambda: _answers(http), "coursefed serve started")
                register_over_api(http, live, trickle.base_url, "trickle")
                register_over_api(http, live, stall.base_url, "stall")
                wait_for(
                    lambda: trickle.count("ListRecords") and stall.count("ListRecords"),
                    "both harvests are stuck on the network",
                )
            process.send_signal(signal.SIGTERM)  # what a service manager sends
            output, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    # Uvicorn ends by re-raising the signal it caught, once shutdown is complete.
    assert process.returncode in {0, -signal.SIGTERM}, output
    assert "Application shutdown complete" in output, output
    assert "Traceback" not in output, output
    # The stuck harvests were stopped, not abandoned: their sources are free again.
    assert leases(live_engine) == {"trickle": None, "stall": None}


def test_worker_stops_cleanly_on_sigterm_while_a_harvest_trickles(
    settings: Settings, engine: Engine, trickle: HostileProvider
) -> None:
    source_id = register(engine, trickle.base_url, "trickle")
    process = subprocess.Popen(
        [COURSEFED, "worker"],
        env=_serve_env(settings, free_port()),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: trickle.count("ListRecords"), "the worker's harvest is trickling")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output
    assert leases(engine) == {"trickle": None}
    assert status(engine, source_id) == "running", "the run is kept, to be resumed"


def _answers(http: httpx.Client) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


# --- /readyz -----------------------------------------------------------------------------------


@pytest.mark.services
def test_readyz_is_degraded_while_the_index_lags(
    live: Settings, live_engine: Engine, normal: HostileProvider
) -> None:
    settings = live.model_copy(update={"ready_max_index_lag": 5})
    source_id = register(live_engine, normal.base_url, "college")
    # Harvested but not indexed (no scheduler): the journal is ahead of the index.
    assert asyncio.run(harvest(live_engine, source_id)).status == "succeeded"
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 200, "degraded still answers"
        body = response.json()
        assert body["status"] == "degraded"
        assert body["index_lag"] > 5
        assert body["degraded"] == [
            f"the search index is {body['index_lag']} changes behind the catalogue (more than 5)"
        ]
        sync_search(live_engine, settings)
        caught_up = client.get("/readyz").json()
    assert caught_up["status"] == "ok"
    assert "degraded" not in caught_up


@pytest.mark.services
def test_readyz_names_a_harvest_stuck_for_hours(live: Settings, live_engine: Engine) -> None:
    with session_scope(live_engine) as session:
        stuck = sources.add_source(session, slug="slow-college", base_url="http://127.0.0.2/oai")
        fresh = sources.add_source(session, slug="busy-college", base_url="http://127.0.0.3/oai")
        session.flush()
        assert stuck.id is not None and fresh.id is not None
        session.add(HarvestRun(source_id=stuck.id, started_at=utcnow() - timedelta(hours=3)))
        session.add(HarvestRun(source_id=fresh.id))  # running, but only just started
    with TestClient(create_app(live)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    (reason,) = body["degraded"]
    assert "'slow-college'" in reason and "busy-college" not in reason
    assert "running for 180 minutes (more than 120)" in reason

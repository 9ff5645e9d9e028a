"""More than one process: ``serve --workers``, and app and worker processes that share one
PostgreSQL, one Meilisearch and one S3, as on several boxes.

The sources are small repositories (``tests.hostile`` in its ``normal`` mode) on loopback
addresses of their own, each standing for another college's host.  Deadlines bound a
wait; they assert nothing about speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from app.catalogue.models import JournalEntry, Resource
from app.catalogue.service import resource_id_for
from app.db import session_scope, taking_turns
from app.demo.corpus import generate_corpus
from app.search.gateway import SearchIndex
from app.search.indexer import is_indexed
from app.settings import Settings
from app.sources import registration
from app.sources.models import HarvestRun, Source
from tests.app.environment import env_of
from tests.hostile import HostileProvider
from tests.services_plugin import free_port

COURSEFED = str(Path(sys.executable).with_name("coursefed"))
SOURCES = 20
COUNT = 40  # records per source, four pages of ten
LEASE_SECONDS = 6  # renewed every 2 s: room for a busy machine
WAIT = 120.0


def wait_for(predicate: Callable[[], Any], what: str, seconds: float = WAIT) -> Any:
    """Poll until ``predicate`` is true; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(0.2)
    return result


def test_serve_with_several_workers_refuses_sqlite(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COURSEFED_DATA_DIR": str(tmp_path / "var"),
        "COURSEFED_DATABASE_URL": f"sqlite:///{tmp_path / 'coursefed.db'}",
    }
    done = subprocess.run(
        [COURSEFED, "serve", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "--workers needs PostgreSQL" in done.stderr
    assert "Traceback" not in done.stderr


def test_work_that_must_not_run_twice_at_once_takes_turns(engine: Engine) -> None:
    """The search indexers and migrations of every process hold one lock by name."""
    order: list[str] = []

    def second() -> None:
        with taking_turns(engine, "test-turns"):
            order.append("second")

    with taking_turns(engine, "test-turns"):
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "the second holder did not wait for the first"
        order.append("first")
    thread.join(30)
    assert order == ["first", "second"]


# --- two app processes and two workers on PostgreSQL ----------------------------------------


class Process:
    """A ``coursefed`` command in a process of its own, its output in a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        self._output: IO[str] = self.log.open("w")
        self.popen = subprocess.Popen(
            [COURSEFED, *args], env=env, stdout=self._output, stderr=subprocess.STDOUT
        )

    @property
    def owner(self) -> str:
        """How this process names itself in a source's lease."""
        return f"{socket.gethostname()}:{self.popen.pid}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._output.close()
        return self.popen.returncode


def _env(settings: Settings, port: int) -> dict[str, str]:
    values = {
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SCHEDULER_INTERVAL": "0.5",
        "INDEX_INTERVAL": "0.5",
        "HARVEST_CONCURRENCY": "2",  # 8 slots in all for 20 sources: every process gets some
        "HARVEST_LEASE_SECONDS": str(LEASE_SECONDS),
        "OBJECTS_FETCH": "false",
    }
    return {**os.environ, **env_of(settings, **values)}


@pytest.fixture
def colleges() -> Iterator[list[HostileProvider]]:
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(
                HostileProvider(
                    "normal", host=f"127.0.0.{10 + n}", count=COUNT, page_size=10, page_delay=0.25
                )
            )
            for n in range(SOURCES)
        ]


def _register(engine: Engine, url: str, slug: str) -> int:
    source = asyncio.run(
        registration.register(
            engine, Settings(), base_url=url, slug=slug, allow_private_network=True
        )
    )
    assert source.id is not None
    return source.id


def _mid_harvest(engine: Engine, owners: list[str]) -> tuple[int, str, datetime] | None:
    """(source id, lease owner, lease end) of a source one of ``owners`` holds with a run
    that has stored a page and has more to come."""
    with session_scope(engine) as session:
        held = session.exec(select(Source).where(col(Source.lease_owner).in_(owners))).all()
        for source in held:
            run = session.exec(
                select(HarvestRun)
                .where(HarvestRun.source_id == source.id, HarvestRun.status == "running")
                .where(HarvestRun.pages >= 1, col(HarvestRun.resumption_token).is_not(None))
            ).first()
            if run is not None and source.lease_owner and source.lease_until:
                assert source.id is not None
                return source.id, source.lease_owner, source.lease_until
    return None


def _all_harvested(engine: Engine, source_ids: list[int]) -> bool:
    with session_scope(engine) as session:
        done = session.exec(
            select(func.count(func.distinct(HarvestRun.source_id))).where(
                HarvestRun.status == "succeeded", HarvestRun.kind == "harvest"
            )
        ).one()
        running = session.exec(
            select(func.count()).select_from(HarvestRun).where(HarvestRun.status == "running")
        ).one()
    return done == len(source_ids) and running == 0


def _index_ids(settings: Settings) -> set[str]:
    with SearchIndex.from_settings(settings) as index:
        if not index.index_exists(settings.meili_index):
            return set()
        return {doc["id"] for doc in index.iter_documents(settings.meili_index, ["id"])}


def _live(engine: Engine) -> list[Resource]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(Resource).where(
                col(Resource.deleted).is_(False), col(Resource.publishable).is_(True)
            )
        ).all()
        session.expunge_all()
        return list(rows)


def _live_ids(engine: Engine) -> set[str]:
    return {resource.id for resource in _live(engine)}


def _indexed_ids(engine: Engine) -> set[str]:
    """The ids the index holds once it has caught up: one per course (a cluster's
    canonical record, or a record alone)."""
    return {resource.id for resource in _live(engine) if is_indexed(resource)}


def _utc(moment: datetime) -> datetime:
    # PostgreSQL may hand back datetimes without their zone; they were written in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.postgres
@pytest.mark.services
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_apps_and_two_workers_share_twenty_sources_and_take_over_a_killed_worker(
    live: Settings, live_engine: Engine, colleges: list[HostileProvider], tmp_path: Path
) -> None:
    slugs = {
        _register(live_engine, college.base_url, f"college-{n:02d}"): f"college-{n:02d}"
        for n, college in enumerate(colleges)
    }
    ports = [free_port(), free_port()]
    processes = [
        Process("app-1", ["serve", "--workers", "2"], _env(live, ports[0]), tmp_path),
        Process("app-2", ["serve"], _env(live, ports[1]), tmp_path),
        Process("worker-1", ["worker"], _env(live, free_port()), tmp_path),
        Process("worker-2", ["worker"], _env(live, free_port()), tmp_path),
    ]
    workers = processes[2:]
    victim: Process | None = None
    try:
        # A worker is killed while it holds a source it has harvested a page of.
        source_id, owner, lease_until = wait_for(
            lambda: _mid_harvest(live_engine, [w.owner for w in workers]), "a worker mid-harvest"
        )
        victim = next(w for w in workers if w.owner == owner)
        # Left unreaped until the end: to the lease its pid still answers, as a worker on
        # another box would; only the lease running out frees its source.
        victim.popen.kill()
        wait_for(lambda: _all_harvested(live_engine, list(slugs)), "every source harvested")
        wait_for(lambda: all(_answers(port) for port in ports), "both apps serving")
        courses = _indexed_ids(live_engine)
        wait_for(lambda: _index_ids(live) == courses, "the index caught up with the database")
        for port in ports:  # either app answers from the one index
            found = httpx.get(f"http://127.0.0.1:{port}/api/v1/search", params={"per_page": 1})
            assert found.status_code == 200, found.text
            assert found.json()["total"] == len(courses)
    finally:
        codes = {p.name: p.stop() for p in processes}

    # Every record stored once: the expected ids, each added by exactly one run.
    corpus = generate_corpus(COUNT)
    expected = {
        resource_id_for(slug, record.identifier)
        for slug in slugs.values()
        for record in corpus
        if not record.deleted
    }
    assert _live_ids(live_engine) == expected
    with session_scope(live_engine) as session:
        runs = session.exec(select(HarvestRun).order_by(col(HarvestRun.started_at))).all()
        added = sum(run.records_added for run in runs)
        # Clustering journals a course's canonical record again when its cluster changes.
        journal = session.exec(select(func.count(func.distinct(JournalEntry.resource_id)))).one()
        leases = session.exec(select(Source.lease_owner)).all()
    assert added == len(expected) == journal
    assert leases == [None] * SOURCES

    # No source was harvested by two processes at once: its runs never overlap.  Nor
    # twice in a row: each source has one run, which a second process finished for the
    # killed worker.
    by_source: dict[int, list[HarvestRun]] = {}
    for run in runs:
        by_source.setdefault(run.source_id, []).append(run)
    several = {source: runs for source, runs in by_source.items() if len(runs) > 1}
    assert len(by_source) == SOURCES and not several, several
    for source_runs in by_source.values():
        for before, after in itertools.pairwise(source_runs):
            assert before.finished_at is not None
            assert before.finished_at <= after.started_at, (before, after)

    # The killed worker's run was resumed by another process, after its lease ran out.
    (taken,) = by_source[source_id]
    assert (taken.status, taken.resumed) == ("succeeded", 1), taken
    resumed_at = [e["at"] for e in taken.events if e["kind"] == "resume"]
    assert len(resumed_at) == 1, taken.events
    assert _utc(datetime.fromisoformat(resumed_at[0])) >= _utc(lease_until), taken.events

    assert victim is not None and codes[victim.name] == -signal.SIGKILL
    for process in processes:
        if process is not victim:
            assert codes[process.name] in {0, -signal.SIGTERM}, process.output()
            assert "Traceback" not in process.output(), process.output()

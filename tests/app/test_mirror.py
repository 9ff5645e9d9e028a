"""One coursefed mirroring another: snapshot, change feed, deletions, filters, restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue import service as catalogue
from app.catalogue.models import JournalEntry, Resource
from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.mirror.client import Mirror, MirrorError, RecordFilter
from app.settings import Settings
from app.sources import service as sources
from app.sources.harvest import HarvestOptions, harvest
from tests.conftest import CommandLine, Ran, migrated
from tests.services_plugin import serving


@pytest.fixture
def upstream(settings: Settings, engine: Engine) -> Iterator[str]:
    """A coursefed with 250 harvested demo courses, served over HTTP."""
    with DemoRepositoryServer(generate_corpus(250)) as repository:
        with session_scope(engine) as session:
            source_id = sources.add_source(
                session, base_url=repository.base_url, slug="demo", allow_private_network=True
            ).id
        assert source_id is not None
        run = asyncio.run(harvest(engine, source_id, options=HarvestOptions(max_retries=1)))
        assert run.status == "succeeded"
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
def downstream(tmp_path: Path) -> Iterator[Engine]:
    settings = Settings(data_dir=tmp_path / "mirror", scheduler=False)
    migrated(settings)
    engine = make_engine(settings)
    yield engine
    engine.dispose()


def catalogue_of(engine: Engine) -> dict[str, str]:
    """id → content hash of every live, publishable resource."""
    with session_scope(engine) as session:
        rows = session.exec(select(Resource)).all()
        return {r.id: r.content_hash for r in rows if not r.deleted and r.publishable}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_mirror_copies_the_catalogue_and_follows_changes(
    upstream: str, engine: Engine, downstream: Engine
) -> None:
    mirror = Mirror(downstream, upstream, allow_private=True)
    first = mirror.sync()
    assert first.snapshot_records == len(catalogue_of(engine))
    assert catalogue_of(downstream) == catalogue_of(engine), "same ids, same content"
    with session_scope(downstream) as session:
        sample = session.exec(select(Resource)).first()
        assert sample is not None
        assert sample.record["provenance"]["source"] == "demo", "the provenance chain is kept"

    # Upstream changes: three deletions and one retitled course.
    with session_scope(engine) as session:
        ids = sorted(catalogue_of(engine))
        for resource_id in ids[:3]:
            catalogue.delete(session, resource_id)
        row = session.get(Resource, ids[3])
        assert row is not None
    second = mirror.sync()
    assert second.deleted == 3
    assert second.serial > first.serial
    assert catalogue_of(downstream) == catalogue_of(engine)
    again = mirror.sync()
    assert (again.upserted, again.deleted) == (0, 0), "nothing new: nothing applied"
    mirror.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mirror_stopped_mid_feed_resumes_without_loss_or_duplication(
    upstream: str, engine: Engine, downstream: Engine
) -> None:
    mirror = Mirror(downstream, upstream, allow_private=True)
    mirror.sync()
    with session_scope(engine) as session:
        for resource_id in sorted(catalogue_of(engine))[:40]:
            catalogue.delete(session, resource_id)

    class Crash(Exception):
        pass

    pages = 0
    original = mirror._apply_changes

    def crash_after_two_pages(*args: object) -> None:
        nonlocal pages
        pages += 1
        if pages == 3:
            raise Crash
        original(*args)  # type: ignore[arg-type]

    mirror.page_size = 10
    mirror._apply_changes = crash_after_two_pages  # type: ignore[method-assign]
    with pytest.raises(Crash):
        mirror.sync()
    mirror._apply_changes = original  # type: ignore[method-assign]
    mirror.sync()
    assert catalogue_of(downstream) == catalogue_of(engine)
    with session_scope(downstream) as session:
        deletes = [e for e in session.exec(select(JournalEntry)).all() if e.op == "delete"]
    assert len(deletes) == 40, "every deletion applied exactly once"
    mirror.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_filtered_mirror_keeps_only_matching_records(
    upstream: str, engine: Engine, downstream: Engine
) -> None:
    mirror = Mirror(
        downstream,
        upstream,
        record_filter=RecordFilter.parse(["subject=08"]),
        allow_private=True,
    )
    mirror.sync()
    with session_scope(engine) as session:
        rows = [r for r in session.exec(select(Resource)).all() if not r.deleted and r.publishable]
        expected = {
            r.id
            for r in rows
            if any((s.get("code") or "").startswith("08") for s in r.record["subjects"])
        }
    assert set(catalogue_of(downstream)) == expected
    assert 0 < len(expected) < len(rows)
    mirror.close()


def test_bad_filters_and_unreachable_upstreams_are_clear_errors(downstream: Engine) -> None:
    with pytest.raises(MirrorError, match="NAME=VALUE"):
        RecordFilter.parse(["colour=blue"])
    mirror = Mirror(downstream, "http://127.0.0.1:9", http=httpx.Client(timeout=2))
    with pytest.raises(MirrorError):
        mirror.sync()
    mirror.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_mirror_and_export_from_the_command_line(
    upstream: str, engine: Engine, tmp_path: Path, coursefed: CommandLine
) -> None:
    import gzip  # noqa: PLC0415
    import json  # noqa: PLC0415

    env = {
        "COURSEFED_DATA_DIR": str(tmp_path / "node"),
        "COURSEFED_MEILI_URL": "http://127.0.0.1:9",
        "COURSEFED_SCHEDULER": "false",
    }

    def run(*args: str) -> Ran:
        return coursefed(*args, env=env)

    assert run("db", "upgrade").returncode == 0
    mirrored = run("mirror", upstream, "--once", "--allow-private-network")
    assert mirrored.returncode == 0, mirrored.stderr
    count = len(catalogue_of(engine))
    assert f"{count} snapshot records, {count} stored" in mirrored.stdout
    exported = run("export", str(tmp_path / "catalogue.ndjson.gz"))
    assert exported.returncode == 0, exported.stderr
    lines = gzip.decompress((tmp_path / "catalogue.ndjson.gz").read_bytes()).splitlines()
    assert "serial" in json.loads(lines[0])
    assert {json.loads(line)["id"] for line in lines[1:]} == set(catalogue_of(engine))
    bad = run("mirror", upstream, "--filter", "colour=blue", "--once", "--allow-private-network")
    assert bad.returncode == 1
    assert "NAME=VALUE" in bad.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mirror_killed_with_sigkill_mid_feed_converges_on_restart(
    settings: Settings, engine: Engine, tmp_path: Path, coursefed: CommandLine
) -> None:
    """``coursefed mirror`` killed between two committed pages resumes from the second."""

    app = create_app(settings)
    slow_link = threading.Event()

    @app.middleware("http")
    async def slow_feed(request: Any, call_next: Any) -> Any:
        if request.url.path == "/api/v1/changes" and slow_link.is_set():
            await asyncio.sleep(0.15)  # a slow link: the kill lands between two pages
        return await call_next(request)

    with DemoRepositoryServer(generate_corpus(120)) as repository:
        with session_scope(engine) as session:
            source_id = sources.add_source(
                session, base_url=repository.base_url, slug="demo", allow_private_network=True
            ).id
        assert source_id is not None
        assert asyncio.run(harvest(engine, source_id)).status == "succeeded"
    node = tmp_path / "node"
    env = {
        "COURSEFED_DATA_DIR": str(node),
        "COURSEFED_MEILI_URL": "http://127.0.0.1:9",
        "COURSEFED_SCHEDULER": "false",
    }
    with serving(app) as upstream:
        mirror_killed_and_restarted(engine, upstream, coursefed, env, node, slow_link=slow_link)


def mirror_killed_and_restarted(
    engine: Engine,
    upstream: str,
    coursefed: CommandLine,
    env: dict[str, str],
    node: Path,
    *,
    slow_link: threading.Event,
) -> None:
    """Mirror once, change the upstream, SIGKILL a second mirror (a process of its own)
    mid-feed over a slow link, restart it."""

    command = ["mirror", upstream, "--once", "--page-size", "4", "--allow-private-network"]
    assert coursefed("db", "upgrade", env=env).returncode == 0
    first = coursefed(*command, env=env)
    assert first.returncode == 0, first.stderr
    # Upstream changes: 60 deletions, i.e. 15 pages of 4 entries for the mirror.
    with session_scope(engine) as session:
        for resource_id in sorted(catalogue_of(engine))[:60]:
            catalogue.delete(session, resource_id)

    database = node / "coursefed.db"

    def mirror_serial() -> int:
        with sqlite3.connect(database) as connection:
            row = connection.execute(
                "SELECT serial FROM cursors WHERE name LIKE 'mirror-%'"
            ).fetchone()
        return int(row[0]) if row else 0

    start = mirror_serial()
    slow_link.set()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("coursefed")), *command],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while mirror_serial() < start + 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert process.returncode == -signal.SIGKILL, "killed mid-feed, not finished"
    reached = mirror_serial()
    assert start < reached < start + 60, "some pages committed, not all"

    again = coursefed(*command, env=env)
    assert again.returncode == 0, again.stderr
    mirrored = make_engine(Settings(data_dir=node))
    try:
        assert catalogue_of(mirrored) == catalogue_of(engine)
        with session_scope(mirrored) as session:
            deletes = [e for e in session.exec(select(JournalEntry)).all() if e.op == "delete"]
        assert len(deletes) == 60, "every deletion applied exactly once"
    finally:
        mirrored.dispose()

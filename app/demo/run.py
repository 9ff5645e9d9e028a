"""``coursefed demo``: the whole pipeline on one machine, from a fresh checkout.

Starts Meilisearch and S3, migrates the database, serves the demo corpus over real
OAI-PMH on loopback, registers and harvests it, indexes it, and serves the app.
Ctrl-C stops everything this command started (services that were already running
are left running).  ``demo_catalogue`` is the loading part alone, for tests and
benchmarks that want the same catalogue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
from collections.abc import Callable, Iterator

from fastapi import FastAPI

from app import jobs, migrate
from app.db import make_engine, session_scope
from app.demo.corpus import HOST, generate_corpus
from app.demo.repository import DemoRepository
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.services.manager import services_down, services_status, services_up
from app.services.ports import free_port
from app.settings import Settings
from app.sources import service as sources
from app.sources.models import HarvestRun

log = logging.getLogger(__name__)

DEMO_SLUG = "demo"


Serve = Callable[[FastAPI, Settings], None]
"""Runs an app as `coursefed serve` does, until interrupted."""


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclasses.dataclass(frozen=True, slots=True)
class DemoCatalogue:
    """What ``demo_catalogue`` loaded."""

    repository_url: str
    source_id: int
    harvest: HarvestRun
    files_stored: int


@contextlib.contextmanager
def demo_catalogue(
    settings: Settings,
    *,
    count: int = 2400,
    fetch_limit: int = 200,
    say: Callable[[str], None] = log.info,
) -> Iterator[DemoCatalogue]:
    """Load the demo corpus into ``settings``' database, index and S3, the way a college's
    records arrive: migrate, serve the corpus over OAI-PMH on loopback, register it as a
    source, harvest it (which indexes it) and fetch up to ``fetch_limit`` of its files.

    Meilisearch and S3 must be running.  The demo repository keeps serving (the files not
    fetched yet) until the block ends.
    """
    migrate.upgrade(settings)
    started = time.monotonic()
    # The courses' files are served by the demo repository itself, on loopback.
    port = free_port()
    files = f"http://127.0.0.1:{port}"
    records = [
        dataclasses.replace(r, object_url=r.object_url.replace(HOST, files, 1))
        for r in generate_corpus(count)
    ]
    with DemoRepositoryServer(DemoRepository(records), port=port, serve_files=True) as server:
        base_url = server.base_url
        say(f"coursefed demo: {len(records)} demo courses served over OAI-PMH at {base_url}")
        engine = make_engine(settings)
        try:
            with session_scope(engine) as session:
                source = sources.add_source(
                    session,
                    slug=DEMO_SLUG,
                    name="示范课程资源库 · Demo course repository",
                    base_url=base_url,
                    interval_minutes=60,
                    allow_private_network=True,
                )
                source_id = source.id
            assert source_id is not None  # noqa: S101 - set by the flush in add_source
            run = jobs.run_harvest(engine, settings, source_id, full=True)
            say(
                f"coursefed demo: harvest {run.status} in {time.monotonic() - started:.1f} s: "
                f"{run.records_seen} records, {run.records_added + run.records_updated} stored, "
                f"{run.records_unchanged} unchanged, {run.records_deleted} deleted"
            )
            if run.error:
                say(f"coursefed demo: harvest error: {run.error}")
            fetched = jobs.run_objects(engine, settings, limit=fetch_limit)
            stored = fetched.outcomes["stored"]
            say(f"coursefed demo: {stored} course files fetched into S3")
        finally:
            engine.dispose()
        yield DemoCatalogue(base_url, source_id, run, stored)


def run_demo(settings: Settings, *, serve: Serve, count: int = 2400) -> int:
    """Everything with the demo corpus; ``serve`` runs the app until interrupted (the
    CLI hands over ``coursefed serve``'s server)."""
    already_running = all(s.state in ("running", "external") for s in services_status(settings))
    _say("coursefed demo: starting Meilisearch and S3 ...")
    for status in services_up(settings):
        _say("  " + status.as_line())
    try:
        with demo_catalogue(settings, count=count, say=_say):
            _say("  the other files follow in the background")
            url = settings.resolved_public_url
            _say("")
            _say(f"  Search page:   {url}/?q=计算机")
            _say(f"  Search API:    {url}/api/v1/search?q=data")
            _say(f"  Readiness:     {url}/readyz")
            _say(f"  API docs:      {url}/docs")
            _say("  Press Ctrl-C to stop.")
            _say("")
            serve(create_app(settings), settings)
    finally:
        if not already_running:
            _say("coursefed demo: stopping the services it started ...")
            services_down(settings)
    return 0

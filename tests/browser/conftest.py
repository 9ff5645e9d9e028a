"""The acceptance harness: a real coursefed with the demo catalogue, Chromium, axe-core.

``demo_site`` loads the demo corpus once per session exactly as ``coursefed demo`` does
(harvested over OAI-PMH into SQLite, indexed in real Meilisearch, files fetched into real
SeaweedFS) and serves the app over HTTP.  ``page`` is a browser tab at the width a test is
parametrised with (1366 or 360 px); ``axe`` runs axe-core in a page and ``screenshot`` keeps
what the page looked like under ``$COURSEFED_ARTEFACTS`` (default ``var/artefacts/``, which
git ignores).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page
from sqlmodel import Session, select

from app import jobs
from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject, Resource
from app.db import make_engine, session_scope
from app.demo.run import demo_catalogue
from app.main import create_app
from app.services import BinaryNotFound
from app.services.binaries import AXE_CORE_VERSION, find_axe_core
from app.settings import Settings
from tests.conftest import screenshots_dir
from tests.services_plugin import free_port, serving

# A laptop, and the narrowest phone the pages must lay out for.
WIDTHS = {1366: 768, 360: 740}
# WCAG 2.0, 2.1 and 2.2 at levels A and AA: what the pages promise (issue: "contrast", labels...).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]

_CSP_REFUSAL = re.compile(r"Content[- ]Security[- ]Policy", re.IGNORECASE)

_saved: list[Path] = []
_axe_runs: list[str] = []


@dataclass(frozen=True)
class StoredFile:
    """A course's file as the catalogue stored it."""

    resource_id: str
    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True)
class DemoSite:
    """The served demo catalogue."""

    url: str
    settings: Settings
    files: list[StoredFile]
    removed: str  # a course its source deleted
    unavailable_url: str  # the same catalogue served while Meilisearch cannot be reached

    def stored(self, media_type: str) -> StoredFile:
        return next(f for f in self.files if f.media_type == media_type)


@pytest.fixture(scope="session")
def demo_site(
    live_services: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoSite]:
    """The 2,400 demo courses, loaded once by the code ``coursefed demo`` runs, served over
    HTTP by uvicorn (the background scheduler off, so the catalogue holds still)."""
    folder = tmp_path_factory.mktemp("demo-site")
    port = free_port()
    settings = live_services.model_copy(
        update={
            "data_dir": folder,
            "database_url": f"sqlite:///{folder / 'coursefed.db'}",
            "meili_index": f"browser-{uuid.uuid4().hex[:12]}",
            "scheduler": False,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    with demo_catalogue(settings, fetch_limit=200) as loaded:
        assert loaded.harvest.status == "succeeded", loaded.harvest.error
        engine = make_engine(settings)
        with Session(engine) as session:
            rows = session.exec(select(DigitalObject).where(DigitalObject.status == "stored"))
            files = [
                StoredFile(row.resource_id, row.sha256 or "", row.size or 0, row.media_type or "")
                for row in rows
            ]
            with_files = {f.resource_id for f in files}
            live = session.exec(select(Resource.id).where(~Resource.deleted).order_by(Resource.id))
            removed = next(i for i in live if i not in with_files)
        with session_scope(engine) as session:
            catalogue.delete(session, removed)  # as when its source withdraws it
        jobs.sync_search_quietly(engine, settings)
        engine.dispose()
        kinds = {f.media_type for f in files}
        assert {"video/mp4", "application/pdf"} <= kinds, f"stored files are only {kinds}"
        # Nothing listens on port 9: the search engine is "down" for this one.
        unreachable = settings.model_copy(update={"meili_url": "http://127.0.0.1:9"})
        with (
            serving(create_app(settings), port) as url,
            serving(create_app(unreachable)) as unavailable_url,
        ):
            yield DemoSite(url, settings, files, removed, unavailable_url)


@pytest.fixture(params=list(WIDTHS), ids=lambda width: f"{width}px")
def width(request: pytest.FixtureRequest) -> int:
    return int(request.param)


def new_context(browser: Browser, width: int, **options: Any) -> BrowserContext:
    """A fresh profile (no cookies) at ``width``; a phone's touch at 360 px.

    Everything is on loopback, so an element that is not there in a few seconds is missing,
    not slow: a missing one fails the test in 5 s rather than Playwright's 30.
    """
    context = browser.new_context(
        viewport={"width": width, "height": WIDTHS[width]},
        has_touch=width < 600,
        accept_downloads=True,
        **options,
    )
    context.set_default_timeout(5_000)
    context.set_default_navigation_timeout(20_000)
    return context


@pytest.fixture
def page(browser: Browser, width: int) -> Iterator[Page]:
    """A page under our Content-Security-Policy, as a learner's browser sees it; a test fails
    on any script error or CSP refusal the page logs."""
    context = new_context(browser, width, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and _CSP_REFUSAL.search(message.text):
            problems.append(f"refused by the CSP: {message.text}")

    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", console)
    yield page
    context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe.min.js from the cache, installed like Meilisearch when it is missing."""
    failure = None
    try:
        return find_axe_core(Settings())
    except BinaryNotFound as exc:
        failure = str(exc)
    pytest.fail(f"axe-core is needed for the accessibility checks: {failure}", pytrace=False)


@dataclass(frozen=True)
class Violation:
    id: str
    impact: str | None
    help: str
    targets: list[str]

    def __str__(self) -> str:
        return f"{self.id} ({self.impact}): {self.help}\n    at " + "\n    at ".join(self.targets)


class Axe:
    """Runs axe-core in pages of a context that lets the injected script run.

    ``add_script_tag`` inserts axe as an inline script, which our CSP forbids; only this
    context bypasses the CSP, so every other page is tested under the policy learners get.
    """

    def __init__(self, browser: Browser, width: int, script: Path) -> None:
        self.context = new_context(browser, width, bypass_csp=True, locale="zh-CN")
        self.width = width
        self.script = script

    def violations(self, url: str) -> list[Violation]:
        page = self.context.new_page()
        try:
            page.goto(url, wait_until="load")
            page.add_script_tag(path=str(self.script))
            found = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
                ".then(result => result.violations.map(v => ({id: v.id, impact: v.impact,"
                " help: v.help, targets: v.nodes.map(n => n.target.join(' '))})))",
                AXE_TAGS,
            )
        finally:
            page.close()
        return [Violation(**item) for item in found]

    def check(self, url: str) -> None:
        """Fail listing each violation (rule, impact, help, the elements) unless there is none."""
        found = self.violations(url)
        _axe_runs.append(f"{len(found)} violations at {self.width} px: {url}")
        assert not found, f"axe-core finds on {url}:\n" + "\n".join(f"  {v}" for v in found)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def axe(browser: Browser, width: int, axe_script: Path) -> Iterator[Axe]:
    checker = Axe(browser, width, axe_script)
    yield checker
    checker.close()


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``NAME-WIDTHpx.png`` and return its path."""
    width = (page.viewport_size or {"width": 0})["width"]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    path = screenshots_dir() / f"{slug}-{width}px.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    _saved.append(path)
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List axe-core's findings and the screenshots this session kept, for the log's reader."""
    if _axe_runs:
        terminalreporter.section("axe-core " + AXE_CORE_VERSION)
        for line in _axe_runs:
            terminalreporter.write_line(line)
    if _saved:
        terminalreporter.section("screenshots")
        for path in _saved:
            terminalreporter.write_line(str(path))

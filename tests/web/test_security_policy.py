"""The pages under their Content-Security-Policy, and CORS, as Chromium enforces them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, ConsoleMessage
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.jobs import run_harvest
from app.main import create_app
from app.settings import Settings
from app.sources import service as sources
from tests.services_plugin import free_port, serving

pytestmark = [pytest.mark.services, pytest.mark.browser]


@pytest.fixture
def site(live: Settings, live_engine: Engine) -> Iterator[str]:
    """The app with 20 harvested demo courses, served by uvicorn on 127.0.0.1."""
    with DemoRepositoryServer(generate_corpus(20)) as repository:
        with session_scope(live_engine) as session:
            source = sources.add_source(
                session, slug="demo", base_url=repository.base_url, allow_private_network=True
            )
            source_id = source.id
        assert source_id is not None
        assert run_harvest(live_engine, live, source_id).status == "succeeded"
    port = free_port()
    settings = live.model_copy(update={"public_url": f"http://127.0.0.1:{port}"})
    with serving(create_app(settings), port) as url:
        yield url


@pytest.fixture
def elsewhere() -> Iterator[str]:
    """Another site's page (another origin on loopback), without our policy."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><p>elsewhere</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_work_under_their_policy_and_injected_script_does_not_run(
    site: str, browser: Browser
) -> None:
    page = browser.new_page()
    refused: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", note)
    page.goto(site + "/?q=计算机")
    page.wait_for_selector("#results li")
    # The stylesheet moved out of the page is applied (main is 72rem + 3rem at 16px).
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") == "1200px"
    page.locator("#results h2 a").first.click()
    page.wait_for_selector("#course")
    assert page.locator("script[type='application/ld+json']").count() == 1
    assert refused == [], refused  # nothing our own pages need is blocked
    # A script element injected into the page (as an XSS would) is refused by the policy.
    with page.expect_console_message(lambda m: "script-src" in m.text):
        ran = page.evaluate(
            """() => { const s = document.createElement('script');
                       s.textContent = 'window.injected = true'; document.body.append(s);
                       return window.injected === true; }"""
        )
    assert ran is False
    page.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_another_origin_reads_the_api_but_cannot_write(
    site: str, elsewhere: str, browser: Browser
) -> None:
    page = browser.new_page()
    page.goto(elsewhere)
    api = site + "/api/v1"
    read = page.evaluate(
        """async (api) => { const r = await fetch(api + '/changes?since=0&limit=1');
                            return [r.status, r.headers.get('X-Coursefed-Serial')]; }""",
        api,
    )
    assert read[0] == 200
    assert read[1] is not None and int(read[1]) > 0, "the serial header is exposed"
    hits = page.evaluate(
        "async (api) => (await (await fetch(api + '/search?q=计算机')).json()).total", api
    )
    assert hits > 0
    failed = page.evaluate(
        """async (api) => {
             const attempts = [
               fetch(api + '/sources', {method: 'POST', headers: {'Content-Type':
                 'application/json', 'Authorization': 'Bearer x'}, body: '{}'}),
               fetch(api + '/search?q=x', {headers: {'Authorization': 'Bearer x'}}),
               fetch(api + '/search?q=x', {credentials: 'include'}),
             ];
             const outcomes = await Promise.allSettled(attempts);
             return outcomes.map(o => o.status); }""",
        api,
    )
    # A read with credentials is refused too: "*" may not be used with credentials.
    assert failed == ["rejected", "rejected", "rejected"]
    page.close()

"""In Chromium: no page of a hostile record runs its script, the raw record included.

Every payload in the hostile records calls ``alert``/``confirm``: a dialog is what running
looks like.  A course page must hold no link that is neither our own nor http(s), since
clicking one would run it.  The control test serves the same record bytes from a server
of our own without our headers, and a page with a link such as a record would carry:
there the dialogs do fire, so the silence on our pages means something.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.engine import Engine

from app.main import create_app
from app.settings import Settings
from tests.fixtures.hostile import HOSTILE_RECORDS, XHTML_SCRIPT
from tests.services_plugin import serving
from tests.web.hostile import foreign_links, harvest_into, store_before_the_rule
from tests.web.test_hostile_records import link_values

pytestmark = [pytest.mark.browser]

CONTROL_LINKS = (
    b"<!doctype html><title>control</title>"
    b"<a id='control' href='javascript:confirm(\"a record link\")'>source page</a>"
)


class Visit:
    """A page that records every dialog it opens (and dismisses it)."""

    def __init__(self, browser: Browser) -> None:
        self.page: Page = browser.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    def open(self, url: str) -> str:
        """The page's markup once it has loaded and gone quiet (images failed, scripts ran)."""
        self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return self.page.content()

    def links_to_elsewhere(self) -> list[str]:
        """The hrefs on the page that are neither our own path nor an http(s) URL."""
        return foreign_links(link_values(self.page.content()))

    def click(self, href: str) -> None:
        """Click the link to ``href``, as a learner would, and wait for the dialog it opens."""
        links = self.page.locator("a[href]").all()
        link = next(a for a in links if a.get_attribute("href") == href)
        with self.page.expect_event("dialog"):
            link.click()

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def control_server() -> Iterator[str]:
    """Serves the XHTML record as application/xml with no headers of ours, and a link page."""
    pages = {
        "/raw.xml": ("application/xml", XHTML_SCRIPT.read_bytes()),
        "/links.html": ("text/html; charset=utf-8", CONTROL_LINKS),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            media_type, body = pages.get(self.path, ("text/plain", b"not found"))
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_payloads_fire_dialogs_where_nothing_stops_them(
    browser: Browser, control_server: str
) -> None:
    visit = Visit(browser)
    try:
        with visit.page.expect_event("dialog"):
            visit.open(f"{control_server}/raw.xml")
        assert "xhtml script" in visit.dialogs, "the XHTML record's script runs served plainly"
        fired = len(visit.dialogs)
        visit.open(f"{control_server}/links.html")
        assert visit.links_to_elsewhere() == ['javascript:confirm("a record link")']
        visit.click('javascript:confirm("a record link")')
        assert visit.dialogs[fired:] == ["a record link"]
    finally:
        visit.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_dialog_fires_on_any_page_of_a_hostile_record(
    browser: Browser, settings: Settings, engine: Engine
) -> None:
    shown = {harvest_into(engine, record): "Hostile" for record in HOSTILE_RECORDS}
    shown[store_before_the_rule(engine)] = "stored before the URL rule"
    visit = Visit(browser)
    try:
        with serving(create_app(settings)) as url:
            for resource_id, text in shown.items():
                page = visit.open(f"{url}/courses/{resource_id}")
                assert 'id="course"' in page
                assert visit.links_to_elsewhere() == [], "no link a click would run"
                raw = visit.open(f"{url}/api/v1/resources/{resource_id}/raw")
                assert text in raw, "the raw record is shown, for people to read"
        assert visit.dialogs == []
    finally:
        visit.close()

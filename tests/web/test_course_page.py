"""A course's own page: the record in both languages, its files, its JSON-LD."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import httpx
import pytest
from lxml import html
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from app import jobs
from app.catalogue import service as catalogue
from app.db import session_scope
from app.demo.corpus import HOST, generate_corpus
from app.demo.repository import DemoRepository
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.objects.discovery import discover
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import DigitalObjectRef, ResourceRecord
from tests.app.records import stored
from tests.services_plugin import free_port, serving

pytestmark = [pytest.mark.services]


@pytest.fixture
def site(live: Settings, live_engine: Engine) -> Iterator[tuple[str, Settings]]:
    """40 demo courses harvested with their files fetched into S3, served by uvicorn."""
    port = free_port()
    files = f"http://127.0.0.1:{port}"
    records = [
        dataclasses.replace(r, object_url=r.object_url.replace(HOST, files, 1))
        for r in generate_corpus(40)
    ]
    with DemoRepositoryServer(DemoRepository(records), port=port, serve_files=True) as repository:
        with session_scope(live_engine) as session:
            source = sources.add_source(
                session, slug="demo", base_url=repository.base_url, allow_private_network=True
            )
            source_id = source.id
        assert source_id is not None
        assert jobs.run_harvest(live_engine, live, source_id).status == "succeeded"
        assert jobs.run_objects(live_engine, live).outcomes["stored"] > 30
    app_port = free_port()
    settings = live.model_copy(update={"public_url": f"http://127.0.0.1:{app_port}"})
    with serving(create_app(settings), app_port) as url:
        yield url, settings


def jsonld_of(page: str) -> dict[str, object]:
    scripts = html.fromstring(page).xpath("//script[@type='application/ld+json']/text()")
    assert len(scripts) == 1
    node = json.loads(scripts[0])
    assert isinstance(node, dict)
    return node


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_result_leads_to_the_course_and_its_file(
    site: tuple[str, Settings],
    browser: Browser,
) -> None:
    url, _settings = site
    page = browser.new_page()
    page.goto(url + "/?q=计算机科学导论")
    page.locator("#results h2 a").first.click()
    page.wait_for_selector("#course")
    assert "计算机科学导论" in page.locator("#title").inner_text()
    link = page.locator("#files a[download]").first
    href = link.get_attribute("href") or ""
    assert "/api/v1/objects/" in href
    answer = httpx.get(href, follow_redirects=True)
    assert answer.status_code == 200
    assert answer.content[:5] in {b"%PDF-", b"\0\0\0\x1c"} or answer.content[4:8] == b"ftyp"
    node = jsonld_of(page.content())
    assert node["@id"] == page.url
    assert "计算机科学导论" in json.dumps(node, ensure_ascii=False)
    page.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_missing_removed_and_hostile_courses(
    site: tuple[str, Settings], live_engine: Engine
) -> None:
    url, _settings = site
    missing = httpx.get(f"{url}/courses/no-such-course", params={"lang": "en"})
    assert missing.status_code == 404
    assert "There is no such course" in missing.text
    assert "没有这门课程" in httpx.get(f"{url}/courses/no-such-course").text

    hostile = "</script><script>alert(1)</script> & <!-- 课程"
    raw = b"<record>hostile</record>"
    # A declared name that reads "notes_exe.pdf" on screen, through a right-to-left override.
    files = "https://files.example.org/x"
    spoofed = DigitalObjectRef(url=f"{files}/notes.exe", name="notes_\u202efdp.exe")
    encoded = DigitalObjectRef(url=f"{files}/%E8%AF%BE%E4%BB%B6.pdf")
    record = ResourceRecord(
        id="local-hostile",
        title={"zh": hostile},
        description={"en": hostile},
        objects=[spoofed, encoded],
    )
    with session_scope(live_engine) as session:
        catalogue.upsert(session, stored(record, raw, oai_id="oai:local:hostile", source_id=None))
    discover(live_engine)
    page = httpx.get(f"{url}/courses/local-hostile")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert jsonld_of(page.text)["name"] == hostile, "the JSON-LD survives the escaping intact"
    tree = html.fromstring(page.text)
    assert tree.xpath("string(//*[@id='title'])").strip() == hostile
    names = [item.text.strip() for item in tree.xpath("//*[@id='files']/li")]
    assert names == ["notes_fdp.exe", "课件.pdf"], "names shown as a download would save them"

    with session_scope(live_engine) as session:
        catalogue.delete(session, "local-hostile")
    removed = httpx.get(f"{url}/courses/local-hostile", params={"lang": "en"})
    assert removed.status_code == 410
    assert "This course was removed" in removed.text

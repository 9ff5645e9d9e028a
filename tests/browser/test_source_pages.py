"""A college looks at its source's page, in Chromium at 1366 px and at 360 px.

The college's repository (demo records on loopback) is harvested into a coursefed of its
own, served over HTTP.  Its page shows its charts; after a harvest in which one more record
states a licence nobody can recognise, the page shows the new ``unknown_license`` count (the
issues API's) and, one click away, the list holding that record with its raw record.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from app import jobs
from app.db import make_engine, session_scope
from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.settings import Settings
from app.sources import service as sources
from tests.browser.conftest import screenshot
from tests.services_plugin import free_port, serving

SLUG = "donghu"
NAME = "东湖大学课程资源库"
BAD_LICENCE = "使用须知见课程网站"
RECORDS = 30


@dataclass
class CollegeSite:
    url: str
    settings: Settings
    repository: DemoRepositoryServer
    records: list[DemoRecord]
    source_id: int
    spoiled: int = 0  # records given BAD_LICENCE so far

    def spoil_one_more(self) -> DemoRecord:
        """Give the next record a licence nobody recognises and harvest the source again."""
        index = self.spoiled
        self.spoiled += 1
        self.records[index] = dataclasses.replace(self.records[index], license=BAD_LICENCE)
        self.repository.repository.serve(self.records)
        engine = make_engine(self.settings)
        try:
            run = jobs.run_harvest(engine, self.settings, self.source_id, full=True)
        finally:
            engine.dispose()
        assert run.status == "succeeded", run.error
        return self.records[index]

    def unknown_licences(self) -> int:
        """How many records carry ``unknown_license``, as the issues API says."""
        answer = httpx.get(f"{self.url}/api/v1/sources/{SLUG}/issues", trust_env=False)
        answer.raise_for_status()
        counts = {item["code"]: item["records"] for item in answer.json()["issues"]}
        return int(counts.get("unknown_license", 0))


@pytest.fixture(scope="module")
def college_site(
    live_services: Settings, migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CollegeSite]:
    folder = tmp_path_factory.mktemp("college-site")
    database = folder / "coursefed.db"
    shutil.copyfile(migrated_sqlite, database)
    port = free_port()
    settings = live_services.model_copy(
        update={
            "data_dir": folder,
            "database_url": f"sqlite:///{database}",
            "meili_index": f"browser-{uuid.uuid4().hex[:12]}",
            "scheduler": False,
            "public_url": f"http://127.0.0.1:{port}",
        }
    )
    records = generate_corpus(RECORDS)
    with DemoRepositoryServer(records) as repository:
        engine = make_engine(settings)
        with session_scope(engine) as session:
            source = sources.add_source(
                session, slug=SLUG, name=NAME, base_url=repository.base_url,
                allow_private_network=True,
            )  # fmt: skip
            source_id = source.id
        assert source_id is not None
        run = jobs.run_harvest(engine, settings, source_id)
        assert run.status == "succeeded", run.error
        engine.dispose()
        with serving(create_app(settings), port) as url:
            yield CollegeSite(url, settings, repository, list(records), source_id)


def test_a_colleges_page_shows_its_charts_and_a_new_bad_licence_one_click_away(
    college_site: CollegeSite, page: Page
) -> None:
    site = college_site
    page.goto(site.url + "/")
    page.get_by_role("contentinfo").get_by_role("link", name="来源及其状况").click()
    page.get_by_role("link", name=NAME).click()
    assert page.url.endswith(f"/sources/{SLUG}")
    charts = page.get_by_role("img")
    expect(charts).to_have_count(3)
    for name in ("每次运行新增、更新和删除的记录", "每次运行后的记录质量", "按质量分统计的记录"):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    screenshot(page, "college-source")

    before = site.unknown_licences()
    spoiled = site.spoil_one_more()
    page.reload()
    row = page.locator("#issue-counts tr", has=page.get_by_role("link", name="许可无法识别"))
    expect(row.locator("td.num")).to_have_text(str(before + 1))
    assert site.unknown_licences() == before + 1, "the page shows the API's count"
    runs = page.locator("#runs-table tbody tr")
    expect(runs.first).to_contain_text("成功")

    row.get_by_role("link", name="许可无法识别").click()
    assert page.url.endswith(f"/sources/{SLUG}/issues/unknown_license")
    expect(page.locator("#issue-total")).to_contain_text(str(before + 1))
    record = page.locator("#issue-records > li", has_text=spoiled.title)
    expect(record).to_have_count(1)
    expect(record).to_contain_text(BAD_LICENCE)
    raw = record.get_by_role("link", name="采集到的原始记录（XML）")
    href = raw.get_attribute("href") or ""
    answer = httpx.get(site.url + href, trust_env=False)
    assert answer.status_code == 200 and BAD_LICENCE in answer.text
    screenshot(page, "college-source-issue")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"

    record.get_by_role("link", name="课程页面").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(spoiled.title)

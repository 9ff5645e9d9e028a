"""The learner's search page, driven in Debian's headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.jobs import run_harvest
from app.main import create_app
from app.settings import Settings
from app.sources import service as sources
from tests.services_plugin import serving

pytestmark = [pytest.mark.services, pytest.mark.browser]


@pytest.fixture
def site(live: Settings, live_engine: Engine) -> Iterator[str]:
    """The app, with 200 harvested demo courses, served by uvicorn on a free port."""
    with DemoRepositoryServer(generate_corpus(200)) as repository:
        with session_scope(live_engine) as session:
            source = sources.add_source(
                session, slug="demo", base_url=repository.base_url, allow_private_network=True
            )
            source_id = source.id
        assert source_id is not None
        assert run_harvest(live_engine, live, source_id).status == "succeeded"
    with serving(create_app(live)) as url:
        yield url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_search_form_lists_chinese_and_english_results(site: str, browser: Browser) -> None:
    page = browser.new_page(locale="zh-CN")  # Accept-Language: zh-CN
    page.goto(site + "/")
    page.get_by_role("searchbox").fill("计算机")
    page.get_by_role("button", name="搜索", exact=True).click()
    page.wait_for_selector("#results li")
    titles = page.locator("#results h2").all_inner_texts()
    assert "计算机科学导论" in titles
    assert "计算机" in page.locator("#results").inner_text()
    assert page.locator("#results mark").count() > 0, "query words are highlighted"

    page.get_by_role("searchbox").fill("data")
    page.get_by_role("button", name="搜索", exact=True).click()
    page.wait_for_url("**q=data**")
    titles = page.locator("#results h2").all_inner_texts()
    assert any("data" in title.lower() for title in titles)
    page.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_search_page_escapes_markup_in_the_query(site: str) -> None:
    response = httpx.get(site + "/search", params={"q": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text

"""A learner's journeys through the portal, in Chromium at 1366 px and at 360 px.

Each journey is the issue's acceptance list read literally: browse from home into a
discipline, search in Chinese and in English, add and remove facets, sort, page forward
and back, switch language, open a course, play its video, download its file, open an
institution's page.  Each keeps a screenshot of where it ended.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.conftest import DemoSite, screenshot
from tests.browser.learner import (
    api_ids,
    api_search,
    count_in,
    follow,
    link_to,
    query_of,
    result_ids,
    search,
    shows_number,
)


def test_home_leads_into_a_discipline(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/")
    everything = api_search(demo_site.url)["total"]
    assert shows_number(page, everything), "the home page tells the catalogue's size"
    discipline = link_to(page, "subject")
    shown = count_in(discipline.inner_text())
    follow(page, discipline)
    (code,) = query_of(page)["subject"]
    answer = api_search(demo_site.url, subject=code)
    assert shown == answer["total"] > 0, "the home page's count is what the discipline holds"
    assert result_ids(page) == api_ids(demo_site.url, page)
    assert shows_number(page, answer["total"])
    screenshot(page, "discipline")


@pytest.mark.parametrize("words", ["计算机", "data"])
def test_search_in_chinese_and_english(demo_site: DemoSite, page: Page, words: str) -> None:
    page.goto(demo_site.url + "/")
    search(page, words)
    assert query_of(page)["q"] == [words]
    answer = api_search(demo_site.url, q=words)
    assert answer["total"] > 0
    assert result_ids(page) == [hit["id"] for hit in answer["hits"]]
    assert shows_number(page, answer["total"])
    assert page.get_by_role("searchbox").first.input_value() == words, "the query stays"
    assert page.locator("[autofocus]").count() == 0, "no autofocus on a results page"
    if words == "计算机":
        assert page.locator(":is(h2, h3) a[href*='/courses/'] mark").count(), "titles marked"
    screenshot(page, "search-chinese-words" if words == "计算机" else "search-english-words")


def test_facets_are_added_and_removed(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/search?q=课程")
    unfiltered = result_ids(page)
    follow(page, link_to(page, "level"))
    (level,) = query_of(page)["level"]
    assert result_ids(page) == api_ids(demo_site.url, page) != unfiltered
    follow(page, link_to(page, "language"))
    assert set(query_of(page)) >= {"q", "level", "language"}, "filters add up"
    assert result_ids(page) == api_ids(demo_site.url, page)
    screenshot(page, "facets")

    # A chip per active filter: its link is the page without that one filter.
    language_chip = page.locator(
        f"a[href*='level={level}']:not([href*='language=']) >> visible=true"
    )
    follow(page, language_chip.first)
    assert "language" not in query_of(page) and query_of(page)["level"] == [level]
    follow(page, page.get_by_role("link", name=re.compile("清除全部|Clear all")))
    assert "level" not in query_of(page) and query_of(page)["q"] == ["课程"]
    assert result_ids(page) == unfiltered

    page.go_back()
    assert query_of(page)["level"] == [level] and "language" not in query_of(page)
    page.go_back()
    assert set(query_of(page)) >= {"level", "language"}, "back restores each state in turn"
    assert result_ids(page) == api_ids(demo_site.url, page)


def test_open_licences_only(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/search?q=课程")
    switch = link_to(page, "open", "true")
    shown = count_in(switch.inner_text())
    follow(page, switch)
    answer = api_search(demo_site.url, q="课程", open="true")
    assert shown == answer["total"] < api_search(demo_site.url, q="课程")["total"]
    assert result_ids(page) == api_ids(demo_site.url, page)
    assert all(hit["license_open"] for hit in answer["hits"])


def test_sort_by_newest_and_by_title(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/search?q=数据")
    relevance = result_ids(page)
    for order in ("newest", "title"):
        follow(page, link_to(page, "sort", order))
        assert query_of(page)["sort"] == [order]
        assert result_ids(page) == api_ids(demo_site.url, page) != relevance
    screenshot(page, "sorted")


def test_pages_forward_and_back_restore_state(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/search?q=计算机")
    first = result_ids(page)
    follow(page, link_to(page, "page", "2"))
    assert query_of(page)["page"] == ["2"]
    second = result_ids(page)
    assert second == api_ids(demo_site.url, page) and not set(first) & set(second)
    screenshot(page, "results-page-2")
    page.go_back()
    assert "page" not in query_of(page) or query_of(page)["page"] == ["1"]
    assert result_ids(page) == first, "back shows the first page again"
    assert page.get_by_role("searchbox").first.input_value() == "计算机"
    page.go_forward()
    assert result_ids(page) == second


def test_results_are_numbered_across_pages(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/search?q=计算机&page=2")
    total = api_search(demo_site.url, q="计算机")["total"]
    pages = -(-total // 20)
    assert re.search(rf"第\s*2\s*/\s*{pages}\s*页", page.locator("body").inner_text())
    first = page.locator("ol:has(a[href*='/courses/'])").first
    assert first.get_attribute("start") == "21", "the second page goes on from 21"


def test_switch_language_and_it_stays(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/search?q=data")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    before = result_ids(page)
    follow(page, page.get_by_role("link", name="English"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert query_of(page)["q"] == ["data"], "switching language keeps the search"
    assert result_ids(page) == before
    assert page.get_by_role("button", name="Search").count(), "labels are English"
    screenshot(page, "results-in-english")
    page.goto(demo_site.url + "/")
    assert page.locator("html").get_attribute("lang") == "en", "the choice is remembered"
    follow(page, page.get_by_role("link", name="中文"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_a_result_opens_its_course(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/search?q=计算机")
    (first, *_) = result_ids(page)
    follow(page, page.locator(f":is(h2, h3) a[href*='/courses/{first}']").first)
    record = httpx.get(f"{demo_site.url}/api/v1/resources/{first}", trust_env=False).json()
    title = record["title"]
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.strip() in title.values(), "the course's title is the page's <h1>"
    assert heading.strip() in page.title()
    screenshot(page, "course-from-results")


def test_a_course_video_plays(demo_site: DemoSite, page: Page) -> None:
    video = demo_site.stored("video/mp4")
    page.goto(f"{demo_site.url}/courses/{video.resource_id}")
    player = page.locator("video").first
    player.scroll_into_view_if_needed()
    player.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function(  # decoding may wait for a busy CI machine: 15 s, not 5
        "v => v.readyState >= 2 && v.currentTime > 0.2", arg=player.element_handle(), timeout=15_000
    )
    assert video.sha256 in (player.evaluate("v => v.currentSrc") or "")
    screenshot(page, "course-video")


def test_a_course_file_link_serves_its_stored_bytes(demo_site: DemoSite, page: Page) -> None:
    pdf = demo_site.stored("application/pdf")
    page.goto(f"{demo_site.url}/courses/{pdf.resource_id}")
    href = page.locator(f"a[href*='{pdf.sha256}']").first.get_attribute("href") or ""
    # The browser's own HTTP stack (its cookies, the redirect to S3 and back).
    answer = page.request.get(page.url.split("/courses/")[0] + href if href[0] == "/" else href)
    assert answer.ok, answer.status
    data = answer.body()
    assert (hashlib.sha256(data).hexdigest(), len(data)) == (pdf.sha256, pdf.size)


def test_a_course_file_downloads_whole(demo_site: DemoSite, page: Page, tmp_path: Path) -> None:
    pdf = demo_site.stored("application/pdf")
    page.goto(f"{demo_site.url}/courses/{pdf.resource_id}")
    link = page.locator(f"a[href*='{pdf.sha256}'][download]").first
    with page.expect_download() as started:
        link.click()
    saved = tmp_path / "download"
    started.value.save_as(saved)
    data = saved.read_bytes()
    assert (hashlib.sha256(data).hexdigest(), len(data)) == (pdf.sha256, pdf.size)
    assert started.value.suggested_filename.endswith(".pdf")


def test_an_institution_page_lists_its_courses(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/institutions")
    screenshot(page, "institutions")
    link = page.locator("main a[href*='/institutions/']").first
    follow(page, link)
    institution_id = page.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    known = httpx.get(
        f"{demo_site.url}/api/v1/institutions/{institution_id}", trust_env=False
    ).json()
    names = {known["name_zh"], known["name_en"]}
    assert page.get_by_role("heading", level=1).inner_text().strip() in names
    assert shows_number(page, known["count"])
    assert result_ids(page), "its courses are listed"
    screenshot(page, "institution-from-list")

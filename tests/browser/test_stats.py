"""The statistics page in Chromium at 1366 and 360 px: its charts are drawn inside the
screen with their numbers as tables, a bar leads to the courses it counts, the keyboard
reaches the same searches through the tables, and axe-core finds nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Axe, DemoSite, screenshot
from tests.browser.learner import api_search, follow, query_of, shows_number


def stats_of(site: DemoSite) -> dict[str, Any]:
    answer = httpx.get(f"{site.url}/api/v1/stats", trust_env=False)
    answer.raise_for_status()
    body: dict[str, Any] = answer.json()
    return body


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_statistics_page_draws_its_charts_and_tables_inside_the_screen(
    demo_site: DemoSite, page: Page, axe: Axe, width: int, lang: str
) -> None:
    url = f"{demo_site.url}/stats" + ("?lang=en" if lang == "en" else "")
    answer = page.goto(url)
    assert answer is not None and answer.status == 200
    numbers = stats_of(demo_site)
    assert numbers["total"] == api_search(demo_site.url)["total"]
    assert shows_number(page, numbers["total"]), "the page tells the catalogue's size"
    charts = page.get_by_role("img")
    assert charts.count() >= 10, "a chart for each dimension, the months and the files"
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 100, "a chart is drawn"
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, "and fits the screen"
    assert page.locator("table").count() >= charts.count(), "every chart's numbers as a table"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"
    screenshot(page, f"statistics-charts-{lang}")
    axe.check(url)


def test_a_bar_leads_to_the_courses_it_counts(demo_site: DemoSite, page: Page) -> None:
    page.goto(demo_site.url + "/stats")
    category = stats_of(demo_site)["dimensions"]["category"]["values"][0]
    bar = page.locator("#stats-category-chart svg a").first
    follow(page, bar)
    assert query_of(page)["subject"] == [category["value"]]
    assert api_search(demo_site.url, subject=category["value"])["total"] == category["count"]
    assert shows_number(page, category["count"])


def test_the_keyboard_reaches_each_search_through_the_tables(
    demo_site: DemoSite, page: Page
) -> None:
    page.goto(demo_site.url + "/stats")
    level = stats_of(demo_site)["dimensions"]["level"]["values"][0]
    section = page.locator("section[aria-labelledby='stats-level']")
    section.locator("summary").first.click()  # open the table, as a learner would
    link = section.locator("table a").first
    link.focus()
    assert page.evaluate("document.activeElement.closest('svg')") is None
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query_of(page)["level"] == [level["value"]]

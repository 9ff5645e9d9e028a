"""axe-core (WCAG 2.0-2.2, levels A and AA) finds nothing on any type of page, at 1366 and
360 px: home, results, empty results, course, institution, the sources' pages, the quality
guide, statistics and the error pages, in Chinese and in English; and no page is wider than
the screen."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page

from app.demo.run import DEMO_SLUG
from tests.browser.conftest import Axe, DemoSite, screenshot


def first_institution(site: DemoSite) -> str:
    answer = httpx.get(f"{site.url}/api/v1/institutions", trust_env=False)
    assert answer.status_code == 200, "the institutions API answers"
    items = answer.json()
    items = items.get("institutions", items) if isinstance(items, dict) else items
    return f"/institutions/{items[0]['id']}"


def demo_issue(site: DemoSite) -> str:
    """The list of the demo source's records with its most frequent issue."""
    answer = httpx.get(f"{site.url}/api/v1/sources/{DEMO_SLUG}/issues", trust_env=False)
    assert answer.status_code == 200, "the issues API answers"
    issues = answer.json()["issues"]
    code = issues[0]["code"] if issues else "unknown_license"
    return f"/sources/{DEMO_SLUG}/issues/{code}"


PAGES: dict[str, Callable[[DemoSite], str]] = {
    "home": lambda _site: "/",
    "home-en": lambda _site: "/?lang=en",
    "results": lambda _site: "/search?q=计算机",
    "results-filtered": lambda _site: "/search?q=数据&level=undergraduate&sort=newest&page=2",
    "empty-results": lambda _site: "/search?q=zzqx%20qqzv",
    "corrected-results": lambda _site: "/search?q=操做系统",
    "did-you-mean": lambda _site: "/search?q=操做系统&correct=false&lang=en",
    "course": lambda site: f"/courses/{site.stored('video/mp4').resource_id}",
    "course-pdf": lambda site: f"/courses/{site.stored('application/pdf').resource_id}",
    "course-en": lambda site: f"/courses/{site.stored('video/mp4').resource_id}?lang=en",
    "institution": first_institution,
    "catalogue-files": lambda _site: "/catalogue",
    "catalogue-files-en": lambda _site: "/catalogue?lang=en",
    "sources": lambda _site: "/sources",
    "source": lambda _site: f"/sources/{DEMO_SLUG}",
    "source-en": lambda _site: f"/sources/{DEMO_SLUG}?lang=en",
    "source-issue": demo_issue,
    "quality": lambda _site: "/quality",
    "quality-en": lambda _site: "/quality?lang=en",
    "error-404-source": lambda _site: "/sources/no-such-source",
    "stats": lambda _site: "/stats",
    "stats-en": lambda _site: "/stats?lang=en",
    "error-404-course": lambda _site: "/courses/no-such-course",
    "error-404-path": lambda _site: "/no-such-page",
    "error-410": lambda site: f"/courses/{site.removed}",
    "error-422": lambda _site: "/search?page=0",
    "error-503": lambda site: f"{site.unavailable_url}/search?q=计算机",
}
STATUS = {
    "error-404-source": 404,
    "error-404-course": 404,
    "error-404-path": 404,
    "error-410": 410,
    "error-422": 422,
    "error-503": 503,
}


@pytest.mark.parametrize("kind", PAGES)
def test_axe_finds_no_violation_and_the_page_fits(
    demo_site: DemoSite, page: Page, axe: Axe, kind: str
) -> None:
    path = PAGES[kind](demo_site)
    url = path if path.startswith("http") else demo_site.url + path
    answer = page.goto(url)
    assert answer is not None and answer.status == STATUS.get(kind, 200)
    assert "text/html" in (page.evaluate("document.contentType") or ""), "a page for people"
    screenshot(page, kind)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"
    axe.check(url)

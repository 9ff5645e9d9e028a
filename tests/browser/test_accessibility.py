"""axe-core (WCAG 2.0-2.2, levels A and AA) finds nothing on any type of page, at 1366 and
360 px: home, results, empty results, course, institution and the error pages."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page

from tests.browser.conftest import Axe, DemoSite, screenshot

NOT_YET = "this type of page is not built yet (issue 15)"


def first_institution(site: DemoSite) -> str:
    answer = httpx.get(f"{site.url}/api/v1/institutions", trust_env=False)
    assert answer.status_code == 200, "the institutions API answers"
    items = answer.json()
    items = items.get("institutions", items) if isinstance(items, dict) else items
    return f"/institutions/{items[0]['id']}"


PAGES: dict[str, Callable[[DemoSite], str]] = {
    "home": lambda _site: "/",
    "results": lambda _site: "/?q=计算机",
    "results-filtered": lambda _site: "/?q=数据&level=undergraduate&sort=newest&page=2",
    "empty-results": lambda _site: "/?q=zzqx%20qqzv",
    "course": lambda site: f"/courses/{site.stored('video/mp4').resource_id}",
    "course-pdf": lambda site: f"/courses/{site.stored('application/pdf').resource_id}",
    "institution": first_institution,
    "error-404-course": lambda _site: "/courses/no-such-course",
    "error-404-path": lambda _site: "/no-such-page",
    "error-410": lambda site: f"/courses/{site.removed}",
    "error-422": lambda _site: "/?page=0",
    "error-503": lambda site: f"{site.unavailable_url}/?q=计算机",
}
STATUS = {
    "error-404-course": 404,
    "error-404-path": 404,
    "error-410": 410,
    "error-422": 422,
    "error-503": 503,
}
# The pages the issue asks for that do not exist yet: no HTML institution page, and page
# routes that answer JSON or miss a document language.
MISSING = {"institution", "error-404-path", "error-422"}


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(kind, marks=pytest.mark.xfail(strict=True, reason=NOT_YET))
        if kind in MISSING
        else kind
        for kind in PAGES
    ],
)
def test_axe_finds_no_violation(demo_site: DemoSite, page: Page, axe: Axe, kind: str) -> None:
    path = PAGES[kind](demo_site)
    url = path if path.startswith("http") else demo_site.url + path
    answer = page.goto(url)
    assert answer is not None and answer.status == STATUS.get(kind, 200)
    assert "text/html" in (page.evaluate("document.contentType") or ""), "a page for people"
    screenshot(page, kind)
    axe.check(url)

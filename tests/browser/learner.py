"""What a learner does on the pages, and what the API says the pages should show.

The page helpers find things as a learner does, by role, name and link target, not by the
markup's ids, so the tests read as the issue's acceptance list and survive restyling.
Where a page's answer can be checked, it is checked against ``GET /api/v1/search`` with the
same parameters: the page must show the catalogue, not merely something.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Locator, Page

_COURSE_PATH = re.compile(r"/courses/([^/?#]+)")
_DRAWER = re.compile(r"筛选|Filter", re.IGNORECASE)


def api_search(base_url: str, **params: Any) -> dict[str, Any]:
    """The search API's answer for the same parameters a page was given."""
    answer = httpx.get(f"{base_url}/api/v1/search", params=params, trust_env=False)
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()
    return data


def query_of(page: Page) -> dict[str, list[str]]:
    """The page's URL parameters: the whole state of a results page."""
    return parse_qs(urlsplit(page.url).query)


def search(page: Page, text: str) -> None:
    """Type into the search box and press Enter, as a learner would."""
    box = page.get_by_role("searchbox").first
    box.fill(text)
    with page.expect_navigation():
        box.press("Enter")


def result_ids(page: Page) -> list[str]:
    """The ids of the courses the results list shows, in order (each once)."""
    hrefs = page.locator(":is(h2, h3) a[href*='/courses/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    ids: list[str] = []
    for href in hrefs:
        found = _COURSE_PATH.search(href or "")
        if found and found.group(1) not in ids:
            ids.append(found.group(1))
    return ids


def api_ids(base_url: str, page: Page, **extra: Any) -> list[str]:
    """The ids the API answers for the parameters in the page's URL (``lang`` aside).

    Without words relevance orders nothing, so the page lists the newest first: the API is
    asked for that order too.
    """
    params: dict[str, Any] = {k: v for k, v in query_of(page).items() if k != "lang"}
    if not params.get("q") and "sort" not in params:
        params["sort"] = "newest"
    params.update(extra)
    return [hit["id"] for hit in api_search(base_url, **params)["hits"]]


def shows_number(page: Page, number: int) -> bool:
    """Whether the page's text holds ``number``, as written in either language (1234/1,234)."""
    text = page.locator("body").inner_text()
    written = {str(number), f"{number:,}"}
    return any(re.search(rf"(?<![\d,]){re.escape(w)}(?![\d,])", text) for w in written)


def link_to(page: Page, parameter: str, value: str | None = None) -> Locator:
    """The first visible link whose target sets ``parameter`` (to exactly ``value``),
    opening the facet drawer first on a phone, where the links are folded away."""
    candidates = page.locator(f"a[href*='{parameter}=']")
    hrefs = candidates.evaluate_all("links => links.map(a => a.href)")
    chosen = [
        index
        for index, href in enumerate(hrefs)
        if (values := parse_qs(urlsplit(href).query).get(parameter))
        and (value is None or value in values)
    ]
    assert chosen, f"no link sets {parameter}={value or '…'}"
    link = candidates.nth(chosen[0])
    if not link.is_visible():
        drawer = page.locator("summary").filter(has_text=_DRAWER)
        if drawer.count():
            drawer.first.click()
    visible = [i for i in chosen if candidates.nth(i).is_visible()]
    assert visible, f"no visible link sets {parameter}={value or '…'}"
    return candidates.nth(visible[0])


def follow(page: Page, link: Locator) -> None:
    """Click a link and wait for the page it leads to."""
    with page.expect_navigation():
        link.click()


def count_in(text: str) -> int:
    """The count a facet or browse link shows next to its label, e.g. "工学 (1,234)"."""
    numbers = re.findall(r"\d[\d,]*", text)
    assert numbers, f"no count in {text!r}"
    return int(numbers[-1].replace(",", ""))

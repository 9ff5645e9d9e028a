"""Where people find the files and feeds: the ``/catalogue`` page, and the subscribe and
download links of the results and institution pages, in Chinese and English."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy.engine import Engine

from app.jobs import sync_search
from app.main import create_app
from app.settings import Settings
from tests.publication.harvests import Harvest

NOV = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
DEC = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def page_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def page(client: TestClient, url: str) -> html.HtmlElement:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return html.fromstring(response.text)


def feed_links(document: html.HtmlElement) -> list[str]:
    return document.xpath('//head/link[@rel="alternate"][@type="application/atom+xml"]/@href')


def csv_ids(client: TestClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return [row["id"] for row in csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))]


WORDS = {
    "zh": ("目录下载", ["2026年12月", "2026年11月"], "3 门课程"),
    "en": ("Catalogue files", ["December 2026", "November 2026"], "3 courses"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_catalogue_page_lists_each_month_with_its_count_and_files(
    page_client: TestClient, harvest: Harvest, lang: str
) -> None:
    heading, months, total = WORDS[lang]
    november = [harvest.store(1, NOV), harvest.store(2, NOV)]
    harvest.store(3, DEC)
    document = page(page_client, f"/catalogue?lang={lang}")
    assert document.get("lang") == ("zh-CN" if lang == "zh" else "en")
    assert document.findtext(".//h1") == heading
    rows = document.xpath('//table[@id="monthly-files"]/tbody/tr')
    assert [row.xpath("string(th)").strip() for row in rows] == months
    assert [row.xpath("string(td[1])").strip() for row in rows] == ["1", "2"]
    assert total in document.xpath('string(//*[@id="all-files"])')
    csv_link, json_link = rows[1].xpath(".//a/@href")
    assert (csv_link, json_link) == (
        "/api/v1/catalogue.csv?month=2026-11",
        "/api/v1/catalogue.json?month=2026-11",
    )
    assert sorted(csv_ids(page_client, csv_link)) == sorted(november), "the link is the file"
    assert page_client.get(json_link).json()["count"] == 2
    assert feed_links(document) == ["/feeds/courses.atom" + ("?lang=en" if lang == "en" else "")]
    footer = document.xpath("//footer//a/@href")
    assert "/catalogue" in footer, "every page leads to the files"


@pytest.mark.parametrize(
    ("lang", "empty"), [("zh", "尚未收录任何课程。"), ("en", "No course has been harvested yet.")]
)
def test_an_empty_catalogue_says_so(page_client: TestClient, lang: str, empty: str) -> None:
    document = page(page_client, f"/catalogue?lang={lang}")
    assert empty in document.text_content()


@pytest.fixture
def indexed(live: Settings, live_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Harvest:
    shelf = Harvest(live_engine, monkeypatch)
    shelf.store(1, NOV, subjects=("0812",))
    shelf.store(2, NOV, subjects=("0701",), institution="东湖学院")
    sync_search(live_engine, live)
    return shelf


@pytest.mark.services
@pytest.mark.parametrize(
    ("lang", "subscribe", "download"),
    [("zh", "订阅", "下载目录"), ("en", "Subscribe", "Download catalogue")],
)
def test_the_results_page_offers_its_feed_and_its_file(
    client: TestClient, indexed: Harvest, lang: str, subscribe: str, download: str
) -> None:
    document = page(client, f"/search?subject=0812&lang={lang}")
    suffix = "&lang=en" if lang == "en" else ""
    assert feed_links(document) == [f"/feeds/courses.atom?subject=0812{suffix}"]
    links = {a.text_content(): a.get("href") for a in document.xpath('//*[@id="publish-links"]/a')}
    assert links[subscribe] == f"/feeds/courses.atom?subject=0812{suffix}"
    assert links[download] == "/api/v1/catalogue.csv?subject=0812"
    total = client.get("/api/v1/search?subject=0812").json()["total"]
    assert len(csv_ids(client, links[download])) == total == 1
    assert client.get(links[subscribe]).status_code == 200

    words = page(client, f"/search?q=课程&lang={lang}")
    links = {a.text_content(): a.get("href") for a in words.xpath('//*[@id="publish-links"]/a')}
    assert download not in links, "a file lists facts: a search for words has none"
    assert links[subscribe].startswith("/feeds/courses.atom?q=")


@pytest.mark.services
@pytest.mark.parametrize(
    ("lang", "subscribe", "download"),
    [("zh", "订阅", "下载目录"), ("en", "Subscribe", "Download catalogue")],
)
def test_an_institution_page_offers_its_feed_and_its_file(
    client: TestClient, indexed: Harvest, lang: str, subscribe: str, download: str
) -> None:
    schools = client.get("/api/v1/institutions").json()["institutions"]
    (school,) = [s for s in schools if s["name_zh"] == "东湖学院"]
    document = page(client, f"/institutions/{school['id']}?lang={lang}")
    suffix = "&lang=en" if lang == "en" else ""
    feed = f"/feeds/courses.atom?institution={school['id']}{suffix}"
    assert feed_links(document) == [feed]
    links = {a.text_content(): a.get("href") for a in document.xpath('//*[@id="publish-links"]/a')}
    assert links == {subscribe: feed, download: f"/api/v1/catalogue.csv?institution={school['id']}"}
    assert len(csv_ids(client, links[download])) == 1

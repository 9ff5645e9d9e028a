"""The public statistics: ``GET /api/v1/stats`` (JSON and CSV) and the ``/stats`` page, on a
harvested demo catalogue in real Meilisearch; the files held on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy.engine import Engine

from app import jobs
from app.catalogue import service as catalogue
from app.clock import utcnow
from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.objects import repository as objects_repository
from app.objects import service as objects
from app.objects.discovery import discover
from app.search.gateway import SearchIndex
from app.search.schemas import FacetValue
from app.settings import Settings
from app.sources import service as sources
from app.stats import service as stats
from app.web import stats_page
from metadata.profile import ResourceRecord
from tests.app.records import publish, stored
from tests.conftest import make_settings, sqlite_search_node

FACETS = ("subject", "level", "type", "language", "institution", "license", "source")
"""The search API's facets, and the statistics' dimension each is counted in."""
OWN = 4
"""Courses of our own, without a level or a discipline."""


@pytest.fixture(scope="module")
def catalogue_settings(
    live_services: Settings, migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, Engine]]:
    """160 demo courses harvested and indexed (their files noted, not fetched), and a few of
    our own without a level."""
    folder = tmp_path_factory.mktemp("stats")
    settings = sqlite_search_node(live_services, migrated_sqlite, folder)
    engine = make_engine(settings)
    with DemoRepositoryServer(generate_corpus(160)) as repository:
        with session_scope(engine) as session:
            source = sources.add_source(
                session,
                slug="demo",
                name="示范课程库",
                base_url=repository.base_url,
                allow_private_network=True,
            )
            source_id = source.id
        assert source_id is not None
        assert jobs.run_harvest(engine, settings, source_id).status == "succeeded"
    with session_scope(engine) as session:
        for n in range(OWN):
            record = ResourceRecord(id=f"own-{n}", title={"zh": f"自建课程 {n}"}, languages=["zh"])
            catalogue.upsert(
                session, stored(record, b"<x/>", oai_id=f"oai:own:{n}", source_id=None)
            )
    jobs.sync_search(engine, settings)
    discover(engine)  # the files the courses name, waiting to be fetched
    yield settings, engine
    engine.dispose()


@pytest.fixture(scope="module")
def site(catalogue_settings: tuple[Settings, Engine]) -> Iterator[TestClient]:
    stats.forget()
    with TestClient(create_app(catalogue_settings[0]), follow_redirects=False) as client:
        yield client


def live_courses(engine: Engine) -> int:
    """Live, publishable courses as the database holds them."""
    with session_scope(engine) as session:
        return sum(page.count for page in catalogue.live_pages(session, 1000))


def get_json(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    response = client.get(url, params=params or None)  # {} would drop the URL's own query
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def counts(values: list[dict[str, Any]]) -> dict[str, int]:
    return {value["value"]: value["count"] for value in values}


# --- the API ---------------------------------------------------------------------------------


def test_stats_totals_equal_the_search_apis_facet_counts(
    site: TestClient, catalogue_settings: tuple[Settings, Engine]
) -> None:
    numbers = get_json(site, "/api/v1/stats")
    search = get_json(site, "/api/v1/search", per_page=1)
    assert numbers["total"] == search["total"] == live_courses(catalogue_settings[1])
    dimensions = numbers["dimensions"]
    for facet in FACETS:
        searched = counts(search["facets"][facet])
        if facet == "subject":
            counted = counts(dimensions["category"]["values"] + dimensions["discipline"]["values"])
        else:
            counted = counts(dimensions[facet]["values"])
        assert counted == searched, facet
        assert searched, f"the demo catalogue has values of {facet}"
    open_counts = counts(search["facets"]["open"]) if "open" in search["facets"] else None
    stated_open = counts(dimensions["open"]["values"])
    assert sum(stated_open.values()) == numbers["total"]
    if open_counts is not None:
        assert stated_open == open_counts


def test_each_value_leads_to_a_search_that_finds_as_many_courses(site: TestClient) -> None:
    dimensions = get_json(site, "/api/v1/stats")["dimensions"]
    for name in ("category", "level", "institution", "license", "open"):
        value = dimensions[name]["values"][0]
        found = get_json(site, value["search_url"] + "&per_page=1")
        assert found["total"] == value["count"], (name, value)
    assert all(v["search_url"] is None for v in dimensions["added"]["values"])
    assert [v["search_url"] for v in dimensions["open"]["values"] if v["value"] == "false"] == [
        None
    ], "no search keeps the courses without an open licence"


def test_courses_without_a_value_are_counted_as_not_stated(site: TestClient) -> None:
    numbers = get_json(site, "/api/v1/stats")
    dimensions = numbers["dimensions"]
    level = dimensions["level"]
    assert level["not_stated"] >= OWN
    assert sum(v["count"] for v in level["values"]) + level["not_stated"] == numbers["total"]
    assert dimensions["category"]["not_stated"] == OWN
    assert dimensions["discipline"]["not_stated"] is None, "a course may name a category only"
    for name in ("category", "level", "institution", "license", "source", "added"):
        assert dimensions[name]["complete"], name
        assert dimensions[name]["others"] in (0, None)


def test_every_course_counts_in_the_month_it_was_first_harvested(site: TestClient) -> None:
    numbers = get_json(site, "/api/v1/stats")
    added = numbers["dimensions"]["added"]
    month = datetime.now(UTC).strftime("%Y-%m")
    year, number = month.split("-")
    assert added["values"] == [
        {
            "value": month,
            "count": numbers["total"],
            "label": {
                "zh": f"{year}年{int(number)}月",
                "en": f"{stats.MONTHS_EN[int(number) - 1]} {year}",
            },
            "search_url": None,
        }
    ]
    assert added["filter"] is None


def test_sources_and_institutions_are_labelled_with_their_names(site: TestClient) -> None:
    dimensions = get_json(site, "/api/v1/stats")["dimensions"]
    demo = next(v for v in dimensions["source"]["values"] if v["value"] == "demo")
    assert demo["label"] == {"zh": "示范课程库", "en": "示范课程库"}
    assert all(v["label"].get("zh") for v in dimensions["institution"]["values"])
    assert dimensions["category"]["label"] == {"zh": "学科门类", "en": "Discipline category"}


def test_the_csv_parses_and_holds_the_numbers_of_the_json(site: TestClient) -> None:
    numbers = get_json(site, "/api/v1/stats")
    response = site.get("/api/v1/stats.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel reads UTF-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == list(stats.CSV_COLUMNS)
    table = {(row["dimension"], row["value"]): row for row in rows}
    assert int(table["total", ""]["count"]) == numbers["total"]
    for name, dimension in numbers["dimensions"].items():
        for value in dimension["values"]:
            row = table[name, value["value"]]
            assert int(row["count"]) == value["count"]
            assert row["label_zh"] == (value["label"].get("zh") or value["label"].get("en", ""))
        if dimension["not_stated"]:
            assert int(table[name, stats.NOT_STATED]["count"]) == dimension["not_stated"]
    files = numbers["files"]
    assert int(table["files", "held"]["count"]) == files["held"]
    assert int(table["files", "bytes"]["count"]) == files["bytes"]
    for status, count in files["links"].items():
        assert int(table["links", status]["count"]) == count
    assert len(rows) == len(table), "one row per (dimension, value)"


def test_the_answers_may_be_cached_as_long_as_they_are_kept(site: TestClient) -> None:
    for url in ("/api/v1/stats", "/api/v1/stats.csv"):
        assert site.get(url).headers["cache-control"] == "public, max-age=30"


def test_when_search_is_down_the_statistics_are_503_json_and_an_html_page(
    tmp_path: Path,
) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as offline:
        for url in ("/api/v1/stats", "/api/v1/stats.csv"):
            answer = offline.get(url)
            assert answer.status_code == 503
            assert answer.json()["error"] == "service_unavailable"
            assert answer.headers["retry-after"] == "30"
        page = offline.get("/stats")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert html.fromstring(page.text).xpath("//*[@id='error']")
        assert "127.0.0.1:9" not in page.text


def test_an_empty_catalogue_has_statistics_of_zero(live: Settings) -> None:
    with TestClient(create_app(live)) as client:
        numbers = get_json(client, "/api/v1/stats")
        assert numbers["total"] == 0
        assert all(not d["values"] for d in numbers["dimensions"].values())
        page = client.get("/stats")
        assert page.status_code == 200


# --- the copy in memory ----------------------------------------------------------------------


def test_numbers_are_kept_for_a_while_then_counted_again_behind_the_scenes(
    catalogue_settings: tuple[Settings, Engine],
) -> None:
    settings, engine = catalogue_settings
    stats.forget()
    with SearchIndex.from_settings(settings) as index:
        uid = settings.meili_index
        first = stats.catalogue_stats(engine, index, uid)
        assert stats.catalogue_stats(engine, index, uid) is first, "kept"
        # Older than asked for: the copy is answered at once, a thread counts the next.
        again = stats.catalogue_stats(engine, index, uid, max_age=0)
        assert again is first
        deadline = time.monotonic() + 10
        while (latest := stats.catalogue_stats(engine, index, uid)) is first:
            assert time.monotonic() < deadline, "the copy was counted again"
            time.sleep(0.05)
        assert latest.total == first.total
        assert latest.computed_at > first.computed_at


def test_a_name_that_looks_like_a_formula_stays_text_in_the_csv() -> None:
    numbers = stats.CatalogueStats(
        total=1,
        dimensions={
            "source": stats.Dimension(
                name="source",
                label={"zh": "来源", "en": "Source"},
                filter="source",
                values=[FacetValue(value="x", count=1, label={"zh": "=HYPERLINK(1)", "en": "+1"})],
            )
        },
    )
    rows = list(csv.reader(io.StringIO(stats.stats_csv(numbers))))
    assert ["source", "x", "'=HYPERLINK(1)", "'+1", "1"] in rows


# --- the files held (SQL of the objects domain, on both databases) ---------------------------


def held(engine: Engine) -> objects.Holdings:
    with session_scope(engine) as session:
        return objects.holdings(session)


def test_files_are_counted_once_by_content_and_links_by_their_last_check(engine: Engine) -> None:
    with session_scope(engine) as session:
        source_id = sources.add_source(
            session, slug="college", base_url="http://example.org/oai"
        ).id
    assert source_id is not None
    base = "http://files.example.org"
    publish(engine, source_id, 1, [f"{base}/a.pdf", f"{base}/b.pdf"], title={"zh": "一"})
    publish(engine, source_id, 2, [f"{base}/a-copy.pdf", f"{base}/c.pdf"], title={"zh": "二"})
    discover(engine)
    assert held(engine) == objects.Holdings(
        objects={"pending": 4}, links={"ok": 0, "broken": 0, "unchecked": 4}
    )
    with session_scope(engine) as session:
        rows = {
            row.url: row.id for row in objects_repository.due_objects(session, utcnow(), limit=10)
        }
        objects_repository.upsert_blob(
            session, sha256="a" * 64, size=1000, media_type="application/pdf", file_name="a.pdf"
        )
        same = [rows[f"{base}/a.pdf"], rows[f"{base}/a-copy.pdf"]]  # the same bytes twice
        objects_repository.mark_stored(
            session, same, sha256="a" * 64, size=1000, media_type="application/pdf"
        )
        objects_repository.mark_links(session, same, "ok", utcnow())
        objects_repository.mark_links(session, [rows[f"{base}/c.pdf"]], "broken", utcnow())
    assert held(engine) == objects.Holdings(
        files=1,
        bytes=1000,
        objects={"stored": 2, "pending": 2},
        links={"ok": 2, "broken": 1, "unchecked": 1},
    )


# --- what the page makes of the numbers ------------------------------------------------------


def test_months_without_new_courses_are_in_the_series_as_zero() -> None:
    values = [
        FacetValue(value="2025-11", count=3),
        FacetValue(value="2026-02", count=5),
        FacetValue(value="not-a-month", count=9),
    ]
    assert stats_page.months(values) == [
        ("2025-11", {"added": 3}),
        ("2025-12", {"added": 0}),
        ("2026-01", {"added": 0}),
        ("2026-02", {"added": 5}),
    ]
    assert stats_page.months([]) == []


# --- the page --------------------------------------------------------------------------------


def page_tree(client: TestClient, url: str) -> Any:
    client.cookies.clear()
    response = client.get(url)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return html.fromstring(response.text)


def text(node: Any) -> str:
    return " ".join(node.text_content().split())


def test_the_statistics_page_shows_each_dimension_as_a_chart_and_a_table(site: TestClient) -> None:
    numbers = get_json(site, "/api/v1/stats")
    page = page_tree(site, "/stats")
    assert page.get("lang") == "zh-CN"
    assert text(page.xpath("//h1")[0]) == "课程目录统计"
    assert f"{numbers['total']:,}" in text(page.get_element_by_id("stats-total"))
    for name in ("category", "discipline", "level", "type", "language", "institution", "open",
                 "license", "source", "added", "files"):  # fmt: skip
        section = page.xpath(f"//section[@aria-labelledby='stats-{name}']")
        assert section, name
        svg = section[0].xpath(".//svg[@role='img']")
        assert svg, f"{name} has a chart"
        assert svg[0].xpath("./title/text()") and svg[0].xpath("./desc/text()")
        assert section[0].xpath(".//table"), f"{name} has a table"
    category = page.xpath("//section[@aria-labelledby='stats-category']")[0]
    rows = category.xpath(".//table/tbody/tr")
    expected = numbers["dimensions"]["category"]
    assert len(rows) == len(expected["values"]) + (1 if expected["not_stated"] else 0)
    first = expected["values"][0]
    assert rows[0].xpath("string(th/a/@href)") == f"/search?subject={first['value']}"
    assert text(rows[0].xpath("th")[0]) == first["label"]["zh"]
    assert text(rows[0].xpath("td")[0]) == f"{first['count']:,}"
    assert text(rows[-1].xpath("th")[0]) == "未注明"
    bars = category.xpath(".//svg//a/@href")
    assert bars[0] == f"/search?subject={first['value']}"


def test_each_link_of_the_page_is_a_search_the_results_page_answers(site: TestClient) -> None:
    page = page_tree(site, "/stats")
    links = {href for href in page.xpath("//main//a/@href") if href.startswith("/search")}
    assert "/search?open=true" in links
    assert any(href.startswith("/search?institution=") for href in links)
    assert any(href.startswith("/search?source=demo") for href in links)
    for href in sorted(links)[:12]:
        assert site.get(href).status_code == 200, href


def test_the_statistics_page_in_english_names_values_in_english(site: TestClient) -> None:
    page = page_tree(site, "/stats?lang=en")
    assert page.get("lang") == "en"
    assert text(page.xpath("//h1")[0]) == "The catalogue in numbers"
    level = page.xpath("//section[@aria-labelledby='stats-level']")[0]
    assert "Undergraduate education" in text(level)
    hrefs = level.xpath(".//table//a/@href")
    assert hrefs and all(href.endswith("&lang=en") for href in hrefs), "links keep the language"
    assert "Courses added per month" in text(page)


def test_the_page_offers_the_numbers_as_csv_and_every_page_links_to_it(site: TestClient) -> None:
    page = page_tree(site, "/stats")
    assert page.xpath("//a[@href='/api/v1/stats.csv']")
    home = page_tree(site, "/institutions")
    assert home.xpath("//footer//a[@href='/stats']")

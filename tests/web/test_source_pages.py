"""The sources' pages, rendered by the app over a harvested source: the list of sources, a
source's health, and the paged list of its records with one issue.  Every number a page
shows is checked against ``app.sources.health``, which the source health API serves too.

A college's demo repository is harvested on SQLite and PostgreSQL; a few of its records
state a licence nobody can recognise, so the source has ``unknown_license`` records.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import jobs
from app.db import session_scope
from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.settings import Settings
from app.sources import health
from app.sources import service as sources
from app.sources.conformance import Check
from app.sources.models import Source
from app.web import i18n
from app.web import sources as source_pages
from app.web.quality import severity

BAD_LICENCE = "使用须知见课程网站"  # a statement that names no licence
RECORDS = 24
BAD = 5  # records stating BAD_LICENCE


@dataclass
class College:
    client: TestClient
    engine: Engine
    settings: Settings
    repository: DemoRepositoryServer
    records: list[DemoRecord]
    source_id: int

    def source(self, session: Session) -> Source:
        found = sources.get_source(session, self.source_id)
        assert found is not None
        return found

    def health(self) -> health.SourceHealth:
        with Session(self.engine) as session:
            return health.source_health(session, self.source(session))

    def page(self, url: str) -> html.HtmlElement:
        response = self.client.get(url)
        assert response.status_code == 200, response.text[:500]
        assert response.headers["content-type"].startswith("text/html")
        return html.fromstring(response.text)

    def harvest_again(self, records: list[DemoRecord]) -> None:
        self.records = records
        self.repository.repository.serve(records)
        run = jobs.run_harvest(self.engine, self.settings, self.source_id, full=True)
        assert run.status == "succeeded", run.error


def with_licence(record: DemoRecord, licence: str) -> DemoRecord:
    return dataclasses.replace(record, license=licence)


@pytest.fixture
def college(settings: Settings, engine: Engine) -> Iterator[College]:
    """A college's repository harvested once; the app serving its pages (no search needed)."""
    records = [
        with_licence(r, BAD_LICENCE) if n < BAD else r
        for n, r in enumerate(generate_corpus(RECORDS))
    ]
    with DemoRepositoryServer(records) as repository:
        with session_scope(engine) as session:
            source = sources.add_source(
                session,
                slug="donghu",
                base_url=repository.base_url,
                allow_private_network=True,
            )
            source_id = source.id
        assert source_id is not None
        run = jobs.run_harvest(engine, settings, source_id)
        assert run.status == "succeeded", run.error
        with TestClient(create_app(settings)) as client:
            yield College(client, engine, settings, repository, records, source_id)


def text_of(tree: html.HtmlElement, xpath: str) -> str:
    (element,) = tree.xpath(xpath)
    return " ".join(element.text_content().split())


# --- /sources -----------------------------------------------------------------------------


def test_the_list_of_sources_shows_each_sources_health(college: College) -> None:
    with Session(college.engine) as session:
        (overview,) = health.overview(session)
    tree = college.page("/sources?lang=en")
    (card,) = tree.xpath("//ul[@id='sources-list']/li")
    link = card.xpath(".//h2/a")[0]
    assert link.get("href") == "/sources/donghu"
    assert text_of(card, ".//dd[@class='live-records']") == i18n.number(RECORDS, "en")
    assert overview.live_records == RECORDS
    assert text_of(card, ".//dd[@class='mean-quality']") == i18n.percent(
        overview.mean_quality, "en"
    )
    assert text_of(card, ".//dd[@class='last-run']").startswith("Succeeded")
    assert overview.last_success_at is not None
    assert text_of(card, ".//dd[@class='last-success']") == i18n.date_words(
        overview.last_success_at, "en"
    )
    assert "No trend yet" in card.text_content(), "one run: nothing to compare with"
    warnings = sum(n for code, n in overview.issue_counts.items() if severity(code) == "warning")
    assert f"{warnings} warnings" in text_of(card, ".//dd[@class='open-issues']")


def test_the_list_of_sources_speaks_chinese_by_default(college: College) -> None:
    tree = college.page("/sources?lang=zh")
    assert text_of(tree, "//h1") == "来源及其状况"
    assert "成功" in text_of(tree, "//dd[@class='last-run']")


# --- /sources/{slug} ----------------------------------------------------------------------


def test_a_source_page_shows_the_health_services_numbers(college: College) -> None:
    state = college.health()
    tree = college.page("/sources/donghu?lang=en")
    assert text_of(tree, "//dd[@id='live-records']") == i18n.number(
        state.quality.live_records, "en"
    )
    assert text_of(tree, "//dd[@id='mean-quality']") == i18n.percent(
        state.quality.mean_quality, "en"
    )
    share = text_of(tree, "//dd[@id='published-share']")
    assert share.startswith(i18n.percent(state.quality.published_share, "en"))
    assert f"{state.quality.published_records} of {state.quality.live_records}" in share
    assert text_of(tree, "//dd[@id='last-run']").startswith("Succeeded")
    counts = {
        row.get("id").removeprefix("issue-"): int(
            text_of(row, "td[contains(@class, 'num')]").replace(",", "")
        )
        for row in tree.xpath("//table[@id='issue-counts']/tbody/tr")
    }
    assert counts == {issue.code: issue.records for issue in state.issues}
    assert counts["unknown_license"] == BAD
    stored = text_of(tree, "//dd[@id='files-stored']")
    assert stored.startswith(i18n.number(state.files.stored, "en"))
    runs = tree.xpath("//table[@id='runs-table']/tbody/tr")
    assert len(runs) == len(state.runs) == 1
    assert tree.xpath("//a[@id='runs-api']/@href") == [state.links.runs]


def test_a_source_page_draws_its_charts_with_text_and_tables(college: College) -> None:
    tree = college.page("/sources/donghu?lang=en")
    charts = tree.xpath("//figure[contains(@class, 'chart')]")
    titles = [text_of(chart, ".//svg/title") for chart in charts]
    assert titles == [
        "Records added, updated and deleted by each run",
        "Record quality after each run",
        "Records by quality score",
    ]
    for chart in charts:
        (svg,) = chart.xpath(".//svg")
        assert svg.get("role") == "img"
        assert chart.xpath(".//svg/desc")[0].text_content().strip()
        assert chart.xpath(".//table//th[@scope='row']"), "the numbers in a table"
    state = college.health()
    (run,) = state.runs
    added = charts[0].xpath(".//table/tbody/tr/td")
    assert [td.text_content() for td in added] == [str(run.added), "0", "0"]
    histogram = {
        text_of(row, "th"): int(text_of(row, "td")) for row in charts[2].xpath(".//table/tbody/tr")
    }
    assert list(histogram.values()) == [b.records for b in state.quality.histogram]
    assert sum(histogram.values()) == RECORDS


def test_the_charts_follow_each_harvest(college: College) -> None:
    cc_by = "https://creativecommons.org/licenses/by/4.0/"
    fixed = [with_licence(r, cc_by) if n < BAD else r for n, r in enumerate(college.records)]
    college.harvest_again(fixed)
    state = college.health()
    assert len(state.runs) == 2
    tree = college.page("/sources/donghu?lang=en")
    rows = tree.xpath("(//figure[contains(@class, 'chart')])[1]//table/tbody/tr")
    assert [[td.text_content() for td in row.xpath("td")] for row in rows] == [
        [str(run.added), str(run.updated), str(run.deleted)] for run in state.runs
    ]
    assert state.runs[1].updated == BAD
    assert "unknown_license" not in {issue.code for issue in state.issues}
    assert not tree.xpath("//tr[@id='issue-unknown_license']")
    assert state.source.trend is not None and state.source.trend > 0
    assert text_of(tree, "//dd[@id='trend']").startswith("↑ Improving")


def test_the_conformance_check_is_shown_once_one_was_run(college: College) -> None:
    tree = college.page("/sources/donghu?lang=en")
    assert "No conformance check" in text_of(tree, "//p[@id='conformance-none']")
    checks = [
        Check("identify", "pass", "Identify answers"),
        Check("granularity", "warn", "dates only to the day"),
        Check("resumption", "fail", "a token repeats"),
    ]
    with session_scope(college.engine) as session:
        source = college.source(session)
        sources.record_conformance(session, source, source.base_url, checks)
    tree = college.page("/sources/donghu?lang=en")
    summary = text_of(tree, "//p[@id='conformance-summary']")
    assert "1 passed, 1 with warnings, 1 failed" in summary
    items = tree.xpath("//ul[@id='conformance-lines']/li")
    lines = [" ".join(li.text_content().split()) for li in items]
    state = college.health()
    assert state.conformance is not None
    assert lines == [" ".join(line.split()) for line in state.conformance.lines]
    assert [line.split()[0] for line in lines] == ["PASS", "WARN", "FAIL"]


def test_an_unknown_source_is_an_html_404(college: College) -> None:
    for url in ("/sources/nowhere", "/sources/nowhere/issues/unknown_license"):
        response = college.client.get(url + "?lang=en")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "There is no such source" in response.text
    response = college.client.get("/sources/donghu/issues/no_such_code?lang=en")
    assert response.status_code == 404
    assert "Page not found" in response.text


# --- /sources/{slug}/issues/{code} ----------------------------------------------------------


def test_an_issue_count_leads_to_the_records_that_have_it(college: College) -> None:
    tree = college.page("/sources/donghu?lang=en")
    (link,) = tree.xpath("//tr[@id='issue-unknown_license']/th/a[1]/@href")
    assert link == "/sources/donghu/issues/unknown_license"
    (guide,) = tree.xpath("//tr[@id='issue-unknown_license']/th/a[2]/@href")
    assert guide == "/quality#unknown_license"
    listed = college.page(link + "?lang=en")
    with Session(college.engine) as session:
        expected = health.issue_records(
            session, college.source(session), "unknown_license", page=1, per_page=50
        )
    assert text_of(listed, "//p[@id='issue-total']").startswith(f"{BAD} records")
    items = listed.xpath("//ol[@id='issue-records']/li")
    assert len(items) == len(expected.records) == BAD
    for item, record in zip(items, expected.records, strict=True):
        hrefs = item.xpath(".//a/@href")
        assert f"/courses/{record.id}" in hrefs
        assert f"/api/v1/resources/{record.id}/raw" in hrefs
        assert BAD_LICENCE in item.text_content(), "why: the statement that is not a licence"
    assert listed.xpath("//a[@id='guide-link']/@href") == ["/quality#unknown_license"]
    raw = college.client.get(f"/api/v1/resources/{expected.records[0].id}/raw")
    assert raw.status_code == 200
    assert BAD_LICENCE in raw.text


def test_a_long_issue_list_is_paged(college: College, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_pages, "PER_PAGE", 2)
    first = college.page("/sources/donghu/issues/unknown_license?lang=en")
    assert first.xpath("//ol[@id='issue-records']/@start") == ["1"]
    numbers = first.xpath("//nav[contains(@class, 'pagination')]//a[not(@rel)]/text()")
    assert numbers == ["1", "2", "3"]
    (next_page,) = first.xpath("//nav[contains(@class, 'pagination')]//a[@rel='next']/@href")
    assert next_page == "/sources/donghu/issues/unknown_license?page=2"
    second = college.page(next_page)
    assert second.xpath("//ol[@id='issue-records']/@start") == ["3"]
    ids = [
        re.sub(r".*/resources/([^/]+)/raw$", r"\1", href)
        for page in (first, second)
        for href in page.xpath("//a[contains(@href, '/raw')]/@href")
    ]
    assert len(ids) == len(set(ids)) == 4
    assert college.client.get("/sources/donghu/issues/unknown_license?page=4").status_code == 404
    bad = college.client.get("/sources/donghu/issues/unknown_license?page=0")
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("text/html")


def test_a_known_code_no_record_has_is_an_empty_list(college: College) -> None:
    tree = college.page("/sources/donghu/issues/invalid_vcard?lang=en")
    assert "No record of this source has this issue now." in tree.text_content()


@pytest.mark.parametrize(
    ("lang", "heading", "status"), [("zh", "概况", "成功"), ("en", "At a glance", "Succeeded")]
)
def test_a_source_page_speaks_each_language(
    college: College, lang: str, heading: str, status: str
) -> None:
    tree = college.page(f"/sources/donghu?lang={lang}")
    assert text_of(tree, "//h2[@id='glance']") == heading
    assert text_of(tree, "//dd[@id='last-run']").startswith(status)
    listed = college.page(f"/sources/donghu/issues/unknown_license?lang={lang}")
    name = "许可无法识别" if lang == "zh" else "The licence is not recognised"
    assert text_of(listed, "//h1").startswith(name)


# --- words and links, without a database ---------------------------------------------------


@pytest.mark.parametrize(
    ("change", "direction", "points"),
    [
        (None, "none", 0.0),
        (0.0, "steady", 0.0),
        (0.0004, "steady", 0.0),
        (0.021, "up", 2.1),
        (-0.0034, "down", -0.3),
    ],
)
def test_a_trend_is_a_direction_in_words_and_points(
    change: float | None, direction: str, points: float
) -> None:
    trend = source_pages.trend(change)
    assert (trend.direction, trend.points) == (direction, points)


def test_issue_pages_link_the_first_and_last_pages_and_those_around() -> None:
    links = source_pages.page_links("donghu", "unknown_license", page=6, last=12)
    assert [link.number for link in links] == [1, None, 4, 5, 6, 7, 8, None, 12]
    assert [link.number for link in links if link.current] == [6]
    assert links[0].href == "/sources/donghu/issues/unknown_license"
    assert links[-1].href == "/sources/donghu/issues/unknown_license?page=12"


def test_links_quote_what_they_are_given() -> None:
    assert source_pages.issue_href("a b", "x/y") == "/sources/a%20b/issues/x%2Fy"
    assert source_pages.guide_href("unknown_license") == "/quality#unknown_license"

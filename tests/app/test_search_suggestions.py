"""Help when a search finds little, in real Meilisearch: "did you mean" a close course name,
a confident correction of a Chinese typo with "search instead for", and on no result the
nearest disciplines with a link to browse them all (API and results page)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.jobs import sync_search
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import Subject
from metadata.vocabularies import DISCIPLINE_CATALOGUE
from tests.app.records import store_record

# (title, language, discipline code): Chinese names Meilisearch cannot mend a typo of.
COURSES = [
    ("操作系统", "zh", "0812"),
    ("操作系统实验", "zh", "0812"),
    ("计算机网络", "zh", "0812"),
    ("计算机应用基础", "zh", "0812"),
    ("信息系统分析", "zh", "0812"),
    ("数据结构与算法", "zh", "0812"),
    ("线性代数", "zh", "0701"),
    ("有机化学", "zh", "0703"),
    ("General Chemistry", "en", "0703"),
    ("Organic Chemistry", "en", "0703"),
    ("Principles of Marketing", "en", "1202"),
    ("工程管理", "zh", "1201"),
]
DESCRIPTIONS = {"操作系统": "进程管理、内存管理与文件系统。"}


@pytest.fixture
def indexed(live_engine: Engine, live: Settings) -> None:
    with session_scope(live_engine) as session:
        source = sources.add_source(session, slug="college", base_url="http://example.org/oai")
        source_id = source.id
    for n, (title, language, code) in enumerate(COURSES):
        store_record(
            live_engine,
            source_id,
            n,
            title={language: title},
            description={language: DESCRIPTIONS.get(title, f"{title}: a course.")},
            languages=[language],
            subjects=[Subject(code=code, scheme=DISCIPLINE_CATALOGUE)],
        )
    sync_search(live_engine, live)


def _search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _titles(body: dict[str, Any]) -> list[str]:
    return [hit["title"] for hit in body["hits"]]


@pytest.mark.usefixtures("indexed")
@pytest.mark.parametrize(
    ("typed", "meant"),
    [("操做系统", "操作系统"), ("计算机网落", "计算机网络"), ("数剧结构", "数据结构")],
)
def test_a_chinese_typo_shows_the_course_it_means_and_offers_the_words_typed(
    client: TestClient, typed: str, meant: str
) -> None:
    body = _search(client, typed)
    assert body["query"] == typed
    assert body["corrected_query"] == meant
    assert meant in _titles(body)[0]
    original = body["suggestions"][0]
    assert original["reason"] == "original"
    assert original["query"] == typed
    assert "correct=false" in original["search_url"]
    as_typed = client.get(original["search_url"]).json()
    assert as_typed["corrected_query"] is None, "search instead for: the words as typed"
    assert as_typed["total"] == original["total"]
    assert [s["query"] for s in as_typed["suggestions"] if s["reason"] == "spelling"] == [meant]


@pytest.mark.usefixtures("indexed")
def test_an_english_typo_meilisearch_does_not_forgive_is_mended(client: TestClient) -> None:
    """kemistry is two typos from chemistry, one more than Meilisearch allows a word of 8."""
    body = _search(client, "kemistry")
    assert body["corrected_query"] == "Chemistry"
    assert {"General Chemistry", "Organic Chemistry"} <= set(_titles(body))
    assert body["suggestions"][0] == {
        "query": "kemistry",
        "total": 0,
        "reason": "original",
        "filters": {},
        "label": {},
        "search_url": "/api/v1/search?q=kemistry&correct=false",
    }


@pytest.mark.usefixtures("indexed")
def test_an_english_typo_with_results_is_offered_did_you_mean(client: TestClient) -> None:
    body = _search(client, "organic kemistry")
    assert body["corrected_query"] is None, "the query found a course: its results stay"
    assert _titles(body) == ["Organic Chemistry"]
    offered = [s for s in body["suggestions"] if s["reason"] == "spelling"]
    assert offered[0]["query"] == "organic Chemistry"
    assert offered[0]["total"] == 1


@pytest.mark.usefixtures("indexed")
@pytest.mark.parametrize(
    "query", ["操作系统", "计算机", "数据结构", "Chemistry", "organic chem", "markting"]
)
def test_a_good_query_gets_no_suggestion(client: TestClient, query: str) -> None:
    """Known words, a prefix, and a typo Meilisearch forgives (markting) need no help."""
    body = _search(client, query)
    assert body["total"] > 0
    assert body["suggestions"] == []
    assert body["corrected_query"] is None


@pytest.mark.usefixtures("indexed")
def test_chinese_found_whole_in_a_description_is_never_corrected(client: TestClient) -> None:
    """进程管理 is in no course name but is what 操作系统's description says: it is not
    a typo of 工程管理, which is only offered."""
    body = _search(client, "进程管理")
    assert body["corrected_query"] is None
    assert _titles(body)[0] == "操作系统"
    assert [(s["reason"], s["query"]) for s in body["suggestions"]] == [("spelling", "工程管理")]


@pytest.mark.usefixtures("indexed")
def test_a_filter_is_kept_in_what_is_offered(client: TestClient) -> None:
    body = _search(client, "操做系统", subject="0812")
    assert body["corrected_query"] == "操作系统"
    assert body["suggestions"][0]["filters"] == {"subject": ["0812"]}
    assert "subject=0812" in body["suggestions"][0]["search_url"]


@pytest.mark.usefixtures("indexed")
def test_nothing_found_offers_the_nearest_disciplines(client: TestClient) -> None:
    body = _search(client, "biochemistryx")
    assert body["total"] == 0
    disciplines = [s for s in body["suggestions"] if s["reason"] == "discipline"]
    assert disciplines[0]["filters"] == {"subject": ["0703"]}
    assert disciplines[0]["label"] == {"zh": "化学", "en": "Chemistry"}
    assert disciplines[0]["total"] == 3
    assert disciplines[0]["search_url"] == "/api/v1/search?subject=0703"
    assert _search(client, "", subject="0703")["total"] == 3


@pytest.mark.usefixtures("indexed")
def test_the_results_page_shows_the_correction_and_the_words_typed(client: TestClient) -> None:
    page = client.get("/search", params={"q": "操做系统", "lang": "zh"})
    assert page.status_code == 200
    assert 'id="corrected"' in page.text
    assert "显示的是以下搜索的结果：" in page.text
    assert "仍然搜索：" in page.text
    assert "correct=false" in page.text
    assert "操作系统实验" in re.sub("<[^>]+>", "", page.text), "the correction's results"

    as_typed = client.get("/search", params={"q": "操做系统", "correct": "false", "lang": "en"})
    assert 'id="corrected"' not in as_typed.text
    assert "Did you mean:" in as_typed.text
    assert 'href="/search?q=%E6%93%8D%E4%BD%9C%E7%B3%BB%E7%BB%9F&amp;lang=en"' in as_typed.text


@pytest.mark.usefixtures("indexed")
def test_the_results_page_offers_nearest_disciplines_when_nothing_is_found(
    client: TestClient,
) -> None:
    page = client.get("/search", params={"q": "biochemistryx", "lang": "zh"})
    assert page.status_code == 200
    assert 'id="nearest-disciplines"' in page.text
    assert '<a href="/search?subject=0703&amp;lang=zh">化学</a>' in page.text
    assert 'href="/#by-discipline"' in page.text
    good = client.get("/search", params={"q": "操作系统"})
    assert 'id="suggestions"' not in good.text
    assert 'id="nearest-disciplines"' not in good.text


def test_the_lexicon_follows_the_index(
    client: TestClient, live_engine: Engine, live: Settings, indexed: None
) -> None:
    """A course indexed later is suggested too: the indexer tells the lexicon, made again
    in the background while searches go on with the one held."""
    assert _search(client, "微积份")["corrected_query"] is None
    store_record(
        live_engine,
        None,
        100,
        slug="local",
        title={"zh": "微积分"},
        languages=["zh"],
        subjects=[Subject(code="0701", scheme=DISCIPLINE_CATALOGUE)],
    )
    sync_search(live_engine, live)
    deadline = time.monotonic() + 30
    while (corrected := _search(client, "微积份")["corrected_query"]) is None:
        assert time.monotonic() < deadline, "the lexicon was not made again"
        time.sleep(0.05)
    assert corrected == "微积分"

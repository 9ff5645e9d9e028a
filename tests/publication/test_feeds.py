"""The Atom feeds of new courses, ``/feeds/courses.atom``, against real Meilisearch: read
back by feedparser as a feed reader reads them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.engine import Engine

from app.jobs import sync_search
from app.main import create_app
from app.settings import Settings
from tests.publication.harvests import Harvest

pytestmark = pytest.mark.services

BASE = "https://courses.example.edu.cn"
ATOM = "{http://www.w3.org/2005/Atom}"
START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def feed_client(live: Settings, live_engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(live.model_copy(update={"public_url": BASE}))) as test_client:
        yield test_client


@pytest.fixture
def shelf(live_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Harvest:
    return Harvest(live_engine, monkeypatch)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def read(client: TestClient, query: str = "") -> Any:
    response = client.get(f"/feeds/courses.atom{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    etree.fromstring(response.content)  # well-formed XML, or this raises
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def course_ids(parsed: Any) -> list[str]:
    ids = []
    for entry in parsed.entries:
        assert entry.link.startswith(f"{BASE}/courses/"), entry.link
        ids.append(entry.link.removeprefix(f"{BASE}/courses/").split("?")[0])
    return ids


def test_the_feed_lists_new_courses_newest_first_each_linking_to_its_page(
    feed_client: TestClient, shelf: Harvest, live_engine: Engine, live: Settings
) -> None:
    stored = [shelf.store(n, day(n)) for n in range(1, 4)]
    sync_search(live_engine, live)
    parsed = read(feed_client)
    assert course_ids(parsed) == stored[::-1]
    feed = parsed.feed
    assert feed.title == "coursefed 新课程"
    assert feed.id.startswith("tag:courses.example.edu.cn,2026:feeds/courses.atom")
    links = {link.rel: link.href for link in feed.links}
    assert links["self"] == f"{BASE}/feeds/courses.atom"
    assert links["alternate"] == f"{BASE}/search"
    newest = parsed.entries[0]
    assert newest.title == "课程3"
    assert newest.id == f"tag:courses.example.edu.cn,2026-11-04:courses/{stored[2]}"
    assert newest.published == "2026-11-04T08:00:00Z"
    assert newest.updated == "2026-11-04T08:00:00Z"
    assert newest.author == "江澜大学"
    assert [tag.term for tag in newest.tags] == ["0812"]
    related = [link.href for link in newest.links if link.rel == "related"]
    assert related == ["https://college.example.edu.cn/c/3"]
    assert feed_client.get(newest.link.removeprefix(BASE)).status_code == 200, "a real page"


def test_a_discipline_feed_orders_by_first_harvest_not_by_last_change(
    feed_client: TestClient, shelf: Harvest, live_engine: Engine, live: Settings
) -> None:
    old = shelf.store(1, day(0), subjects=("0701",))
    new = shelf.store(2, day(5), subjects=("0701",))
    other = shelf.store(3, day(6), subjects=("0812",))
    shelf.store(1, day(9), subjects=("0701",), revision=1, title={"zh": "课程1（修订）"})
    sync_search(live_engine, live)
    parsed = read(feed_client, "?subject=0701")
    assert course_ids(parsed) == [new, old], "an old course edited yesterday is not new"
    assert other not in course_ids(parsed)
    assert parsed.feed.title == "coursefed 新课程：数学"
    edited = parsed.entries[1]
    assert (edited.published, edited.updated) == ("2026-11-01T08:00:00Z", "2026-11-10T08:00:00Z")
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == f"{BASE}/feeds/courses.atom?subject=0701"
    assert links["alternate"] == f"{BASE}/search?subject=0701"


def test_an_institution_feed_is_named_after_the_school_and_points_at_its_page(
    feed_client: TestClient, shelf: Harvest, live_engine: Engine, live: Settings
) -> None:
    ours = shelf.store(1, day(1), institution="东湖学院")
    shelf.store(2, day(2))
    sync_search(live_engine, live)
    schools = feed_client.get("/api/v1/institutions").json()["institutions"]
    (school,) = [s for s in schools if s["name_zh"] == "东湖学院"]
    for value in (school["id"], "东湖学院"):
        parsed = read(feed_client, f"?institution={value}")
        assert course_ids(parsed) == [ours]
        assert parsed.feed.title == "coursefed 新课程：东湖学院"
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["alternate"] == f"{BASE}/institutions/{school['id']}"


def test_a_search_feed_holds_every_word_and_speaks_the_language_asked_for(
    feed_client: TestClient, shelf: Harvest, live_engine: Engine, live: Settings
) -> None:
    both = shelf.store(1, day(1), title={"zh": "机器学习导论", "en": "Machine Learning"})
    shelf.store(2, day(2), title={"zh": "机器人", "en": "Robots"})
    sync_search(live_engine, live)
    parsed = read(feed_client, "?q=machine+learning&lang=en")
    assert course_ids(parsed) == [both]
    assert parsed.feed.title == "New courses on coursefed: “machine learning”"
    assert parsed.feed.language == "en"
    entry = parsed.entries[0]
    assert entry.title == "Machine Learning"
    assert entry.link == f"{BASE}/courses/{both}?lang=en"
    chinese = read(feed_client, "?q=machine+learning")
    assert chinese.entries[0].title == "机器学习导论"
    assert chinese.feed.title == "coursefed 新课程：“machine learning”"


def test_the_feed_keeps_the_last_fifty_and_leaves_out_courses_gone_since_indexing(
    feed_client: TestClient, shelf: Harvest, live_engine: Engine, live: Settings
) -> None:
    stored = [shelf.store(n, START + timedelta(minutes=n)) for n in range(55)]
    sync_search(live_engine, live)
    shelf.delete(stored[-1], day(3))  # the index has not followed yet
    listed = course_ids(read(feed_client))
    assert listed == stored[-51:-1][::-1], "fifty, the one gone left out"


def test_text_xml_cannot_hold_and_links_that_are_not_http_are_left_out(
    feed_client: TestClient, shelf: Harvest, live_engine: Engine, live: Settings
) -> None:
    odd = shelf.store(
        1,
        day(1),
        title={"zh": "数据\x0b治理 <b>&amp;</b> ]]> 实践\ufffe"},
        url="javascript:alert(1)",
    )
    sync_search(live_engine, live)
    parsed = read(feed_client)
    (entry,) = parsed.entries
    assert course_ids(parsed) == [odd]
    assert entry.title == "数据治理 <b>&amp;</b> ]]> 实践"
    assert [link.rel for link in entry.links] == ["alternate"]


def test_a_reader_asking_again_with_the_etag_gets_a_304(
    feed_client: TestClient, shelf: Harvest, live_engine: Engine, live: Settings
) -> None:
    shelf.store(1, day(1))
    sync_search(live_engine, live)
    first = feed_client.get("/feeds/courses.atom")
    etag = first.headers["etag"]
    again = feed_client.get("/feeds/courses.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    shelf.store(2, day(2))
    sync_search(live_engine, live)
    assert (
        feed_client.get("/feeds/courses.atom", headers={"If-None-Match": etag}).status_code == 200
    )


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("?lang=fr", "lang"),
        ("?subject=computing", "subject"),
        ("?level=kindergarten", "level"),
        ("?month=2026-11", "month"),
        ("?q=" + "x" * 501, "q"),
    ],
)
def test_bad_parameters_are_a_422_in_json(
    feed_client: TestClient, query: str, parameter: str
) -> None:
    response = feed_client.get(f"/feeds/courses.atom{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert parameter in {problem["parameter"] for problem in response.json()["detail"]}

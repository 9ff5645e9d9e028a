"""``/sitemap.xml``: an index of children that, together, list every live course once.

Paging is tried with a page size of 3 on a handful of courses; the children are read
back through the index exactly as a crawler reads them.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.catalogue import service as catalogue
from app.db import session_scope
from app.main import create_app
from app.settings import Settings
from app.web.sitemaps import w3c_datetime
from metadata.profile import Issue, ResourceRecord
from tests.app.records import stored

BASE = "https://courses.example.edu.cn"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
PAGE = 3
HELD_BACK = Issue(severity="error", code="missing_title", message="no title")


def add(engine: Engine, resource_id: str, *, issues: list[Issue] | None = None) -> None:
    record = ResourceRecord(id=resource_id, title={"zh": f"课程 {resource_id}"})
    item = stored(record, resource_id.encode(), oai_id=f"oai:x:{resource_id}", source_id=None)
    with session_scope(engine) as session:
        catalogue.upsert(session, item if issues is None else stored_with(item, issues))


def stored_with(item: catalogue.StoredRecord, issues: list[Issue]) -> catalogue.StoredRecord:
    return catalogue.StoredRecord(**{**item.__dict__, "issues": issues})


def remove(engine: Engine, resource_id: str) -> None:
    with session_scope(engine) as session:
        catalogue.delete(session, resource_id)


@pytest.fixture
def catalogue_of(engine: Engine) -> dict[str, list[str]]:
    """Eight live courses (ids chosen to sort across pages), one removed, one held back,
    one removed and then harvested again."""
    live = [f"college-{n:02d}" for n in range(1, 9)]
    for resource_id in live:
        add(engine, resource_id)
    add(engine, "college-05b")
    remove(engine, "college-05b")
    add(engine, "college-07b", issues=[HELD_BACK])
    add(engine, "college-03b")
    remove(engine, "college-03b")
    add(engine, "college-03b")
    live.append("college-03b")
    return {"live": sorted(live), "hidden": ["college-05b", "college-07b"]}


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    paged = settings.model_copy(update={"public_url": BASE, "sitemap_page_size": PAGE})
    with TestClient(create_app(paged)) as test_client:
        yield test_client


def xml(client: TestClient, url: str) -> etree._Element:
    assert url.startswith(BASE + "/"), f"{url} is not absolute on the public URL"
    response = client.get(url.removeprefix(BASE))
    assert response.status_code == 200, url
    assert response.headers["content-type"].startswith("application/xml")
    return etree.fromstring(response.content)


def children(client: TestClient) -> list[etree._Element]:
    index = xml(client, f"{BASE}/sitemap.xml")
    assert index.tag == f"{SM}sitemapindex"
    return list(index.iterfind(f"{SM}sitemap"))


def course_urls(client: TestClient, child: str) -> list[etree._Element]:
    urlset = xml(client, child)
    assert urlset.tag == f"{SM}urlset"
    return list(urlset.iterfind(f"{SM}url"))


def updated_at(engine: Engine, resource_id: str) -> datetime:
    with session_scope(engine) as session:
        resource = catalogue.get_resource(session, resource_id)
        assert resource is not None
        return resource.updated_at


def test_every_live_course_is_listed_once_with_its_last_change_and_languages(
    client: TestClient, engine: Engine, catalogue_of: dict[str, list[str]]
) -> None:
    listed: list[str] = []
    entries = children(client)
    assert entries[0].findtext(f"{SM}loc") == f"{BASE}/sitemaps/pages.xml"
    course_children = entries[1:]
    assert len(course_children) == 3  # nine live courses, three a page
    for child in course_children:
        urls = course_urls(client, child.findtext(f"{SM}loc") or "")
        assert 0 < len(urls) <= PAGE
        ids = []
        for url in urls:
            loc = url.findtext(f"{SM}loc") or ""
            resource_id = loc.removeprefix(f"{BASE}/courses/")
            ids.append(resource_id)
            assert url.findtext(f"{SM}lastmod") == w3c_datetime(updated_at(engine, resource_id))
            alternates = {
                link.get("hreflang"): link.get("href") for link in url.iterfind(f"{XHTML}link")
            }
            assert alternates == {"zh-CN": loc, "en": f"{loc}?lang=en", "x-default": loc}
        newest = max(updated_at(engine, i) for i in ids)
        assert child.findtext(f"{SM}lastmod") == w3c_datetime(newest)
        listed += ids
    assert listed == catalogue_of["live"], "each live course once, in id order"
    for hidden in catalogue_of["hidden"]:
        assert hidden not in listed
        assert client.get(f"/courses/{hidden}").status_code in {404, 410}, "not a page either"


def test_children_keep_each_course_once_while_the_catalogue_changes(
    client: TestClient, engine: Engine, catalogue_of: dict[str, list[str]]
) -> None:
    """Between a crawler's read of the index and of the children, courses come and go:
    each is listed once, and a child takes in more than a page when it must."""
    locations = [child.findtext(f"{SM}loc") or "" for child in children(client)[1:]]
    for new in ("college-01a", "college-04a", "college-04b", "college-99"):
        add(engine, new)
    remove(engine, "college-06")
    listed = [
        (url.findtext(f"{SM}loc") or "").removeprefix(f"{BASE}/courses/")
        for child in locations
        for url in course_urls(client, child)
    ]
    assert sorted(listed) == sorted(
        {*catalogue_of["live"], "college-01a", "college-04a", "college-04b", "college-99"}
        - {"college-06"}
    ), "each course once, the new ones in the child whose bounds hold them"


def test_the_site_pages_child_has_the_home_page(
    client: TestClient, catalogue_of: dict[str, list[str]]
) -> None:
    urls = course_urls(client, children(client)[0].findtext(f"{SM}loc") or "")
    home = urls[0]
    assert home.findtext(f"{SM}loc") == f"{BASE}/"
    hreflangs = {link.get("hreflang"): link.get("href") for link in home.iterfind(f"{XHTML}link")}
    assert hreflangs["en"] == f"{BASE}/?lang=en"


def test_the_site_pages_child_has_the_site_pages_and_each_school_with_courses(
    client: TestClient, engine: Engine
) -> None:
    record = ResourceRecord(id="college-x", title={"zh": "课程"}, institution="江澜大学")
    item = stored(record, b"<x/>", oai_id="oai:x:college-x", source_id=None)
    with session_scope(engine) as session:
        catalogue.upsert(session, item)
    (school,) = client.get("/api/v1/institutions").json()["institutions"]
    urls = course_urls(client, children(client)[0].findtext(f"{SM}loc") or "")
    locations = [url.findtext(f"{SM}loc") for url in urls]
    assert locations == [
        f"{BASE}/",
        f"{BASE}/stats",
        f"{BASE}/catalogue",
        f"{BASE}/sources",
        f"{BASE}/quality",
        f"{BASE}/institutions",
        f"{BASE}/institutions/{school['id']}",
    ]


def test_an_empty_catalogue_has_only_the_site_pages(client: TestClient) -> None:
    locations = [child.findtext(f"{SM}loc") for child in children(client)]
    assert locations == [f"{BASE}/sitemaps/pages.xml"]
    assert course_urls(client, f"{BASE}/sitemaps/courses.xml") == []


def test_urls_are_escaped_and_course_ids_quoted(client: TestClient, engine: Engine) -> None:
    add(engine, "college-a&b<c>")
    (url,) = course_urls(client, f"{BASE}/sitemaps/courses.xml")
    assert url.findtext(f"{SM}loc") == f"{BASE}/courses/college-a%26b%3Cc%3E"


def test_a_child_comes_gzipped_when_asked(
    client: TestClient, catalogue_of: dict[str, list[str]]
) -> None:
    # Pages of 3 are too small to compress: ask for everything after the first course.
    url = "/sitemaps/courses.xml?from=college-01&before=college-09"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    with client.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        sent = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(sent) == plain.content
    assert client.head(url).status_code == 200


def test_bad_bounds_are_refused(client: TestClient) -> None:
    assert client.get("/sitemaps/courses.xml?from=" + "x" * 101).status_code == 422
    assert client.get("/sitemaps/courses.xml?from=a&from=b").status_code == 422


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_child_is_one_range_of_the_index_however_deep(
    client: TestClient, engine: Engine, catalogue_of: dict[str, list[str]]
) -> None:
    """No OFFSET and no sort: the rows come in order from the covering index."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM resources" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with session_scope(engine) as session:
            catalogue.live_page(session, "college-04", "college-07", PAGE)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    ((statement, parameters),) = statements
    assert "OFFSET" not in statement or parameters[-1] == 0  # SQLite's dialect writes 0
    with engine.connect() as connection:
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    details = " ".join(row[3] for row in plan)
    assert "COVERING INDEX ix_resources_live_id" in details
    assert "TEMP B-TREE" not in details


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sitemaps_are_not_api_and_have_a_budget_of_their_own(
    settings: Settings, catalogue_of: dict[str, list[str]]
) -> None:
    limited = settings.model_copy(update={"rate_limit_sitemap": "2/minute"})
    with TestClient(create_app(limited)) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert not [path for path in paths if "sitemap" in path]
        answers = [client.get(path).status_code for path in ("/sitemap.xml",) * 2]
        answers.append(client.get("/sitemaps/courses.xml").status_code)
        assert answers == [200, 200, 429]


def test_a_stored_time_is_utc_where_the_server_clock_is_in_china(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database hands back times without a zone; they are UTC, not local time."""
    stored_time = datetime(2026, 12, 7, 4, 5, 6, 789, tzinfo=UTC).replace(tzinfo=None)
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert w3c_datetime(stored_time) == "2026-12-07T04:05:06Z"
    finally:
        monkeypatch.undo()
        time.tzset()

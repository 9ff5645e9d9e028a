"""Hostile records on the public edge: no script URL becomes a link, the raw record never runs.

The records are ours (``tests/fixtures/hostile``), stored as the harvest stores them;
one more is written straight into the database as a version without the URL rule did,
since the database is not re-normalised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html
from sqlalchemy.engine import Engine

from app import jobs
from app.catalogue import service as catalogue
from app.db import session_scope
from app.main import create_app
from app.search.documents import to_document
from app.search.gateway import SearchIndex
from app.settings import Settings
from app.web.course_page import CourseLink, LicenceBadge, Origin, RelationGroup
from app.web.i18n import Text
from app.web.templating import highlighted, templates
from metadata.profile import Contributor, License, Relation, ResourceRecord
from metadata.urls import http_url
from tests.app.records import stored
from tests.fixtures.hostile import (
    DC_URLS,
    HOSTILE_RECORDS,
    LOM_CF_URLS,
    LOM_URLS,
    QDC_URLS,
    SCRIPT_SCHEMES,
    XHTML_SCRIPT,
)
from tests.web.hostile import OLD_ID, foreign_links, harvest_into, store_before_the_rule

SANDBOX = "sandbox; default-src 'none'"
LINK_ATTRIBUTES = ("href", "src", "action", "formaction", "data", "poster", "cite")
# Record fields and file fields that hold URLs in the resource API.
URL_KEYS = {"url", "href", "target", "contentUrl", "sameAs", "@id", "license"}


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def link_values(page: str) -> list[str]:
    """Every URL-valued attribute on a page."""
    document = html.fromstring(page)
    return [
        value
        for element in document.iter()
        for name in LINK_ATTRIBUTES
        if (value := element.get(name)) is not None
    ]


def jsonld_of(page: str) -> Any:
    scripts = html.fromstring(page).xpath("//script[@type='application/ld+json']/text()")
    assert len(scripts) == 1
    return json.loads(scripts[0])


def strings_under(node: Any, keys: set[str]) -> list[str]:
    """Every string value under one of ``keys``, at any depth of a JSON value."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys:
                found.extend(v for v in _strings(value))
            found.extend(strings_under(value, keys))
    elif isinstance(node, list):
        for item in node:
            found.extend(strings_under(item, keys))
    return found


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for item in value for v in _strings(item)]
    return []


def no_script_scheme(text: str) -> bool:
    folded = text.casefold()
    return not any(scheme in folded for scheme in SCRIPT_SCHEMES)


@pytest.mark.parametrize("record", HOSTILE_RECORDS, ids=lambda r: r.file)
def test_a_hostile_record_is_published_without_a_script_link_anywhere(
    record: Any, api: TestClient, engine: Engine
) -> None:
    resource_id = harvest_into(engine, record)
    page = api.get(f"/courses/{resource_id}")
    assert page.status_code == 200, "published, without the values that were dropped"
    assert foreign_links(link_values(page.text)) == []
    assert "<script>alert" not in page.text
    assert "<script>confirm" not in page.text
    node = jsonld_of(page.text)
    assert no_script_scheme(json.dumps(node, ensure_ascii=False))
    assert all(http_url(v) for v in strings_under(node, URL_KEYS)), "links in JSON-LD"

    body = api.get(f"/api/v1/resources/{resource_id}").json()
    assert body["publishable"] is True
    record_fields = {key: value for key, value in body.items() if key != "issues"}
    assert no_script_scheme(json.dumps(record_fields, ensure_ascii=False))
    links = [body.get("url"), *(o["url"] for o in body["objects"])]
    assert all(http_url(link) for link in links if link is not None)
    if record is not XHTML_SCRIPT:
        assert any(i["code"] == "url_not_http" for i in body["issues"]), "the source is told"


def test_good_links_beside_hostile_ones_stay_links(api: TestClient, engine: Engine) -> None:
    """The checks above are not passing on pages that simply have no links."""
    lom = api.get(f"/courses/{harvest_into(engine, LOM_URLS)}").text
    assert "https://hostile.example.edu.cn/course/1" in link_values(lom)
    assert jsonld_of(lom)["sameAs"] == "https://hostile.example.edu.cn/course/1"
    qdc = api.get(f"/courses/{harvest_into(engine, QDC_URLS)}").text
    assert jsonld_of(qdc)["isPartOf"] == ["https://course.example.edu.cn/programme"]


def test_a_record_whose_only_landing_page_was_a_script_has_no_source_link(
    api: TestClient, engine: Engine
) -> None:
    # A licence still links to its deed, the one metadata.licences knows for the statement
    # ("CC BY 4.0"), never to a URL the record gave.
    deeds = {DC_URLS: [], LOM_CF_URLS: ["https://creativecommons.org/licenses/by/4.0/"]}
    for record in (DC_URLS, LOM_CF_URLS):
        resource_id = harvest_into(engine, record)
        page = html.fromstring(api.get(f"/courses/{resource_id}").text)
        assert not page.xpath("//a[@rel='nofollow']"), "no source page link at all"
        assert page.xpath("//a[@rel='license']/@href") == deeds[record]
        assert api.get(f"/api/v1/resources/{resource_id}").json().get("url") is None


def test_a_record_stored_with_script_urls_before_the_rule_renders_no_such_link(
    api: TestClient, engine: Engine
) -> None:
    store_before_the_rule(engine)
    page = api.get(f"/courses/{OLD_ID}")
    assert page.status_code == 200
    values = link_values(page.text)
    assert foreign_links(values) == []
    assert no_script_scheme(" ".join(values))
    assert no_script_scheme(json.dumps(jsonld_of(page.text)))
    assert "CC-BY-4.0" in page.text, "the licence is still shown, as text"

    body = api.get(f"/api/v1/resources/{OLD_ID}").json()
    record = {k: v for k, v in body.items() if k not in {"issues", "files"}}
    assert no_script_scheme(json.dumps(record))
    assert body["url"] is None
    # The file row is data about what the record named: never fetched, never linked.
    files = [(f["url"], f["href"]) for f in body["files"]]
    assert files == [("javascript:alert('file row')", None)]
    assert body["license"] == {"spdx": "CC-BY-4.0", "url": None, "text": "CC BY 4.0", "open": True}


def test_the_course_template_links_only_http_urls_whatever_it_is_given() -> None:
    """The template's own defence, without the route's screening in front of it."""
    record = ResourceRecord(
        id="unscreened",
        title={"en": "Unscreened"},
        url=" JavaScript:alert('url')",
        license=License(spdx="CC-BY-4.0", url="data:text/html,x", text="CC BY 4.0"),
    )
    files = [
        {"name": "a", "href": None, "source": "vbscript:msgbox(1)", "media_type": None},
        {"name": "b", "href": None, "source": "https://files.example.edu/b.pdf"},
    ]
    page = templates.get_template("course.html").render(
        record=record, files=files, jsonld="{}", api_url="/api/v1/x", switch_url="/?lang=en"
    )
    assert foreign_links(link_values(page)) == []
    assert "https://files.example.edu/b.pdf" in link_values(page)


@pytest.mark.parametrize("record", HOSTILE_RECORDS, ids=lambda r: r.file)
def test_the_raw_record_is_served_sandboxed_byte_for_byte(
    record: Any, api: TestClient, engine: Engine
) -> None:
    resource_id = harvest_into(engine, record)
    answer = api.get(f"/api/v1/resources/{resource_id}/raw")
    assert answer.status_code == 200
    assert answer.content == record.read_bytes()
    assert answer.headers["content-security-policy"] == SANDBOX
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-type"] == "application/xml"
    assert answer.headers["content-disposition"] == f'inline; filename="{resource_id}.xml"'


def test_a_record_copied_from_a_mirror_is_served_as_json_in_the_sandbox(
    api: TestClient, engine: Engine
) -> None:
    raw = b'{"id": "x", "title": {"en": "</script><h:script>alert(1)</h:script>"}}'
    store_before_the_rule(engine, raw=raw)
    answer = api.get(f"/api/v1/resources/{OLD_ID}/raw")
    assert answer.content == raw
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["content-security-policy"] == SANDBOX
    assert answer.headers["content-disposition"] == f'inline; filename="{OLD_ID}.json"'


def test_search_snippets_are_marked_up_with_nothing_but_highlights() -> None:
    marked = highlighted(
        "&lt;script&gt;x&lt;/script&gt; <mark>课程</mark> <script>alert(1)</script> "
        "<img src=x onerror=alert(1)> </mark><mark>a<mark>b"
    )
    assert marked == (
        "&lt;script&gt;x&lt;/script&gt; <mark>课程</mark> &lt;script&gt;alert(1)&lt;/script&gt; "
        "&lt;img src=x onerror=alert(1)&gt; <mark>ab</mark>"
    )


@pytest.mark.services
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_search_hits_carry_only_http_urls(
    client: TestClient, live: Settings, live_engine: Engine
) -> None:
    ids = {record: harvest_into(live_engine, record) for record in HOSTILE_RECORDS}
    store_before_the_rule(live_engine)
    jobs.sync_search(live_engine, live)
    hits = client.get("/api/v1/search", params={"q": "hostile", "per_page": 50}).json()["hits"]
    urls = {hit["id"]: hit["url"] for hit in hits}
    assert set(ids.values()) <= set(urls)
    assert urls[ids[LOM_URLS]] == "https://hostile.example.edu.cn/course/1"
    assert urls[ids[DC_URLS]] is None
    assert all(url is None or http_url(url) for url in urls.values())

    # A document indexed before the rule still holds the script URL it was given.
    old = ResourceRecord(id="hostile-old-document", title={"en": "Hostile old document"})
    document = to_document(old, source="old", updated_at=datetime(2025, 1, 1, tzinfo=UTC))
    document["url"] = "javascript:alert('indexed before the rule')"
    with SearchIndex.from_settings(live) as search:
        search.wait_for_task(search.add_documents(live.meili_index, [document]))
    hit = client.get("/api/v1/search", params={"q": "old document"}).json()["hits"][0]
    assert (hit["id"], hit["url"]) == ("hostile-old-document", None)

    page = client.get("/", params={"q": "script"}).text
    assert "<script>alert" not in page
    assert "<!--<script" not in page


SCRIPT = "<script>alert(1)</script>"


def test_hostile_values_on_the_course_page_are_text_and_never_script_links(
    api: TestClient, engine: Engine
) -> None:
    """Relations, the licence, people and names as an attacker would write them, stored
    directly (as before the URL rule): no script link, every text escaped."""
    record = ResourceRecord(
        id="hostile-course-page",
        title={"zh": f"课程（上）{SCRIPT}", "en": '"><img src=x onerror=alert(1)>'},
        institution=f"学院{SCRIPT}",
        contributors=[Contributor(name='教师"><svg onload=alert(1)>', role="instructor")],
        keywords=[f"key{SCRIPT}"],
        license=License(
            spdx="all-rights-reserved", url="javascript:alert('deed')", text=f"© {SCRIPT}"
        ),
        relations=[
            Relation(kind="ispartof", target="javascript:alert('part')"),
            Relation(kind="haspart", target=" JaVaScRiPt:alert('part 2')"),
            Relation(kind="requires", target=f"<img src=x onerror=alert(1)>{SCRIPT}"),
            Relation(kind=f"x{SCRIPT}", target="data:text/html,<script>alert(1)</script>"),
        ],
        url="javascript:alert('landing')",
    )
    with session_scope(engine) as session:
        catalogue.upsert(session, stored(record, b"<r/>", oai_id="oai:h:1", source_id=None))
    page = api.get("/courses/hostile-course-page")
    assert page.status_code == 200
    assert foreign_links(link_values(page.text)) == []
    assert no_script_scheme(" ".join(link_values(page.text)))
    body = (
        page.text.split('<script type="application/ld+json">')[0]
        + page.text.split("</script>", 1)[1]
    )
    for raw in (SCRIPT, "<img src=x", "<svg onload"):
        assert raw not in body, f"{raw} reached the page unescaped"
    tree = html.fromstring(page.text)
    assert tree.xpath("string(//h1)") == f"课程（上）{SCRIPT}", "shown as text"
    (school,) = tree.xpath("//*[@id='institution']")
    assert school.text_content() == f"学院{SCRIPT}", "its name, as text"
    assert school.get("href").startswith("/search?institution=")
    assert not tree.xpath("//a[@rel='license']"), "a script deed is no link"
    parts = tree.xpath("string(//*[@id='parts'])")
    assert "<img src=x onerror=alert(1)>" in parts, "a text target is shown as text"
    assert not tree.xpath("//*[@id='parts']//a"), "no target is a link"
    assert not tree.xpath("//*[@id='landing-page']")


def test_the_course_template_links_only_http_urls_in_every_section() -> None:
    """The template's own defence for relations, the licence and provenance, without the
    route's screening in front of it."""
    record = ResourceRecord(id="unscreened", title={"en": "Unscreened"})
    page = templates.get_template("course.html").render(
        record=record,
        files=[],
        jsonld="{}",
        api_url="/api/v1/x",
        switch_url="/?lang=en",
        relations=[
            RelationGroup(
                "ispartof",
                [
                    CourseLink(Text("a", ""), href="javascript:alert(1)"),
                    CourseLink(Text("b", ""), href="https://example.edu/b"),
                ],
            )
        ],
        licence=LicenceBadge(name="x", open=True, deed_url="data:text/html,x"),
        origin=Origin(
            source_name="s",
            harvested_at=None,
            metadata_format="oai_dc",
            raw_url="/api/v1/resources/unscreened/raw",
            get_record_url="vbscript:msgbox(1)",
            landing_page=" javascript:alert(1)",
        ),
    )
    assert foreign_links(link_values(page)) == []
    assert "https://example.edu/b" in link_values(page)

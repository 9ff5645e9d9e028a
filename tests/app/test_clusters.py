"""One course once: the records of one course reached through several repositories are one
search hit listing every provenance, against real Meilisearch on SQLite and PostgreSQL;
an administrator splits and merges them, and a split survives re-harvests."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.catalogue import clusters
from app.catalogue import service as catalogue
from app.db import session_scope
from app.jobs import rebuild_search, sync_search
from app.settings import Settings
from app.sources import service as sources
from metadata.matching import identifier_key, match_keys
from metadata.profile import CourseResource, ResourceRecord
from tests.app.records import harvested, store_record, stored
from tests.conftest import CommandLine

SCHOOL = "江澜大学"
OTHER_SCHOOL = "东湖财经大学"
PAGE = "https://jwc.jianglan.edu.cn/courses/ds-2026"


def _sources(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        ids = {}
        for slug in ("college", "aggregator"):
            source = sources.add_source(session, slug=slug, base_url=f"http://{slug}.example/oai")
            assert source.id is not None
            ids[slug] = source.id
        return ids


def _course(engine: Engine, ids: dict[str, int], slug: str, n: int, **fields: Any) -> str:
    record: dict[str, Any] = {
        "title": {"zh": "数据结构"},
        "languages": ["zh"],
        "institution": SCHOOL,
        **fields,
    }
    revision = record.pop("revision", 0)
    return store_record(engine, ids[slug], n, slug=slug, revision=revision, **record)


def _search(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _resource(client: TestClient, resource_id: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/resources/{resource_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def _admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}


# --- match keys (pure) -----------------------------------------------------------------------


def test_one_course_page_written_differently_is_one_key() -> None:
    forms = [
        "https://jwc.jianglan.edu.cn/courses/ds-2026",
        "http://www.jwc.jianglan.edu.cn/courses/ds-2026/",
        " HTTPS://JWC.jianglan.edu.cn:443/courses/ds-2026 ",
    ]
    assert len({identifier_key(form) for form in forms}) == 1
    assert identifier_key("doi:10.1234/ABC") == identifier_key("10.1234/abc")


def test_identifiers_that_may_name_other_courses_are_no_key() -> None:
    assert identifier_key("https://www.jianglan.edu.cn/") is None, "a site's home page"
    assert identifier_key("https://jianglan.edu.cn/files/syllabus.pdf") is None, "a file"
    assert identifier_key("12345") is None, "a repository's local number"
    assert identifier_key("oai:jianglan:1") is None, "an OAI identifier differs per repository"


def test_the_conservative_key_needs_title_school_and_course_code() -> None:
    course = CourseResource(title={"zh": "数据 结构"}, course_code="CS-201")
    same = CourseResource(title={"zh": "数据结构"}, course_code="cs201")
    assert match_keys(course, "jianglan") == match_keys(same, "jianglan")
    assert match_keys(course, "donghu") != match_keys(same, "jianglan")
    assert match_keys(course, None) == []
    assert match_keys(CourseResource(title={"zh": "数据结构"}), "jianglan") == []


# --- clusters in the store (both databases) --------------------------------------------------


def test_one_repository_listing_a_course_twice_makes_one_cluster(engine: Engine) -> None:
    ids = _sources(engine)
    first = _course(engine, ids, "college", 1, url=PAGE)
    second = _course(engine, ids, "college", 2, identifiers=[PAGE + "/"])
    with session_scope(engine) as session:
        one, two = (catalogue.get_resource(session, rid) for rid in (first, second))
        assert one is not None and two is not None
        assert one.cluster_id == two.cluster_id is not None
        assert next(r.id for r in clusters.members(session, one)) == one.cluster_id


def test_a_record_losing_its_shared_identifier_leaves_the_cluster(engine: Engine) -> None:
    ids = _sources(engine)
    first = _course(engine, ids, "college", 1, url=PAGE)
    second = _course(engine, ids, "aggregator", 1, url=PAGE)
    _course(engine, ids, "aggregator", 1, url=PAGE + "-copy", revision=1)
    with session_scope(engine) as session:
        for rid in (first, second):
            resource = catalogue.get_resource(session, rid)
            assert resource is not None and resource.cluster_id is None


def _stored(slug: str, source_id: int) -> catalogue.StoredRecord:
    oai_id = f"oai:{slug}:1"
    raw = f"<record>{slug}</record>".encode()
    record = ResourceRecord(
        id=catalogue.resource_id_for(slug, oai_id),
        title={"zh": "数据结构"},
        url=PAGE,
        provenance=harvested(slug, oai_id, raw),
    )
    return stored(record, raw, oai_id=oai_id, source_id=source_id)


def test_two_harvests_storing_one_course_at_once_make_one_cluster(engine: Engine) -> None:
    """The second transaction waits for the first and reads its match keys, rather than
    both storing their record without seeing the other."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its transactions never overlap")
    ids = _sources(engine)

    def second_harvest() -> None:
        with session_scope(engine) as session:
            catalogue.upsert(session, _stored("aggregator", ids["aggregator"]))

    with session_scope(engine) as first:
        catalogue.upsert(first, _stored("college", ids["college"]))
        second = threading.Thread(target=second_harvest, daemon=True)
        second.start()
        second.join(timeout=1)
        assert second.is_alive(), "the second waits for the first transaction"
    second.join(timeout=30)
    first_id, second_id = (catalogue.resource_id_for(slug, f"oai:{slug}:1") for slug in ids)
    with session_scope(engine) as session:
        for rid in (first_id, second_id):
            row = catalogue.get_resource(session, rid)
            assert row is not None and row.cluster_id == first_id


# --- search: one hit per course --------------------------------------------------------------


def test_two_sources_sharing_a_course_page_are_one_hit_with_two_provenances(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _sources(live_engine)
    own = _course(live_engine, ids, "college", 1, url=PAGE, description={"zh": "线性表、树、图"})
    copy = _course(
        live_engine,
        ids,
        "aggregator",
        7,
        identifiers=["http://jwc.jianglan.edu.cn/courses/ds-2026/"],
    )
    _course(live_engine, ids, "college", 2, title={"zh": "操作系统"})
    sync_search(live_engine, live)

    body = _search(client, q="数据结构")
    assert body["total"] == 1
    (hit,) = body["hits"]
    assert hit["id"] == own, "the richer record stands for the course"
    assert {(p["id"], p["source"], p["oai_identifier"]) for p in hit["provenances"]} == {
        (own, "college", "oai:college:1"),
        (copy, "aggregator", "oai:aggregator:7"),
    }
    assert hit["provenances"][0]["id"] == own
    assert hit["provenances"][0]["url"] == PAGE
    assert hit["provenances"][1]["api_url"] == f"/api/v1/resources/{copy}"
    everything = _search(client)
    assert everything["total"] == 2, "facets and totals count courses, not copies"
    assert sum(v["count"] for v in everything["facets"]["institution"]) == 2
    (school,) = client.get("/api/v1/institutions").json()["institutions"]
    assert school["count"] == 2, "the institution API counts courses too"
    by_source = {v["value"]: v["count"] for v in everything["facets"]["source"]}
    assert by_source == {"college": 2, "aggregator": 1}, "each source counts its courses"
    assert [h["id"] for h in _search(client, source="aggregator")["hits"]] == [own], (
        "a source's filter finds its courses where another source's record stands for them"
    )

    canonical, duplicate = _resource(client, own), _resource(client, copy)
    assert canonical["duplicates_of"] is None
    assert duplicate["duplicates_of"] == own
    for answer in (canonical, duplicate):
        assert [p["id"] for p in answer["provenances"]] == [own, copy]
        assert [p["canonical"] for p in answer["provenances"]] == [True, False]
        assert answer["provenances"][1]["source"] == "aggregator"


def test_same_title_school_and_course_code_are_one_hit(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _sources(live_engine)
    own = _course(
        live_engine, ids, "college", 1, course_code="JLU0701588", description={"zh": "线性表"}
    )
    copy = _course(
        live_engine, ids, "aggregator", 1, title={"zh": "数据结构 "}, course_code="jlu 0701588"
    )
    # Same title and school, no course code: nothing says it is the same course.
    alone = _course(live_engine, ids, "aggregator", 2)
    sync_search(live_engine, live)

    body = _search(client, q="数据结构")
    assert body["total"] == 2
    by_id = {hit["id"]: hit for hit in body["hits"]}
    assert set(by_id) == {own, alone}
    assert [p["id"] for p in by_id[own]["provenances"]] == [own, copy]
    assert [p["id"] for p in by_id[alone]["provenances"]] == [alone]
    assert _resource(client, copy)["duplicates_of"] == own


def test_same_titled_courses_of_two_schools_are_two_hits(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _sources(live_engine)
    first = _course(live_engine, ids, "college", 1, course_code="CS201")
    second = _course(
        live_engine, ids, "aggregator", 1, institution=OTHER_SCHOOL, course_code="CS201"
    )
    sync_search(live_engine, live)

    body = _search(client, q="数据结构")
    assert {hit["id"] for hit in body["hits"]} == {first, second}
    assert all(len(hit["provenances"]) == 1 for hit in body["hits"])
    assert _resource(client, second)["duplicates_of"] is None


def test_an_admin_split_stays_across_re_harvests_and_a_merge_joins_again(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _sources(live_engine)
    own = _course(live_engine, ids, "college", 1, url=PAGE, description={"zh": "线性表"})
    copy = _course(live_engine, ids, "aggregator", 1, url=PAGE)
    sync_search(live_engine, live)
    assert _search(client, q="数据结构")["total"] == 1

    refused = client.post(f"/api/v1/resources/{copy}/split")
    assert refused.status_code == 401
    answer = client.post(f"/api/v1/resources/{copy}/split", headers=_admin(live))
    assert answer.status_code == 200, answer.text
    assert answer.json()["duplicates_of"] is None
    assert [p["id"] for p in answer.json()["provenances"]] == [copy]
    sync_search(live_engine, live)
    assert {hit["id"] for hit in _search(client, q="数据结构")["hits"]} == {own, copy}

    # Both repositories send their records again, edited: still two courses.
    _course(live_engine, ids, "college", 1, url=PAGE, description={"zh": "线性表、树"}, revision=1)
    _course(live_engine, ids, "aggregator", 1, url=PAGE, revision=1)
    sync_search(live_engine, live)
    body = _search(client, q="数据结构")
    assert {hit["id"] for hit in body["hits"]} == {own, copy}
    assert all(len(hit["provenances"]) == 1 for hit in body["hits"])
    rebuild_search(live_engine, live)
    assert _search(client, q="数据结构")["total"] == 2, "a rebuilt index agrees"

    merged = client.post(
        f"/api/v1/resources/{copy}/merge", json={"other_id": own}, headers=_admin(live)
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["duplicates_of"] == own
    sync_search(live_engine, live)
    (hit,) = _search(client, q="数据结构")["hits"]
    assert [p["id"] for p in hit["provenances"]] == [own, copy]

    assert (
        client.post(
            f"/api/v1/resources/{copy}/merge", json={"other_id": copy}, headers=_admin(live)
        ).status_code
        == 409
    )
    missing = client.post("/api/v1/resources/nope/split", headers=_admin(live))
    assert missing.status_code == 404
    audit = client.get("/api/v1/audit", headers=_admin(live)).json()["entries"]
    assert {e["action"] for e in audit} >= {"clusters.split", "clusters.merge"}


def test_deleting_one_record_leaves_the_other_a_course_of_its_own(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _sources(live_engine)
    own = _course(live_engine, ids, "college", 1, url=PAGE, description={"zh": "线性表"})
    copy = _course(live_engine, ids, "aggregator", 1, url=PAGE)
    sync_search(live_engine, live)
    assert [hit["id"] for hit in _search(client, q="数据结构")["hits"]] == [own]

    with session_scope(live_engine) as session:
        catalogue.delete(session, own)
    sync_search(live_engine, live)
    (hit,) = _search(client, q="数据结构")["hits"]
    assert hit["id"] == copy
    assert [p["id"] for p in hit["provenances"]] == [copy]
    assert _resource(client, copy)["duplicates_of"] is None


def test_the_course_page_lists_the_other_records(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _sources(live_engine)
    own = _course(live_engine, ids, "college", 1, url=PAGE, description={"zh": "线性表"})
    copy = _course(live_engine, ids, "aggregator", 1, url=PAGE)
    page = client.get(f"/courses/{own}")
    assert page.status_code == 200
    assert "其他资源库中的同一课程" in page.text
    assert f'href="/courses/{copy}"' in page.text
    assert "oai:aggregator:1" in page.text
    _course(live_engine, ids, "college", 2, title={"zh": "数据结构实验"})
    sync_search(live_engine, live)
    english = client.get(f"/courses/{copy}", params={"lang": "en"})
    assert "The same course from other repositories" in english.text
    assert 'id="related"' in english.text, "search finds related courses"
    assert english.text.count(f'href="/courses/{own}"') == 1, "listed once, not as related"


def test_every_record_of_a_course_names_the_canonical_page_to_search_engines(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _sources(live_engine)
    own = _course(live_engine, ids, "college", 1, url=PAGE, description={"zh": "线性表"})
    copy = _course(live_engine, ids, "aggregator", 1, url=PAGE)
    assert _resource(client, copy)["duplicates_of"] == own
    base = live.resolved_public_url
    for shown in (own, copy):
        zh = client.get(f"/courses/{shown}", params={"lang": "zh"}).text
        assert f'<link rel="canonical" href="{base}/courses/{own}">' in zh
        assert f'hreflang="en" href="{base}/courses/{own}?lang=en"' in zh
        en = client.get(f"/courses/{shown}", params={"lang": "en"}).text
        assert f'<link rel="canonical" href="{base}/courses/{own}?lang=en">' in en

    with session_scope(live_engine) as session:
        catalogue.delete(session, own)
    alone = client.get(f"/courses/{copy}", params={"lang": "zh"}).text
    assert f'<link rel="canonical" href="{base}/courses/{copy}">' in alone


def test_oai_and_the_change_feed_keep_every_record(client: TestClient, live_engine: Engine) -> None:
    ids = _sources(live_engine)
    own = _course(live_engine, ids, "college", 1, url=PAGE)
    copy = _course(live_engine, ids, "aggregator", 1, url=PAGE)
    feed = client.get("/api/v1/changes", params={"since": 0}).json()
    assert {own, copy} <= {entry["id"] for entry in feed["entries"] if entry["op"] == "upsert"}
    listing = client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert listing.status_code == 200
    assert listing.text.count("<identifier>") == 2


# --- the command line ------------------------------------------------------------------------


def test_clusters_from_the_command_line(engine: Engine, coursefed: CommandLine) -> None:
    ids = _sources(engine)
    own = _course(engine, ids, "college", 1, url=PAGE, description={"zh": "线性表"})
    copy = _course(engine, ids, "aggregator", 1, url=PAGE)
    code, out, _ = coursefed("clusters", "show", copy)
    assert code == 0
    assert out.splitlines() == [f"* {own}  oai:college:1", f"  {copy}  oai:aggregator:1"]

    code, out, _ = coursefed("clusters", "split", copy)
    assert (code, out.splitlines()) == (0, [f"* {copy}  oai:aggregator:1"])
    code, out, _ = coursefed("clusters", "merge", own, copy)
    assert code == 0 and len(out.splitlines()) == 2
    code, _, err = coursefed("clusters", "split", "nope")
    assert code == 1 and "no resource with id 'nope'" in err

    with session_scope(engine) as session:  # as stored before clusters existed
        for rid in (own, copy):
            resource = catalogue.get_resource(session, rid)
            assert resource is not None
            resource.cluster_id = None
            session.add(resource)
    code, out, _ = coursefed("clusters", "rebuild")
    assert code == 0
    with session_scope(engine) as session:
        resource = catalogue.get_resource(session, copy)
        assert resource is not None and resource.cluster_id == own

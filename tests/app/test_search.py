"""Indexing the journal into real Meilisearch and searching it through the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.catalogue import service as catalogue
from app.db import session_scope
from app.jobs import sync_search
from app.search.gateway import SearchIndex
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import Provenance, ResourceRecord, Subject

pytestmark = pytest.mark.services

COURSES = [
    ("zh", "计算机科学导论", "介绍计算机系统、算法与程序设计的基础课程。", "0812"),
    ("zh", "大学物理（上）", "力学与热学的基本概念和方法。", "0702"),
    ("en", "Introduction to Data Science", "Collecting, cleaning and modelling data.", "0812"),
    ("en", "Linear Algebra for Engineers", "Vectors, matrices and eigenvalues.", "0701"),
    ("en", "Organic Chemistry", "Structure and reactions of carbon compounds.", "0703"),
]


def _store_courses(
    engine: Engine, courses: list[tuple[str, str, str, str]] = COURSES
) -> dict[str, str]:
    ids = {}
    with session_scope(engine) as session:
        source = sources.add_source(session, slug="college", base_url="http://example.org/oai")
        for n, (lang, title, description, code) in enumerate(courses):
            oai_id = f"oai:college:{n}"
            rid = catalogue.resource_id_for("college", oai_id)
            record = ResourceRecord(
                id=rid,
                title={lang: title},
                description={lang: description},
                languages=[lang],
                subjects=[Subject(code=code, label={"zh": "学科", "en": "discipline"})],
                institution="示范职业技术学院" if lang == "zh" else "Demo University",
                provenance=Provenance(
                    source="college",
                    oai_identifier=oai_id,
                    datestamp="2026-01-01T00:00:00Z",
                    metadata_prefix="oai_dc",
                    harvested_at=datetime.now(UTC),
                    raw_sha256=f"{n:064d}",
                ),
            )
            catalogue.upsert(
                session,
                catalogue.StoredRecord(
                    record=record,
                    issues=[],
                    source_id=source.id,
                    oai_identifier=oai_id,
                    datestamp="2026-01-01T00:00:00Z",
                    metadata_prefix="oai_dc",
                    raw_xml=f"<record>{n}</record>".encode(),
                    raw_sha256=f"{n:064d}",
                ),
            )
            ids[title] = rid
    return ids


def _titles(client: TestClient, q: str) -> list[str]:
    response = client.get("/api/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["hits"]]


def test_chinese_query_is_segmented(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    _store_courses(live_engine)
    sync_search(live_engine, live)
    assert _titles(client, "计算机")[0] == "计算机科学导论"
    hit = client.get("/api/v1/search", params={"q": "计算机"}).json()["hits"][0]
    assert "<mark>计算机</mark>" in hit["description"], "one mark per word, not per character"
    assert "大学物理（上）" in _titles(client, "物理")


def test_one_typo_english_query_finds_its_course(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    _store_courses(live_engine)
    sync_search(live_engine, live)
    assert _titles(client, "algebre")[0] == "Linear Algebra for Engineers"
    assert "Introduction to Data Science" in _titles(client, "scince")


def test_bilingual_synonym_finds_the_other_language(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    _store_courses(live_engine)
    sync_search(live_engine, live)
    assert "计算机科学导论" in _titles(client, "computer")


def test_response_shape_highlights_and_facets(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _store_courses(live_engine)
    sync_search(live_engine, live)
    body = client.get("/api/v1/search", params={"q": "data", "per_page": 2}).json()
    assert body["total"] >= 1
    assert body["per_page"] == 2
    assert body["page"] == 1
    assert isinstance(body["query_ms"], int)
    hit = body["hits"][0]
    assert hit["id"] == ids["Introduction to Data Science"]
    assert "<mark>data</mark>" in hit["description"]
    assert hit["api_url"] == f"/api/v1/resources/{hit['id']}"
    subjects = {facet["value"]: facet for facet in body["facets"]["subject"]}
    assert subjects["0812"]["count"] >= 1
    assert subjects["0812"]["label"] == {
        "zh": "计算机科学与技术",
        "en": "Computer Science and Technology",
    }


def test_deleting_a_resource_removes_it_from_search(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    ids = _store_courses(live_engine)
    sync_search(live_engine, live)
    with session_scope(live_engine) as session:
        catalogue.delete(session, ids["Organic Chemistry"])
    result = sync_search(live_engine, live)
    assert result.removed == 1
    assert "Organic Chemistry" not in _titles(client, "chemistry")
    assert client.get(f"/api/v1/resources/{ids['Organic Chemistry']}").status_code == 410


def test_index_matches_database_after_sync(live_engine: Engine, live: Settings) -> None:
    _store_courses(live_engine)
    first = sync_search(live_engine, live)
    again = sync_search(live_engine, live)
    assert again.applied_serial == first.applied_serial
    assert again.upserted == 0, "nothing new in the journal means no index work"
    with SearchIndex.from_settings(live) as index:
        assert index.document_count(live.meili_index) == len(COURSES)


def test_index_settings_are_applied_once(live_engine: Engine, live: Settings) -> None:
    _store_courses(live_engine)
    sync_search(live_engine, live)
    sync_search(live_engine, live)
    with SearchIndex.from_settings(live) as index:
        assert index.settings_updates(live.meili_index) == 1, "unchanged settings are not re-sent"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
        ({"q": "x" * 501}, "q"),
        ({"page": 101, "per_page": 100}, "page"),
    ],
)
def test_bad_parameters_get_422_naming_the_parameter(
    client: TestClient, params: dict[str, object], parameter: str
) -> None:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_parameter"
    assert body["detail"][0]["parameter"] == parameter


def test_title_matches_outrank_description_matches(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    _store_courses(
        live_engine,
        [
            ("en", "Numerical Methods", "Matrix computations and their stability.", "0701"),
            ("en", "Matrix Theory", "An introduction for engineers.", "0701"),
            ("zh", "线性代数", "本课程讲授矩阵理论与向量空间。", "0701"),
            ("zh", "矩阵理论", "面向工科研究生的课程。", "0701"),
        ],
    )
    sync_search(live_engine, live)
    assert _titles(client, "matrix") == ["Matrix Theory", "Numerical Methods"]
    assert _titles(client, "矩阵")[0] == "矩阵理论"


def test_deep_pages_are_served_up_to_the_limit(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"page": 100, "per_page": 100})
    assert response.status_code == 200


def test_unknown_resource_is_404_json(client: TestClient) -> None:
    response = client.get("/api/v1/resources/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "no resource with id 'nope'"}

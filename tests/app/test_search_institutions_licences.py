"""The institution and licence facets, the open=true switch and the institution API, against
real Meilisearch: one facet value per school, one licence id per statement."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.demo.corpus import generate_corpus, institution_by_slug
from app.demo.server import DemoRepositoryServer
from app.institutions import service as institutions
from app.jobs import rebuild_search, run_harvest, sync_search
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import License
from tests.app.records import store_course as store

pytestmark = pytest.mark.services

DONGHU_ZH = "东湖财经大学"
DONGHU_EN = "Donghu University of Finance and Economics"


def _search(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _facet(body: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {value["value"]: value for value in body["facets"].get(name, [])}


def test_zh_and_en_name_variants_in_different_records_are_one_facet_value_with_the_sum(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    for n in range(2):
        store(live_engine, n, DONGHU_ZH)
    for n in range(10, 13):
        store(live_engine, n, DONGHU_EN)
    store(live_engine, 20, "江澜大学")
    sync_search(live_engine, live)
    before = _facet(_search(client), "institution")
    assert sorted(v["count"] for v in before.values()) == [1, 2, 3], "no evidence yet: apart"

    # One record names the school in both languages, as a bilingual publisher card does.
    store(live_engine, 30, DONGHU_ZH, paired={"zh": DONGHU_ZH, "en": DONGHU_EN})
    with session_scope(live_engine) as session:
        school = institutions.resolve(session, DONGHU_ZH)
        english = institutions.resolve(session, DONGHU_EN)
        assert school is not None and english is not None
        if english != school:  # the English name was seeded first on its own: an admin
            institutions.merge(session, english, school)  # folds it in
    sync_search(live_engine, live)

    body = _search(client)
    facet = _facet(body, "institution")
    assert facet[school]["count"] == 2 + 3 + 1
    assert facet[school]["label"] == {"zh": DONGHU_ZH, "en": DONGHU_EN}
    assert sorted(v["count"] for v in facet.values()) == [1, 6]
    assert _search(client, institution=school)["total"] == 6
    assert _search(client, institution=DONGHU_EN)["total"] == 6, "a name filters too"
    assert _search(client, q="Donghu")["total"] >= 2, "the English name finds Chinese records"
    hit = _search(client, institution=school)["hits"][0]
    assert (hit["institution_id"], hit["institution_zh"], hit["institution_en"]) == (
        school,
        DONGHU_ZH,
        DONGHU_EN,
    )


def test_an_admin_alias_makes_one_facet_value_after_the_index_follows_the_journal(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    store(live_engine, 1, DONGHU_ZH)
    store(live_engine, 2, DONGHU_EN)
    sync_search(live_engine, live)
    assert len(_facet(_search(client), "institution")) == 2
    with session_scope(live_engine) as session:
        school = institutions.resolve(session, DONGHU_ZH)
        assert school is not None
        institutions.add_alias(session, DONGHU_EN, school)
    sync_search(live_engine, live)
    facet = _facet(_search(client), "institution")
    assert list(facet) == [school]
    assert facet[school]["count"] == 2


LICENCES = [
    ("https://creativecommons.org/licenses/by-nc-sa/4.0/", "CC-BY-NC-SA-4.0"),
    ("知识共享署名-非商业性使用-相同方式共享 4.0 国际许可协议", "CC-BY-NC-SA-4.0"),
    ("CC0 1.0", "CC0-1.0"),
    ("版权所有 © 2024 东湖财经大学", "all-rights-reserved"),
    ("版权所有，未经许可不得转载", "all-rights-reserved"),
    ("© 2021 Jianglan University. All rights reserved.", "all-rights-reserved"),
    ("本课程仅供学习交流", "other"),
]


def test_licence_facet_has_one_value_per_licence_and_open_true_filters(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    for n, (text, _) in enumerate(LICENCES):
        # Stored as records harvested before licences were normalised: no id, no flag.
        store(live_engine, n, DONGHU_ZH, license=License(text=text))
    rebuild_search(live_engine, live)  # ``coursefed reindex`` reads them again

    body = _search(client)
    licences = _facet(body, "license")
    assert {value: v["count"] for value, v in licences.items()} == dict(
        Counter(expected for _, expected in LICENCES)
    )
    assert licences["all-rights-reserved"]["label"] == {
        "zh": "版权所有",
        "en": "All rights reserved",
    }
    assert licences["CC-BY-NC-SA-4.0"]["label"]["zh"].startswith("知识共享 署名-非商业性使用")
    assert {v["value"]: v["count"] for v in body["facets"]["open"]} == {"true": 3, "false": 4}

    opened = _search(client, open="true")
    assert opened["total"] == 3
    assert {hit["license"] for hit in opened["hits"]} == {"CC-BY-NC-SA-4.0", "CC0-1.0"}
    assert all(hit["license_open"] for hit in opened["hits"])
    assert _search(client, open="false")["total"] == len(LICENCES), "false: no filter"
    assert _search(client, license="all-rights-reserved")["total"] == 3
    assert _search(client, license="all-rights-reserved", open="true")["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{"license": "版权所有 © 2024 东湖财经大学"}, {"license": "CC BY"}, {"open": "maybe"}],
)
def test_licence_filters_take_ids_only(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_parameter"


def test_the_demo_corpus_shows_each_institution_once(
    client: TestClient, live_engine: Engine, live: Settings
) -> None:
    corpus = generate_corpus(300)
    with DemoRepositoryServer(corpus) as server:
        with session_scope(live_engine) as session:
            source_id = sources.add_source(
                session, base_url=server.base_url, slug="demo", allow_private_network=True
            ).id
        assert source_id is not None
        assert run_harvest(live_engine, live, source_id).status == "succeeded"
    sync_search(live_engine, live)

    body = _search(client)
    facet = body["facets"]["institution"]
    live_records = [r for r in corpus if not r.deleted]
    expected = Counter(r.institution_slug for r in live_records)
    assert len(facet) == len(expected), "one facet value per school, whatever the language"
    by_names = {(v["label"]["zh"], v["label"]["en"]): v["count"] for v in facet}
    schools = {slug: institution_by_slug(slug) for slug in expected}
    assert by_names == {(s.name_zh, s.name_en): expected[slug] for slug, s in schools.items()}
    assert sum(v["count"] for v in facet) == body["total"]
    # Every licence of the demo corpus is one of four ids.
    assert set(_facet(body, "license")) == {
        "CC-BY-4.0",
        "CC-BY-SA-4.0",
        "CC-BY-NC-SA-4.0",
        "all-rights-reserved",
    }

    listing = client.get("/api/v1/institutions")
    assert listing.status_code == 200
    rows = listing.json()["institutions"]
    assert {row["id"]: row["count"] for row in rows} == {v["value"]: v["count"] for v in facet}
    first = rows[0]
    assert first["search_url"] == f"/api/v1/search?institution={first['id']}"
    detail = client.get(f"/api/v1/institutions/{first['id']}").json()
    assert detail["count"] == first["count"]
    assert {first["name_zh"], first["name_en"]} <= set(detail["aliases"])
    missing = client.get("/api/v1/institutions/no-such-school")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"

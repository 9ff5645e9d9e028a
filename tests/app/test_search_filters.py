"""Filters, facets and sorting on a harvested demo catalogue, against real Meilisearch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue.models import Resource
from app.db import session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.jobs import run_harvest
from app.settings import Settings
from app.sources import service as sources

pytestmark = pytest.mark.services


@pytest.fixture
def catalogue(live: Settings, live_engine: Engine) -> Iterator[list[dict[str, object]]]:
    """300 demo courses harvested (LOM) and indexed; yields the stored records."""
    with DemoRepositoryServer(generate_corpus(300)) as server:
        with session_scope(live_engine) as session:
            source_id = sources.add_source(
                session, base_url=server.base_url, slug="demo", allow_private_network=True
            ).id
        assert source_id is not None
        assert run_harvest(live_engine, live, source_id).status == "succeeded"
    with session_scope(live_engine) as session:
        rows = session.exec(select(Resource).where(Resource.deleted == False)).all()  # noqa: E712
        yield [row.record for row in rows if row.publishable]


def _search(client: TestClient, **params: object) -> dict[str, object]:
    response = client.get("/api/v1/search", params={"per_page": 100, **params})  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_facet_counts_equal_counts_from_the_database(
    client: TestClient, catalogue: list[dict[str, object]]
) -> None:
    body = _search(client)
    assert body["total"] == len(catalogue)
    facets = {
        name: {f["value"]: f["count"] for f in values} for name, values in body["facets"].items()
    }  # type: ignore[union-attr]
    levels = Counter(r["education_level"] for r in catalogue if r.get("education_level"))
    types = Counter(r["resource_type"] for r in catalogue if r.get("resource_type"))
    languages = Counter(lang for r in catalogue for lang in r["languages"])  # type: ignore[attr-defined]
    subjects = Counter(
        code
        for r in catalogue
        for code in {s["code"] for s in r["subjects"] if s.get("code")}  # type: ignore[attr-defined]
    )
    assert facets["level"] == dict(levels)
    assert facets["type"] == dict(types)
    assert facets["language"] == dict(languages)
    assert facets["subject"] == dict(subjects)
    level = next(iter(body["facets"]["level"]))  # type: ignore[index]
    assert set(level["label"]) == {"zh", "en"}, "facet values carry bilingual labels"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_values_of_one_filter_are_ored_and_filters_are_anded(
    client: TestClient, catalogue: list[dict[str, object]]
) -> None:
    def expected(levels: set[str], language: str | None = None) -> int:
        return sum(
            1
            for r in catalogue
            if r.get("education_level") in levels
            and (language is None or language in r["languages"])  # type: ignore[operator]
        )

    one = _search(client, level="undergraduate")["total"]
    both = _search(client, level=["undergraduate", "higher_vocational"])["total"]
    assert one == expected({"undergraduate"}) > 0
    assert both == expected({"undergraduate", "higher_vocational"}) > one
    anded = _search(client, level=["undergraduate", "higher_vocational"], language="zh")["total"]
    assert anded == expected({"undergraduate", "higher_vocational"}, "zh") < both


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "value",
    [
        'x" OR level = "undergraduate',
        "x' OR level = 'undergraduate",
        "x OR level = undergraduate",
        "] OR [",
        '"',
        ")) OR level EXISTS OR ((",
    ],
)
def test_filter_values_cannot_change_the_filter(
    client: TestClient, catalogue: list[dict[str, object]], value: str
) -> None:
    body = _search(client, institution=value)
    assert body["total"] == 0, "the whole value is one institution name, which none has"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_institution_name_filters_like_the_id_of_its_school(
    client: TestClient, catalogue: list[dict[str, object]]
) -> None:
    name = str(catalogue[0]["institution"])
    facet = _search(client)["facets"]["institution"]  # type: ignore[index]
    (school,) = [v for v in facet if name in v["label"].values()]  # type: ignore[union-attr]
    by_name = _search(client, institution=name)["total"]
    assert by_name == _search(client, institution=school["value"])["total"] == school["count"]
    assert by_name > sum(1 for r in catalogue if r["institution"] == name), "both languages"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sort_by_title(client: TestClient, catalogue: list[dict[str, object]]) -> None:
    titles = [hit["title"] for hit in _search(client, q="data", sort="title")["hits"]]  # type: ignore[union-attr]
    assert titles == sorted(titles)
    assert len(titles) > 1


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"level": "kindergarten"}, "level"),
        ({"subject": "08 OR 1"}, "subject"),
        ({"type": "lecture"}, "type"),
        ({"language": "english please"}, "language"),
        ({"institution": "back\\slash"}, "institution"),
        ({"sort": "random"}, "sort"),
        ({"subjet": "0812"}, "subjet"),
    ],
)
def test_bad_filter_values_get_422_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_parameter"
    assert body["detail"][0]["parameter"] == parameter

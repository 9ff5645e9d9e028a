"""Ranking by meaning: a course is found by its code, and a title match comes before a match
in a teacher's name or a description, in real Meilisearch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.jobs import sync_search
from app.main import create_app
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import Contributor
from tests.app.records import store_record

pytestmark = [pytest.mark.services]


COURSES: list[tuple[str, dict[str, Any]]] = [
    ("数据库系统原理", {"contributors": [Contributor(role="author", name="何明远")]}),
    ("机械制图", {"description": {"zh": "制图规范与明远楼的测绘实践。"}}),
    ("明远书院导读", {"course_code": "JLU0701588"}),
    ("工程力学", {"course_code": "XHIT0809187"}),
]


@pytest.fixture
def client(live_engine: Engine, live: Settings) -> Iterator[TestClient]:
    with session_scope(live_engine) as session:
        source_id = sources.add_source(
            session, slug="college", base_url="http://example.org/oai"
        ).id
    for n, (title, fields) in enumerate(COURSES):
        store_record(live_engine, source_id, n, title={"zh": title}, languages=["zh"], **fields)
    sync_search(live_engine, live)
    with TestClient(create_app(live)) as client:
        yield client


def _titles(client: TestClient, q: str) -> list[str]:
    response = client.get("/api/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["hits"]]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_course_is_found_by_its_code_in_either_case(client: TestClient) -> None:
    assert _titles(client, "XHIT0809187")[:1] == ["工程力学"]
    assert _titles(client, "jlu0701588")[:1] == ["明远书院导读"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_title_match_comes_before_a_description_and_a_teachers_name(
    client: TestClient,
) -> None:
    assert _titles(client, "明远") == ["明远书院导读", "机械制图", "数据库系统原理"]

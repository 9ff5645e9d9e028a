"""Registering sources over HTTP (admin token) and reading harvest reports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.jobs import run_harvest
from app.settings import Settings
from tests.app.oai_faults import FaultyRepository

pytestmark = pytest.mark.services


@pytest.fixture
def repository() -> Iterator[str]:
    corpus = generate_corpus(60)
    with DemoRepositoryServer(FaultyRepository(corpus, broken=[corpus[2].identifier])) as server:
        yield server.base_url


def _auth(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}


def test_registering_needs_the_admin_token(client: TestClient, repository: str) -> None:
    body = {"base_url": repository, "name": "示范学院"}
    missing = client.post("/api/v1/sources", json=body)
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    wrong = client.post("/api/v1/sources", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert client.get("/api/v1/sources").json() == [], "nothing was saved"


def test_an_endpoint_that_does_not_answer_identify_is_refused(
    client: TestClient, live: Settings
) -> None:
    response = client.post(
        "/api/v1/sources",
        json={"base_url": "http://127.0.0.1:9/oai", "allow_private_network": True},
        headers=_auth(live),
    )
    assert response.status_code == 422
    assert "did not answer an OAI-PMH Identify request" in response.json()["detail"]
    bad_interval = client.post(
        "/api/v1/sources",
        json={"base_url": "http://127.0.0.1:9/oai", "interval": "soon"},
        headers=_auth(live),
    )
    assert bad_interval.status_code == 422
    assert "interval" in bad_interval.json()["detail"]


def test_register_harvest_and_read_the_report(
    client: TestClient, live: Settings, live_engine: Engine, repository: str
) -> None:
    created = client.post(
        "/api/v1/sources",
        json={
            "base_url": repository,
            "name": "Demo College",
            "interval": "12h",
            "allow_private_network": True,  # the test repository is on loopback
        },
        headers=_auth(live),
    )
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["slug"] == "demo-college"
    assert source["interval_minutes"] == 720
    assert source["granularity"] == "YYYY-MM-DDThh:mm:ssZ"
    assert source["deleted_record"] == "persistent"
    assert client.get(f"/api/v1/sources/{source['id']}/report").status_code == 404

    run = run_harvest(live_engine, live, source["id"])
    assert run.status == "partial"
    report = client.get("/api/v1/sources/demo-college/report").json()
    assert report["status"] == "partial"
    assert report["records"]["failed"] == 1
    assert report["failed_records"][0]["identifier"] == generate_corpus(60)[2].identifier
    assert report["catalogue"]["live_records"] == report["records"]["added"]
    assert 0 < report["catalogue"]["mean_quality"] <= 1
    assert client.get("/api/v1/sources/Demo College").json()["id"] == source["id"]
    assert client.get("/api/v1/sources/nope").status_code == 404

"""Liveness and readiness against real services, including a Meilisearch that stops."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.services.manager import services_down, services_up
from app.settings import Settings
from tests.services_plugin import free_port

pytestmark = pytest.mark.services


def test_healthz_is_alive(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_each_dependency_ok(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["checks"] == {"database": "ok", "meilisearch": "ok", "s3": "ok"}
    assert body["index_lag"] == 0
    # The lexicon of suggestions is made in the background once the app serves.
    deadline = time.monotonic() + 30
    while body["suggestions"] != "ready" and time.monotonic() < deadline:
        assert body["suggestions"] == "building", body
        time.sleep(0.05)
        body = client.get("/readyz").json()
    assert body["suggestions"] == "ready"


def test_readyz_reports_a_stopped_meilisearch_with_503(live: Settings, tmp_path: Path) -> None:
    own = live.model_copy(
        update={"meili_url": None, "meili_port": free_port(), "data_dir": tmp_path / "own"}
    )
    services_up(own)  # starts only Meilisearch: S3 is the session's, configured as external
    try:
        with TestClient(create_app(own)) as client:
            assert client.get("/readyz").status_code == 200
            services_down(own)
            response = client.get("/readyz")
            assert response.status_code == 503
            checks = response.json()["checks"]
            assert checks["meilisearch"].startswith("error:")
            assert checks["database"] == "ok"
            assert checks["s3"] == "ok"
            search = client.get("/api/v1/search", params={"q": "计算机"})
            assert search.status_code == 503
            assert search.json()["error"] == "service_unavailable"
    finally:
        services_down(own)


def test_readyz_reports_unreachable_s3(live: Settings) -> None:
    broken = live.model_copy(update={"s3_endpoint": "http://127.0.0.1:9"})
    with TestClient(create_app(broken)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["s3"].startswith("error:")

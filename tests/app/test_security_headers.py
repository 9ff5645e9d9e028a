"""Security headers on every response, and a CORS policy that shares only the read API.

The app runs on a migrated SQLite database; Meilisearch and S3 point at a closed port,
which the routes tried here never need (search answers 503 and still carries the headers).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import Response
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import REPO_ROOT, make_settings

ORIGIN = "https://elsewhere.example"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path))

    @app.get("/own-policy", include_in_schema=False)
    def own_policy() -> Response:  # as the raw-record route sets its own
        return Response(
            b"<x/>",
            media_type="application/xml",
            headers={"Content-Security-Policy": "sandbox; default-src 'none'"},
        )

    @app.get("/crash", include_in_schema=False)
    def crash() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


PATHS = ["/", "/healthz", "/api/v1/sources", "/static/site.css", "/no-such-page", "/oai"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_forbids_inline_script_sniffing_and_framing(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code in {200, 404}, response.text
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'self'"], "a course's PDF view, from us only"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers  # served over plain http


def test_error_responses_of_a_down_dependency_carry_the_headers(client: TestClient) -> None:
    response = client.get("/api/v1/search", params={"q": "x"})
    assert response.status_code == 503
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in response.headers


def test_an_unexpected_error_carries_the_headers_too(client: TestClient) -> None:
    response = client.get("/crash")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_pages_have_no_inline_style_or_script_the_policy_would_block(client: TestClient) -> None:
    page = client.get("/").text
    assert "<style" not in page
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"<script(?![^>]*application/ld\+json)", page)
    assert '<link rel="stylesheet" href="/static/site.css">' in page
    css = client.get("/static/site.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.text == (REPO_ROOT / "app/web/static/site.css").read_text(encoding="utf-8")


def test_a_route_that_sets_its_own_policy_keeps_it(client: TestClient) -> None:
    response = client.get("/own-policy")
    assert response.headers.get_list("content-security-policy") == ["sandbox; default-src 'none'"]
    assert response.headers.get_list("x-content-type-options") == ["nosniff"]


def test_hsts_is_sent_when_the_public_url_is_https(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, public_url="https://courses.example.edu.cn")
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


# --- CORS -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/sources", "/oai?verb=Identify", "/api/v1/changes"])
def test_any_origin_may_read_the_public_api(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"].lower().replace(" ", "").split(",")
    assert {"x-coursefed-serial", "content-range", "retry-after", "etag"} <= set(exposed)
    assert "access-control-allow-credentials" not in response.headers


def test_pages_and_writes_are_not_shared_with_other_origins(client: TestClient) -> None:
    assert "access-control-allow-origin" not in client.get("/", headers={"Origin": ORIGIN}).headers
    write = client.post(
        "/api/v1/sources", json={"base_url": "http://x.invalid/oai"}, headers={"Origin": ORIGIN}
    )
    assert write.status_code == 401
    assert "access-control-allow-origin" not in write.headers


def preflight(client: TestClient, path: str, method: str, headers: str = "") -> Response:
    asked = {"Origin": ORIGIN, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=asked)


def test_preflight_for_a_ranged_read_is_allowed(client: TestClient) -> None:
    response = preflight(client, "/api/v1/objects/" + "a" * 64, "GET", "range, if-none-match")
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert set(response.headers["access-control-allow-methods"].split(", ")) == {"GET", "HEAD"}
    assert "range" in response.headers["access-control-allow-headers"]


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        ("/api/v1/sources", "POST", "content-type"),  # registering a source from a web page
        ("/api/v1/sources/x/objects", "PUT", ""),
        ("/api/v1/sources/x", "DELETE", ""),
        ("/api/v1/search", "GET", "authorization"),  # a credential: never shared
        ("/", "GET", ""),  # pages are not part of the shared API
    ],
)
def test_preflight_for_writes_credentials_and_pages_is_refused(
    client: TestClient, path: str, method: str, headers: str
) -> None:
    response = preflight(client, path, method, headers)
    assert response.status_code == 403
    assert response.json()["error"] == "cors_refused"
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-methods" not in response.headers

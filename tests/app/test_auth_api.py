"""Keys, scopes, the audit log and rate limits through the HTTP API, as a caller meets them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.keys import service as keys
from app.main import create_app
from app.objects.store import ObjectStore
from app.ratelimit import client_address, proxy_networks
from app.settings import Settings
from app.sources.service import add_source
from tests.app.test_objects_store import remove_bucket
from tests.services_plugin import serving

pytestmark = pytest.mark.postgres

MakeClient = Callable[..., TestClient]
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
SHA = "0" * 64


@pytest.fixture
def repository() -> Iterator[str]:
    with DemoRepositoryServer(generate_corpus(5)) as server:
        yield server.base_url


@pytest.fixture
def second_repository() -> Iterator[str]:
    """Another endpoint: one endpoint, set and format is one source (a second is a 409)."""
    with DemoRepositoryServer(generate_corpus(5)) as server:
        yield server.base_url


@pytest.fixture
def make_client(settings: Settings) -> Iterator[MakeClient]:
    """The app on this test's database (no Meilisearch or S3), with settings overrides."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> TestClient:
            app = create_app(settings.model_copy(update=overrides))
            return stack.enter_context(TestClient(app))

        yield make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def admin_token(settings: Settings) -> dict[str, str]:
    return bearer(settings.admin_token.get_secret_value())


def new_key(engine: Engine, *scopes: str, expires_at: datetime | None = None) -> str:
    with session_scope(engine) as session:
        _row, key = keys.create_key(session, list(scopes), expires_at=expires_at)
    return key


def new_source(engine: Engine, slug: str, *, allow_private_network: bool = False) -> None:
    with session_scope(engine) as session:
        add_source(
            session,
            base_url=f"http://{slug}.example.org/oai",
            slug=slug,
            allow_private_network=allow_private_network,
        )


def source_names(client: TestClient) -> dict[str, str]:
    return {source["slug"]: source["name"] for source in client.get("/api/v1/sources").json()}


def audit_rows(client: TestClient, settings: Settings) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/audit", params={"per_page": 500}, headers=admin_token(settings))
    assert answer.status_code == 200, answer.text
    return list(answer.json()["entries"])


def upload(client: TestClient, source: str, headers: dict[str, str]) -> httpx.Response:
    return client.post(
        f"/api/v1/sources/{source}/objects",
        files={"file": ("notes.pdf", PDF, "application/pdf")},
        headers=headers,
    )


# --- scopes ------------------------------------------------------------------------------------


def test_college_key_cannot_touch_another_colleges_source(
    make_client: MakeClient,
    settings: Settings,
    engine: Engine,
    repository: str,
    second_repository: str,
) -> None:
    client = make_client()
    for slug, url in (("college-a", repository), ("college-b", second_repository)):
        body = {"base_url": url, "slug": slug, "allow_private_network": True}
        assert (
            client.post("/api/v1/sources", json=body, headers=admin_token(settings)).status_code
            == 201
        )
    key_a = bearer(new_key(engine, "source:college-a"))

    hijack = {"base_url": second_repository, "slug": "college-b", "name": "Hijacked"}
    refused = client.post("/api/v1/sources", json=hijack, headers=key_a)
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    unnamed = client.post("/api/v1/sources", json={"base_url": repository}, headers=key_a)
    assert unnamed.status_code == 403  # registering a new source is for admins
    assert upload(client, "college-b", key_a).status_code == 403
    assert upload(client, "no-such-source", key_a).status_code == 403
    assert source_names(client)["college-b"] != "Hijacked"

    own = {"base_url": repository, "slug": "college-a", "name": "College A", "interval": "12h"}
    own["allow_private_network"] = True  # granted by the admin: the key may keep it
    updated = client.post("/api/v1/sources", json=own, headers=key_a)
    assert updated.status_code == 201, updated.text
    assert updated.json()["interval_minutes"] == 720
    assert source_names(client)["college-a"] == "College A"


def test_source_key_cannot_grant_itself_private_network_access(
    make_client: MakeClient, engine: Engine, repository: str
) -> None:
    new_source(engine, "college")
    key = bearer(new_key(engine, "source:college"))
    body = {"base_url": repository, "slug": "college", "allow_private_network": True}
    refused = make_client().post("/api/v1/sources", json=body, headers=key)
    assert refused.status_code == 403
    assert "allow_private_network" in refused.json()["detail"]


def test_mirror_key_cannot_write(make_client: MakeClient, engine: Engine, repository: str) -> None:
    new_source(engine, "college")
    client = make_client()
    mirror = bearer(new_key(engine, "mirror"))
    body = {"base_url": repository, "slug": "college"}
    assert client.post("/api/v1/sources", json=body, headers=mirror).status_code == 403
    assert upload(client, "college", mirror).status_code == 403
    assert client.get("/api/v1/audit", headers=mirror).status_code == 403
    assert client.get("/api/v1/changes", headers=mirror).status_code == 200  # what it is for


def test_admin_key_and_bootstrap_token_register_any_source(
    make_client: MakeClient,
    settings: Settings,
    engine: Engine,
    repository: str,
    second_repository: str,
) -> None:
    client = make_client()
    admin_key = new_key(engine, "admin")
    for slug, url, headers in (
        ("one", repository, bearer(admin_key)),
        ("two", second_repository, admin_token(settings)),
    ):
        body = {"base_url": url, "slug": slug, "allow_private_network": True}
        assert client.post("/api/v1/sources", json=body, headers=headers).status_code == 201
    credentials = [row["credential"] for row in audit_rows(client, settings)]
    assert credentials == ["admin-token", keys.key_id_of(admin_key)]


@pytest.mark.services
def test_college_key_uploads_files_for_its_own_source_only(live: Settings) -> None:
    settings = live.model_copy(update={"s3_bucket": f"auth-{uuid.uuid4().hex[:12]}"})
    ObjectStore(settings).ensure_bucket()
    engine = make_engine(settings)
    try:
        new_source(engine, "college-a")
        new_source(engine, "college-b")
        key_a = new_key(engine, "source:college-a")
        with TestClient(create_app(settings)) as client:
            stored = upload(client, "college-a", bearer(key_a))
            assert stored.status_code == 201, stored.text
            assert upload(client, "college-b", bearer(key_a)).status_code == 403
            assert upload(client, "college-b", bearer(new_key(engine, "admin"))).status_code == 201
            rows = audit_rows(client, settings)
        assert [(r["action"], r["target"], r["credential"], r["outcome"]) for r in rows][::-1] == [
            ("objects.upload", "source:college-a", keys.key_id_of(key_a), "ok"),
            ("objects.upload", "source:college-b", keys.key_id_of(key_a), "forbidden"),
            ("objects.upload", "source:college-b", rows[0]["credential"], "ok"),
        ]
    finally:
        engine.dispose()
        remove_bucket(settings)


# --- 401: missing, wrong, revoked and expired credentials ---------------------------------------


def test_missing_or_wrong_credentials_get_a_bearer_challenge(
    make_client: MakeClient, engine: Engine, repository: str
) -> None:
    client = make_client()
    body = {"base_url": repository}
    missing = client.post("/api/v1/sources", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="coursefed"'
    assert missing.json()["error"] == "unauthorized"
    for header in ("Bearer nope", "Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer cf_zz_zz"):
        wrong = client.post("/api/v1/sources", json=body, headers={"Authorization": header})
        assert wrong.status_code == 401, header
        assert wrong.headers["www-authenticate"].startswith(
            'Bearer realm="coursefed", error="invalid_token"'
        )
    # On public reads a key is optional, but one that is presented must be good.
    assert client.get("/api/v1/changes").status_code == 200
    assert client.get("/api/v1/changes", headers=bearer("nope")).status_code == 401
    assert client.get("/api/v1/audit").headers["www-authenticate"] == 'Bearer realm="coursefed"'


def test_revoked_key_is_refused_at_once(
    make_client: MakeClient, settings: Settings, engine: Engine
) -> None:
    client = make_client()
    key = new_key(engine, "admin")
    assert client.get("/api/v1/audit", headers=bearer(key)).status_code == 200
    with session_scope(engine) as session:
        keys.revoke_key(session, keys.key_id_of(key))
    refused = client.get("/api/v1/audit", headers=bearer(key))
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert "revoked" in refused.json()["detail"]
    assert client.get("/api/v1/changes", headers=bearer(key)).status_code == 401


def test_expired_key_is_refused(make_client: MakeClient, engine: Engine) -> None:
    key = new_key(engine, "mirror", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    refused = make_client().get("/api/v1/changes", headers=bearer(key))
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


# --- the audit log -----------------------------------------------------------------------------


def test_every_write_is_audited_with_its_key_and_outcome(
    make_client: MakeClient, settings: Settings, engine: Engine, repository: str
) -> None:
    client = make_client()
    new_source(engine, "college")
    college = new_key(engine, "source:college")
    admin = admin_token(settings)
    good = {"base_url": repository, "slug": "demo", "allow_private_network": True}
    calls = [
        ({"base_url": repository}, {}, 401),
        ({"base_url": repository}, bearer("cf_000000000000_" + "A" * 43), 401),
        ({"base_url": repository, "slug": "demo"}, bearer(college), 403),
        ({"slug": "demo"}, admin, 422),  # no base_url
        ({"base_url": "http://127.0.0.1:9/oai", "slug": "gone"}, admin, 422),  # no Identify
        (good, admin, 201),
    ]
    for body, headers, status in calls:
        assert client.post("/api/v1/sources", json=body, headers=headers).status_code == status
    assert client.get("/api/v1/changes").status_code == 200  # reads are not audited

    rows = audit_rows(client, settings)[::-1]  # oldest first
    seen = [(r["credential"], r["target"], r["outcome"], r["status"]) for r in rows]
    assert seen == [
        ("none", f"new source {repository}", "unauthorized", 401),
        ("invalid", f"new source {repository}", "unauthorized", 401),
        (keys.key_id_of(college), "source:demo", "forbidden", 403),
        ("admin-token", "source:demo", "invalid_parameter", 422),
        ("admin-token", "source:gone", "invalid_parameter", 422),
        ("admin-token", "source:demo", "ok", 201),
    ]
    assert {r["action"] for r in rows} == {"sources.register"}
    assert {r["client"] for r in rows} == {"testclient"}
    times = [datetime.fromisoformat(r["at"]) for r in rows]
    assert times == sorted(times)


def test_audit_log_is_for_admins_only(
    make_client: MakeClient, settings: Settings, engine: Engine
) -> None:
    new_source(engine, "college")
    client = make_client()
    assert client.get("/api/v1/audit").status_code == 401
    for scope in ("mirror", "source:college"):
        answer = client.get("/api/v1/audit", headers=bearer(new_key(engine, scope)))
        assert answer.status_code == 403
        assert answer.json()["error"] == "forbidden"
    page = client.get("/api/v1/audit", headers=bearer(new_key(engine, "admin")))
    assert page.status_code == 200
    assert page.json() == {"entries": [], "page": 1, "per_page": 50, "total": 0}
    for bad in ({"per_page": 0}, {"page": "x"}, {"limit": 5}):
        assert (
            client.get("/api/v1/audit", params=bad, headers=admin_token(settings)).status_code
            == 422
        )


def test_audit_log_pages_newest_first(
    make_client: MakeClient, settings: Settings, repository: str
) -> None:
    client = make_client()
    for n in range(3):
        client.post("/api/v1/sources", json={"base_url": repository, "slug": f"s-{n}"})
    page = client.get(
        "/api/v1/audit", params={"page": 2, "per_page": 2}, headers=admin_token(settings)
    ).json()
    assert (page["total"], page["page"], page["per_page"]) == (3, 2, 2)
    assert [entry["target"] for entry in page["entries"]] == ["source:s-0"]


# --- rate limits ---------------------------------------------------------------------------------


def assert_too_many(answer: httpx.Response) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"] == "too_many_requests"
    assert int(answer.headers["retry-after"]) >= 1


def test_password_guessing_is_cut_off_with_429(
    make_client: MakeClient, settings: Settings, repository: str
) -> None:
    client = make_client()
    body = {"base_url": repository}
    answers = [
        client.post("/api/v1/sources", json=body, headers=bearer(f"guess-{n}")) for n in range(300)
    ]
    statuses = [answer.status_code for answer in answers]
    budget = 20  # the default COURSEFED_RATE_LIMIT_AUTH_FAILURES per minute
    assert statuses == [401] * budget + [429] * (300 - budget)
    assert_too_many(answers[-1])
    assert "failed authentications" in answers[-1].json()["detail"]
    assert len(audit_rows(make_client(), settings)) == budget  # refusals flood nothing


def test_scraper_gets_429_with_retry_after_on_every_public_read(make_client: MakeClient) -> None:
    client = make_client(
        rate_limit_changes="3/minute",
        rate_limit_oai="3/minute",
        rate_limit_snapshot="1/minute",
        rate_limit_search="2/minute",
        rate_limit_objects="2/hour",
    )
    for path, budget in (
        ("/api/v1/changes", 3),
        ("/oai?verb=Identify", 3),
        ("/api/v1/snapshot", 1),
        (f"/api/v1/objects/{SHA}", 2),
        ("/api/v1/search?q=x", 2),  # Meilisearch is not running: 503 until the budget is spent
    ):
        within = [client.get(path).status_code for _ in range(budget)]
        assert 429 not in within, path
        assert_too_many(client.get(path))
    # The search page draws on the same budget, and tells a person so on a page.
    page = client.get("/search?q=x")
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert int(page.headers["retry-after"]) >= 1
    assert_too_many(client.post("/oai", data={"verb": "Identify"}))
    head = client.head(f"/api/v1/objects/{SHA}")
    assert (head.status_code, head.content) == (429, b"")
    assert int(head.headers["retry-after"]) >= 1
    objects = client.get(f"/api/v1/objects/{SHA}")
    assert int(objects.headers["retry-after"]) > 60  # the window is an hour
    assert client.get("/api/v1/sources").status_code == 200  # not a limited read


def test_mirror_key_gets_a_larger_budget_than_an_address(
    make_client: MakeClient, engine: Engine
) -> None:
    new_source(engine, "college")
    client = make_client(rate_limit_changes="2/minute", rate_limit_mirror_factor=10)
    mirror = bearer(new_key(engine, "mirror"))
    college = bearer(new_key(engine, "source:college"))
    assert [client.get("/api/v1/changes").status_code for _ in range(2)] == [200, 200]
    assert_too_many(client.get("/api/v1/changes"))
    statuses = [client.get("/api/v1/changes", headers=mirror).status_code for _ in range(20)]
    assert statuses == [200] * 20  # its own budget, ten times an address's
    assert_too_many(client.get("/api/v1/changes", headers=mirror))
    assert [client.get("/api/v1/changes", headers=college).status_code for _ in range(2)] == [
        200,
        200,
    ]
    assert_too_many(client.get("/api/v1/changes", headers=college))


def test_rate_limits_can_be_turned_off(make_client: MakeClient, repository: str) -> None:
    client = make_client(rate_limit=False, rate_limit_changes="1/hour")
    assert {client.get("/api/v1/changes").status_code for _ in range(5)} == {200}
    body = {"base_url": repository}
    guesses = {client.post("/api/v1/sources", json=body).status_code for _ in range(30)}
    assert guesses == {401}


# --- the client address ---------------------------------------------------------------------------


def scope(peer: str, *forwarded: str) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"client": (peer, 50000), "headers": headers}


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    proxies = proxy_networks("10.0.0.0/8, 2001:db8::/32")
    # Without trusted proxies, or from a peer that is not one, the header is the client's own.
    assert client_address(scope("203.0.113.9", "198.51.100.1")) == "203.0.113.9"
    assert client_address(scope("203.0.113.9", "198.51.100.1"), proxies) == "203.0.113.9"
    # Behind a trusted proxy: the nearest hop that is not a trusted proxy.
    assert client_address(scope("10.0.0.2", "198.51.100.1"), proxies) == "198.51.100.1"
    assert (
        client_address(scope("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.7"), proxies)
        == "198.51.100.1"
    ), "a hop the client wrote itself (1.2.3.4) is never chosen"
    assert client_address(scope("10.0.0.2", "1.2.3.4", "198.51.100.1"), proxies) == "198.51.100.1"
    assert client_address(scope("10.0.0.2", "10.0.0.5"), proxies) == "10.0.0.5"
    assert client_address(scope("10.0.0.2", "not-an-ip, 10.0.0.5"), proxies) == "10.0.0.5"
    assert client_address(scope("10.0.0.2"), proxies) == "10.0.0.2"
    assert client_address(scope("2001:db8::1", "2001:0db8:0:0::1, 2a00::1"), proxies) == "2a00::1"
    assert client_address({"headers": []}, proxies) == "unknown"


def test_forged_forwarded_for_does_not_escape_the_budget(settings: Settings) -> None:
    """Through a real socket: uvicorn must not believe X-Forwarded-For from loopback either."""
    limited = settings.model_copy(update={"rate_limit_changes": "3/hour"})
    with serving(create_app(limited)) as base, httpx.Client(base_url=base) as http:
        statuses = [
            http.get("/api/v1/changes", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(5)
        ]
    assert statuses == [200, 200, 200, 429, 429]
    trusting = limited.model_copy(update={"trusted_proxies": "127.0.0.1/32"})
    with serving(create_app(trusting)) as base, httpx.Client(base_url=base) as http:
        statuses = [
            http.get("/api/v1/changes", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(5)
        ]
        assert statuses == [200] * 5  # five clients behind our proxy, each with its budget
        same = [
            http.get("/api/v1/changes", headers={"X-Forwarded-For": "198.51.100.1"}).status_code
            for _ in range(3)
        ]
    assert same == [200, 200, 429]

"""Small edges a visitor or an operator meets: repeated parameters, huge URLs, HEAD,
503s that name no internal address, S3 known to be down, duplicate sources."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.engine import Engine

from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.errors import Conflict
from app.main import create_app
from app.objects.store import ObjectStore
from app.security import MAX_TARGET_BYTES
from app.services.manager import services_down, services_up
from app.settings import Settings
from app.sources import service as sources
from tests.app.test_objects_faults import own_s3
from tests.app.test_objects_store import remove_bucket
from tests.conftest import CommandLine, Ran, make_settings

ADMIN = {"Authorization": f"Bearer {Settings().admin_token.get_secret_value()}"}
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
# What a 503 must not show: the addresses and ports the services listen on.
INTERNAL = ("127.0.0.1", "localhost", ":9", "http://", "https://")


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[TestClient]:
    """The app on SQLite with Meilisearch and S3 at a closed loopback port."""
    with TestClient(create_app(make_settings(tmp_path))) as client:
        yield client


def assert_no_internal_address(text: str) -> None:
    for needle in INTERNAL:
        assert needle not in text, f"{needle!r} leaked in {text}"


# --- repeated single-valued parameters --------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "page=1&page=2",
        "per_page=10&per_page=100",
        "sort=newest&sort=title",
        "q=a&q=b",
        "q=x&subject=0812&page=2&page=3",
    ],
)
def test_a_repeated_search_parameter_is_refused_not_silently_picked(
    offline: TestClient, query: str
) -> None:
    response = offline.get(f"/api/v1/search?{query}")
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_parameter"
    repeated = {p["parameter"] for p in body["detail"]}
    assert repeated == {query.rsplit("&", maxsplit=1)[-1].split("=", maxsplit=1)[0]}


def test_a_repeated_feed_position_is_refused(offline: TestClient) -> None:
    response = offline.get("/api/v1/changes?since=1&since=2")
    assert response.status_code == 422
    assert response.json()["detail"][0]["parameter"] == "since"
    assert offline.get("/api/v1/changes?limit=1&limit=5000").status_code == 422
    assert offline.get("/api/v1/changes?since=0&limit=1").status_code == 200


def test_a_repeated_page_of_the_search_page_is_refused(offline: TestClient) -> None:
    assert offline.get("/?q=a&q=b").status_code == 422


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=lom", "badArgument"),
        ("verb=Identify&verb=Identify", "badVerb"),  # the protocol's word for a repeated verb
    ],
)
def test_oai_keeps_its_own_rule_for_repeated_arguments(
    offline: TestClient, query: str, code: str
) -> None:
    response = offline.get(f"/oai?{query}")
    assert response.status_code == 200
    error = etree.fromstring(response.content).find(f"{OAI}error")
    assert error is not None
    assert error.get("code") == code


@pytest.mark.services
def test_repeated_filters_still_mean_or(client: TestClient) -> None:
    response = client.get("/api/v1/search?subject=0812&subject=0401&level=undergraduate")
    assert response.status_code == 200, response.text


def test_a_source_reference_in_superscript_digits_is_404_not_500(offline: TestClient) -> None:
    # "²" passes str.isdigit() but int() refuses it: the lookup by id crashed on it.
    assert offline.get("/api/v1/sources/²").status_code == 404
    assert offline.get("/api/v1/sources/%C2%B2/report").status_code == 404
    upload = offline.post(
        "/api/v1/sources/1/objects",
        content=b"--x--",
        headers={
            **ADMIN,
            "content-type": "multipart/form-data; boundary=x",
            "content-length": "²".encode("latin-1"),
        },
    )
    assert upload.status_code < 500


# --- over-long request targets ----------------------------------------------------------------


@pytest.mark.parametrize("where", ["path", "query"])
def test_an_over_long_url_is_414_with_a_json_body(offline: TestClient, where: str) -> None:
    long = "a" * (MAX_TARGET_BYTES + 1)
    url = f"/courses/{long}" if where == "path" else f"/api/v1/search?q={long}"
    response = offline.get(url)
    assert response.status_code == 414
    assert response.json()["error"] == "uri_too_long"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert offline.get("/api/v1/search?" + "q=" + "a" * 400).status_code != 414


# --- HEAD of pages ----------------------------------------------------------------------------


def test_head_of_the_pages_is_answered(offline: TestClient) -> None:
    home = offline.head("/")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    assert home.content == b""
    missing = offline.head("/courses/nope")
    assert missing.status_code == 404
    assert missing.content == b""
    assert offline.head("/static/site.css").status_code == 200


# --- 503 bodies -------------------------------------------------------------------------------


def test_readiness_says_what_is_down_without_its_address(offline: TestClient) -> None:
    response = offline.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks == {
        "database": "ok",
        "meilisearch": "error: unreachable",
        "s3": "error: unreachable",
    }
    assert_no_internal_address(response.text)


def test_an_unreachable_object_store_is_503_without_its_address(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, objects_serve="proxy")
    digest = insert_blob(settings, PDF)
    with TestClient(create_app(settings)) as client:
        response = client.get(f"/api/v1/objects/{digest}")
    assert response.status_code == 503
    assert response.json() == {
        "error": "service_unavailable",
        "detail": "object store: unreachable; try again shortly",
    }
    assert response.headers["retry-after"].isdigit()
    assert_no_internal_address(response.text)


def insert_blob(settings: Settings, data: bytes) -> str:
    import hashlib  # noqa: PLC0415

    from app.objects import repository  # noqa: PLC0415

    digest = hashlib.sha256(data).hexdigest()
    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            repository.upsert_blob(
                session,
                sha256=digest,
                size=len(data),
                media_type="application/pdf",
                file_name="notes.pdf",
            )
    finally:
        engine.dispose()
    return digest


# --- redirect-mode downloads while S3 is down -------------------------------------------------


@pytest.fixture
def own_seaweed(live: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A SeaweedFS of this test's own (stopped and started by the test), redirect mode."""
    own = own_s3(live, tmp_path / "own").model_copy(
        update={"objects_serve": "redirect", "s3_bucket": f"edges-{uuid.uuid4().hex[:8]}"}
    )
    services_up(own)
    try:
        ObjectStore(own).ensure_bucket()
        yield own
    finally:
        services_down(own)


def upload_pdf(client: TestClient, settings: Settings) -> str:
    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            source = sources.add_source(
                session, base_url="http://college.example/oai", slug="college"
            )
            source_id = source.id
    finally:
        engine.dispose()
    response = client.post(
        f"/api/v1/sources/{source_id}/objects",
        files={"file": ("notes.pdf", PDF, "application/pdf")},
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    digest: str = response.json()["sha256"]
    return digest


@pytest.mark.services
def test_redirects_are_503_while_readiness_knows_s3_is_down(own_seaweed: Settings) -> None:
    with TestClient(create_app(own_seaweed), follow_redirects=False) as client:
        digest = upload_pdf(client, own_seaweed)
        assert client.get(f"/api/v1/objects/{digest}").status_code == 307
        services_down(own_seaweed)
        assert client.get("/readyz").status_code == 503  # what a load balancer asks often
        down = client.get(f"/api/v1/objects/{digest}")
        assert down.status_code == 503
        assert down.json()["detail"] == "object store: unreachable; try again shortly"
        assert down.headers["retry-after"] == "10"
        assert "location" not in down.headers
        assert_no_internal_address(down.text)
        # HEAD is answered from the database alone, S3 or not.
        assert client.head(f"/api/v1/objects/{digest}").status_code == 200
        services_up(own_seaweed)
        assert client.get("/readyz").status_code == 200
        assert client.get(f"/api/v1/objects/{digest}").status_code == 307
    remove_bucket(own_seaweed)


@pytest.mark.services
def test_a_stale_word_on_s3_is_checked_by_one_probe(own_seaweed: Settings) -> None:
    settings = own_seaweed.model_copy(update={"objects_s3_fresh_seconds": 0})
    with TestClient(create_app(settings), follow_redirects=False) as client:
        digest = upload_pdf(client, settings)
        assert client.get(f"/api/v1/objects/{digest}").status_code == 307
        services_down(settings)
        # Nothing told the app S3 stopped: the stale word is probed before redirecting.
        assert client.get(f"/api/v1/objects/{digest}").status_code == 503
        services_up(settings)
        assert client.get(f"/api/v1/objects/{digest}").status_code == 307
    remove_bucket(settings)


# --- duplicate sources ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "again",
    [
        "http://repo.example.edu/oai",
        "http://Repo.Example.EDU:80/oai/",
        "http://repo.example.edu/oai/",
    ],
)
def test_the_same_endpoint_registered_under_another_name_is_409(engine: Engine, again: str) -> None:
    with session_scope(engine) as session:
        sources.add_source(session, base_url="http://repo.example.edu/oai", slug="college")
    with pytest.raises(Conflict, match="'college'") as raised, session_scope(engine) as session:
        sources.add_source(session, base_url=again, name="Another name")
    assert raised.value.status_code == 409
    with session_scope(engine) as session:
        # The same slug updates its own source, as before.
        updated = sources.add_source(session, base_url=again, slug="college", interval_minutes=60)
        assert updated.interval_minutes == 60
        # Another set, format or port is another harvest.
        sources.add_source(session, base_url="http://repo.example.edu/oai", set_spec="math")
        sources.add_source(session, base_url="http://repo.example.edu/oai", metadata_prefix="lom")
        sources.add_source(session, base_url="http://repo.example.edu:8080/oai")
        sources.add_source(session, base_url="https://repo.example.edu/oai")
        assert len(sources.list_sources(session)) == 5


def loopback(base_url: str, slug: str) -> dict[str, object]:
    """A registration of a test repository (on loopback, so allowed as such)."""
    return {"base_url": base_url, "slug": slug, "allow_private_network": True}


@pytest.mark.services
def test_registering_an_endpoint_twice_through_the_api_is_409(client: TestClient) -> None:
    with DemoRepositoryServer(generate_corpus(3)) as repository:
        first = client.post(
            "/api/v1/sources", json=loopback(repository.base_url, "demo"), headers=ADMIN
        )
        assert first.status_code == 201, first.text
        again = client.post(
            "/api/v1/sources",
            json=loopback(repository.base_url, "demo-again"),
            headers=ADMIN,
        )
        assert again.status_code == 409
        assert again.json()["error"] == "conflict"
        assert "'demo'" in again.json()["detail"]
        same = client.post(
            "/api/v1/sources", json=loopback(repository.base_url, "demo"), headers=ADMIN
        )
        assert same.status_code == 201
    assert [s["slug"] for s in client.get("/api/v1/sources").json()] == ["demo"]


def test_registering_an_endpoint_twice_from_the_command_line_says_which_source(
    tmp_path: Path, coursefed: CommandLine
) -> None:
    env = {"COURSEFED_DATA_DIR": str(tmp_path / "var")}

    def run(*args: str) -> Ran:
        return coursefed(*args, env=env)

    assert run("db", "upgrade").returncode == 0
    with DemoRepositoryServer(generate_corpus(3)) as repository:
        allow = "--allow-private-network"
        first = run("sources", "add", repository.base_url, "--name", "Demo", allow)
        assert first.returncode == 0, first.stderr
        again = run("sources", "add", repository.base_url, "--name", "Demo twice", allow)
    assert again.returncode != 0
    assert "already harvests" in again.stderr
    assert "'demo'" in again.stderr
    assert "Traceback" not in again.stderr

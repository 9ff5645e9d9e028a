"""``/metrics``, request ids and JSON logs, against real work: a harvest from a repository
over HTTP, searches in a real Meilisearch, a file fetched into real S3, a rate limit spent,
a mirror following a real upstream."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from app import jobs
from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.mirror.client import Mirror
from app.objects.store import ObjectStore
from app.observability import logs
from app.observability.requests import RequestIdMiddleware
from app.settings import Settings
from app.sources import service as sources
from tests.app.object_server import ObjectServer, Reply
from tests.app.records import publish
from tests.conftest import CommandLine, Ran, migrated
from tests.services_plugin import serving

LOOPBACK = ("127.0.0.1", 50000)
OUTSIDER = ("203.0.113.9", 50000)
PDF = b"%PDF-1.7\n"


def scrape(client: TestClient, **headers: str) -> dict[str, list[Sample]]:
    """``/metrics`` parsed as Prometheus parses it: family name → samples."""
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    families = text_string_to_metric_families(answer.text)
    return {family.name: list(family.samples) for family in families}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The value of the one sample called ``name`` whose labels include ``labels``."""
    found = [s for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert len(found) == 1, (name, labels, samples)
    return found[0].value


def add_source(engine: Engine, slug: str, base_url: str) -> int:
    with session_scope(engine) as session:
        source = sources.add_source(
            session, slug=slug, name=slug, base_url=base_url, allow_private_network=True
        )
        assert source.id is not None
        return source.id


@pytest.fixture
def node(live: Settings) -> Settings:
    """Live services, a bucket of its own, a search budget of two a minute."""
    return live.model_copy(
        update={
            "s3_bucket": f"metrics-{uuid.uuid4().hex[:10]}",
            "objects_retry_base_seconds": 0.0,
            "rate_limit_search": "2/minute",
        }
    )


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_metrics_carry_every_series_after_real_work(node: Settings) -> None:
    engine = make_engine(node)
    store = ObjectStore(node)
    store.ensure_bucket()
    slug = f"metrics-{uuid.uuid4().hex[:8]}"
    try:
        with DemoRepositoryServer(generate_corpus(40), page_size=20) as repository:
            run = jobs.run_harvest(engine, node, add_source(engine, slug, repository.base_url))
        assert run.status == "succeeded", run.error

        with ObjectServer() as files:
            url = files.serve("/notes.pdf", Reply(prefix=PDF, size=5000))
            college = add_source(engine, f"{slug}-files", "http://files.example/oai")
            publish(engine, college, 1, [url], title={"zh": "讲义"}, slug=f"{slug}-files")
            report = jobs.run_objects(engine, node, store=store)
        assert report.outcomes["stored"] == 1

        with TestClient(create_app(node), client=LOOPBACK) as client:
            lagging = scrape(client)
            assert value(lagging["coursefed_index_lag_serials"], "coursefed_index_lag_serials") > 0
            jobs.sync_search(engine, node)

            statuses = [
                client.get("/api/v1/search", params={"q": "课程"}).status_code for _ in "abc"
            ]
            assert statuses == [200, 200, 429]
            metrics = scrape(client)
    finally:
        store.close()
        engine.dispose()

    # Harvest: events counted by the process that ran it, and the last run from the database.
    records = metrics["coursefed_harvest_records"]
    assert value(records, "coursefed_harvest_records_total", source=slug, outcome="added") == (
        run.records_added
    )
    runs = metrics["coursefed_harvest_runs"]
    assert value(runs, "coursefed_harvest_runs_total", source=slug, status="succeeded") == 1
    durations = metrics["coursefed_harvest_run_duration_seconds"]
    assert value(durations, "coursefed_harvest_run_duration_seconds_count", source=slug) == 1
    last = metrics["coursefed_source_last_run_records"]
    assert value(last, "coursefed_source_last_run_records", source=slug, outcome="seen") == 40
    assert value(last, "coursefed_source_last_run_records", source=slug, outcome="failed") == 0
    status = metrics["coursefed_source_last_run_status"]
    assert value(status, "coursefed_source_last_run_status", source=slug, status="succeeded") == 1
    assert (
        value(
            metrics["coursefed_source_last_run_duration_seconds"],
            "coursefed_source_last_run_duration_seconds",
            source=slug,
        )
        >= 0
    )
    assert value(
        metrics["coursefed_source_last_success_timestamp_seconds"],
        "coursefed_source_last_success_timestamp_seconds",
        source=slug,
    ) == value(
        metrics["coursefed_source_last_run_finished_timestamp_seconds"],
        "coursefed_source_last_run_finished_timestamp_seconds",
        source=slug,
    )
    # The index caught up with the journal.
    assert value(metrics["coursefed_index_lag_serials"], "coursefed_index_lag_serials") == 0
    assert value(metrics["coursefed_database_up"], "coursefed_database_up") == 1
    assert value(metrics["coursefed_journal_head_serial"], "coursefed_journal_head_serial") > 0
    # Searches, the refusal and the fetch.
    searches = metrics["coursefed_search_duration_seconds"]
    assert value(searches, "coursefed_search_duration_seconds_count", endpoint="api") >= 2
    refusals = metrics["coursefed_rate_limit_refusals"]
    assert value(refusals, "coursefed_rate_limit_refusals_total", kind="search") >= 1
    fetches = metrics["coursefed_object_fetches"]
    assert value(fetches, "coursefed_object_fetches_total", outcome="stored") >= 1
    # No mirror on this node: the family is there, without samples.
    assert metrics["coursefed_mirror_lag_serials"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_mirror_lag_is_read_from_what_the_mirror_committed(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    with DemoRepositoryServer(generate_corpus(30)) as repository:
        run = jobs.run_harvest(
            engine,
            settings.model_copy(update={"harvest_max_retries": 1}),
            add_source(engine, "demo", repository.base_url),
        )
    assert run.status in {"succeeded", "partial"}
    downstream = Settings(data_dir=tmp_path / "mirror", scheduler=False)
    migrated(downstream)
    mirrored = make_engine(downstream)
    try:
        with serving(create_app(settings)) as upstream:
            mirror = Mirror(mirrored, upstream, allow_private=True, page_size=10)
            mirror.sync()
            mirror.close()
        with TestClient(create_app(downstream), client=LOOPBACK) as client:
            metrics = scrape(client)
    finally:
        mirrored.dispose()
    lag = metrics["coursefed_mirror_lag_serials"]
    assert value(lag, "coursefed_mirror_lag_serials", upstream=upstream) == 0
    polled = metrics["coursefed_mirror_last_poll_timestamp_seconds"]
    assert value(polled, "coursefed_mirror_last_poll_timestamp_seconds", upstream=upstream) > 0


# --- who may read /metrics ------------------------------------------------------------------


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr("prometheus-secret-token")})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_metrics_are_refused_to_a_client_outside_the_allowed_networks(
    app_settings: Settings,
) -> None:
    with TestClient(create_app(app_settings), client=OUTSIDER) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 403
        assert refused.json()["error"] == "forbidden"
        assert "COURSEFED_METRICS_ALLOW" in refused.json()["detail"]
        wrong = client.get("/metrics", headers={"Authorization": "Bearer guessed"})
        assert wrong.status_code == 403
        # The token opens them from anywhere.
        assert scrape(client, Authorization="Bearer prometheus-secret-token")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_proxy_on_loopback_does_not_open_metrics_to_the_web(app_settings: Settings) -> None:
    """nginx on the same machine connects from loopback: what it forwards is an outsider's
    request unless the proxy is trusted and names a client inside the allowed networks."""
    forwarded = {"X-Forwarded-For": "198.51.100.7"}
    with TestClient(create_app(app_settings), client=LOOPBACK) as client:
        assert client.get("/metrics", headers=forwarded).status_code == 403
        assert scrape(client)  # loopback itself, not forwarded: allowed
    trusting = app_settings.model_copy(update={"trusted_proxies": "127.0.0.1"})
    with TestClient(create_app(trusting), client=LOOPBACK) as client:
        assert client.get("/metrics", headers=forwarded).status_code == 403
        assert scrape(client, **{"X-Forwarded-For": "127.0.0.1"})
    nobody = app_settings.model_copy(update={"metrics_allow": "", "metrics_token": None})
    with TestClient(create_app(nobody), client=LOOPBACK) as client:
        assert client.get("/metrics").status_code == 403


def test_a_bad_allowed_network_is_a_start_up_error() -> None:
    with pytest.raises(ValueError, match="not an address or CIDR"):
        Settings(metrics_allow="10.0.0.0/33")


# --- request ids and logs ---------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_response_carries_a_request_id(settings: Settings) -> None:
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        answers = [
            client.get("/healthz"),
            client.get("/no/such/page"),
            client.get("/api/v1/search", params={"page": "0"}),  # 422
            client.get("/" + "a" * 9000),  # 414 at the edge
            client.get("/metrics"),
            client.options("/api/v1/search", headers={"Origin": "https://x.example"}),
        ]
        ids = [answer.headers.get("x-request-id") for answer in answers]
        assert all(ids), [a.status_code for a in answers]
        assert len(set(ids)) == len(ids), "a new id for each request"
        for generated in ids:
            assert generated is not None and len(generated) == 32

        kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a:2b.c_d-9"})
        assert kept.headers["x-request-id"] == "lb-7f3a:2b.c_d-9"
        for hostile in ('"><script>alert(1)</script>', "a b", "x" * 129, "", "-leading"):
            answer = client.get("/healthz", headers={"X-Request-ID": hostile})
            assert answer.headers["x-request-id"] != hostile
            assert len(answer.headers["x-request-id"]) == 32
            assert answer.headers.get_list("x-request-id") == [answer.headers["x-request-id"]]


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the root logger writes while the test runs, as ``COURSEFED_LOG_FORMAT=json``."""
    stream = io.StringIO()
    handler = logs.handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_json_log_line_of_a_request_carries_its_id(
    settings: Settings, json_log: io.StringIO
) -> None:
    """``/readyz`` logs each dependency that is down (here Meilisearch and S3 are)."""
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        answer = client.get("/readyz", headers={"X-Request-ID": "probe-42"})
    assert answer.status_code == 503
    written = [line for line in lines(json_log) if line["logger"] == "app.health"]
    assert written, json_log.getvalue()
    for line in written:
        assert line["request_id"] == "probe-42"
        assert line["level"] == "WARNING"
        assert "timestamp" in line and "message" in line


def test_the_access_line_of_a_real_server_is_json_with_the_request_id(
    json_log: io.StringIO,
) -> None:
    """Through uvicorn as ``coursefed serve`` configures it: its access line goes to the
    same handler, with the request id and the request's method, path and status."""

    async def empty(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

    access = logging.getLogger("uvicorn.access")
    propagate = access.propagate
    access.propagate = True  # a uvicorn configured otherwise earlier in this process
    try:
        with serving(RequestIdMiddleware(empty), log_level="info") as url:
            answer = httpx.get(f"{url}/ping?x=1", headers={"X-Request-ID": "edge-1"})
    finally:
        access.propagate = propagate
    assert answer.headers["x-request-id"] == "edge-1"
    found = [line for line in lines(json_log) if line["logger"] == "uvicorn.access"]
    assert found, json_log.getvalue()
    assert found[-1]["request_id"] == "edge-1"
    assert (found[-1]["method"], found[-1]["path"], found[-1]["status"]) == (
        "GET",
        "/ping?x=1",
        204,
    )


# --- several processes --------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_counts_of_several_processes_are_summed_in_multiprocess_mode(
    settings: Settings, tmp_path: Path
) -> None:
    """Two processes count refusals; a third serves /metrics: it reports their sum."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "PYTHONPATH": str(Path.cwd())}
    count = "from app.observability import metrics;metrics.RATE_LIMIT_REFUSALS.labels('oai').inc(3)"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, timeout=60)
    serve = f"""
import sys
from fastapi.testclient import TestClient
from app.main import create_app
from app.settings import Settings

node = Settings(
    database_url={settings.database_url!r},
    scheduler=False,
    meili_url="http://127.0.0.1:9",
    s3_endpoint="http://127.0.0.1:9",
)
with TestClient(create_app(node), client=("127.0.0.1", 1)) as client:
    sys.stdout.write(client.get("/metrics").text)
"""
    done = subprocess.run(
        [sys.executable, "-c", serve],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    )
    families = {f.name: f.samples for f in text_string_to_metric_families(done.stdout)}
    refusals = families["coursefed_rate_limit_refusals"]
    assert value(refusals, "coursefed_rate_limit_refusals_total", kind="oai") == 6
    assert "coursefed_index_lag_serials" in families


def test_counters_are_served_while_the_database_is_down(tmp_path: Path) -> None:
    """A scrape during a database outage says so, and still carries the counters."""
    missing = tmp_path / "not-there" / "coursefed.db"
    node = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{missing}",
        scheduler=False,
        meili_url="http://127.0.0.1:9",
        s3_endpoint="http://127.0.0.1:9",
    )
    with TestClient(create_app(node), client=LOOPBACK) as client:
        metrics = scrape(client)
    assert value(metrics["coursefed_database_up"], "coursefed_database_up") == 0
    assert "coursefed_rate_limit_refusals" in metrics
    assert "coursefed_index_lag_serials" not in metrics


@pytest.fixture
def here(coursefed: CommandLine, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """``coursefed ARGS`` in this process, with its data in ``folder`` and ``env`` set."""
    monkeypatch.delenv("COURSEFED_DATABASE_URL", raising=False)

    def run(folder: Path, *args: str, **env: str) -> Ran:
        return coursefed(*args, env={"COURSEFED_DATA_DIR": str(folder / "var"), **env})

    return run


def process(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``coursefed ARGS`` in a process of its own, for what is read once at its start."""
    environment = {
        **os.environ,
        "PYTHONPATH": str(Path.cwd()),
        "COURSEFED_DATA_DIR": str(tmp_path / "var"),
        **env,
    }
    environment.pop("COURSEFED_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_line_writes_json_lines_when_asked(
    tmp_path: Path, here: Callable[..., Ran]
) -> None:
    (tmp_path / "var").mkdir()
    done = here(tmp_path, "db", "upgrade", COURSEFED_LOG_FORMAT="json")
    assert done.returncode == 0, done.stderr
    written = [json.loads(line) for line in done.stderr.splitlines()]
    assert written, "alembic announces each migration"
    assert {line["logger"] for line in written} >= {"alembic.runtime.migration"}
    assert all(line["request_id"] is None for line in written), "no request here"

    other = tmp_path / "other"
    (other / "var").mkdir(parents=True)
    text = here(other, "--log-format", "text", "db", "upgrade", COURSEFED_LOG_FORMAT="json")
    assert text.returncode == 0, text.stderr
    assert " INFO alembic.runtime.migration: " in text.stderr, "the flag wins"
    assert not text.stderr.startswith("{")


def test_an_unknown_log_format_is_refused_with_a_message(
    tmp_path: Path, here: Callable[..., Ran]
) -> None:
    done = here(tmp_path, "sources", "list", COURSEFED_LOG_FORMAT="xml")
    assert done.returncode == 1
    assert done.stderr.startswith("coursefed: error:")
    assert "log_format" in done.stderr and "Traceback" not in done.stderr
    flag = here(tmp_path, "--log-format", "xml", "sources", "list")
    assert flag.returncode == 2 and "invalid choice" in flag.stderr


def test_a_missing_multiprocess_directory_is_named_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "not-made"
    done = process(tmp_path, "sources", "list", PROMETHEUS_MULTIPROC_DIR=str(missing))
    assert done.returncode == 1
    assert f"PROMETHEUS_MULTIPROC_DIR={missing} is not a directory" in done.stderr
    assert "Traceback" not in done.stderr

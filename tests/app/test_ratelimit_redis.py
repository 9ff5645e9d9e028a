"""Rate limits shared through Redis by several ``coursefed serve`` processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.services_plugin import free_port

pytestmark = pytest.mark.postgres

REDIS_URL = os.environ.get("COURSEFED_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
COURSEFED = str(Path(sys.executable).with_name("coursefed"))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in a running Redis; its keys are removed after."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        pytest.skip(f"no Redis answers at {REDIS_URL}: {exc}")
    prefix = f"coursefed-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()


def serve(settings: Settings, port: int, log: Path, **env: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "COURSEFED_DATA_DIR": str(settings.data_dir),
        "COURSEFED_DATABASE_URL": settings.resolved_database_url,
        "COURSEFED_MEILI_URL": "http://127.0.0.1:9",
        "COURSEFED_S3_ENDPOINT": "http://127.0.0.1:9",
        "COURSEFED_PORT": str(port),
        **env,
    }
    with log.open("wb") as output:
        return subprocess.Popen(
            [COURSEFED, "serve", "--no-scheduler"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base} did not start: {log.read_text(errors='replace')}")


@pytest.fixture
def two_processes(settings: Settings, redis_prefix: str, tmp_path: Path) -> Iterator[list[str]]:
    """Two app processes on their own ports, counting in the same Redis."""
    env = {
        "COURSEFED_REDIS_URL": REDIS_URL,
        "COURSEFED_REDIS_PREFIX": redis_prefix,
        "COURSEFED_RATE_LIMIT_CHANGES": "10/hour",
        "COURSEFED_RATE_LIMIT_AUTH_FAILURES": "4/hour",
    }
    processes: list[subprocess.Popen[bytes]] = []
    bases: list[str] = []
    try:
        for n in range(2):
            port, log = free_port(), tmp_path / f"serve-{n}.log"
            processes.append(serve(settings, port, log, **env))
            bases.append(f"http://127.0.0.1:{port}")
        for base, process, n in zip(bases, processes, range(2), strict=True):
            wait_until_up(base, process, tmp_path / f"serve-{n}.log")
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def test_two_app_processes_share_one_budget_through_redis(
    two_processes: list[str], redis_prefix: str
) -> None:
    answers = [httpx.get(f"{two_processes[n % 2]}/api/v1/changes") for n in range(16)]
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * 10 + [429] * 6, "each process would have allowed 10 on its own"
    refused = answers[-1]
    assert refused.json()["error"] == "too_many_requests"
    assert 60 < int(refused.headers["retry-after"]) <= 3600
    assert {answer.status_code for answer in answers[10::2]} == {429}  # both processes refuse
    assert {answer.status_code for answer in answers[11::2]} == {429}

    guesses = [
        httpx.post(
            f"{two_processes[n % 2]}/api/v1/sources",
            json={"base_url": "http://example.org/oai"},
            headers={"Authorization": f"Bearer guess-{n}"},
        ).status_code
        for n in range(8)
    ]
    assert guesses == [401] * 4 + [429] * 4

    counters = redis.Redis.from_url(REDIS_URL)
    try:
        assert list(counters.scan_iter(match=f"{redis_prefix}:*")), "nothing counted in Redis"
    finally:
        counters.close()


def test_an_unreachable_redis_lets_requests_through_with_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Refusing every visitor because the counter store is down would be worse than
    counting nothing for a while."""
    dead = settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "rate_limit_changes": "1/hour"}
    )
    with TestClient(create_app(dead)) as client:
        statuses = [client.get("/api/v1/changes").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    warnings = [r for r in caplog.records if "rate limits not applied" in r.getMessage()]
    assert len(warnings) == 1  # once a minute, not once a request

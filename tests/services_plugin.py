"""Pytest plugin: free loopback ports, and real Meilisearch + SeaweedFS S3 for a test session.

Registered from ``tests/conftest.py`` (``pytest_plugins = ["tests.services_plugin"]``).
``live_services`` fails, never skips, when the binaries are missing: CI installs them all.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.services import ServiceError, services_down, services_status, services_up
from app.services.ports import free_port, free_port_pair, service_ports

__all__ = [
    "free_port",
    "free_port_pair",
    "live_services",
    "pid_running",
    "services_settings",
    "serving",
]
from app.settings import Settings


def services_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for services of their own: fresh ports, managed unless overridden."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        # Explicit, so a COURSEFED_MEILI_URL / COURSEFED_S3_ENDPOINT in the environment
        # cannot turn the managed services of a test into external ones.
        "meili_url": None,
        "s3_endpoint": None,
        **service_ports(),
        "service_start_timeout": 60.0,
        "service_stop_timeout": 15.0,
    }
    values.update(overrides)
    return Settings(**values)


def pid_running(pid: int) -> bool:
    """True while ``pid`` is a live process (a zombie awaiting its parent counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] not in {"Z", "X"}


@pytest.fixture(scope="session")
def live_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings whose Meilisearch and S3 run for the whole session, stopped at its end."""
    settings = services_settings(tmp_path_factory.mktemp("live-services"))
    failure = None
    try:
        services_up(settings)
    except ServiceError as exc:
        failure = str(exc)
    if failure is not None:  # failing outside `except` keeps the report to the message itself
        message = f"could not start Meilisearch and SeaweedFS for the tests: {failure}"
        pytest.fail(message, pytrace=False)
    pids = [status.pid for status in services_status(settings) if status.pid is not None]
    yield settings
    stopped = services_down(settings)
    assert [status.state for status in stopped] == ["stopped", "stopped"], stopped
    assert not [pid for pid in pids if pid_running(pid)], "services outlived services_down"


@contextlib.contextmanager
def serving(app: Any, port: int | None = None, log_level: str = "warning") -> Iterator[str]:
    """Serve an ASGI app as ``coursefed serve`` does (``app.server``'s uvicorn: X-Forwarded-For
    not believed, its lines through the root logger), in a thread on loopback; yields its
    base URL."""
    import uvicorn  # noqa: PLC0415 - only the tests that serve an app need it

    from app import server as app_server  # noqa: PLC0415

    port = port or free_port()
    config = app_server.config(app, host="127.0.0.1", port=port, log_level=log_level)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)

"""``coursefed serve`` and ``coursefed demo`` take ``--host`` and ``--port``, as uvicorn, flask
and django do, and they win over ``COURSEFED_HOST`` / ``COURSEFED_PORT``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import cli
from app.settings import Settings
from tests.services_plugin import free_port

COURSEFED = str(Path(sys.executable).with_name("coursefed"))


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_host_and_port_are_parsed(command: str) -> None:
    args = cli.build_parser().parse_args([command, "--host", "0.0.0.0", "--port", "8123"])  # noqa: S104
    assert (args.host, args.port) == ("0.0.0.0", 8123)  # noqa: S104
    default = cli.build_parser().parse_args([command])
    assert (default.host, default.port) == (None, None), "unset: the settings decide"


@pytest.mark.parametrize("command", ["serve", "demo"])
@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--port", "0"], "not a port from 1 to 65535"),
        (["--port", "65536"], "not a port from 1 to 65535"),
        (["--port", "http"], "not a port from 1 to 65535"),
        (["--port", "-1"], "not a port from 1 to 65535"),
        (["--port", "８０８０"], "not a port from 1 to 65535"),  # full-width digits
        (["--host", ""], "not a host name or address"),
        (["--host", " 0.0.0.0"], "not a host name or address"),
    ],
)
def test_a_bad_host_or_port_is_a_usage_error_not_a_traceback(
    command: str, arguments: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args([command, *arguments])
    assert exit_.value.code == 2
    assert complaint in capsys.readouterr().err


def test_help_names_host_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("serve", "demo"):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        assert "--host HOST" in text and "--port PORT" in text


def test_demo_hands_the_given_host_and_port_to_what_it_serves(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo serves with the settings it is given: --port reaches them, and the public
    URL it prints follows."""
    seen: list[Settings] = []

    def run_demo(given: Settings, **_kwargs: Any) -> int:
        seen.append(given)
        return 0

    monkeypatch.setattr("app.demo.run.run_demo", run_demo)
    args = cli.build_parser().parse_args(["demo", "--port", "8765", "--count", "3"])
    assert cli.cmd_demo(args, settings) == 0
    assert (seen[0].host, seen[0].port) == (settings.host, 8765)
    assert seen[0].resolved_public_url == f"http://{settings.host}:8765"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_serve_listens_on_the_port_given_rather_than_the_one_configured(tmp_path: Path) -> None:
    given, configured = free_port(), free_port()
    env = {
        **os.environ,
        "COURSEFED_DATA_DIR": str(tmp_path / "var"),
        "COURSEFED_HOST": "192.0.2.1",  # TEST-NET: serving there would fail at once
        "COURSEFED_PORT": str(configured),
    }
    upgrade = subprocess.run(
        [COURSEFED, "db", "upgrade"], env=env, capture_output=True, timeout=120, check=False
    )
    assert upgrade.returncode == 0, upgrade.stderr
    server = subprocess.Popen(
        [COURSEFED, "serve", "--no-scheduler", "--host", "127.0.0.1", "--port", str(given)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not _listening(given):
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "serve never listened on --port"
            time.sleep(0.2)
        response = httpx.get(f"http://127.0.0.1:{given}/healthz", timeout=10)
        assert response.json() == {"status": "ok"}
        assert not _listening(configured), "COURSEFED_PORT lost to --port"
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()

"""The ``coursefed`` console script, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.services.manager import services_status
from app.settings import Settings
from app.sources.models import Source
from tests.conftest import CommandLine
from tests.hostile import HostileProvider
from tests.services_plugin import free_port, pid_running, services_settings

COURSEFED = str(Path(sys.executable).with_name("coursefed"))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COURSEFED, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"COURSEFED_DATA_DIR": str(tmp_path / "var")}


def with_services(env: dict[str, str], live: Settings, **more: str) -> dict[str, str]:
    """``env`` with the test session's Meilisearch (an index of its own) and S3."""
    return {
        **env,
        "COURSEFED_MEILI_URL": live.resolved_meili_url,
        "COURSEFED_MEILI_INDEX": f"cli-{free_port()}",
        "COURSEFED_S3_ENDPOINT": live.resolved_s3_endpoint,
        **{f"COURSEFED_{name.upper()}": value for name, value in more.items()},
    }


def add_source(coursefed: CommandLine, env: dict[str, str], url: str, slug: str) -> None:
    """Register a source (in this process)."""
    added = coursefed("sources", "add", url, "--slug", slug, "--name", slug,
                      "--allow-private-network", env=env)  # fmt: skip
    assert added.returncode == 0, added.stderr


def test_unmigrated_database_gets_a_hint_not_a_traceback(env: dict[str, str]) -> None:
    result = run(env, "harvest", "college")
    assert result.returncode == 1
    assert "run `coursefed db upgrade`" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_source_url_is_refused_with_a_message(
    env: dict[str, str], coursefed: CommandLine
) -> None:
    assert coursefed("db", "upgrade", env=env).returncode == 0
    result = coursefed("sources", "add", "ftp://example.org/oai", "--name", "College", env=env)
    assert result.returncode == 1
    assert "must start with http:// or https://" in result.stderr
    assert "Traceback" not in result.stderr
    unknown = coursefed("harvest", "nope", env=env)
    assert unknown.returncode == 1
    assert "no source 'nope'" in unknown.stderr


@pytest.mark.services
def test_sources_add_harvest_and_index_from_the_command_line(
    env: dict[str, str], live_services: Settings
) -> None:
    env = with_services(env, live_services)
    assert run(env, "db", "upgrade").returncode == 0
    with DemoRepositoryServer(generate_corpus(120), page_size=40) as server:
        refused = run(env, "sources", "add", server.base_url, "--name", "示范学院")
        assert refused.returncode == 1
        assert "refused by the address policy (private-address)" in refused.stderr
        assert "--allow-private-network" in refused.stderr
        added = run(
            env,
            "sources",
            "add",
            server.base_url,
            "--name",
            "示范学院",
            "--slug",
            "college",
            "--allow-private-network",
        )
        assert added.returncode == 0, added.stderr
        source_id = added.stdout.strip().splitlines()[-1]
        assert source_id.isdigit(), "the new source's id stands alone on the last line"
        harvested = run(env, "harvest", source_id)
        again = run(env, "harvest", "示范学院")
    assert harvested.returncode == 0, harvested.stdout + harvested.stderr
    live_count = len([r for r in generate_corpus(120) if not r.deleted])
    assert "harvest of college (lom): SUCCEEDED" in harvested.stdout
    assert f"120 records: {live_count} added, 0 updated, 0 unchanged" in harvested.stdout
    assert again.returncode == 0, "the source is found by its name too"
    listed = run(env, "sources", "list")
    assert "college" in listed.stdout
    assert "succeeded" in listed.stdout
    synced = run(env, "index", "sync")
    assert synced.returncode == 0
    assert "0 documents added" in synced.stdout, "the harvest already indexed everything"


@pytest.mark.services
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_harvest_all_reports_each_source_once_and_leaves_nothing_to_index(
    env: dict[str, str], live_services: Settings, jobs: str, coursefed: CommandLine
) -> None:
    """Several sources, one after another or side by side (``--jobs 2``, each in a process
    of its own): indexed alongside, and all of them by the time the command ends; each
    reported once; one that cannot be reached fails alone."""
    env = with_services(env, live_services, index_interval="0.2", harvest_max_retries="0")
    assert coursefed("db", "upgrade", env=env).returncode == 0
    corpus = generate_corpus(240)
    with DemoRepositoryServer(corpus[:20]) as gone:
        add_source(coursefed, env, gone.base_url, "gone")
    with (
        DemoRepositoryServer(corpus[:120], page_size=30) as first,
        DemoRepositoryServer(corpus[120:], page_size=30) as second,
    ):
        for slug, server in (("first", first), ("second", second)):
            add_source(coursefed, env, server.base_url, slug)
        harvested = run(env, "harvest", "--all", "--jobs", jobs)
    out = harvested.stdout
    assert harvested.returncode == 1, out + harvested.stderr
    assert out.count("harvest of first (lom): SUCCEEDED") == 1
    assert out.count("harvest of second (lom): SUCCEEDED") == 1
    assert out.count("harvest of gone (oai_dc): FAILED") == 1
    assert "Traceback" not in harvested.stderr
    live = len([r for r in corpus[:120] if not r.deleted])
    assert f"120 records: {live} added" in out
    synced = coursefed("index", "sync", env=env)
    assert synced.returncode == 0
    assert "0 documents added" in synced.stdout, "the command indexed everything"


@pytest.mark.services
def test_ctrl_c_stops_harvests_side_by_side_and_frees_their_sources(
    env: dict[str, str], live_services: Settings, coursefed: CommandLine
) -> None:
    env = with_services(env, live_services)
    assert coursefed("db", "upgrade", env=env).returncode == 0
    with (
        HostileProvider("stall", host="127.0.0.2") as first,
        HostileProvider("stall", host="127.0.0.3") as second,
    ):
        for slug, provider in (("first", first), ("second", second)):
            add_source(coursefed, env, provider.base_url, slug)
        process = subprocess.Popen(
            [COURSEFED, "harvest", "--all", "--jobs", "2"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not (first.count("ListRecords") and second.count("ListRecords")):
                assert time.monotonic() < deadline, "both harvests were not under way"
                time.sleep(0.1)
            process.send_signal(signal.SIGINT)  # Ctrl-C
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err
    engine = make_engine(Settings(data_dir=Path(env["COURSEFED_DATA_DIR"])))
    try:
        with session_scope(engine) as session:
            held = {s.slug: s.lease_owner for s in session.exec(select(Source)).all()}
    finally:
        engine.dispose()
    assert held == {"first": None, "second": None}, "each harvest released its source"


def test_adding_an_endpoint_that_is_not_oai_pmh_is_refused(
    env: dict[str, str], coursefed: CommandLine
) -> None:
    assert coursefed("db", "upgrade", env=env).returncode == 0
    result = coursefed(
        "sources",
        "add",
        "http://127.0.0.1:9/oai",
        "--name",
        "Nowhere",
        "--allow-private-network",
        env=env,
    )
    assert result.returncode == 1
    assert "did not answer an OAI-PMH Identify request" in result.stderr
    assert "Traceback" not in result.stderr
    assert coursefed("sources", "list", env=env).stdout.strip() == "", "nothing was saved"


@pytest.mark.services
def test_services_up_twice_then_down_from_the_command_line(tmp_path: Path) -> None:
    settings = services_settings(tmp_path / "var")
    env = {
        "COURSEFED_DATA_DIR": str(settings.data_dir),
        "COURSEFED_MEILI_PORT": str(settings.meili_port),
        "COURSEFED_S3_PORT": str(settings.s3_port),
        "COURSEFED_WEED_MASTER_PORT": str(settings.weed_master_port),
        "COURSEFED_WEED_VOLUME_PORT": str(settings.weed_volume_port),
        "COURSEFED_WEED_FILER_PORT": str(settings.weed_filer_port),
        "COURSEFED_WEED_ADMIN_PORT": str(settings.weed_admin_port),
    }
    try:
        before = run(env, "services", "status")
        assert before.returncode == 3, "status exits non-zero while services are down"
        assert before.stdout.count("stopped") == 2
        first = run(env, "services", "up")
        assert first.returncode == 0, first.stderr
        pids = {s.name: s.pid for s in services_status(settings)}
        second = run(env, "services", "up")
        assert second.returncode == 0, second.stderr
        assert {s.name: s.pid for s in services_status(settings)} == pids, "up twice starts once"
        running = run(env, "services", "status")
        assert running.returncode == 0
        assert running.stdout.count("running") == 2
    finally:
        down = run(env, "services", "down")
    assert down.returncode == 0, down.stderr
    after = run(env, "services", "status")
    assert after.stdout.count("stopped") == 2
    for pid in pids.values():
        assert pid is not None
        assert not pid_running(pid), f"process {pid} is still running"


def test_sources_check_prints_pass_lines_for_a_conforming_repository(
    env: dict[str, str], coursefed: CommandLine
) -> None:
    with DemoRepositoryServer(generate_corpus(120), page_size=40) as server:
        result = coursefed("sources", "check", server.base_url, "--allow-private-network", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("PASS ") for line in lines), lines


def test_sources_check_fails_for_an_endpoint_that_does_not_answer(
    env: dict[str, str], coursefed: CommandLine
) -> None:
    result = coursefed(
        "sources", "check", "http://127.0.0.1:9/oai", "--allow-private-network", env=env
    )
    assert result.returncode == 1
    assert "FAIL identify" in result.stdout

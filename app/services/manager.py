"""Start, stop and report the local Meilisearch and SeaweedFS S3 behind `coursefed services`.

Each service keeps its data in ``DATA_DIR/services/NAME/``, its PID file in
``DATA_DIR/run/NAME.pid`` and its log in ``DATA_DIR/logs/NAME.log``.  Processes are
detached (own session) so they outlive the command that started them, bind loopback only,
and are only ever signalled after their PID file proves they are still ours (see
``app.services.process``).  A service whose URL/endpoint is configured is external: nothing
is started for it.  Secrets reach the services through their environment, never their
command line, so they appear neither in ``ps`` nor in the PID files.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import signal
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.services.base import LOOPBACK, ManagedService, ServiceStatus
from app.services.errors import (
    PortInUse,
    ServiceStartError,
    ServiceStopError,
    UnreadablePidFile,
)
from app.services.meili import Meilisearch
from app.services.process import (
    Ownership,
    Pinned,
    ProcessRecord,
    ownership,
    pin,
    read_record,
    remove_record,
    spawn,
    wait_exited,
    write_record,
)
from app.services.seaweed import SeaweedS3
from app.settings import Settings

log = logging.getLogger(__name__)

_PROBE_TIMEOUT = 2.0
_POLL_INTERVAL = 0.1
# After SIGKILL only a process stuck in the kernel survives; waiting longer would not help.
_KILL_GRACE = 5.0
_LOG_ROTATE_BYTES = 10 * 1024 * 1024
_LOG_TAIL_LINES = 25
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def managed_services(settings: Settings) -> list[ManagedService]:
    """Every service `coursefed services` knows, managed or external, in start order."""
    return [Meilisearch(settings), SeaweedS3(settings)]


def services_status(settings: Settings) -> list[ServiceStatus]:
    """What each service is doing now; reads only, changes nothing."""
    with _http_client() as http:
        return [_inspect(service, http) for service in managed_services(settings)]


def services_up(settings: Settings) -> list[ServiceStatus]:
    """Start every managed service that is not running and wait until all are healthy.

    Idempotent: a service already running is left alone.  Binaries and ports are checked for
    every service before anything starts.  If a service exits or is not healthy within
    ``settings.service_start_timeout``, what this call started is stopped again and
    ``ServiceStartError`` carries the end of its log.
    """
    services = managed_services(settings)
    notes: dict[str, str] = {}
    with _exclusive(settings), _http_client() as http:
        running, to_start = _plan_start(services, notes)
        started: dict[str, tuple[ProcessRecord, int]] = {}
        try:
            for service, binary in to_start:
                started[service.name] = _start(service, binary)
            waiting: list[tuple[ManagedService, ProcessRecord, int | None]] = [
                (service, *started[service.name]) for service, _ in to_start
            ]
            waiting += [(service, record, None) for service, record in running]
            _wait_healthy(waiting, http, settings.service_start_timeout)
            for service, _, _ in waiting:
                service.after_ready()
        except BaseException:
            # Whatever went wrong (or Ctrl-C), leave nothing half-started behind; the first
            # error is the one worth reporting, so a failure to stop is only logged.
            try:
                _stop_processes(
                    [(s, started[s.name][0]) for s, _ in to_start if s.name in started],
                    settings.service_stop_timeout,
                )
            except ServiceStopError as stop_error:
                log.error("%s", stop_error)
            raise

    pids = {service.name: record.pid for service, record in running}
    pids |= {name: record.pid for name, (record, _) in started.items()}
    statuses = []
    for service in services:
        if service.name not in pids:
            statuses.append(service.status("external", None, _external_detail(service)))
            continue
        done = "started" if service.name in started else "already running"
        note = notes.get(service.name)
        detail = f"{done}; {note}" if note else done
        statuses.append(service.status("running", pids[service.name], detail))
    return statuses


def _plan_start(
    services: list[ManagedService], notes: dict[str, str]
) -> tuple[list[tuple[ManagedService, ProcessRecord]], list[tuple[ManagedService, Path]]]:
    """Split managed services into (running, to start).

    Raises before anything starts if a binary is missing or a port is taken.
    """
    running: list[tuple[ManagedService, ProcessRecord]] = []
    to_start: list[tuple[ManagedService, Path]] = []
    for service in services:
        if not service.managed:
            continue
        record = _our_running_process(service, notes)
        if record is not None:
            running.append((service, record))
            continue
        binary = service.find_binary()
        _check_ports_free(service)
        to_start.append((service, binary))
    return running, to_start


def services_down(settings: Settings) -> list[ServiceStatus]:
    """Stop the processes we started: SIGTERM, then SIGKILL after the stop timeout.

    Only PIDs whose PID file still proves them ours are signalled; stale PID files are removed.
    A process left from when a now-external service was managed is stopped too.
    """
    services = managed_services(settings)
    notes: dict[str, str] = {}
    with _exclusive(settings):
        targets: list[tuple[ManagedService, ProcessRecord]] = []
        for service in services:
            record = _our_running_process(service, notes)
            if record is not None:
                targets.append((service, record))
        notes.update(_stop_processes(targets, settings.service_stop_timeout))
    statuses = []
    for service in services:
        if service.managed:
            statuses.append(service.status("stopped", None, notes.get(service.name, "")))
        else:
            detail = notes.get(service.name) or _external_detail(service)
            statuses.append(service.status("external", None, detail))
    return statuses


def _inspect(service: ManagedService, http: httpx.Client) -> ServiceStatus:
    try:
        record = read_record(service.pid_file)
    except UnreadablePidFile as exc:
        return service.status("stale", None, f"{exc}; `coursefed services down` removes it")
    owner = ownership(record) if record is not None else None
    if not service.managed:
        detail = _external_detail(service)
        if record is not None and owner is not None and owner.ours:
            detail += (
                f"; pid {record.pid}, started by coursefed earlier, still runs: "
                "`coursefed services down` stops it"
            )
        return service.status("external", None, detail)
    return _inspect_managed(service, record, owner, http)


def _inspect_managed(
    service: ManagedService,
    record: ProcessRecord | None,
    owner: Ownership | None,
    http: httpx.Client,
) -> ServiceStatus:
    if record is None or owner is None:
        busy = [port for port in service.ports() if _listening(port.number)]
        if busy:
            return service.status(
                "stopped",
                None,
                f"port {busy[0].number} ({busy[0].role}) is in use by another program",
            )
        return service.status("stopped")
    if not owner.ours:
        return service.status(
            "stale",
            record.pid,
            f"stale PID file: {owner.detail}; `coursefed services up` or `down` removes it",
        )
    problem = service.probe(http)
    if problem is not None:
        return service.status("unhealthy", record.pid, problem)
    return service.status("running", record.pid)


def _our_running_process(service: ManagedService, notes: dict[str, str]) -> ProcessRecord | None:
    """The record of our live process, after removing a PID file that no longer proves it."""
    try:
        record = read_record(service.pid_file)
    except UnreadablePidFile as exc:
        remove_record(service.pid_file)
        notes[service.name] = f"removed an unreadable PID file ({exc})"
        log.warning("%s: %s", service.name, notes[service.name])
        return None
    if record is None:
        return None
    owner = ownership(record)
    if owner.ours:
        return record
    remove_record(service.pid_file)
    notes[service.name] = f"removed a stale PID file: {owner.detail}"
    log.warning("%s: %s", service.name, notes[service.name])
    return None


def _check_ports_free(service: ManagedService) -> None:
    for port in service.ports():
        if not 0 < port.number < 65536:
            raise ServiceStartError(
                f"cannot start {service.title}: {port.setting} gives port {port.number} "
                f"({port.role}), outside 1-65535"
            )
        if not _bindable(port.number):
            raise PortInUse(service.title, port.number, port.role, port.setting)


def _start(service: ManagedService, binary: Path) -> tuple[ProcessRecord, int]:
    """Spawn the service and record it; returns its record and where this run's log begins."""
    service.data_dir.mkdir(parents=True, exist_ok=True)
    service.log_file.parent.mkdir(parents=True, exist_ok=True)
    _rotate_log(service.log_file)
    offset = service.log_file.stat().st_size if service.log_file.exists() else 0
    argv = service.command(binary)
    with service.log_file.open("a", encoding="utf-8") as log_file:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        log_file.write(f"\n--- coursefed starts {service.title} at {now}: {' '.join(argv)}\n")
    record = spawn(argv, cwd=service.data_dir, env=service.environment(), log_path=service.log_file)
    write_record(service.pid_file, record)
    log.info("started %s (pid %d), log %s", service.title, record.pid, service.log_file)
    return record, offset


def _wait_healthy(
    waiting: list[tuple[ManagedService, ProcessRecord, int | None]],
    http: httpx.Client,
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    pending = {service.name: (service, record, offset) for service, record, offset in waiting}
    problems: dict[str, str] = {}
    while pending:
        for name, (service, record, offset) in list(pending.items()):
            owner = ownership(record)
            if not owner.ours:
                raise ServiceStartError(
                    f"{service.title} exited during start-up ({owner.detail})"
                    + _log_excerpt(service, offset)
                )
            problem = service.probe(http)
            if problem is None:
                del pending[name]
            else:
                problems[name] = problem
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise ServiceStartError(
                "\n".join(
                    f"{service.title} (pid {record.pid}) did not become healthy within "
                    f"{timeout:g}s: {problems[name]}" + _log_excerpt(service, offset)
                    for name, (service, record, offset) in pending.items()
                )
            )
        time.sleep(_POLL_INTERVAL)


def _stop_processes(
    targets: list[tuple[ManagedService, ProcessRecord]], timeout: float
) -> dict[str, str]:
    """SIGTERM all at once (shutdowns overlap), SIGKILL whoever outlives ``timeout``."""
    details: dict[str, str] = {}
    pinned: list[tuple[ManagedService, Pinned]] = []
    try:
        for service, record in targets:
            process = pin(record)
            if process is None:
                details[service.name] = f"pid {record.pid} had already exited"
                continue
            process.send(signal.SIGTERM)
            pinned.append((service, process))
        survivors = wait_exited([process for _, process in pinned], time.monotonic() + timeout)
        for service, process in pinned:
            pid = process.record.pid
            if process in survivors:
                log.warning("%s ignored SIGTERM for %gs; sending SIGKILL", service.title, timeout)
                process.send(signal.SIGKILL)
                details[service.name] = f"killed pid {pid}: it ignored SIGTERM for {timeout:g}s"
            else:
                details[service.name] = f"stopped pid {pid}"
        unkillable = wait_exited(survivors, time.monotonic() + _KILL_GRACE) if survivors else []
    finally:
        for _, process in pinned:
            process.close()
    stuck = {id(process.record) for process in unkillable}
    for service, record in targets:
        if id(record) not in stuck:
            remove_record(service.pid_file)
            service.after_stop()
    if unkillable:
        raise ServiceStopError(
            "; ".join(
                f"{service.title} (pid {record.pid}) survived SIGKILL; "
                f"its PID file {service.pid_file} is kept"
                for service, record in targets
                if id(record) in stuck
            )
        )
    return details


def _external_detail(service: ManagedService) -> str:
    return f"not managed: {service.external_setting} is set"


@contextlib.contextmanager
def _exclusive(settings: Settings) -> Iterator[None]:
    """Serialise `up` and `down` per data dir, so two concurrent `up`s cannot both start."""
    run_dir = settings.data_dir.expanduser().absolute() / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / "services.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _http_client() -> httpx.Client:
    # trust_env=False: a proxy from the environment must never sit between us and loopback.
    return httpx.Client(timeout=_PROBE_TIMEOUT, trust_env=False)


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers do: TIME_WAIT leftovers must not count as "in use", listeners must.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    # Connecting, unlike binding, cannot disturb a server that is starting on the port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((LOOPBACK, port)) == 0


def _rotate_log(path: Path) -> None:
    if path.exists() and path.stat().st_size > _LOG_ROTATE_BYTES:
        path.replace(path.with_name(path.name + ".1"))


def _log_excerpt(service: ManagedService, offset: int | None) -> str:
    try:
        with service.log_file.open("rb") as log_file:
            size = log_file.seek(0, os.SEEK_END)
            # This run's output only, and never more than the last 64 KiB of it.
            log_file.seek(max(offset or 0, size - 64 * 1024, 0))
            text = log_file.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = _ANSI_ESCAPE.sub("", text).strip().splitlines()[-_LOG_TAIL_LINES:]
    if not lines:
        return f"\n(nothing in {service.log_file})"
    return f"\n--- last lines of {service.log_file} ---\n" + "\n".join(lines)

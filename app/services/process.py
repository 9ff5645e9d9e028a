"""Our processes on record: PID files that prove a PID is still the process we started.

A PID alone is not an identity: after a crash or a reboot the number can belong to anything.
So a PID file records the PID together with the process's start time (in clock ticks since
boot, from ``/proc/PID/stat``), the boot id and the exact command line.  Only when all of them
still match is the process ours, and signals go through a pidfd opened *before* that check,
so a PID recycled between the check and the signal can never be hit.  Linux only (``/proc``,
pidfd since Linux 5.3).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from app.services.errors import ServiceError, ServiceStartError, UnreadablePidFile

OwnershipState = Literal["ours", "gone", "foreign"]

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_CMDLINE_WAIT = 5.0

# Popen objects of the services this process started.  Keeping them lets us reap a child that
# exits while we still run (a zombie would otherwise look alive), and keeps Popen.__del__ from
# warning about a child that is meant to outlive us.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """What a PID file holds: enough to recognise the process we started, and nothing secret."""

    pid: int
    argv: tuple[str, ...]
    start_ticks: int
    boot_id: str
    started_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ProcessRecord:
        data = json.loads(text)
        return cls(
            pid=int(data["pid"]),
            argv=tuple(str(arg) for arg in data["argv"]),
            start_ticks=int(data["start_ticks"]),
            boot_id=str(data["boot_id"]),
            started_at=str(data["started_at"]),
        )


@dataclass(frozen=True, slots=True)
class Ownership:
    """Whether the recorded PID is still our process, and in words why not."""

    state: OwnershipState
    detail: str = ""

    @property
    def ours(self) -> bool:
        return self.state == "ours"


def read_record(path: Path) -> ProcessRecord | None:
    """The record in a PID file, or None when there is no PID file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnreadablePidFile(f"cannot read PID file {path}: {exc}") from exc
    try:
        return ProcessRecord.from_json(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise UnreadablePidFile(f"PID file {path} is not one coursefed wrote") from exc


def write_record(path: Path, record: ProcessRecord) -> None:
    """Write a PID file atomically, so a reader never sees half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(record.to_json(), encoding="utf-8")
    partial.replace(path)


def remove_record(path: Path) -> None:
    path.unlink(missing_ok=True)


def spawn(argv: list[str], *, cwd: Path, env: dict[str, str], log_path: Path) -> ProcessRecord:
    """Start a detached process (own session, so it outlives the CLI) logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    except OSError as exc:
        raise ServiceStartError(f"could not run {argv[0]}: {exc}") from exc
    _children[proc.pid] = proc
    # Not reaped yet even if it already exited, so its /proc entry is still there to read.
    stat = _read_stat(proc.pid)
    if stat is None:
        raise ServiceError("coursefed services needs Linux /proc to keep track of its processes")
    return ProcessRecord(
        pid=proc.pid,
        argv=_settled_cmdline(proc) or tuple(argv),
        start_ticks=stat[1],
        boot_id=_boot_id(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _settled_cmdline(proc: subprocess.Popen[bytes]) -> tuple[str, ...]:
    """The command line as the kernel shows it, which is what later checks compare against.

    Popen returns once execve has passed its point of no return, before the kernel has set up
    the new argv, so /proc/PID/cmdline can read empty for a moment.  (For a script it is not
    our argv either, but the interpreter's.)
    """
    deadline = time.monotonic() + _CMDLINE_WAIT
    while proc.poll() is None and time.monotonic() < deadline:
        cmdline = _read_cmdline(proc.pid)
        if cmdline:
            return cmdline
        time.sleep(0.005)
    return ()


def ownership(record: ProcessRecord) -> Ownership:
    """Is the process in ``record`` still running, and is it still the one we started?"""
    _reap(record.pid)
    stat = _read_stat(record.pid)
    if stat is None or stat[0] in {"Z", "X"}:
        return Ownership("gone", f"pid {record.pid} is no longer running")
    if record.pid in _children and stat[1] == record.start_ticks:
        # Our own unreaped child: its PID cannot have been recycled, whatever /proc shows.
        return Ownership("ours")
    argv = _read_cmdline(record.pid)
    if record.boot_id != _boot_id() or stat[1] != record.start_ticks or argv != record.argv:
        # It may have exited between the two reads: a zombie's cmdline is empty.
        _reap(record.pid)
        stat = _read_stat(record.pid)
        if stat is None or stat[0] in {"Z", "X"}:
            return Ownership("gone", f"pid {record.pid} is no longer running")
        return Ownership(
            "foreign", f"pid {record.pid} now belongs to another program ({_describe(argv)})"
        )
    return Ownership("ours")


class Pinned:
    """One of our processes, held by a pidfd so that signals reach it and nothing else.

    Its exit is seen only once every thread is gone, hence its ports and sockets are closed: a
    zombie leader in ``/proc`` can still have threads running for a moment.
    """

    def __init__(self, record: ProcessRecord, pidfd: int | None) -> None:
        self.record = record
        self._pidfd = pidfd

    def send(self, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signum)
            elif ownership(self.record).ours:
                os.kill(self.record.pid, signum)

    def exited(self) -> bool:
        if self._pidfd is None:
            return not ownership(self.record).ours
        poller = select.poll()
        poller.register(self._pidfd, select.POLLIN)
        if not poller.poll(0):
            return False
        _reap(self.record.pid)
        return True

    def close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


def pin(record: ProcessRecord) -> Pinned | None:
    """Pin the process in ``record`` if it is still ours; None if it is gone or foreign.

    The pidfd is opened *before* the identity check, so the process that passed the check is
    the one the pidfd holds, even if its PID were recycled a moment later.
    """
    try:
        pidfd: int | None = os.pidfd_open(record.pid)
    except ProcessLookupError:
        return None
    except OSError:
        pidfd = None  # kernel without pidfd (< 5.3): identity checks still guard each signal
    if not ownership(record).ours:
        if pidfd is not None:
            os.close(pidfd)
        return None
    return Pinned(record, pidfd)


def wait_exited(processes: list[Pinned], deadline: float) -> list[Pinned]:
    """Wait until each process has exited or ``deadline`` (monotonic) passes; return survivors."""
    alive = list(processes)
    while True:
        alive = [process for process in alive if not process.exited()]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def _reap(pid: int) -> None:
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]


def _read_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) from /proc/PID/stat, None if no such PID."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # Field 2, the command name, may itself hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def _read_cmdline(pid: int) -> tuple[str, ...]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ()
    return tuple(os.fsdecode(part) for part in raw.split(b"\0")[:-1])


def _boot_id() -> str:
    with contextlib.suppress(OSError):
        return _BOOT_ID.read_text(encoding="utf-8").strip()
    return ""


def _describe(argv: tuple[str, ...]) -> str:
    text = " ".join(argv) or "unknown"
    return text if len(text) <= 80 else text[:77] + "..."

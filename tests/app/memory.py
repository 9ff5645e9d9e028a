"""Peak resident memory of this process during a block, for tests of streaming code."""

from __future__ import annotations

import threading
from pathlib import Path


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/self/status")


class PeakMemory:
    """Peak resident memory during a block, from VmHWM reset at its start (or sampling)."""

    def __init__(self) -> None:
        self.before = 0
        self.peak = 0
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        try:
            Path("/proc/self/clear_refs").write_text("5", encoding="ascii")  # resets VmHWM
        except OSError:
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()
        self.before = status_kib("VmRSS")
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, status_kib("VmRSS"))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join()
        else:
            self.peak = status_kib("VmHWM")

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.before) / 1024

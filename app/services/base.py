"""What every service `coursefed services` runs has in common, and how its state is reported."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import httpx

from app.settings import Settings

ServiceState = Literal["running", "stopped", "stale", "external", "unhealthy"]

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """One service as `coursefed services` reports it."""

    name: str
    state: ServiceState
    pid: int | None
    url: str
    detail: str = ""

    def as_line(self) -> str:
        pid = str(self.pid) if self.pid is not None else "-"
        line = f"{self.name:<12} {self.state:<9} pid {pid:<8} {self.url}"
        return f"{line}  {self.detail}" if self.detail else line


@dataclass(frozen=True, slots=True)
class Port:
    """A TCP port a service binds, named so that a clash can tell the user what to change."""

    number: int
    role: str
    setting: str


class ManagedService(ABC):
    """A local server coursefed can start, health-check and stop."""

    name: ClassVar[str]
    title: ClassVar[str]
    external_setting: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        root = settings.data_dir.expanduser().absolute()
        self.data_dir = root / "services" / self.name
        self.pid_file = root / "run" / f"{self.name}.pid"
        self.log_file = root / "logs" / f"{self.name}.log"

    @property
    @abstractmethod
    def managed(self) -> bool:
        """False when the settings point at an external server instead."""

    @property
    @abstractmethod
    def url(self) -> str: ...

    @abstractmethod
    def ports(self) -> list[Port]: ...

    @abstractmethod
    def find_binary(self) -> Path: ...

    @abstractmethod
    def command(self, binary: Path) -> list[str]: ...

    @abstractmethod
    def environment(self) -> dict[str, str]: ...

    @abstractmethod
    def probe(self, http: httpx.Client) -> str | None:
        """None when the service answers its health check, else what is wrong."""

    def after_ready(self) -> None:  # noqa: B027 - an optional hook; most services need none
        """Run on every `up` once the service is healthy (idempotent set-up)."""

    def after_stop(self) -> None:  # noqa: B027 - an optional hook; most services need none
        """Run once our process has exited, to tidy what it leaves outside its data dir."""

    def status(
        self, state: ServiceState, pid: int | None = None, detail: str = ""
    ) -> ServiceStatus:
        return ServiceStatus(name=self.name, state=state, pid=pid, url=self.url, detail=detail)


def inherited_environment(drop_prefixes: tuple[str, ...]) -> dict[str, str]:
    """This process's environment minus variables that would silently reconfigure a service."""
    return {key: value for key, value in os.environ.items() if not key.startswith(drop_prefixes)}


def http_failure(exc: Exception) -> str:
    """An HTTP client error in a few words, for a status line."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

"""The errors of `coursefed services`: one family, each message says what to do next.

ServiceError                 base; the CLI prints ``str(exc)``, never a traceback
 ├── BinaryNotFound          a service binary is missing and could not be installed
 ├── ServiceStartError       a managed service did not start or did not become healthy
 │    └── PortInUse          a port it needs is held by a program that is not ours
 ├── ServiceStopError        one of our processes outlived SIGKILL
 └── UnreadablePidFile       a PID file we cannot parse (reported as stale, then removed)
"""

from __future__ import annotations


class ServiceError(Exception):
    """Anything `coursefed services` reports to the user instead of a traceback."""


class BinaryNotFound(ServiceError):
    """A service binary is missing, or installing it failed."""


class ServiceStartError(ServiceError):
    """A managed service exited during start-up or did not answer its health check in time."""


class PortInUse(ServiceStartError):
    """A port a managed service must bind is already held by a program that is not ours."""

    def __init__(self, service: str, port: int, role: str, setting: str) -> None:
        self.service = service
        self.port = port
        super().__init__(
            f"cannot start {service}: port {port} ({role}) on 127.0.0.1 is already in use "
            f"by another program; stop that program or choose another port with {setting}"
        )


class ServiceStopError(ServiceError):
    """One of our processes survived SIGKILL (e.g. stuck in uninterruptible disk I/O)."""


class UnreadablePidFile(ServiceError):
    """A PID file exists but does not hold a record we wrote."""

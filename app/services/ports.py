"""Free loopback ports for managed services, e.g. a second instance, a benchmark or a test.

SeaweedFS binds gRPC at port + 10000, and refuses a port that is another one's gRPC twin,
so ports are handed out with their twins and never twice in one process.
"""

from __future__ import annotations

import secrets
import socket
from typing import Any

# p and p + 10000 both stay below Linux's ephemeral range (32768-60999), so a port we hand out
# cannot be taken meanwhile by some client's outgoing connection.
_PORT_LOW = 10_000
_PORT_HIGH = 22_700
_GRPC_OFFSET = 10_000
# Ports that browsers refuse to open (the Fetch standard's "bad ports"): a page served there
# could not be visited. 10080 is the only one in our range.
_BAD_PORTS = frozenset({10_080})
# Handed out in this process and maybe not bound yet: never hand them out twice.
_handed_out: set[int] = set()


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _pick(*offsets: int) -> int:
    for _ in range(500):
        port = _PORT_LOW + secrets.randbelow(_PORT_HIGH - _PORT_LOW)
        wanted = [port + offset for offset in offsets]
        if _BAD_PORTS.intersection(wanted) or _handed_out.intersection(wanted):
            continue
        if all(_bindable(p) for p in wanted):
            _handed_out.update(wanted)
            return port
    raise RuntimeError("no free loopback port found")


def free_port() -> int:
    """A loopback port that is free now, not handed out before in this session, and one that
    browsers open."""
    return _pick(0)


def free_port_pair() -> int:
    """A port p with p and p + 10000 free (SeaweedFS binds gRPC at p + 10000), p < 55000."""
    return _pick(0, _GRPC_OFFSET)


def service_ports() -> dict[str, Any]:
    """Settings overrides giving Meilisearch and every SeaweedFS server fresh ports."""
    return {
        "meili_port": free_port(),
        "s3_port": free_port_pair(),
        "weed_master_port": free_port_pair(),
        "weed_volume_port": free_port_pair(),
        "weed_filer_port": free_port_pair(),
        "weed_admin_port": free_port_pair(),
    }

"""Free loopback ports: never one handed out before, never one that browsers refuse."""

from __future__ import annotations

import pytest

from app.services import ports


def test_a_port_browsers_refuse_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    # Chromium answers ERR_UNSAFE_PORT for 10080: a page served there cannot be visited.
    offered = iter([80, 80, 81, 82])  # 10080 is drawn twice before any other port
    monkeypatch.setattr(ports.secrets, "randbelow", lambda _: next(offered))
    monkeypatch.setattr(ports, "_handed_out", set())
    monkeypatch.setattr(ports, "_bindable", lambda _: True)
    assert ports.free_port() == 10_081
    assert ports.free_port() == 10_082, "a port is handed out once"

"""The time: ``utcnow``, the one source of timezone-aware "now" for stored timestamps."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)

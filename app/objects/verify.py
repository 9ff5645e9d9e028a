"""Integrity of what S3 holds: re-read stored objects and compare their sha256.

A corrupt copy is deleted; it and a missing one send every row naming it back to
``pending``, for the fetcher to download again (uploads have no source: reported lost).
S3 unreachable stops the check: nothing is marked bad because S3 could not be asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from app.clock import utcnow
from app.db import session_scope
from app.objects import repository
from app.objects.store import ObjectNotFound, ObjectStore, ObjectStoreError


@dataclass
class VerifyResult:
    checked: int = 0
    ok: int = 0
    corrupt: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    refetching: int = 0  # rows sent back to the fetcher
    lost: list[str] = field(default_factory=list)  # bad, and no source link to fetch again
    unreachable: str | None = None

    @property
    def bad(self) -> bool:
        return bool(self.corrupt or self.missing or self.unreachable)

    def lines(self) -> list[str]:
        lines = [f"{self.checked} objects checked: {self.ok} ok"]
        lines += [f"corrupt (deleted, fetching again): {sha}" for sha in self.corrupt]
        lines += [f"missing from S3 (fetching again): {sha}" for sha in self.missing]
        lines += [f"lost, no source link to fetch it from: {sha}" for sha in self.lost]
        if self.refetching:
            lines.append(f"{self.refetching} object references queued to be fetched again")
        if self.unreachable:
            lines.append(f"stopped: object store unavailable: {self.unreachable}")
        return lines


def verify_objects(
    engine: Engine, store: ObjectStore, *, sample: int | None = None
) -> VerifyResult:
    """Check ``sample`` stored objects chosen at random (all of them when None)."""
    with session_scope(engine) as session:
        hashes = repository.blobs_to_verify(session, sample)
    result = VerifyResult()
    for sha256 in hashes:
        try:
            digest, _size = store.digest(sha256)
            status = "ok" if digest == sha256 else "corrupt"
            if status == "corrupt":
                store.delete(sha256)
        except ObjectNotFound:
            status = "missing"
        except ObjectStoreError as exc:
            result.unreachable = str(exc)
            break
        result.checked += 1
        now = utcnow()
        with session_scope(engine) as session:
            repository.record_verification(session, sha256, status, now)
            if status == "ok":
                repository.mark_objects_verified(session, sha256, now)
                result.ok += 1
                continue
            queued = repository.refetch(session, sha256, f"stored copy {status}")
        result.refetching += queued
        (result.corrupt if status == "corrupt" else result.missing).append(sha256)
        if not queued:
            result.lost.append(sha256)
    return result

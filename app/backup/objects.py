"""The files the database references, out of S3 and back in, through the object store.

``objects.ndjson`` lists every blob the database references that S3 holds: its key,
sha256, size and media type, one JSON object a line.  With the bytes included they are
kept under ``objects/`` at their S3 key; each is hashed as it is written and again before
it goes back, so a damaged copy never reaches S3.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.backup.manifest import BackupError
from app.objects.store import ObjectNotFound, ObjectStore, ObjectStoreError, content_key

Say = Callable[[str], None]
CHUNK = 1024 * 1024
PROGRESS_EVERY = 1000  # objects between progress lines


@dataclass
class ObjectsReport:
    listed: int = 0
    bytes: int = 0
    copied: int = 0  # read from S3 into the backup, or put back into S3
    reused: int = 0  # already in place with the right bytes
    problems: list[str] = field(default_factory=list)  # one line per object not handled


def file_digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with path.open("rb") as held:
        while chunk := held.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def back_up(
    store: ObjectStore,
    blobs: list[tuple[str, int, str]],
    listing: Path,
    folder: Path | None,
    say: Say,
) -> ObjectsReport:
    """List ``blobs`` (sha256, size, media type) as S3 holds them into ``listing``; copy
    their bytes into ``folder`` unless it is None."""
    report = ObjectsReport()
    try:
        # A catalogue without files (metadata only) needs no S3 at all.
        held = dict(store.listing()) if blobs else {}
    except ObjectStoreError as exc:
        raise BackupError(f"S3 cannot be listed: {exc}") from None
    with listing.open("w", encoding="utf-8") as out:
        for n, (sha256, size, media_type) in enumerate(blobs, 1):
            if n % PROGRESS_EVERY == 0:
                say(f"  objects: {n} of {len(blobs)}")
            stored = held.get(sha256)
            if stored is None:
                report.problems.append(f"{sha256}: not in S3")
                continue
            if stored != size:
                report.problems.append(f"{sha256}: S3 holds {stored} bytes, {size} recorded")
                continue
            if folder is not None and not _copy_out(store, sha256, size, folder, report):
                continue
            entry = {
                "key": content_key(sha256),
                "sha256": sha256,
                "size": size,
                "media_type": media_type,
            }
            out.write(json.dumps(entry) + "\n")
            report.listed += 1
            report.bytes += size
    return report


def _copy_out(
    store: ObjectStore, sha256: str, size: int, folder: Path, report: ObjectsReport
) -> bool:
    path = folder / content_key(sha256)
    if path.is_file() and file_digest(path) == (sha256, size):
        report.reused += 1  # an earlier backup in this directory holds it already
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        digest, written = store.get_file(sha256, path)
    except ObjectNotFound:
        report.problems.append(f"{sha256}: removed from S3 during the backup")
        return False
    except ObjectStoreError as exc:
        raise BackupError(f"S3 failed during the backup: {exc}") from None
    if (digest, written) != (sha256, size):
        path.unlink(missing_ok=True)
        report.problems.append(f"{sha256}: S3 holds other bytes ({written} bytes, sha256 {digest})")
        return False
    report.copied += 1
    return True


def entries(listing: Path) -> Iterator[tuple[str, int, str]]:
    """(sha256, size, media type) of each line of ``listing``."""
    try:
        with listing.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                try:
                    entry = json.loads(line)
                    yield str(entry["sha256"]), int(entry["size"]), str(entry["media_type"])
                except (ValueError, KeyError, TypeError):
                    raise BackupError(f"{listing}, line {number}: not an object entry") from None
    except OSError as exc:
        raise BackupError(f"{listing} cannot be read: {exc}") from None


def restore(store: ObjectStore, listing: Path, folder: Path | None, say: Say) -> ObjectsReport:
    """Put every listed object back into S3 from ``folder`` (its sha256 checked first); one
    S3 holds already is left as it is.  Without ``folder`` (a backup of the list only)
    each must be in S3 already."""
    report = ObjectsReport()
    listed = list(entries(listing))
    try:
        if listed:
            store.ensure_bucket()
        held = dict(store.listing()) if listed else {}
    except ObjectStoreError as exc:
        raise BackupError(f"S3 cannot be reached: {exc}") from None
    for n, (sha256, size, media_type) in enumerate(listed, 1):
        if n % PROGRESS_EVERY == 0:
            say(f"  objects: {n}")
        report.listed += 1
        report.bytes += size
        if held.get(sha256) == size:  # content-addressed: the same key holds the same bytes
            report.reused += 1
            continue
        if folder is None:
            report.problems.append(f"{sha256}: not in S3, and the backup holds only its listing")
            continue
        path = folder / content_key(sha256)
        if not path.is_file():
            report.problems.append(f"{sha256}: missing from the backup")
            continue
        if file_digest(path) != (sha256, size):
            report.problems.append(f"{sha256}: damaged in the backup (sha256 does not match)")
            continue
        try:
            store.put_file(sha256, path, size, media_type)
        except ObjectStoreError as exc:
            raise BackupError(f"S3 failed during the restore: {exc}") from None
        report.copied += 1
    return report

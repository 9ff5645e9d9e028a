"""What a backup directory holds, and ``manifest.json``: its description, written last.

A directory is a complete backup only once ``manifest.json`` is there; a restore reads it
first and refuses a backup made by a newer coursefed (a newer format or migration).
"""

from __future__ import annotations

import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

FORMAT_VERSION = 1
"""Raised when the layout of a backup directory changes; a restore refuses a higher one."""

MANIFEST = "manifest.json"
SETTINGS = "settings.json"
OBJECTS_LIST = "objects.ndjson"
OBJECTS_DIR = "objects"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}

DatabaseKind = Literal["sqlite", "postgresql"]


class BackupError(Exception):
    """A backup or restore that cannot be done: one line for the operator."""


class ObjectTotals(BaseModel):
    """The files the database references, as the backup found them in S3."""

    included: bool  # the bytes are in ``objects/``, not only listed
    count: int  # listed in objects.ndjson
    bytes: int
    missing: int  # referenced by the database, not found (or damaged) in S3


class Manifest(BaseModel):
    format_version: int
    coursefed_version: str
    created_at: str  # ISO 8601, UTC
    database_kind: DatabaseKind
    database_file: str
    alembic_revision: str
    journal_serial: int
    counts: dict[str, int]  # rows per table
    objects: ObjectTotals


def coursefed_version() -> str:
    try:
        return version("coursefed")
    except PackageNotFoundError:
        return "unknown"


def write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON through a temporary file, so ``path`` is never half written."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.replace(path)


def read_manifest(folder: Path) -> Manifest:
    """The manifest of the backup in ``folder``; ``BackupError`` if it is not one this
    coursefed can read."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a directory")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"no {MANIFEST} in {folder}: not a coursefed backup, or one that did not finish"
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from None
    found = data.get("format_version") if isinstance(data, dict) else None
    if not isinstance(found, int):
        raise BackupError(f"{path} has no format_version: not a coursefed backup manifest")
    if found > FORMAT_VERSION:
        raise BackupError(
            f"the backup in {folder} has format {found}, made by coursefed "
            f"{data.get('coursefed_version', '?')}; this coursefed ({coursefed_version()}) reads"
            f" up to format {FORMAT_VERSION}: restore it with a newer coursefed"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BackupError(f"{path}: {where}: {first['msg']}") from None

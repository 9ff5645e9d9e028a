"""``coursefed backup`` and ``coursefed restore``: the database, the files it references in
S3, and the settings without their secrets, into a directory and back.

The database is the source of truth; the search index is derived, so it is not backed up:
a restore notes that the index holds nothing and ``coursefed reindex`` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app import migrate
from app.backup import database
from app.backup import objects as copies
from app.backup.manifest import (
    DATABASE_FILES,
    FORMAT_VERSION,
    MANIFEST,
    OBJECTS_DIR,
    OBJECTS_LIST,
    SETTINGS,
    BackupError,
    Manifest,
    ObjectTotals,
    coursefed_version,
    read_manifest,
    write_json,
)
from app.db import make_engine
from app.objects.store import ObjectStore
from app.search.indexer import forget_index
from app.settings import Settings

Say = Callable[[str], None]
REDACTED = "<redacted>"
_SECRET_WORDS = ("key", "secret", "token", "password")


@dataclass
class BackupResult:
    manifest: Manifest
    objects: copies.ObjectsReport


@dataclass
class RestoreResult:
    manifest: Manifest
    objects: copies.ObjectsReport
    needs_upgrade: bool  # the backup's schema is older than this code's
    notes: list[str] = field(default_factory=list)


def redacted_settings(settings: Settings) -> dict[str, Any]:
    """Every setting, with keys, secrets, tokens and passwords (in URLs too) replaced."""
    values: dict[str, Any] = settings.model_dump(mode="json")
    for name, value in values.items():
        if value is None:
            continue
        if any(word in name for word in _SECRET_WORDS):
            values[name] = REDACTED
        elif isinstance(value, str) and "://" in value:
            values[name] = _without_password(value)
    return values


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{REDACTED}@{host}"))


def back_up(
    settings: Settings, folder: Path, *, force: bool, include_objects: bool, say: Say
) -> BackupResult:
    """Write a backup of this node into ``folder`` (empty or new, unless ``force``)."""
    kind = database.database_kind(settings)
    _prepare(folder, force=force)
    database_file = DATABASE_FILES[kind]
    say(f"database ({kind}) → {folder / database_file}")
    facts = database.dump(settings, folder / database_file)
    say(f"objects: {len(facts.blobs)} referenced by the database")
    store = ObjectStore(settings)
    try:
        target = folder / OBJECTS_DIR if include_objects else None
        report = copies.back_up(store, facts.blobs, folder / OBJECTS_LIST, target, say)
    finally:
        store.close()
    write_json(folder / SETTINGS, redacted_settings(settings))
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        coursefed_version=coursefed_version(),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database_kind=kind,
        database_file=database_file,
        alembic_revision=facts.alembic_revision,
        journal_serial=facts.journal_serial,
        counts=facts.counts,
        objects=ObjectTotals(
            included=include_objects,
            count=report.listed,
            bytes=report.bytes,
            missing=len(report.problems),
        ),
    )
    write_json(folder / MANIFEST, manifest.model_dump(mode="json"))  # last: the backup is whole
    return BackupResult(manifest, report)


def _prepare(folder: Path, *, force: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"{folder} is not a directory")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise BackupError(
                f"{folder} is not empty: choose a new directory, or --force to write over the"
                " backup there (its object files are reused when their sha256 matches)"
            )
        # Gone first: until a new one is written the directory is not a complete backup.
        (folder / MANIFEST).unlink(missing_ok=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"{folder} cannot be created: {exc.strerror or exc}") from None


def check_restorable(manifest: Manifest, settings: Settings) -> bool:
    """Refuse a backup this code cannot restore here; whether its schema is older."""
    kind = database.database_kind(settings)
    if manifest.database_kind != kind:
        raise BackupError(
            f"the backup holds a {manifest.database_kind} database and COURSEFED_DATABASE_URL"
            f" names a {kind} one: restore into the same kind (a mirror's snapshot moves a"
            " catalogue between kinds)"
        )
    if not migrate.is_known(manifest.alembic_revision):
        raise BackupError(
            f"the backup's database is at migration {manifest.alembic_revision}, which this"
            f" coursefed ({coursefed_version()}, at {migrate.head()}) does not know: it was made"
            " by a newer coursefed; restore it with that version or newer"
        )
    return manifest.alembic_revision != migrate.head()


def restore(settings: Settings, folder: Path, *, force: bool, say: Say) -> RestoreResult:
    """Restore the backup in ``folder`` into this (empty, unless ``force``) deployment.

    The objects go back first: they are content-addressed, so putting them into S3 is
    harmless whatever follows, and a failed restore leaves the database as it was.
    """
    manifest = read_manifest(folder)
    needs_upgrade = check_restorable(manifest, settings)
    source = folder / manifest.database_file
    if not source.is_file():
        raise BackupError(f"{source} is missing: the backup is incomplete")
    database.check_target(settings, force=force)
    say(f"objects: {manifest.objects.count} to put back into bucket {settings.s3_bucket!r}")
    store = ObjectStore(settings)
    try:
        held = folder / OBJECTS_DIR if manifest.objects.included else None
        report = copies.restore(store, folder / OBJECTS_LIST, held, say)
    finally:
        store.close()
    if report.problems:
        raise BackupError(
            f"{len(report.problems)} objects cannot be restored, the database was left as it"
            f" was; the first: {report.problems[0]}"
        )
    say(f"database ({manifest.database_kind}) ← {source}")
    database.restore(settings, source)
    engine = make_engine(settings)
    try:
        forget_index(engine)
    finally:
        engine.dispose()
    return RestoreResult(manifest, report, needs_upgrade)

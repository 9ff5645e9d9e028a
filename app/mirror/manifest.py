"""The object manifest of a record: its declared files, joined with the bytes we hold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.catalogue.models import DigitalObject
from app.mirror.schemas import ObjectManifest

StoredByUrl = dict[tuple[str, str], DigitalObject]


def index_stored(objects: Iterable[DigitalObject]) -> StoredByUrl:
    """(resource id, url) → stored object; the newest row wins when a url was stored twice."""
    return {(obj.resource_id, obj.url): obj for obj in objects}


def manifest(resource_id: str, record: dict[str, Any], stored: StoredByUrl) -> list[ObjectManifest]:
    items = []
    for ref in record.get("objects") or []:
        held = stored.get((resource_id, ref["url"]))
        items.append(
            ObjectManifest(
                url=ref["url"],
                name=ref.get("name"),
                format=ref.get("format"),
                declared_size=ref.get("size"),
                sha256=held.sha256 if held else None,
                size=held.size if held else None,
                media_type=held.media_type if held else None,
            )
        )
    return items

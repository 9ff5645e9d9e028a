"""API models of the change feed: entries, object manifests, the page."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_LIMIT = 5000
DEFAULT_LIMIT = 1000

Op = Literal["upsert", "delete"]


class ChangesParams(BaseModel):
    """Query parameters of ``GET /api/v1/changes``; an unknown parameter is an error."""

    model_config = ConfigDict(extra="forbid")

    since: int = Field(default=0, ge=0, description="the last serial the mirror has applied")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="entries at most")


class ObjectManifest(BaseModel):
    """One file of a record: what the profile declares, plus what we verified when stored."""

    url: str
    name: str | None = None
    format: str | None = Field(default=None, description="MIME type declared by the source")
    declared_size: int | None = Field(default=None, description="bytes, declared by the source")
    sha256: str | None = Field(default=None, description="of the stored bytes; null if not held")
    size: int | None = Field(default=None, description="bytes stored; null if not held")
    media_type: str | None = Field(default=None, description="type of the stored bytes")


class ChangeEntry(BaseModel):
    """One journal entry.  ``record`` is the resource's *current* state, not its state then.

    ``record`` (with ``content_hash`` and ``objects``) is null for deletions and for
    upserts whose resource is no longer live and publishable: a mirror removes it.
    """

    serial: int
    op: Op
    id: str
    record: dict[str, Any] | None
    content_hash: str | None = None
    objects: list[ObjectManifest] | None = None


class ChangesResponse(BaseModel):
    entries: list[ChangeEntry]
    last_serial: int = Field(description="serial of the last entry, or `since` when none")
    latest_serial: int = Field(description="the newest serial in the journal")
    more: bool = Field(description="true when entries after `last_serial` exist")

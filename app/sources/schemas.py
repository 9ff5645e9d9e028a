"""API models of the sources endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

# No NUL: PostgreSQL cannot store it in text.
_TEXT = r"^[^\x00]*$"


class SourceCreate(BaseModel):
    """Lengths as the ``sources`` table holds them."""

    base_url: str = Field(
        max_length=2000, pattern=_TEXT, description="the repository's OAI-PMH base URL"
    )
    name: str | None = Field(
        default=None,
        max_length=300,
        pattern=_TEXT,
        description="default: the repository's own name",
    )
    slug: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    metadata_prefix: str | None = Field(
        default=None, max_length=64, pattern=_TEXT, description="default: richest offered"
    )
    set_spec: str | None = Field(default=None, max_length=300, pattern=_TEXT)
    interval: str = Field(default="1d", max_length=32, description="30m, 12h, 1d, 1w")
    allow_private_network: bool = False


class SourcePublic(BaseModel):
    id: int
    slug: str
    name: str
    base_url: str
    metadata_prefix: str
    prefix_pinned: bool
    set_spec: str | None
    interval_minutes: int
    enabled: bool
    repository_name: str | None
    granularity: str | None
    deleted_record: str | None
    high_water: str | None
    next_harvest_at: datetime | None
    created_at: datetime

"""API models of the sources endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SourceCreate(BaseModel):
    base_url: str = Field(description="the repository's OAI-PMH base URL")
    name: str | None = Field(default=None, description="default: the repository's own name")
    slug: str | None = None
    metadata_prefix: str | None = Field(default=None, description="default: richest offered")
    set_spec: str | None = None
    interval: str = Field(default="1d", description="30m, 12h, 1d, 1w")
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

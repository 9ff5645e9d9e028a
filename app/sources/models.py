"""Tables for harvest sources and their runs."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Source(SQLModel, table=True):
    """An OAI-PMH endpoint we harvest (a college repository or another coursefed)."""

    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=300)
    base_url: str = Field(max_length=2000)
    metadata_prefix: str = Field(default="oai_dc", max_length=64)
    set_spec: str | None = Field(default=None, max_length=300)
    interval_minutes: int = Field(default=1440)
    enabled: bool = Field(default=True)
    allow_private_network: bool = Field(default=False)
    high_water: str | None = Field(
        default=None, max_length=32, description="server responseDate of the last complete run"
    )
    next_harvest_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class HarvestRun(SQLModel, table=True):
    """One harvest of one source: what was asked, what happened, with counts."""

    __tablename__ = "harvest_runs"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    status: str = Field(default="running", max_length=16)  # running, succeeded, failed
    full: bool = Field(default=False)
    from_date: str | None = Field(default=None, max_length=32)
    response_date: str | None = Field(default=None, max_length=32)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    pages: int = 0
    records_seen: int = 0
    records_upserted: int = 0
    records_unchanged: int = 0
    records_deleted: int = 0
    records_failed: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))

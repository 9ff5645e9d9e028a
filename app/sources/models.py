"""Tables for harvest sources, their runs, and the records a run could not read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class Source(SQLModel, table=True):
    """An OAI-PMH endpoint we harvest (a college repository or another coursefed)."""

    __tablename__ = "sources"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=300)
    base_url: str = Field(max_length=2000)
    metadata_prefix: str = Field(default="oai_dc", max_length=64)
    prefix_pinned: bool = Field(
        default=False, description="chosen by an operator; never replaced by format choice"
    )
    set_spec: str | None = Field(default=None, max_length=300)
    interval_minutes: int = Field(default=1440)
    enabled: bool = Field(default=True)
    allow_private_network: bool = Field(default=False)
    max_object_bytes: int | None = Field(
        default=None, sa_type=BigInteger, description="largest object; None = the setting"
    )
    # What the repository's Identify said when last asked.
    repository_name: str | None = Field(default=None, max_length=300)
    granularity: str | None = Field(default=None, max_length=32)
    earliest_datestamp: str | None = Field(default=None, max_length=32)
    deleted_record: str | None = Field(default=None, max_length=16)
    identified_at: datetime | None = None
    high_water: str | None = Field(
        default=None, max_length=32, description="server responseDate of the last complete run"
    )
    next_harvest_at: datetime | None = Field(default=None)
    last_reconciled_at: datetime | None = None
    # Which worker holds the source now; a lease that ran out may be taken over.
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class HarvestRun(SQLModel, table=True):
    """One harvest (or reconciliation) of one source: what was asked, what happened."""

    __tablename__ = "harvest_runs"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    kind: str = Field(default="harvest", max_length=16)  # harvest | reconcile
    # running | succeeded | partial (some records failed) | failed
    status: str = Field(default="running", max_length=16)
    full: bool = Field(default=False)
    metadata_prefix: str | None = Field(default=None, max_length=64)
    set_spec: str | None = Field(default=None, max_length=300)
    from_date: str | None = Field(default=None, max_length=32)
    response_date: str | None = Field(default=None, max_length=32)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    # Checkpoint: where a stopped run resumes.
    resumption_token: str | None = Field(default=None, sa_column=Column(Text))
    last_datestamp: str | None = Field(default=None, max_length=32)
    datestamps_ordered: bool = Field(
        default=True, description="every page so far came in datestamp order"
    )
    resumed: int = 0
    pages: int = 0
    records_seen: int = 0
    records_added: int = 0
    records_updated: int = 0
    records_unchanged: int = 0
    records_deleted: int = 0
    records_failed: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    events: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="HTTP and OAI-PMH problems met, retries, fallbacks",
    )
    issue_counts: dict[str, int] = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="validation issue code → number of records",
    )

    # The source's catalogue when the run finished, for charts of quality over time
    # (None for runs older than these columns).
    live_records: int | None = Field(default=None, description="live records of the source")
    published_records: int | None = Field(
        default=None, description="live records without errors: those published"
    )
    mean_quality: float | None = Field(default=None, description="of the live records")

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


class FailedRecord(SQLModel, table=True):
    """A record a run could not read or store, with its raw bytes, for the source's report."""

    __tablename__ = "failed_records"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="harvest_runs.id", index=True)
    source_id: int = Field(foreign_key="sources.id", index=True)
    identifier: str | None = Field(default=None, max_length=1000)
    datestamp: str | None = Field(default=None, max_length=32)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    raw: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: datetime = Field(default_factory=utcnow)


class ConformanceResult(SQLModel, table=True):
    """The latest conformance check (``coursefed sources check``) of a registered source."""

    __tablename__ = "conformance_results"

    source_id: int = Field(foreign_key="sources.id", primary_key=True)
    checked_at: datetime = Field(default_factory=utcnow)
    base_url: str = Field(max_length=2000, description="the endpoint checked")
    passed: int = 0
    warned: int = 0
    failed: int = 0
    checks: list[dict[str, str]] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False),
        description="{name, outcome, detail} per check, in the order they ran",
    )

"""API models of the sources endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

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


# --- run history ------------------------------------------------------------------------------

MAX_RUNS_PER_PAGE = 100


class PageParams(BaseModel):
    """``page`` and ``per_page``; an unknown parameter is an error."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=20, ge=1, le=MAX_RUNS_PER_PAGE)


class RunCounts(BaseModel):
    seen: int
    added: int
    updated: int
    unchanged: int
    deleted: int
    failed: int = Field(description="records that could not be read or stored")


class CatalogueAfter(BaseModel):
    """The source's catalogue when the run finished."""

    live_records: int
    published_records: int = Field(description="live records without errors: public")
    published_share: float | None = Field(description="published / live; None for none")
    mean_quality: float | None = Field(description="0–1, share of recommended fields present")


class RunLinks(BaseModel):
    report: str = Field(description="the run's full report (events, failed records)")


class RunPublic(BaseModel):
    """One harvest or reconciliation of a source."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    kind: str = Field(description="harvest or reconcile")
    status: str = Field(description="running, succeeded, partial or failed")
    full: bool = Field(description="asked from the beginning, not from the last harvest")
    metadata_prefix: str | None
    set: str | None
    from_: str | None = Field(alias="from", description="the from argument asked")
    response_date: str | None
    started_at: datetime
    finished_at: datetime | None
    duration_seconds: float | None
    resumed: int = Field(description="times it continued from a checkpoint")
    pages: int
    records: RunCounts
    error: str | None
    issue_counts: dict[str, int] = Field(description="issue code → records of this run")
    catalogue_after: CatalogueAfter | None = Field(
        description="None while running and for runs from before these were kept"
    )
    links: RunLinks


class RunPage(BaseModel):
    """A source's runs, newest first."""

    total: int
    page: int
    per_page: int
    runs: list[RunPublic]


# --- issues -----------------------------------------------------------------------------------

MAX_ISSUE_RECORDS_PER_PAGE = 100


class IssueParams(BaseModel):
    """Query parameters of ``GET /api/v1/sources/{id}/issues``: without ``code`` the counts
    by code, with it a page of the records carrying that code."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$"
    )
    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=50, ge=1, le=MAX_ISSUE_RECORDS_PER_PAGE)

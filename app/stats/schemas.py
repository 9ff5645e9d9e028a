"""API models of the statistics (``GET /api/v1/stats``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class StatValue(BaseModel):
    value: str = Field(description="the value as the search API's filter takes it")
    count: int = Field(description="live courses with this value")
    label: dict[str, str] = Field(default_factory=dict, description="zh and en labels")
    search_url: str | None = Field(
        default=None, description="the search API keeping the courses with this value"
    )


class Dimension(BaseModel):
    label: dict[str, str] = Field(description="zh and en names of the dimension")
    filter: str | None = Field(
        description="the search parameter that keeps courses with a value (none for months)"
    )
    values: list[StatValue] = Field(
        description="most courses first (months: in time order); each count equals the "
        "search API's facet count for the value"
    )
    not_stated: int | None = Field(description="courses without a value; null: not counted")
    others: int | None = Field(
        description="courses whose value is not listed (only the most frequent values are, "
        "when complete is false); null where a course may have several values"
    )
    complete: bool = Field(description="every value is listed")


class Files(BaseModel):
    held: int = Field(description="distinct files held (stored once however often named)")
    bytes: int = Field(description="their size in bytes")
    objects: dict[str, int] = Field(
        description="the files courses name, by state: stored, pending, failed, too_large, "
        "not_allowed, unsupported"
    )
    links: dict[str, int] = Field(
        description="the same files by the last check of their source link: ok, broken, unchecked"
    )


class StatsResponse(BaseModel):
    total: int = Field(description="live courses in the catalogue")
    dimensions: dict[str, Dimension] = Field(
        description="category, discipline, level, type, language, institution, open, "
        "license, source, added (courses by the month they were first harvested)"
    )
    files: Files
    computed_at: datetime = Field(description="when these numbers were counted (UTC)")

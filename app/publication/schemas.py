"""Query parameters of the catalogue files and feeds, and the API's list of monthly files.

The filters are the search API's (``GET /api/v1/search``), checked by the same rules
(``app.search.query``); an unknown parameter is an error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.search.schemas import SearchFilters


class CatalogueParams(SearchFilters):
    """Query parameters of ``GET /api/v1/catalogue.csv`` and ``.json``."""

    month: str | None = Field(
        default=None,
        description="YYYY-MM: the courses first harvested in that month (UTC); "
        "without it, every month",
        json_schema_extra={"pattern": "^[0-9]{4}-[0-9]{2}$"},
    )
    q: str = Field(
        default="",
        max_length=500,
        description="not available: catalogue files list courses by their facts; "
        "search words with /api/v1/search or follow them with the Atom feed",
        json_schema_extra={"maxLength": 0},
    )


class FeedParams(SearchFilters):
    """Query parameters of ``GET /feeds/courses.atom``."""

    q: str = Field(default="", max_length=500, description="words every course must hold")
    lang: Literal["zh", "en"] = Field(default="zh", description="the language of the feed")


class MonthFileOut(BaseModel):
    month: str = Field(description="YYYY-MM (UTC)")
    count: int = Field(description="live courses first harvested that month")
    csv: str
    json_url: str = Field(alias="json")

    model_config = ConfigDict(populate_by_name=True)


class CatalogueFilesResponse(BaseModel):
    """The catalogue files: one per month with courses, newest first, and one of all."""

    total: int = Field(description="live courses in the catalogue")
    csv: str = Field(description="every live course, as CSV")
    json_url: str = Field(alias="json", description="every live course, as JSON")
    months: list[MonthFileOut]

    model_config = ConfigDict(populate_by_name=True)

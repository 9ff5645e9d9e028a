"""Query parameters of the catalogue files and feeds, and the API's list of monthly files.

The filters are the search API's (``GET /api/v1/search``), checked by the same rules
(``app.search.query``); an unknown parameter is an error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.json_schema import JsonDict

from metadata.vocabularies import EDUCATION_LEVELS, RESOURCE_TYPES


def _items(**schema: JsonValue) -> JsonDict:
    """OpenAPI for a repeatable filter's values (checked by ``app.publication.selection``)."""
    return {"items": {"type": "string", **schema}}


_TEXT_VALUE = _items(minLength=1, maxLength=200, pattern=r"^[^\\\x00-\x1f\x7f]*$")


class Filters(BaseModel):
    """The search API's filters: a filter repeated means any of its values (OR), different
    filters must all hold (AND)."""

    model_config = ConfigDict(extra="forbid")

    subject: list[str] = Field(
        default_factory=list,
        description="discipline code, e.g. 0812 (its category 08 takes in all of it)",
        json_schema_extra=_items(pattern="^[0-9]{2,6}$"),
    )
    level: list[str] = Field(
        default_factory=list,
        description="education level",
        json_schema_extra=_items(enum=list[JsonValue](EDUCATION_LEVELS)),
    )
    type: list[str] = Field(
        default_factory=list,
        description="CELTS-41 resource type",
        json_schema_extra=_items(enum=list[JsonValue](RESOURCE_TYPES)),
    )
    language: list[str] = Field(
        default_factory=list,
        description="language tag, e.g. zh",
        json_schema_extra=_items(pattern="^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
    )
    institution: list[str] = Field(
        default_factory=list,
        description="institution id (see /api/v1/institutions); a name is accepted too",
        json_schema_extra=_TEXT_VALUE,
    )
    license: list[str] = Field(
        default_factory=list,
        description="SPDX id (e.g. CC-BY-4.0), all-rights-reserved, or other",
        json_schema_extra=_TEXT_VALUE,
    )
    open: bool = Field(default=False, description="true: only courses under an open licence")
    source: list[str] = Field(
        default_factory=list,
        description="source slug (local: records stored here, not harvested)",
        json_schema_extra=_items(pattern="^[a-z0-9][a-z0-9-]{0,62}$"),
    )
    teacher: list[str] = Field(
        default_factory=list, description="a teacher's name", json_schema_extra=_TEXT_VALUE
    )


class CatalogueParams(Filters):
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


class FeedParams(Filters):
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

"""API models of the search endpoint, and the filters every catalogue API shares."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.json_schema import JsonDict

from metadata.vocabularies import EDUCATION_LEVELS, RESOURCE_TYPES


def _items(**schema: JsonValue) -> JsonDict:
    """OpenAPI for a repeatable filter's values (checked by ``app.search.query``)."""
    return {"items": {"type": "string", **schema}}


_TEXT_VALUE = _items(minLength=1, maxLength=200, pattern=r"^[^\\\x00-\x1f\x7f]*$")


class SearchFilters(BaseModel):
    """The search API's filters, as query parameters (also those of the catalogue files and
    the feeds): a filter repeated means any of its values (OR), different filters must all
    hold (AND); an unknown parameter is an error."""

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
    open: bool = Field(
        default=False, description="true: only courses under an open licence (CC, CC0, ...)"
    )
    type: list[str] = Field(
        default_factory=list,
        description="CELTS-41 resource type",
        json_schema_extra=_items(enum=list[JsonValue](RESOURCE_TYPES)),
    )
    source: list[str] = Field(
        default_factory=list,
        description="source slug (local: records stored here, not harvested)",
        json_schema_extra=_items(pattern="^[a-z0-9][a-z0-9-]{0,62}$"),
    )
    teacher: list[str] = Field(
        default_factory=list, description="a teacher's name", json_schema_extra=_TEXT_VALUE
    )


class HitProvenance(BaseModel):
    """One record of a course: where we harvested it."""

    id: str = Field(description="the record's resource id")
    source: str = Field(description="source slug (local: stored here)")
    oai_identifier: str = Field(description="the record's OAI identifier at its source")
    url: str | None = Field(default=None, description="the course's page as this record names it")
    api_url: str


class Hit(BaseModel):
    id: str
    title: str
    title_zh: str | None = None
    title_en: str | None = None
    titles_marked: dict[str, str] = Field(
        default_factory=dict,
        description="the zh and en titles, escaped, with <mark> highlights of the query",
    )
    description: str = Field(description="snippet with <mark> highlights")
    description_language: str | None = Field(
        default=None, description="the snippet's language as the record states it (und: not)"
    )
    institution: str | None = Field(default=None, description="as the record names it")
    institution_id: str | None = Field(
        default=None, description="the school in the institution authority"
    )
    institution_zh: str | None = None
    institution_en: str | None = None
    teachers: list[str] = Field(default_factory=list, description="authors and instructors")
    subjects: list[str] = Field(default_factory=list)
    subject_codes: list[str] = Field(default_factory=list)
    level: str | None = None
    languages: list[str] = Field(default_factory=list)
    license: str | None = Field(
        default=None,
        description="SPDX id, all-rights-reserved, or other (a statement not recognised)",
    )
    license_open: bool | None = Field(default=None, description="an open licence")
    type: str | None = None
    has_files: bool = Field(default=False, description="whether the record lists files")
    url: str | None = Field(default=None, description="the resource's landing page")
    api_url: str
    provenances: list[HitProvenance] = Field(
        default_factory=list,
        description="every record of this course, this hit's first: a course several "
        "repositories expose is one hit",
    )


class FacetValue(BaseModel):
    value: str
    count: int
    label: dict[str, str] = Field(default_factory=dict, description="zh and en labels")


class Suggestion(BaseModel):
    """Another search to offer: a close spelling, the learner's own words back, or a
    discipline near a query that found nothing."""

    query: str = Field(description="the words to search for (empty for a discipline)")
    total: int = Field(
        description="courses it finds: with this search's filters, or for a discipline, "
        "all of its courses"
    )
    reason: Literal["spelling", "original", "discipline"] = Field(
        description="spelling: a close course name ('did you mean'); original: the query as "
        "typed, when the results are for corrected_query ('search instead for'); "
        "discipline: a discipline near a query that found nothing"
    )
    filters: dict[str, list[str]] = Field(
        default_factory=dict, description="the filters it searches with"
    )
    label: dict[str, str] = Field(
        default_factory=dict, description="zh and en names of a discipline"
    )
    search_url: str = Field(description="this API's URL for it")


class SearchResponse(BaseModel):
    query: str
    corrected_query: str | None = Field(
        default=None,
        description="when set, the results are for this correction of query, which found "
        "nothing or matched no course name; suggestions then offer query back (reason "
        "original); correct=false searches query as typed",
    )
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[FacetValue]] = Field(
        default_factory=dict,
        description="for each filter parameter: its values with counts; open: how many "
        "results are (true) or are not (false) under an open licence",
    )
    query_ms: int
    suggestions: list[Suggestion] = Field(
        default_factory=list,
        description="other searches to offer when this one found little or nothing, best "
        "first; empty when it needs no help",
    )

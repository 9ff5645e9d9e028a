"""API models of the search endpoint."""

from __future__ import annotations

from pydantic import BaseModel, Field


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


class FacetValue(BaseModel):
    value: str
    count: int
    label: dict[str, str] = Field(default_factory=dict, description="zh and en labels")


class SearchResponse(BaseModel):
    query: str
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

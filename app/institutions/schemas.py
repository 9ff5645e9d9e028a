"""API models of the institution authority."""

from __future__ import annotations

from pydantic import BaseModel, Field


class InstitutionPublic(BaseModel):
    id: str = Field(description="stable URL-safe id; the search filter institution= takes it")
    name_zh: str | None = None
    name_en: str | None = None
    label: dict[str, str] = Field(description="zh and en names (the other one when missing)")
    count: int = Field(description="live courses of this institution")
    search_url: str = Field(description="the search API filtered to this institution")


class InstitutionDetail(InstitutionPublic):
    aliases: list[str] = Field(
        default_factory=list, description="names that lead to this institution"
    )


class InstitutionList(BaseModel):
    institutions: list[InstitutionPublic]
    total: int

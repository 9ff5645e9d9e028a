"""Tables of the institution authority: schools, and the names that lead to them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.clock import utcnow


class Institution(SQLModel, table=True):
    """One school: a stable URL-safe id and its names in Chinese and English."""

    __tablename__ = "institutions"

    id: str = Field(primary_key=True, max_length=64)
    name_zh: str | None = Field(default=None, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class InstitutionAlias(SQLModel, table=True):
    """A name as records write it (by its matching key) → the school it names.

    ``origin`` is ``seeded`` (learnt from a record) or ``admin`` (set by an
    administrator; seeding never moves it).
    """

    __tablename__ = "institution_aliases"

    key: str = Field(
        primary_key=True, max_length=300, description="metadata.institutions.match_key"
    )
    name: str = Field(max_length=300, description="the name as first seen")
    institution_id: str = Field(foreign_key="institutions.id", index=True, max_length=64)
    origin: str = Field(default="seeded", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)

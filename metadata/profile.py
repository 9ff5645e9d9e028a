"""The national course-resource profile: the one record every harvested format becomes.

A bilingual, LOM-based record.  Text that a learner reads (title, description) is a
*language map* ``{"zh": ..., "en": ...}``; ``und`` is used when the language of a
string is unknown.  The models are pure data: readers in ``metadata.readers`` build
them, writers and the search mapper read them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

LangMap = dict[str, str]
"""Language tag (BCP 47, normalised: ``zh``, ``en``, ``und``) → text."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Subject(_Model):
    """A discipline of the national catalogue (``code``) or a free subject (no code)."""

    code: str | None = None
    label: LangMap = Field(default_factory=dict)


class Contributor(_Model):
    name: str
    role: str = Field(description="author, publisher, contributor, ...")


class License(_Model):
    spdx: str | None = Field(default=None, description="SPDX id when recognisable")
    text: str = Field(description="the licence statement as received")


class Provenance(_Model):
    """Where and how a record was harvested; kept with every stored resource."""

    source: str = Field(description="slug of the source we harvested")
    oai_identifier: str
    datestamp: str
    metadata_prefix: str
    harvested_at: datetime
    raw_sha256: str = Field(description="sha256 of the raw record as received")
    base_url: str | None = None


class CourseResource(_Model):
    """The descriptive part of a record, as a reader builds it from one source record."""

    title: LangMap = Field(default_factory=dict)
    description: LangMap = Field(default_factory=dict)
    keywords: list[str] = Field(default_factory=list)
    subjects: list[Subject] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    education_level: str | None = None
    resource_types: list[str] = Field(default_factory=list)
    institution: str | None = None
    contributors: list[Contributor] = Field(default_factory=list)
    license: License | None = None
    created: str | None = None
    modified: str | None = None
    dates: list[str] = Field(default_factory=list, description="other dates as received")
    formats: list[str] = Field(default_factory=list)
    identifiers: list[str] = Field(default_factory=list)
    url: str | None = Field(default=None, description="the resource's landing page")
    relations: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="dc:source values")
    coverage: list[str] = Field(default_factory=list)


class ResourceRecord(CourseResource):
    """A stored catalogue record: the description plus its stable id and provenance."""

    id: str
    provenance: Provenance | None = None


class Issue(_Model):
    """One finding of validation: errors keep a record out of the public catalogue."""

    severity: str = Field(description="error or warning")
    code: str
    message: str
    path: str | None = Field(default=None, description="where in the source record")

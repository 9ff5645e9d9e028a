"""The national course-resource profile: the one record every harvested format becomes.

A bilingual record built on IEEE LOM (GB/T 21365).  Text a learner reads (title,
description) is a *language map* ``{"zh": ..., "en": ...}``; ``und`` marks a string whose
language is unknown.  Controlled values (``education_level``, ``resource_type``) come
from ``metadata.vocabularies``; values a source sends that map to none of them are kept
as received (``audiences``, ``resource_types``) and reported as warnings, never dropped.

The models are pure data: readers in ``metadata.readers`` build them, writers in
``metadata.writers`` and the search mapper read them.  ``docs/profile.md`` documents every
field with its obligation and its source in LOM, Dublin Core and schema.org; the JSON
Schema is served at ``/api/v1/profile.schema.json``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from metadata import licences

LangMap = dict[str, str]
"""Language tag (normalised BCP 47: ``zh``, ``en``, ``fr``, ``und``, ...) → text."""

PROFILE_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Subject(_Model):
    """A discipline of a catalogue (``code`` + ``scheme``) or a free subject (no code)."""

    code: str | None = Field(default=None, description="e.g. 0812 (national catalogue)")
    scheme: str | None = Field(default=None, description="e.g. 学科专业目录; None when free")
    label: LangMap = Field(default_factory=dict)


class Contributor(_Model):
    """A person or organisation with a role (from LOM lifeCycle vCards, DC creator, ...)."""

    name: str
    role: str = Field(description="author, publisher, contributor, instructor, ...")
    organization: str | None = None
    email: str | None = None


class License(_Model):
    """A record's licence: the statement as received and what ``metadata.licences`` reads in it."""

    spdx: str | None = Field(
        default=None,
        description="SPDX id when recognisable (e.g. CC-BY-NC-SA-4.0), all-rights-reserved for "
        "a copyright-only statement",
    )
    url: str | None = Field(default=None, description="licence URL when given")
    text: str = Field(description="the licence statement as received")
    open: bool | None = Field(
        default=None,
        description="True when the licence lets anyone reuse (any Creative Commons licence, "
        "CC0, public domain, OSI/FSF-approved); False for all-rights-reserved and other "
        "closed licences; None when not known",
    )

    @model_validator(mode="after")
    def _open_of_its_id(self) -> License:
        # Follows from the id, so a record read back from our own writers (which do not
        # write it) or stored before the flag existed gets the same value.
        if self.open is None and self.spdx:
            self.open = licences.is_open(self.spdx)
        return self


class DigitalObjectRef(_Model):
    """A file of the resource: a video, PDF, courseware package, ..."""

    url: str
    format: str | None = Field(default=None, description="MIME type, e.g. video/mp4")
    size: int | None = Field(default=None, description="bytes, as declared by the source")
    duration: str | None = Field(default=None, description="ISO 8601 duration of media")
    name: str | None = Field(default=None, description="file name to offer on download")


class Relation(_Model):
    kind: str | None = Field(default=None, description="LOM relation kind, e.g. ispartof")
    target: str = Field(description="identifier or URL of the related resource")


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
    languages: list[str] = Field(default_factory=list, description="normalised BCP 47")
    education_level: str | None = Field(default=None, description="vocabularies.EDUCATION_LEVELS")
    audiences: list[str] = Field(
        default_factory=list, description="level/context/audience values as received"
    )
    resource_type: str | None = Field(default=None, description="vocabularies.RESOURCE_TYPES")
    resource_types: list[str] = Field(
        default_factory=list, description="type values as received (LOM, DC, local)"
    )
    course_code: str | None = None
    learning_time: str | None = Field(default=None, description="ISO 8601 duration")
    class_hours: float | None = Field(default=None, description="学时")
    credits: float | None = Field(default=None, description="学分")
    institution: str | None = None
    institution_names: LangMap = Field(
        default_factory=dict,
        description="the institution's name in each language, when the record gives it in "
        "several (a publisher vCard with ORG;LANGUAGE=zh and ORG;LANGUAGE=en)",
    )
    contributors: list[Contributor] = Field(default_factory=list)
    license: License | None = None
    cost: bool | None = Field(default=None, description="True when learners must pay")
    created: str | None = Field(default=None, description="ISO 8601 date or date-time")
    modified: str | None = Field(default=None, description="ISO 8601 date or date-time")
    dates: list[str] = Field(default_factory=list, description="other dates as received")
    formats: list[str] = Field(default_factory=list, description="MIME types")
    objects: list[DigitalObjectRef] = Field(default_factory=list)
    identifiers: list[str] = Field(default_factory=list)
    url: str | None = Field(default=None, description="the resource's landing page")
    relations: list[Relation] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="what it was derived from")
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


def profile_json_schema() -> dict[str, Any]:
    """The JSON Schema of a catalogue record, as published to colleges and mirrors."""
    schema = ResourceRecord.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "coursefed course-resource profile"
    schema["version"] = PROFILE_VERSION
    return schema

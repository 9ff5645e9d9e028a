"""One course as the catalogue files list it (pure): titles, school, disciplines, level,
licence, its page here and its own link, when it was first harvested."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from app.publication.selection import licence_id
from app.search.documents import InstitutionEntry
from metadata.profile import LangMap, ResourceRecord
from metadata.urls import http_url
from metadata.vocabularies import discipline_labels


@dataclass(frozen=True)
class Discipline:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class CatalogueEntry:
    """A row of a catalogue file."""

    id: str
    title_zh: str
    title_en: str
    institution: InstitutionEntry | None  # the school in the institution authority
    disciplines: tuple[Discipline, ...]  # the most specific codes the record gives
    level: str | None  # metadata.vocabularies.EDUCATION_LEVELS
    license: str | None  # as the search API names it: SPDX id, all-rights-reserved, other
    license_open: bool
    url: str  # the course's page on this site
    source_url: str | None  # the record's own http(s) link
    first_harvested: datetime


def iso_utc(moment: datetime) -> str:
    """``2026-11-05T08:00:00Z``: whole seconds in UTC (a naive moment is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def course_url(base: str, resource_id: str) -> str:
    """The absolute address of a course's page on this site."""
    return f"{base}/courses/{quote(resource_id, safe='')}"


def title_in(titles: LangMap, lang: str) -> str:
    """The title whose language tag is ``lang`` (``zh``, ``zh-Hans``, …); ``""`` for none."""
    for tag, text in titles.items():
        if text and tag.split("-")[0].lower() == lang:
            return text
    return ""


def disciplines(record: ResourceRecord) -> tuple[Discipline, ...]:
    """The record's disciplines by code, each once and without a category that one of its
    disciplines already names (``08`` beside ``0812``), named as the record names them,
    else as the national catalogue does."""
    coded = [s for s in record.subjects if s.code and s.code.isascii() and s.code.isdigit()]
    codes = list(dict.fromkeys(s.code for s in coded if s.code))
    kept = [c for c in codes if not any(o != c and o.startswith(c) for o in codes)]
    found = []
    for code in kept:
        labels = next((s.label for s in coded if s.code == code and s.label), {})
        known = discipline_labels(code) if len(code) <= 4 else {}
        found.append(
            Discipline(
                code,
                title_in(labels, "zh") or known.get("zh", ""),
                title_in(labels, "en") or known.get("en", ""),
            )
        )
    return tuple(found)


def catalogue_entry(
    resource_id: str,
    record: ResourceRecord,
    *,
    first_harvested: datetime,
    school: InstitutionEntry | None,
    base: str,
) -> CatalogueEntry:
    """The row of a stored course."""
    licence, is_open = licence_id(record)
    return CatalogueEntry(
        id=resource_id,
        title_zh=title_in(record.title, "zh"),
        title_en=title_in(record.title, "en"),
        institution=school,
        disciplines=disciplines(record),
        level=record.education_level,
        license=licence,
        license_open=is_open,
        url=course_url(base, resource_id),
        source_url=http_url(record.url),
        first_harvested=first_harvested,
    )

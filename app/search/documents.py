"""Pure mapping from a stored resource to its Meilisearch document (no I/O).

Besides what a learner searches, a document carries what course pages look up: the
teachers (``teacher=`` filters on them) and every identifier the record is known by
(its landing page, its other identifiers, its OAI identifier), so another record's
relation naming one of them finds this course.

The licence is read again from the stored statement through ``metadata.licences`` each
time a document is made, so ``coursefed reindex`` brings records stored under older
rules to today's ids.  The institution is the authority's entry the store resolved the
record's names to (``app.institutions``), handed in by the indexer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pypinyin import lazy_pinyin

from metadata.licences import LicenceInfo, normalise_license
from metadata.profile import ResourceRecord
from metadata.urls import http_url

DOCUMENT_VERSION = 6
"""The version of this mapping.  Raise it when a field is added or its meaning changes: the
indexer then rebuilds an index whose documents an older version made (2: ``added_month``
and ``discipline_codes``; 3: ``title_pinyin``; 4: ``course_codes``; 5: ``provenances``, one
document per course cluster; 6: ``source``, every source of the course)."""

OTHER_LICENCE = "other"
"""``license`` of a record whose statement names no licence we recognise."""

DESCRIPTION_CHARS = 2000
TEACHER_ROLES = frozenset({"author", "instructor", "teacher"})
"""Contributor roles shown as a course's teachers on result cards."""
MAX_TEACHERS = 6
# The search service marks highlights with these two characters (``service._marked``):
# a description must not bring its own.
_NO_MARKERS = str.maketrans("", "", "\x02\x03")


def _pick(langmap: dict[str, str], *prefer: str) -> str:
    for lang in prefer:
        if langmap.get(lang):
            return langmap[lang]
    return next((text for text in langmap.values() if text), "")


def display_title(record: ResourceRecord) -> str:
    """The title a learner sees first: the record's own language, Chinese before English."""
    primary = record.languages[0] if record.languages else "zh"
    return _pick(record.title, primary, "zh", "en")


def subject_codes(record: ResourceRecord) -> list[str]:
    """The record's discipline codes with every broader one (``081201`` → ``08``, ``0812``,
    ``081201``), so filtering on a category or discipline finds all of its courses."""
    codes: set[str] = set()
    for subject in record.subjects:
        code = subject.code or ""
        if code.isascii() and code.isdigit():
            codes.update(code[:end] for end in range(2, len(code) + 1, 2))
    return sorted(codes)


def discipline_codes(record: ResourceRecord) -> list[str]:
    """Of ``subject_codes``, the categories and first-level disciplines (2 and 4 digits):
    at most 14 + 117 values, so counting them never meets the index's cap on facet values
    (the 6-digit codes can)."""
    return [code for code in subject_codes(record) if len(code) <= 4]


def added_month(first_stored: datetime | None) -> str | None:
    """The month (``YYYY-MM``, UTC) a record was first stored; naive times are UTC."""
    if first_stored is None:
        return None
    if first_stored.tzinfo is not None:
        first_stored = first_stored.astimezone(UTC)
    return first_stored.strftime("%Y-%m")


_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
MAX_PINYIN_SYLLABLES = 24
"""Syllables of one run of Chinese characters spelled out; a title is rarely longer."""


def pinyin_forms(title: str) -> list[str]:
    """How a learner without a Chinese keyboard types ``title``: each run of Chinese
    characters in pinyin without tones, spaces or separators (高等数学 → ``gaodengshuxue``),
    and its initials (``gdsx``); each also from every later syllable on (大学计算机基础 →
    ``jisuanjijichu``, ``jsjjc``), since Meilisearch matches the start of a word, not its middle.
    """
    return list(_pinyin_forms(title))


@lru_cache(maxsize=8192)
def _pinyin_forms(title: str) -> tuple[str, ...]:
    """``pinyin_forms``, kept per title: every college teaches a 高等数学 of its own."""
    forms: dict[str, None] = {}
    for run in _HAN_RUN.findall(title):
        syllables = lazy_pinyin(run[:MAX_PINYIN_SYLLABLES])
        # Each syllable's first letter: what pypinyin's FIRST_LETTER style spells.
        initials = [syllable[0] for syllable in syllables]
        for start in range(len(syllables)):
            if len(syllables) - start < 2:
                break
            forms["".join(syllables[start:])] = None
        if len(initials) >= 2:
            forms["".join(initials)] = None
        for start in range(1, len(initials) - 2):  # later initials: 3 letters at least
            forms["".join(initials[start:])] = None
    return tuple(forms)


def teachers(record: ResourceRecord) -> list[str]:
    """The names of the people who teach or wrote the course, each once, in record order."""
    names = (c.name.strip() for c in record.contributors if c.role.lower() in TEACHER_ROLES)
    return list(dict.fromkeys(name for name in names if name))[:MAX_TEACHERS]


def identifiers_of(record: ResourceRecord) -> list[str]:
    """Every identifier the record is known by, each once."""
    oai = [record.provenance.oai_identifier] if record.provenance else []
    candidates = [record.url, *record.identifiers, *oai]
    return list(dict.fromkeys(i.strip() for i in candidates if i and i.strip()))


@dataclass(frozen=True)
class Provenance:
    """One record of a course: where it was harvested, and the identifiers it names."""

    id: str
    source: str
    oai_identifier: str
    url: str | None = None
    identifiers: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "oai_identifier": self.oai_identifier,
            "url": http_url(self.url),
        }


@dataclass(frozen=True)
class InstitutionEntry:
    """A school of the institution authority: its id and names."""

    id: str
    name_zh: str | None = None
    name_en: str | None = None


def licence_of(record: ResourceRecord) -> LicenceInfo | None:
    """The record's licence as today's rules read it; None when it states none."""
    if record.license is None:
        return None
    stated = record.license
    return normalise_license(stated.text, stated.url, stated.spdx)


def to_document(
    record: ResourceRecord,
    *,
    source: str,
    updated_at: datetime,
    content_hash: str = "",
    institution: InstitutionEntry | None = None,
    first_harvested: datetime | None = None,
    duplicates: list[Provenance] | None = None,
) -> dict[str, Any]:
    """One search document; field names here are the search API's vocabulary.

    ``first_harvested`` is when the record was first stored: it orders the Atom feeds of
    new courses (documents made without it sort after every other), and its month is what
    the statistics count courses added by.  ``duplicates``: the other records of the
    course (``app.catalogue.clusters``), listed in ``provenances`` after this one, their
    identifiers joined to its own so a relation naming any of them finds the course.
    """
    licence = licence_of(record)
    names = [record.institution]
    if institution is not None:
        names += [institution.name_zh, institution.name_en]
    return {
        "id": record.id,
        "title": display_title(record),
        "title_zh": record.title.get("zh", ""),
        "title_en": record.title.get("en", ""),
        # Every language's title in one field, so no language outranks another.
        "titles": [text for text in record.title.values() if text],
        # A learner may search by the code a college gives its course (JLU0701588).
        "course_codes": [record.course_code] if record.course_code else [],
        # The Chinese titles in pinyin, last of the searchable attributes: ``jisuanji`` finds
        # 计算机, and never before a course whose own words match.
        "title_pinyin": [
            form for text in record.title.values() if text for form in pinyin_forms(text)
        ],
        "keywords": record.keywords,
        "subjects": list(
            dict.fromkeys(label for s in record.subjects for label in s.label.values())
        ),
        "subject_codes": subject_codes(record),
        "discipline_codes": discipline_codes(record),
        "institution": record.institution or "",
        "teachers": teachers(record),
        "institution_id": institution.id if institution else None,
        "institution_zh": institution.name_zh if institution else None,
        "institution_en": institution.name_en if institution else None,
        # Every name of the school, so "Donghu" finds its Chinese records too.
        "institution_names": list(dict.fromkeys(name for name in names if name)),
        "descriptions": [
            text.translate(_NO_MARKERS)[:DESCRIPTION_CHARS]
            for text in record.description.values()
            if text
        ],
        # The language tag of each description, in the same order (``und``: not stated).
        "description_languages": [tag for tag, text in record.description.items() if text],
        "level": record.education_level,
        "languages": record.languages,
        "license": (licence.id or OTHER_LICENCE) if licence else None,
        "license_open": bool(licence and licence.open),
        "type": record.resource_type,
        "types": record.resource_types,
        # Every source the course comes from: a college filtering by its own source finds
        # its courses even where an aggregator's record is the one search shows.
        "source": list(dict.fromkeys([source, *(d.source for d in duplicates or [])])),
        "url": http_url(record.url),
        "has_objects": bool(record.objects),
        "identifiers": list(
            dict.fromkeys(
                [*identifiers_of(record), *(i for d in duplicates or [] for i in d.identifiers)]
            )
        ),
        # Every record of the course: this one, then the others (``duplicates``).
        "provenances": [
            Provenance(
                id=record.id,
                source=source,
                oai_identifier=record.provenance.oai_identifier if record.provenance else "",
                url=record.url,
            ).as_json(),
            *(d.as_json() for d in duplicates or []),
        ],
        "modified": int(updated_at.timestamp()),
        "first_harvested": int(first_harvested.timestamp()) if first_harvested else None,
        "added_month": added_month(first_harvested),
        # Lets a check compare the index with the database, record by record.
        "content_hash": content_hash,
    }

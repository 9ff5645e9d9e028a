"""Write a profile record as schema.org JSON-LD (LRMI), for course pages and search engines.

A plain ``dict`` ready for ``json.dumps``; a ``Course`` for web courses, else a
``LearningResource``; only URLs that pass ``metadata.urls.http_url``.  Field by field:
docs/mapping-jsonld.md.
"""

from __future__ import annotations

from typing import Any

from metadata.languages import normalise_language
from metadata.profile import Contributor, CourseResource, DigitalObjectRef, LangMap, Subject
from metadata.readers.oai_dc import catalogue_labels, level_of
from metadata.urls import http_url, screen_urls
from metadata.vocabularies import (
    DISCIPLINE_CATALOGUE,
    EDUCATION_LEVELS,
    RESOURCE_TYPES,
    labels_of,
)

CONTEXT = "https://schema.org"
SPDX_URL = "https://spdx.org/licenses/{}.html"
LEVEL_SET = {"zh": "教育层次", "en": "Education levels"}
RESOURCE_TYPE_SET = "CELTS-41"

# Relation kinds (LOM's, lower case) → schema.org properties.
_RELATION_PROPERTIES = {
    "ispartof": "isPartOf",
    "haspart": "hasPart",
    "isbasedon": "isBasedOn",
    "isversionof": "isBasedOn",
    "isformatof": "isBasedOn",
    "references": "citation",
}
_MEDIA_TYPES = {"video": "VideoObject", "audio": "AudioObject", "image": "ImageObject"}

JSON = dict[str, Any]


def write_jsonld(record: CourseResource, *, url: str | None = None) -> JSON:
    """The record as one schema.org JSON-LD node (see docs/mapping-jsonld.md).

    ``url`` is where the node is published (a catalogue page); it becomes ``@id`` and
    ``url``, and the source's own landing page goes to ``sameAs``.
    """
    # Records stored before the URL rule may still hold what readers now drop.
    record, _ = screen_urls(record)
    is_course = record.resource_type == "web_course"
    page = url or record.url
    node: JSON = {
        "@context": CONTEXT,
        "@type": "Course" if is_course else "LearningResource",
        "@id": page,
        "name": language_value(record.title),
        "description": language_value(record.description),
        "inLanguage": _one_or_many(_languages(record.languages)),
        "keywords": record.keywords,
        "about": [term for s in record.subjects if (term := _subject_term(s)) is not None],
        "educationalLevel": _vocabulary_term(EDUCATION_LEVELS, record.education_level, LEVEL_SET),
        "learningResourceType": _vocabulary_term(
            RESOURCE_TYPES, record.resource_type, {"en": RESOURCE_TYPE_SET}
        )
        or _one_or_many(record.resource_types),
        # Audiences that are education levels are said by educationalLevel.
        "audience": [
            {"@type": "Audience", "audienceType": audience}
            for audience in record.audiences
            if level_of(audience) is None
        ],
        "timeRequired": record.learning_time,
        "provider": _organization(record.institution),
        "author": _people(record.contributors, {"author"}),
        "publisher": [
            org
            for c in record.contributors
            if c.role == "publisher" and (org := _organization(c.name)) is not None
        ],
        "contributor": _people(record.contributors, None),
        "license": _license(record),
        "isAccessibleForFree": None if record.cost is None else not record.cost,
        "associatedMedia": [_media(o) for o in record.objects],
        "dateCreated": record.created,
        "dateModified": record.modified,
        "identifier": _identifiers(record, is_course),
        "url": page,
        "sameAs": record.url if url and record.url and record.url != url else None,
    }
    if is_course:
        node["courseCode"] = record.course_code
        credits = record.credits
        node["numberOfCredits"] = int(credits) if credits and credits.is_integer() else credits
    for relation in record.relations:
        prop = _RELATION_PROPERTIES.get(relation.kind or "")
        if prop is not None:
            node.setdefault(prop, []).append(_work(relation.target))
    if record.sources:
        node.setdefault("isBasedOn", []).extend(_work(s) for s in record.sources)
    return {key: value for key, value in node.items() if value not in (None, "", [], {})}


def language_value(texts: LangMap) -> str | list[JSON] | None:
    """A string for one language; ``@value``/``@language`` objects for several."""
    if not texts:
        return None
    if len(texts) == 1:
        return next(iter(texts.values()))
    return [
        {"@value": text} if language == "und" else {"@value": text, "@language": language}
        for language, text in texts.items()
    ]


def _one_or_many(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def _languages(languages: list[str]) -> list[str]:
    # Values kept as received ("Klingon", "other") are not BCP 47 tags.
    return [lang for lang in languages if normalise_language(lang) == lang and lang != "und"]


def _term_set(name: LangMap) -> JSON:
    return {"@type": "DefinedTermSet", "name": language_value(name)}


def _subject_term(subject: Subject) -> JSON | None:
    if subject.code is None and subject.scheme is None:
        return None  # a free keyword: already in keywords
    label = subject.label
    if not label and subject.code and subject.scheme in {None, DISCIPLINE_CATALOGUE}:
        label = catalogue_labels(subject.code)
    term: JSON = {"@type": "DefinedTerm", "name": language_value(label)}
    if subject.code:
        term["termCode"] = subject.code
    if subject.scheme:
        term["inDefinedTermSet"] = _term_set({"und": subject.scheme})
    return {key: value for key, value in term.items() if value is not None}


def _vocabulary_term(
    vocabulary: dict[str, tuple[str, str]], code: str | None, term_set: LangMap
) -> JSON | None:
    labels = labels_of(vocabulary, code)
    if not labels:
        return None
    return {
        "@type": "DefinedTerm",
        "termCode": code,
        "name": language_value(labels),
        "inDefinedTermSet": _term_set(term_set),
    }


def _organization(name: str | None) -> JSON | None:
    return {"@type": "Organization", "name": name} if name else None


def _person(contributor: Contributor) -> JSON:
    person: JSON = {"@type": "Person", "name": contributor.name}
    if contributor.email:
        person["email"] = contributor.email
    if contributor.organization:
        person["affiliation"] = _organization(contributor.organization)
    return person


def _people(contributors: list[Contributor], roles: set[str] | None) -> list[JSON]:
    """People with one of ``roles``; ``None``: everyone but authors and publishers."""
    if roles is None:
        return [_person(c) for c in contributors if c.role not in {"author", "publisher"}]
    return [_person(c) for c in contributors if c.role in roles]


def _license(record: CourseResource) -> str | JSON | None:
    licence = record.license
    if licence is None:
        return None
    if licence.url:
        return licence.url
    if licence.spdx:
        return SPDX_URL.format(licence.spdx)
    return {"@type": "CreativeWork", "name": licence.text}


def _media(item: DigitalObjectRef) -> JSON:
    major = (item.format or "").partition("/")[0]
    media: JSON = {
        "@type": _MEDIA_TYPES.get(major, "MediaObject"),
        "contentUrl": item.url,
        "encodingFormat": item.format,
        "contentSize": f"{item.size} bytes" if item.size is not None else None,
        "duration": item.duration,
        "name": item.name,
    }
    return {key: value for key, value in media.items() if value is not None}


def _identifiers(record: CourseResource, is_course: bool) -> list[Any]:
    identifiers: list[Any] = list(record.identifiers)
    if record.course_code and not is_course:
        identifiers.append(
            {"@type": "PropertyValue", "propertyID": "courseCode", "value": record.course_code}
        )
    return identifiers


def _work(target: str) -> str | JSON:
    if (link := http_url(target)) is not None:
        return link
    return {"@type": "CreativeWork", "identifier": target}

"""Write a profile record as simple Dublin Core (``oai_dc:dc``), as our OAI-PMH provider serves it.

The output validates against ``oai_dc.xsd`` and reads back with ``metadata.readers.oai_dc``;
what simple DC cannot say is dropped or flattened.  Element by element: docs/mapping-dc.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from metadata.languages import normalise_language
from metadata.profile import CourseResource
from metadata.readers.oai_dc import (
    DC_NS,
    OAI_DC_NS,
    XSI_TYPE,
    catalogue_of,
    discipline_code,
    level_of,
    type_of,
)
from metadata.vocabularies import EDUCATION_LEVELS, RESOURCE_TYPES, Labels
from metadata.xmlutil import XML_LANG

XSI_NS = XSI_TYPE[1:].partition("}")[0]
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
SCHEMA_LOCATION = f"{{{XSI_NS}}}schemaLocation"
NSMAP = {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}

_DC_ROLES = {"author": "creator", "publisher": "publisher"}
# Characters XML 1.0 cannot carry at all (lxml refuses them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


class _Builder:
    def __init__(self) -> None:
        self.root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap=NSMAP)
        self.root.set(SCHEMA_LOCATION, f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
        self._written: set[tuple[str, str, str | None]] = set()

    def add(self, name: str, text: str | None, language: str | None = None) -> None:
        """One ``dc:<name>`` element, unless empty or already written."""
        text = _NOT_XML.sub("", text or "").strip()
        if language is not None:  # a BCP 47 tag or nothing: "zh_CN" would be invalid
            language = language if _TAG.fullmatch(language) else normalise_language(language)
        key = (name, text.casefold(), language)
        if not text or key in self._written:
            return
        self._written.add(key)
        element = etree.SubElement(self.root, f"{{{DC_NS}}}{name}")
        element.text = text
        if language:
            element.set(XML_LANG, language)

    def add_all(self, name: str, texts: Iterable[str]) -> None:
        for text in texts:
            self.add(name, text)


def write_oai_dc(record: CourseResource) -> etree._Element:
    """The record as an ``oai_dc:dc`` element (see docs/mapping-dc.md)."""
    out = _Builder()
    languages = _text_languages(record)

    for language, text in record.title.items():
        out.add("title", text, language)
    out.add_all("creator", (c.name for c in record.contributors if c.role == "author"))
    _subjects(out, record)
    for language, text in record.description.items():
        for paragraph in text.split("\n\n"):  # readers join descriptions with a blank line
            out.add("description", paragraph, language)
    publishers = [c.name for c in record.contributors if c.role == "publisher"]
    out.add_all("publisher", [record.institution or "", *publishers])
    out.add_all("contributor", (c.name for c in record.contributors if c.role not in _DC_ROLES))
    out.add_all("date", [record.created or "", record.modified or "", *record.dates])
    _types(out, record, languages)
    _formats(out, record)
    _identifiers(out, record)
    out.add_all("source", record.sources)
    out.add_all("language", record.languages)
    out.add_all("relation", (relation.target for relation in record.relations))
    out.add_all("coverage", record.coverage)
    _level(out, record, languages)
    if record.license is not None:
        out.add("rights", record.license.text)
        out.add("rights", record.license.url)
    return out.root


def _text_languages(record: CourseResource) -> list[str]:
    """zh and/or en: the languages a vocabulary label is written in for this record."""
    present = {*record.title, *record.description, *record.languages}
    chosen: list[str] = [language for language in ("zh", "en") if language in present]
    return chosen or ["en"]


def _labels(labels: Labels, languages: list[str]) -> list[tuple[str, str]]:
    zh, en = labels
    return [(language, zh if language == "zh" else en) for language in languages]


def _subjects(out: _Builder, record: CourseResource) -> None:
    said: set[str] = set()
    for subject in record.subjects:
        code = subject.code
        if code is not None and _national(code, subject.scheme):
            # "0812 计算机科学与技术" when it reads back as that code and label, else the
            # bare code and the label apart.
            if not subject.label or any(
                discipline_code(f"{code} {label}") != (code, label)
                for label in subject.label.values()
            ):
                out.add("subject", code)
                for language, label in subject.label.items():
                    out.add("subject", label, language)
            else:
                for language, label in subject.label.items():
                    out.add("subject", f"{code} {label}", language)
        elif subject.label:
            for language, label in subject.label.items():
                out.add("subject", label, language)
        elif code:
            out.add("subject", code)
        said.update(label.casefold() for label in subject.label.values())
    out.add_all("subject", (k for k in record.keywords if k.casefold() not in said))


def _national(code: str, scheme: str | None) -> bool:
    """Is ``code`` a code of the national catalogues that simple DC can carry?"""
    return discipline_code(code) == (code, "") and scheme in {None, catalogue_of(code)}


def _types(out: _Builder, record: CourseResource, languages: list[str]) -> None:
    code = record.resource_type
    received = record.resource_types
    if code in RESOURCE_TYPES and not (received and type_of(received[0]) == code):
        for language, label in _labels(RESOURCE_TYPES[code], languages):
            out.add("type", label, language)
    out.add_all("type", received)


def _formats(out: _Builder, record: CourseResource) -> None:
    out.add_all("format", record.formats)
    out.add_all("format", (o.format for o in record.objects if o.format))
    out.add("format", record.learning_time)
    if record.class_hours is not None:
        hours = record.class_hours
        out.add("format", f"{int(hours) if hours.is_integer() else hours}学时")


def _identifiers(out: _Builder, record: CourseResource) -> None:
    # The landing page first: readers take the first web page among identifiers.
    out.add("identifier", record.url)
    out.add_all("identifier", record.identifiers)
    out.add_all("identifier", (o.url for o in record.objects))
    if record.course_code:
        out.add("identifier", f"course code: {record.course_code}")


def _level(out: _Builder, record: CourseResource, languages: list[str]) -> None:
    levels = [a for a in record.audiences if level_of(a) is not None]
    code = record.education_level
    if code in EDUCATION_LEVELS and not (levels and level_of(levels[0]) == code):
        for language, label in _labels(EDUCATION_LEVELS[code], languages):
            out.add("coverage", label, language)
    out.add_all("coverage", levels)

"""Render a demo record as ``oai_dc`` or as IEEE LOM (the IEEE 1484.12.3 XML binding).

Elements are built with lxml, never by pasting strings, so any text is escaped.  The
output imitates what real college repositories send, including their small habits:
the language of an ``oai_dc`` record is written ``zh``, ``chi``, ``zh-CN`` or ``中文``
(``en``, ``eng``, ``English``), chosen from the identifier so it is stable per record.
A LOM record's publisher card names the school in both languages (so the institution
authority pairs 东湖财经大学 with Donghu University of Finance and Economics); an
``oai_dc`` record names it in its own language only.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from lxml import etree

from app.demo.corpus import (
    DISCIPLINE_CATEGORIES,
    DISCIPLINES,
    LEVELS,
    RESOURCE_TYPES,
    DemoRecord,
    institution_by_slug,
)

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
LOM_SCHEMA = "http://ltsc.ieee.org/xsd/lomv1.0/lomLoose.xsd"

DISCIPLINE_SOURCE = {"zh": "学科专业目录", "en": "Catalogue of Disciplines and Majors"}
LEVEL_SOURCE = {"zh": "教育层次", "en": "Education levels"}
CELTS_SOURCE = "CELTS-41"

_DC_LANGUAGE = {
    "zh": ("zh", "zh", "zh", "zh", "chi", "chi", "zh-CN", "中文"),
    "en": ("en", "en", "en", "en", "eng", "eng", "English", "en"),
}
_DCMI_TYPE = {"web course": "InteractiveResource", "video material": "MovingImage"}
_CONTEXT = {
    "secondary_vocational": "school",
    "higher_vocational": "higher education",
    "undergraduate": "higher education",
    "postgraduate": "higher education",
    "continuing_education": "training",
    "vocational_training": "training",
    "community": "other",
    "senior": "other",
    "literacy": "other",
}
_ACTIVE_TYPES = frozenset({"exercise", "exam", "problem statement"})
_HOURS_ONLY = re.compile(r"^PT(\d+)H$")
_ENGLISH_TYPES = {t.zh: t.en for t in RESOURCE_TYPES}


@dataclass(frozen=True)
class MetadataFormat:
    """A format the demo repository disseminates (one ListMetadataFormats entry)."""

    prefix: str
    schema: str
    namespace: str
    render: Callable[[DemoRecord], etree._Element]


def _variant(record: DemoRecord, choices: tuple[str, ...]) -> str:
    # crc32, not hash(): Python salts str hashes per process.
    return choices[zlib.crc32(record.identifier.encode()) % len(choices)]


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


# ---------------------------------------------------------------- oai_dc


def render_oai_dc(record: DemoRecord) -> etree._Element:
    """The record as simple Dublin Core (``oai_dc:dc``)."""
    root = etree.Element(
        f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}
    )
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    lang = record.language
    zh = lang == "zh"

    def dc(name: str, text: str, language: str | None = None) -> None:
        element = _sub(root, f"{{{DC_NS}}}{name}", text)
        if language:
            element.set(XML_LANG, language)

    dc("title", record.title, lang)
    for creator in record.creators:
        dc("creator", creator)
    label = DISCIPLINES[record.subject_code][0 if zh else 1]
    dc("subject", f"{record.subject_code} {label}", lang)
    for keyword in record.keywords:
        dc("subject", keyword, lang)
    dc("description", record.description, lang)
    dc("publisher", record.institution)
    for contributor in record.contributors:
        dc("contributor", contributor)
    dc("date", record.datestamp.date().isoformat())
    dc("type", record.resource_type, lang)
    dc(
        "type",
        _DCMI_TYPE.get(_ENGLISH_TYPES.get(record.resource_type, record.resource_type), "Text"),
    )
    dc("format", record.object_format)
    hours = _HOURS_ONLY.match(record.learning_time)
    if hours:
        dc("format", f"{hours[1]}学时" if zh else f"{hours[1]} hours")
    dc("identifier", record.url)
    dc("identifier", record.object_url)
    dc("identifier", record.course_code)
    dc(
        "source",
        f"{record.institution}在线课程平台" if zh else f"{record.institution} online courses",
    )
    dc("language", _variant(record, _DC_LANGUAGE[lang]))
    dc("relation", f"{record.url}/syllabus")
    # oai_dc has no element for the education level; coverage is where it does least harm.
    dc("coverage", "中国" if zh else "China", lang)
    dc("coverage", LEVELS[record.level][0 if zh else 1], lang)
    dc("rights", record.license)
    return root


# ---------------------------------------------------------------- IEEE LOM


def _lom(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    return _sub(parent, f"{{{LOM_NS}}}{name}", text)


def _lang_string(parent: etree._Element, name: str, texts: dict[str, str]) -> None:
    container = _lom(parent, name)
    for language, text in texts.items():
        _lom(container, "string", text).set("language", language)


def _vocabulary(parent: etree._Element, name: str, value: str, source: str = "LOMv1.0") -> None:
    container = _lom(parent, name)
    _lom(container, "source", source)
    _lom(container, "value", value)


def _vcard_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _person_vcard(name: str, language: str, organisation: str) -> str:
    if language == "zh":
        family, given = name[:1], name[1:]
    else:
        given, _, family = name.rpartition(" ")
    return (
        "BEGIN:VCARD\nVERSION:3.0\n"
        f"N:{_vcard_escape(family)};{_vcard_escape(given)};;;\n"
        f"FN:{_vcard_escape(name)}\n"
        f"ORG:{_vcard_escape(organisation)}\n"
        "END:VCARD"
    )


def _organisation_vcard(record: DemoRecord) -> str:
    """The publishing school's card: its name in the record's language first, then in the
    other, as vCard 4.0 writes one property in several languages (``ALTID``)."""
    institution = institution_by_slug(record.institution_slug)
    names = {"zh": institution.name_zh, "en": institution.name_en}
    order = [record.language, *(lang for lang in names if lang != record.language)]
    lines = ["BEGIN:VCARD", "VERSION:4.0", f"FN:{_vcard_escape(record.institution)}"]
    lines += [f"ORG;ALTID=1;LANGUAGE={lang}:{_vcard_escape(names[lang])}" for lang in order]
    return "\n".join([*lines, "END:VCARD"])


def _contribute(
    parent: etree._Element, role: str, entities: list[str], date: str
) -> etree._Element:
    contribute = _lom(parent, "contribute")
    _vocabulary(contribute, "role", role)
    for entity in entities:
        _lom(contribute, "entity", entity)
    _lom(_lom(contribute, "date"), "dateTime", date)
    return contribute


def _taxon(parent: etree._Element, taxon_id: str, labels: tuple[str, str]) -> None:
    taxon = _lom(parent, "taxon")
    _lom(taxon, "id", taxon_id)
    _lang_string(taxon, "entry", {"zh": labels[0], "en": labels[1]})


def _general(root: etree._Element, record: DemoRecord) -> None:
    lang = record.language
    general = _lom(root, "general")
    for catalog, entry in (
        ("URI", record.url),
        ("oai", record.identifier),
        (f"{record.institution_slug} course code", record.course_code),
    ):
        identifier = _lom(general, "identifier")
        _lom(identifier, "catalog", catalog)
        _lom(identifier, "entry", entry)
    _lang_string(general, "title", {lang: record.title})
    _lom(general, "language", lang)
    _lang_string(general, "description", {lang: record.description})
    for keyword in record.keywords:
        _lang_string(general, "keyword", {lang: keyword})
    _vocabulary(general, "structure", "hierarchical")
    _vocabulary(general, "aggregationLevel", "3")  # 3 = a course


def _life_cycle(root: etree._Element, record: DemoRecord) -> None:
    lang = record.language
    date = record.datestamp.date().isoformat()
    life_cycle = _lom(root, "lifeCycle")
    _vocabulary(life_cycle, "status", "final")
    authors = [_person_vcard(name, lang, record.institution) for name in record.creators]
    _contribute(life_cycle, "author", authors, date)
    if record.contributors:
        helpers = [_person_vcard(name, lang, record.institution) for name in record.contributors]
        _contribute(life_cycle, "instructional designer", helpers, date)
    _contribute(life_cycle, "publisher", [_organisation_vcard(record)], date)

    meta = _lom(root, "metaMetadata")
    identifier = _lom(meta, "identifier")
    _lom(identifier, "catalog", "oai")
    _lom(identifier, "entry", record.identifier)
    _lom(meta, "metadataSchema", "LOMv1.0")
    _lom(meta, "language", lang)


def _technical_and_educational(root: etree._Element, record: DemoRecord) -> None:
    technical = _lom(root, "technical")
    _lom(technical, "format", record.object_format)
    _lom(technical, "size", str(record.object_size))
    _lom(technical, "location", record.object_url)

    educational = _lom(root, "educational")
    lom_type = record.learning_resource_type
    interactivity = "active" if lom_type in _ACTIVE_TYPES else "expositive"
    _vocabulary(educational, "interactivityType", interactivity)
    _vocabulary(educational, "learningResourceType", lom_type)
    # The national resource type travels as a second value under its own source.
    _vocabulary(educational, "learningResourceType", record.resource_type, CELTS_SOURCE)
    _vocabulary(educational, "intendedEndUserRole", "learner")
    _vocabulary(educational, "context", _CONTEXT[record.level])
    _lom(_lom(educational, "typicalLearningTime"), "duration", record.learning_time)
    _lom(educational, "language", record.language)


def _rights(root: etree._Element, record: DemoRecord) -> None:
    rights = _lom(root, "rights")
    _vocabulary(rights, "cost", "no")
    _vocabulary(rights, "copyrightAndOtherRestrictions", "yes")
    _lang_string(rights, "description", {record.language: record.license})


def _classifications(root: etree._Element, record: DemoRecord) -> None:
    # GB/T 13745 is a different code system (e.g. 520 for computer science); the codes
    # here come from the catalogue of disciplines, so that is the source we name.
    discipline = _lom(root, "classification")
    _vocabulary(discipline, "purpose", "discipline")
    path = _lom(discipline, "taxonPath")
    _lang_string(path, "source", DISCIPLINE_SOURCE)
    category = record.subject_code[:2]
    _taxon(path, category, DISCIPLINE_CATEGORIES[category])
    _taxon(path, record.subject_code, DISCIPLINES[record.subject_code])

    level = _lom(root, "classification")
    _vocabulary(level, "purpose", "educational level")
    path = _lom(level, "taxonPath")
    _lang_string(path, "source", LEVEL_SOURCE)
    _taxon(path, record.level, LEVELS[record.level])


def render_lom(record: DemoRecord) -> etree._Element:
    """The record as an IEEE LOM ``lom`` element that lomLoose.xsd accepts."""
    # lxml-stubs types nsmap keys as str, but None (the default namespace) is valid.
    nsmap = cast("dict[str, str]", {None: LOM_NS, "xsi": XSI_NS})
    root = etree.Element(f"{{{LOM_NS}}}lom", nsmap=nsmap)
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{LOM_NS} {LOM_SCHEMA}")
    _general(root, record)
    _life_cycle(root, record)
    _technical_and_educational(root, record)
    _rights(root, record)
    _classifications(root, record)
    return root


METADATA_FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS, render_oai_dc),
    "lom": MetadataFormat("lom", LOM_SCHEMA, LOM_NS, render_lom),
}


def to_bytes(element: etree._Element) -> bytes:
    """A standalone UTF-8 XML document of ``element``."""
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")

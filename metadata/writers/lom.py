"""Write a profile record as IEEE LOM (1484.12.3 XML binding) that lomLoose.xsd accepts.

Made with ``metadata.readers.lom`` so that ``read_lom(write_lom(r)) == r`` for every record in
the profile's normal form; what LOM has no element for goes into our ``cf:`` extension
(``CF_NS``).  Where each field goes: docs/mapping-lom.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import cast

from lxml import etree

from metadata.languages import guess_text_language
from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    LangMap,
    License,
    ResourceRecord,
    Subject,
)
from metadata.readers.lom import (
    AUTHOR_ROLES,
    CELTS_41,
    CF_NS,
    DISCIPLINE_CATALOGUE_EN,
    LEVEL_SCHEME,
    LOM_NS,
    LOM_VOCABULARY,
    institution_of,
    is_iso_duration,
    level_of,
    license_of,
    resource_type_of,
    subject_labels,
    technical_objects,
)
from metadata.readers.oai_dc import landing_page
from metadata.vcard import format_vcard
from metadata.vocabularies import DISCIPLINE_CATALOGUE, EDUCATION_LEVELS, RESOURCE_TYPES

XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
LOM_SCHEMA_LOCATION = "http://ltsc.ieee.org/xsd/lomv1.0/lomLoose.xsd"
COURSEFED_CATALOG = "coursefed"
COURSE_CODE_CATALOG = "course code"

# LOMv1.0 vocabularies (IEEE 1484.12.1) of the elements we write: their values get
# source LOMv1.0, others none (a local vocabulary whose name we were not told).
LOM_ROLES = frozenset({
    "author", "publisher", "unknown", "initiator", "terminator", "validator", "editor",
    "graphical designer", "technical implementer", "content provider",
    "technical validator", "educational validator", "script writer",
    "instructional designer", "subject matter expert",
})  # fmt: skip
LOM_LEARNING_RESOURCE_TYPES = frozenset({
    "exercise", "simulation", "questionnaire", "diagram", "figure", "graph", "index",
    "slide", "table", "narrative text", "exam", "experiment", "problem statement",
    "self assessment", "lecture",
})  # fmt: skip
LOM_CONTEXTS = frozenset({"school", "higher education", "training", "other"})
LOM_END_USER_ROLES = frozenset({"teacher", "author", "learner", "manager"})
LOM_RELATION_KINDS = frozenset({
    "ispartof", "haspart", "isversionof", "hasversion", "isformatof", "hasformat",
    "references", "isreferencedby", "isbasedon", "isbasisfor", "requires", "isrequiredby",
})  # fmt: skip
_CELTS_VALUES = frozenset(
    value.casefold() for code, labels in RESOURCE_TYPES.items() for value in (code, *labels)
)

# The patterns of the binding (common/dataTypes.xsd): a value they refuse would make
# the document invalid, so it is written another way.
_LOM_DATETIME = re.compile(
    r"([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
    r"(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([0-1][0-9]|2[0-3])(:[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]+(Z|((\+|-)([0-1][0-9]|2[0-3]):[0-5][0-9]))?)?)?)?)?)?)?"
)
_LOM_DURATION = re.compile(
    r"P([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?"
)
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_AGE_RANGE = re.compile(r"^\d{1,3}(?:\s*[-–~]\s*\d{1,3})?\+?$")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def write_lom(record: CourseResource | ResourceRecord) -> etree._Element:
    """The record as a ``<lom>`` element in the IEEE namespace (lomLoose.xsd-valid)."""
    # lxml-stubs types nsmap keys as str, but None (the default namespace) is valid.
    nsmap = cast("dict[str, str]", {None: LOM_NS, "cf": CF_NS, "xsi": XSI_NS})
    root = etree.Element(_lom("lom"), nsmap=nsmap)
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{LOM_NS} {LOM_SCHEMA_LOCATION}")
    _general(root, record)
    _life_cycle(root, record)
    _meta_metadata(root, record)
    _technical(root, record)
    _educational(root, record)
    _rights(root, record)
    _relations(root, record)
    _classifications(root, record)
    return root


def lom_bytes(record: CourseResource | ResourceRecord) -> bytes:
    """``write_lom`` as a standalone UTF-8 XML document."""
    return etree.tostring(
        write_lom(record), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


# --- building blocks -------------------------------------------------------------------


def _lom(name: str) -> str:
    return f"{{{LOM_NS}}}{name}"


def _cf(name: str) -> str:
    return f"{{{CF_NS}}}{name}"


def _xml(text: str) -> str:
    """Text with the characters XML 1.0 cannot carry removed (a control code, a lone surrogate)."""
    return _NOT_XML.sub("", text)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = _xml(text)
    return element


def _strings(parent: etree._Element, tag: str, texts: LangMap) -> etree._Element:
    """A LangString: one ``<string language>`` per language of the map."""
    container = _sub(parent, tag)
    for language, text in texts.items():
        string = _sub(container, _lom("string"), text)
        if _LANGUAGE_TAG.fullmatch(language):
            string.set("language", language)
    return container


def _string(parent: etree._Element, tag: str, text: str, *, guess: bool = True) -> None:
    """A LangString of one string, its language guessed from the script when ``guess``."""
    language = guess_text_language(text) if guess else "und"
    _strings(parent, tag, {language if language != "und" else "": text})


def _vocabulary(parent: etree._Element, tag: str, value: str, source: str | None) -> None:
    container = _sub(parent, tag)
    if source:
        _sub(container, _lom("source"), source)
    _sub(container, _lom("value"), value)


def _identifier(parent: etree._Element, tag: str, entry: str, catalog: str | None) -> None:
    identifier = _sub(parent, tag)
    if catalog:
        _sub(identifier, _lom("catalog"), catalog)
    _sub(identifier, _lom("entry"), entry)


def _uri_catalog(entry: str) -> str | None:
    return "URI" if _URI.match(entry) else None


def _date(parent: etree._Element, date: str) -> None:
    element = _sub(parent, _lom("date"))
    if _LOM_DATETIME.fullmatch(date):
        _sub(element, _lom("dateTime"), date)
    else:  # "Spring 2019", "2024-01-01T12:00:00Z": the binding's pattern refuses them
        _string(element, _lom("description"), date, guess=False)


def _native_duration(value: str | None) -> bool:
    return value is not None and bool(_LOM_DURATION.fullmatch(value)) and is_iso_duration(value)


def _number(value: float) -> str:
    """``64``, ``2.5``, ``0.00001``: plain decimal notation that reads back exactly."""
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _override(parent: etree._Element, name: str, value: str | None) -> None:
    """``cf:<name>``: an explicit value; empty means "none"."""
    _sub(parent, _cf(name), value or None)


# --- 1 general ---------------------------------------------------------------------------


def _general(root: etree._Element, record: CourseResource) -> None:
    general = _sub(root, _lom("general"))
    for identifier in record.identifiers:
        _identifier(general, _lom("identifier"), identifier, _uri_catalog(identifier))
    if record.course_code:
        _identifier(general, _lom("identifier"), record.course_code, COURSE_CODE_CATALOG)
    if record.title:
        _strings(general, _lom("title"), record.title)
    for language in record.languages:
        # A value that is no language tag (kept as received) would make 1.3 invalid.
        tag = _lom("language") if _LANGUAGE_TAG.fullmatch(language) else _cf("language")
        _sub(general, tag, language)
    if record.description:
        _strings(general, _lom("description"), record.description)
    for keyword in record.keywords:
        _string(general, _lom("keyword"), keyword)
    for coverage in record.coverage:
        _string(general, _lom("coverage"), coverage)
    for source in record.sources:
        _sub(general, _cf("source"), source)
    if not len(general):
        root.remove(general)


# --- 2 lifeCycle, 3 metaMetadata ---------------------------------------------------------


def _life_cycle(root: etree._Element, record: CourseResource) -> None:
    life_cycle = _sub(root, _lom("lifeCycle"))
    created = record.created
    names = record.institution_names  # go with the first publisher, where they were read
    for contributor in record.contributors:
        contribute = _contribute(life_cycle, contributor.role)
        translations = names if contributor.role == "publisher" else {}
        names = {} if contributor.role == "publisher" else names
        _sub(contribute, _lom("entity"), _vcard(contributor, translations))
        if created and contributor.role in AUTHOR_ROLES:
            _date(contribute, created)
            created = None
    if created:  # no author or publisher to date: the creation alone
        _date(_contribute(life_cycle, "author"), created)
    for date in record.dates:
        _date(_contribute(life_cycle, "unknown"), date)
    if institution_of(record.contributors) != record.institution:
        _override(life_cycle, "institution", record.institution)
    if record.modified:
        _override(life_cycle, "modified", record.modified)
    if not len(life_cycle):
        root.remove(life_cycle)


def _contribute(life_cycle: etree._Element, role: str) -> etree._Element:
    contribute = _sub(life_cycle, _lom("contribute"))
    _vocabulary(contribute, _lom("role"), role, LOM_VOCABULARY if role in LOM_ROLES else None)
    return contribute


def _vcard(contributor: Contributor, organization_names: dict[str, str]) -> str:
    return format_vcard(
        contributor.name, contributor.organization, contributor.email, organization_names
    )


def _meta_metadata(root: etree._Element, record: CourseResource) -> None:
    meta = _sub(root, _lom("metaMetadata"))
    if isinstance(record, ResourceRecord):
        # 3.1 identifies the metadata record itself: our catalogue id, not the resource's.
        _identifier(meta, _lom("identifier"), record.id, COURSEFED_CATALOG)
    _sub(meta, _lom("metadataSchema"), LOM_VOCABULARY)


# --- 4 technical -------------------------------------------------------------------------


def _technical(root: etree._Element, record: CourseResource) -> None:
    technical = _sub(root, _lom("technical"))
    for mime in record.formats:
        _sub(technical, _lom("format"), mime)
    locations: list[str] = []
    for url in (record.url, *(o.url for o in record.objects)):
        if url and url not in locations:
            locations.append(url)
            _sub(technical, _lom("location"), url)
    size = duration = None
    if len(record.objects) == 1:
        single = record.objects[0]
        if single.size is not None and single.size >= 0:
            size = single.size
            _sub(technical, _lom("size"), str(size))
        if _native_duration(single.duration):
            duration = single.duration
            _sub(_sub(technical, _lom("duration")), _lom("duration"), duration)
    url, objects = technical_objects(list(record.formats), locations, size, duration)
    if (url or landing_page(record.identifiers)) != record.url:
        _override(technical, "landingPage", record.url)
    if objects != record.objects:
        listed = _sub(technical, _cf("objects"))
        for item in record.objects:
            _cf_object(listed, item)
    if not len(technical):
        root.remove(technical)


def _cf_object(parent: etree._Element, item: DigitalObjectRef) -> None:
    element = _sub(parent, _cf("object"))
    _sub(element, _cf("url"), item.url)
    fields = {"format": item.format, "size": item.size, "duration": item.duration}
    for name, value in {**fields, "name": item.name}.items():
        if value is not None:
            _sub(element, _cf(name), str(value))


# --- 5 educational -----------------------------------------------------------------------


def _educational(root: etree._Element, record: CourseResource) -> None:
    educational = _sub(root, _lom("educational"))
    types: list[tuple[str | None, str]] = []
    for value in record.resource_types:
        source = _type_source(value)
        types.append((source, value))
        _vocabulary(educational, _lom("learningResourceType"), value, source)
    for audience in record.audiences:
        if _AGE_RANGE.match(audience):
            _string(educational, _lom("typicalAgeRange"), audience, guess=False)
        elif audience in LOM_END_USER_ROLES:
            _vocabulary(educational, _lom("intendedEndUserRole"), audience, LOM_VOCABULARY)
        else:
            source = LOM_VOCABULARY if audience in LOM_CONTEXTS else None
            _vocabulary(educational, _lom("context"), audience, source)
    if _native_duration(record.learning_time):
        learning_time = _sub(educational, _lom("typicalLearningTime"))
        _sub(learning_time, _lom("duration"), record.learning_time)
    elif record.learning_time:
        _override(educational, "learningTime", record.learning_time)
    if record.resource_type or resource_type_of(types):
        _override(educational, "resourceType", record.resource_type)
    if record.education_level or level_of(record.audiences):
        _override(educational, "educationLevel", record.education_level)
    if record.class_hours is not None:
        _sub(educational, _cf("classHours"), _number(record.class_hours))
    if record.credits is not None:
        _sub(educational, _cf("credits"), _number(record.credits))
    if not len(educational):
        root.remove(educational)


def _type_source(value: str) -> str | None:
    if value in LOM_LEARNING_RESOURCE_TYPES:
        return LOM_VOCABULARY
    if value.casefold() in _CELTS_VALUES:
        return CELTS_41
    return None  # a local vocabulary we were not told the name of


# --- 6 rights, 7 relation ----------------------------------------------------------------


def _rights(root: etree._Element, record: CourseResource) -> None:
    if record.cost is None and record.license is None:
        return
    rights = _sub(root, _lom("rights"))
    if record.cost is not None:
        _vocabulary(rights, _lom("cost"), "yes" if record.cost else "no", LOM_VOCABULARY)
    if record.license is not None:
        _license(rights, record.license)


def _license(rights: etree._Element, license_: License) -> None:
    restricted = "no" if license_.spdx == "CC0-1.0" else "yes"
    _vocabulary(rights, _lom("copyrightAndOtherRestrictions"), restricted, LOM_VOCABULARY)
    _string(rights, _lom("description"), license_.text)
    derived = license_of(license_.text)
    if derived.url != license_.url:
        _override(rights, "licenseUrl", license_.url)
    if derived.spdx != license_.spdx:
        _override(rights, "spdx", license_.spdx)


def _relations(root: etree._Element, record: CourseResource) -> None:
    for relation in record.relations:
        element = _sub(root, _lom("relation"))
        if relation.kind:
            source = LOM_VOCABULARY if relation.kind in LOM_RELATION_KINDS else None
            _vocabulary(element, _lom("kind"), relation.kind, source)
        resource = _sub(element, _lom("resource"))
        _identifier(resource, _lom("identifier"), relation.target, _uri_catalog(relation.target))


# --- 9 classification --------------------------------------------------------------------


def _classifications(root: etree._Element, record: CourseResource) -> None:
    if record.education_level:
        classification = _purpose(root, "educational level")
        path = _sub(classification, _lom("taxonPath"))
        _strings(path, _lom("source"), LEVEL_SCHEME)
        taxon = _sub(path, _lom("taxon"))
        _sub(taxon, _lom("id"), record.education_level)
        labels = EDUCATION_LEVELS.get(record.education_level)
        if labels:
            _strings(taxon, _lom("entry"), {"zh": labels[0], "en": labels[1]})
    # Consecutive subjects of one kind share a classification, so their order survives.
    for purpose, subjects in _runs(record.subjects):
        classification = _purpose(root, purpose)
        for subject in subjects:
            _taxon_path(classification, subject)


def _purpose(root: etree._Element, purpose: str) -> etree._Element:
    classification = _sub(root, _lom("classification"))
    _vocabulary(classification, _lom("purpose"), purpose, LOM_VOCABULARY)
    return classification


def _runs(subjects: Iterable[Subject]) -> list[tuple[str, list[Subject]]]:
    """(purpose, subjects): "discipline" for catalogue codes, "idea" for free subjects."""
    runs: list[tuple[str, list[Subject]]] = []
    for subject in subjects:
        purpose = "discipline" if subject.code or subject.scheme else "idea"
        if runs and runs[-1][0] == purpose:
            runs[-1][1].append(subject)
        else:
            runs.append((purpose, [subject]))
    return runs


def _taxon_path(classification: etree._Element, subject: Subject) -> None:
    path = _sub(classification, _lom("taxonPath"))
    if subject.scheme == DISCIPLINE_CATALOGUE:
        _strings(path, _lom("source"), {"zh": DISCIPLINE_CATALOGUE, "en": DISCIPLINE_CATALOGUE_EN})
    elif subject.scheme:
        _strings(path, _lom("source"), {"": subject.scheme})
    taxon = _sub(path, _lom("taxon"))
    if subject.code:
        _sub(taxon, _lom("id"), subject.code)
    if subject.label:
        _strings(taxon, _lom("entry"), subject.label)
    if subject_labels(subject.code, subject.scheme, subject.label) != subject.label:
        _sub(taxon, _cf("exactLabels"))

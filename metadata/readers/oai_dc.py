"""Read simple Dublin Core (``oai_dc``) into the course profile.

Maps the 15 DC elements, tolerating what repositories really send (no namespaces, escaped
HTML, a MIME type and a URL in one ``dc:format`` ...).  Also the machinery qualified DC
reuses: a collector driven by a table of ``Term``s and one builder of the profile.  The
mapping is docs/mapping-dc.md.  Issues carry ``path`` such as ``dc:language[2]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote

from lxml import etree

from metadata.languages import normalise_language
from metadata.licences import ALL_RIGHTS_RESERVED
from metadata.mappings import education_level, resource_type
from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    Issue,
    LangMap,
    License,
    Relation,
    Subject,
)
from metadata.readers import choose_language, date_key, normalise_date, recognise_license
from metadata.urls import STATEMENT_SEPARATOR, http_url, screen_urls
from metadata.vocabularies import DISCIPLINE_CATALOGUE, DISCIPLINE_CATEGORIES, DISCIPLINES
from metadata.xmlutil import (
    XML_LANG,
    clean_html_text,
    clean_text,
    local_name,
    text_of,
    xml_lang,
)

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
DC_ELEMENTS = (
    "title", "creator", "subject", "description", "publisher", "contributor", "date",
    "type", "format", "identifier", "source", "language", "relation", "coverage", "rights",
)  # fmt: skip

VOCATIONAL_CATALOGUE = "职业教育专业目录"
"""Scheme of the six-digit vocational major codes (41xxxx-79xxxx)."""


# --- terms: which element lands where ------------------------------------------------------


class Term(NamedTuple):
    """Where one XML element lands: a profile ``slot`` and an optional ``qualifier``.

    Slots: the 15 DC names, plus ``level`` and ``audience``.  Qualifiers refine a slot:
    a relation kind (``ispartof``), a date role (``created``, ``modified``, ``issued``),
    ``license``/``accessRights`` for rights, ``extent`` for format, ``abstract`` ...
    ``prefix`` and ``name`` spell the element in issue paths (``dcterms:extent[1]``).
    """

    slot: str
    qualifier: str | None
    prefix: str
    name: str


def _dc_terms() -> dict[str, Term]:
    terms: dict[str, Term] = {}
    for name in DC_ELEMENTS:
        # DC's 15 names in the DC namespace, in DCMI Terms, or in no namespace at all.
        terms[f"{{{DC_NS}}}{name}"] = Term(name, None, "dc", name)
        terms[f"{{{DCTERMS_NS}}}{name}"] = Term(name, None, "dcterms", name)
        terms[name] = Term(name, None, "dc", name)
    return terms


DC_TERMS: Mapping[str, Term] = _dc_terms()
"""Element tag (Clark notation) → ``Term`` for simple Dublin Core."""


# --- collecting ----------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: a frozen dataclass is much slower to create
class Value:
    """One element's value as written (not cleaned), with what qualifies it."""

    term: Term
    index: int  # 1-based position among elements of the same name
    text: str
    lang: str | None  # xml:lang in force
    scheme: str | None  # xsi:type without its prefix: URI, W3CDTF, DCMIType, IMT ...

    @property
    def path(self) -> str:
        return f"{self.term.prefix}:{self.term.name}[{self.index}]"

    @property
    def qualifier(self) -> str | None:
        return self.term.qualifier


Values = dict[str, list[Value]]

_SLOTS = (*DC_ELEMENTS, "level", "audience")


def collect(element: etree._Element, terms: Mapping[str, Term]) -> Values:
    """The values of every element ``terms`` knows, by slot, in document order.

    Accepts the record's root (``oai_dc:dc``, ``nsdl_dc:nsdl_dc`` ...) or the OAI
    ``<metadata>`` around it; elements nested deeper than usual are found too.
    Elements ``terms`` does not know (``lar:readiness``, a leftover ``doc:`` node)
    are ignored.
    """
    container = element
    if local_name(container) == "metadata":  # handed the OAI <metadata> wrapper
        inner = [c for c in container if isinstance(c.tag, str)]
        container = inner[0] if inner else container
    values: Values = {slot: [] for slot in _SLOTS}
    counts: dict[str, int] = {}
    inherited = xml_lang(container)
    # ``_add`` inlined: this loop runs for every element of every record.
    for child in container:
        tag = child.tag
        term = terms.get(tag)  # comments and unknown elements: None
        if term is None:
            continue
        index = counts[tag] = counts.get(tag, 0) + 1
        lang, scheme = inherited, None
        if child.attrib:  # most elements have none, or only xml:lang
            lang, scheme = _attributes(child, lang)
        text = (child.text or "") if not len(child) else text_of(child)
        values[term.slot].append(Value(term, index, text, lang, scheme))
    if not counts:  # DC nested deeper than usual
        for child in container.iterdescendants():
            if child.tag in terms:
                _add(values, counts, terms, child, xml_lang(child))
    return values


def _add(
    values: Values,
    counts: dict[str, int],
    terms: Mapping[str, Term],
    element: etree._Element,
    lang: str | None,
) -> None:
    """Collect ``element`` if ``terms`` knows it; ``lang``: the xml:lang in force around it."""
    tag = element.tag
    term = terms.get(tag)
    if term is None:
        return
    index = counts[tag] = counts.get(tag, 0) + 1
    scheme = None
    if element.attrib:
        lang, scheme = _attributes(element, lang)
    text = (element.text or "") if not len(element) else text_of(element)
    values[term.slot].append(Value(term, index, text, lang, scheme))


def _attributes(element: etree._Element, lang: str | None) -> tuple[str | None, str | None]:
    """(xml:lang in force, xsi:type scheme) of an element that has attributes."""
    scheme = None
    for key, attribute in element.items():
        if key == XML_LANG:  # an empty xml:lang cancels the inherited one
            lang = str(attribute).strip() or None
        elif key == XSI_TYPE:
            scheme = str(attribute).rpartition(":")[2].strip() or None
    return lang, scheme


# --- reading -------------------------------------------------------------------------------


def read_oai_dc(element: etree._Element) -> tuple[CourseResource, list[Issue]]:
    """Map one oai_dc record to a ``CourseResource`` and the issues found reading it."""
    return read_dublin_core(element, DC_TERMS)


def read_dublin_core(
    element: etree._Element, terms: Mapping[str, Term]
) -> tuple[CourseResource, list[Issue]]:
    """Map a simple or qualified DC record, reading the elements ``terms`` lists."""
    values = collect(element, terms)
    issues: list[Issue] = []
    if not any(values.values()):
        issues.append(
            Issue(
                severity="warning",
                code="no_dc_elements",
                message=f"no Dublin Core elements inside <{local_name(element)}>",
            )
        )
        return CourseResource(), issues
    resource, dropped = screen_urls(build(values, issues), _locator(values))
    return resource, [*issues, *dropped]


def _locator(values: Values) -> Callable[[str], str | None]:
    """The path of the element a value was read from: the first that says it, else holds it."""

    def locate(value: str) -> str | None:
        read = [(v.path, clean_text(_unwrapped(v.text))) for slot in values.values() for v in slot]
        exact = next((path for path, text in read if text == value), None)
        return exact or next((path for path, text in read if value in text), None)

    return locate


def build(values: Values, issues: list[Issue]) -> CourseResource:
    """The profile record of collected DC values; problems are appended to ``issues``."""
    languages = _languages(values["language"], issues)
    distinct = {
        lang
        for lang in languages
        if normalise_language(lang) == lang and lang not in {"zxx", "mul", "und"}
    }
    record_language = distinct.pop() if len(distinct) == 1 else None

    levels = _Levels()
    levels.add_declared(values["level"], issues, report=True)
    levels.add_declared(values["audience"], issues, report=False)
    resource_types, type_code = _types(values["type"], levels, issues)
    keywords, subjects = _subjects(values["subject"], record_language, levels)
    coverage = [v for v in _plain(values["coverage"]) if not levels.take(v)]
    contributors = _contributors(values)
    publishers = [c.name for c in contributors if c.role == "publisher"]
    created, modified, dates = _dates(values["date"])
    formats = _Formats.read(values["format"])
    identifiers, course_code = _identifiers(values["identifier"])
    rights = _Rights.read(values["rights"])
    objects = _objects(identifiers, formats)

    return CourseResource(
        title=_language_map(_primary_first(values["title"]), record_language, join=False),
        description=_language_map(values["description"], record_language, join=True, html=True),
        keywords=keywords,
        subjects=subjects,
        languages=[lang for lang in languages if lang != "und"],
        education_level=levels.code,
        audiences=levels.raw,
        resource_type=type_code,
        resource_types=resource_types,
        course_code=course_code,
        learning_time=formats.learning_time,
        class_hours=formats.class_hours,
        institution=publishers[0] if publishers else None,
        contributors=contributors,
        license=rights.license,
        cost=rights.cost,
        created=created,
        modified=modified,
        dates=dates,
        formats=formats.formats,
        objects=objects,
        identifiers=identifiers,
        url=landing_page(identifiers),
        relations=_relations(values["relation"]),
        sources=_plain(values["source"]),
        coverage=coverage,
    )


def _plain(values: Iterable[Value]) -> list[str]:
    """Cleaned, non-empty, distinct values in document order."""
    return _distinct(clean_text(v.text) for v in values)


_WRAP = re.compile(r"\s*\n\s*")


def _plain_urls(values: Iterable[Value]) -> list[str]:
    """Like ``_plain``, but web addresses wrapped over lines are joined up again."""
    return _distinct(clean_text(_unwrapped(v.text)) for v in values)


def _unwrapped(text: str) -> str:
    """A web address without the line breaks (and indentation) written into it.

    The OAI static repository example writes ``…/ptext?`` and ``doc=…`` on two lines;
    a plain space stays (EUR's file names have them).
    """
    return _WRAP.sub("", text) if "\n" in text and _is_web(text.lstrip()) else text


def _is_web(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _distinct(items: Iterable[str]) -> list[str]:
    """Non-empty items, the first of those equal but for case."""
    seen: dict[str, str] = {}
    for item in items:
        if item:
            seen.setdefault(item.casefold(), item)
    return list(seen.values())


def _primary_first(values: list[Value]) -> list[Value]:
    """Unqualified values before refinements (a title before ``dcterms:alternative``)."""
    return sorted(values, key=lambda v: v.qualifier is not None)


# --- text in languages ---------------------------------------------------------------------


def _language_map(
    values: list[Value], record_language: str | None, *, join: bool, html: bool = False
) -> LangMap:
    result: LangMap = {}
    for value in values:
        text = clean_html_text(value.text) if html else clean_text(value.text)
        if not text:
            continue
        key = choose_language(text, value.lang, record_language)
        if key not in result:
            result[key] = text
        elif text.casefold() in result[key].casefold():
            continue
        elif join:
            result[key] = f"{result[key]}\n\n{text}"
        else:
            # A second title in the same language (a subtitle, a translation missing
            # its xml:lang): kept only if the script says it is another language.
            guess = choose_language(text, None, None)
            result.setdefault(guess, text)
    return result


# --- controlled vocabularies ---------------------------------------------------------------

_VOCABULARY_PUNCTUATION = re.compile(r"[()（）/]+")


def _lookup(mapping: Callable[[str], str | None], value: str) -> str | None:
    """``mapping(value)``, retried without a ``prefix:`` or parentheses and slashes.

    ``doc-type:article`` and ``DLESE:Undergraduate upper division`` carry a
    vocabulary prefix; ``Undergraduate (Lower Division)`` and ``Graduate/Professional``
    (NSDL education levels) punctuation the crosswalk tables do not spell.
    """
    found = mapping(value)
    if found is not None or "://" in value:
        return found
    if ":" in value:
        found = mapping(value.rpartition(":")[2])
    if found is None:
        bare = _VOCABULARY_PUNCTUATION.sub(" ", value)
        if bare != value:
            found = mapping(bare)
    return found


@lru_cache(maxsize=4096)
def level_of(value: str) -> str | None:
    """The profile's education level of a DC value, or None."""
    return _lookup(education_level, value)


@lru_cache(maxsize=4096)
def type_of(value: str) -> str | None:
    """The CELTS-41 resource type of a DC type value, or None."""
    return _lookup(resource_type, value)


def _unmapped(value: Value, text: str, what: str) -> Issue:
    return Issue(
        severity="warning",
        code="unmapped_vocabulary",
        message=f"{what} {text!r} maps to no value of the profile's vocabulary",
        path=value.path,
    )


class _Levels:
    """Education level values met anywhere in the record: the first mapped one wins."""

    def __init__(self) -> None:
        self.code: str | None = None
        self.raw: list[str] = []
        self._seen: set[str] = set()

    def keep(self, text: str, code: str | None) -> None:
        """Keep ``text`` as received, and ``code`` if it is the first level found."""
        if text.casefold() not in self._seen:
            self._seen.add(text.casefold())
            self.raw.append(text)
        if self.code is None:
            self.code = code

    def add_declared(self, values: list[Value], issues: list[Issue], *, report: bool) -> None:
        """Values meant as levels or audiences: all kept, unmapped levels reported."""
        for value in values:
            text = clean_text(value.text)
            if not text:
                continue
            code = level_of(text)
            self.keep(text, code)
            if code is None and report:
                issues.append(_unmapped(value, text, "education level"))

    def take(self, text: str) -> bool:
        """Keep ``text`` if it is an education level (True), else leave it (False)."""
        code = level_of(text)
        if code is None:
            return False
        self.keep(text, code)
        return True


def _types(
    values: list[Value], levels: _Levels, issues: list[Issue]
) -> tuple[list[str], str | None]:
    """(type values as received, CELTS-41 type of the first value that maps)."""
    raw: list[str] = []
    code: str | None = None
    seen: set[str] = set()
    for value in values:
        text = clean_text(value.text)
        if not text or text.casefold() in seen or levels.take(text):
            continue
        seen.add(text.casefold())
        raw.append(text)
        mapped = type_of(text)
        if mapped is None:
            issues.append(_unmapped(value, text, "resource type"))
        elif code is None:
            code = mapped
    return raw, code


# --- subjects ------------------------------------------------------------------------------

_LIST_SEPARATORS = re.compile(r"\s*[;；]\s*")
# A discipline or major code of the national catalogues: 4 digits for a discipline
# (0812) or 6 for a major (080901), academic categories 01-14; vocational majors have 6
# digits from 41 to 79.  Anything else (JEL codes, years, "5548.6") is a keyword.
_CODE = r"(?:(?:0[1-9]|1[0-4])\d{2}(?:\d{2})?|[4-7]\d{5})"
_LABEL = r"[^\W\d_][^()（）]*?"  # starts with a letter or an ideograph
_CODE_FIRST = re.compile(rf"^({_CODE})(?:\s*[-–—:：、·]?\s*[（(]?\s*({_LABEL})\s*[)）]?)?$")
_CODE_LAST = re.compile(rf"^({_LABEL})\s*[（(\[]\s*({_CODE})\s*[)）\]]$")
_DIGIT = re.compile(r"\d")
# xsi:type schemes of classification notations (a code) and of subject headings (a label).
_NOTATION_SCHEMES = frozenset({"DDC", "LCC", "UDC", "NLM"})


def discipline_code(text: str) -> tuple[str | None, str]:
    """Split ``0812 计算机科学与技术`` (or ``计算机科学与技术（0812）``) into code and label.

    Returns ``(None, text)`` when the text carries no discipline code.
    """
    if _DIGIT.search(text) is None:  # most subjects: no code to look for
        return None, text
    if match := _CODE_FIRST.match(text):
        return match.group(1), (match.group(2) or "").strip()
    if match := _CODE_LAST.match(text):
        return match.group(2), match.group(1).strip()
    return None, text


def catalogue_of(code: str) -> str:
    """The scheme of a national discipline (``0812``) or major (``510201``) code."""
    return VOCATIONAL_CATALOGUE if len(code) == 6 and code[0] in "4567" else DISCIPLINE_CATALOGUE


def _subject(part: str, scheme: str | None) -> tuple[str | None, str | None, str]:
    """(code, scheme, label) of one subject value and its ``xsi:type`` scheme."""
    if scheme in _NOTATION_SCHEMES:
        return part, scheme, ""
    if scheme is not None:  # a heading of LCSH, MeSH, NSDL's GEM ...
        return None, scheme, part
    code, label = discipline_code(part)
    return code, catalogue_of(code) if code else None, label


class _Part(NamedTuple):
    text: str
    level: str | None  # an education level instead of a subject
    code: str | None
    scheme: str | None
    label: str
    language: str | None


@lru_cache(maxsize=8192)
def _subject_parts(
    text: str, lang: str | None, record_language: str | None, scheme: str | None
) -> tuple[_Part, ...]:
    """What one ``dc:subject`` says.  Cached: a source repeats its subjects endlessly."""
    parts = []
    for part in _LIST_SEPARATORS.split(clean_text(text)):
        if not part:
            continue
        level = level_of(part)
        code, part_scheme, label = (None, None, "") if level else _subject(part, scheme)
        language = choose_language(label, lang, record_language) if label else None
        parts.append(_Part(part, level, code, part_scheme, label, language))
    return tuple(parts)


def _subjects(
    values: list[Value], record_language: str | None, levels: _Levels
) -> tuple[list[str], list[Subject]]:
    keywords: list[str] = []
    coded: dict[tuple[str | None, str], Subject] = {}
    free: dict[tuple[str | None, str], Subject] = {}
    for value in values:
        for part in _subject_parts(value.text, value.lang, record_language, value.scheme):
            if part.level:
                levels.keep(part.text, part.level)
                continue
            code, scheme, label, language = part.code, part.scheme, part.label, part.language
            if label:
                keywords.append(label)
            if code is None:
                key = (scheme, label.casefold())
                if language and key not in free:
                    free[key] = Subject(scheme=scheme, label={language: label})
            elif (scheme, code) not in coded:
                labels = {language: label} if language else {}
                coded[(scheme, code)] = Subject(code=code, scheme=scheme, label=labels)
            elif language:
                coded[(scheme, code)].label.setdefault(language, label)
    for subject in coded.values():
        if subject.scheme == DISCIPLINE_CATALOGUE and subject.code is not None:
            for language, label in catalogue_labels(subject.code).items():
                subject.label.setdefault(language, label)
    return _distinct(keywords), [*coded.values(), *free.values()]


def catalogue_labels(code: str) -> LangMap:
    """zh/en labels of a category (``08``) or discipline (``0812``) code; ``{}`` if unknown.

    Only exact codes: a major (``080902``) is not labelled with its discipline's name.
    """
    labels = DISCIPLINES.get(code) or DISCIPLINE_CATEGORIES.get(code)
    return {"zh": labels[0], "en": labels[1]} if labels else {}


# --- people and organisations --------------------------------------------------------------

_ROLES = {"creator": "author", "contributor": "contributor", "publisher": "publisher"}
_NAME_SEPARATORS = re.compile(r"\s*[;；、，]\s*")


def _contributors(values: Values) -> list[Contributor]:
    result: list[Contributor] = []
    seen: set[tuple[str, str]] = set()
    for element, role in _ROLES.items():
        for value in values[element]:
            for name in _NAME_SEPARATORS.split(clean_text(value.text)):
                if name and (name.casefold(), role) not in seen:
                    seen.add((name.casefold(), role))
                    result.append(Contributor(name=name, role=role))
    return result


# --- dates ---------------------------------------------------------------------------------


def _dates(values: list[Value]) -> tuple[str | None, str | None, list[str]]:
    """(created, modified, other dates as received).

    ``dcterms:created`` and ``dcterms:modified`` say what they are.  Otherwise the
    earliest recognisable date is taken as created (else the first): repositories
    repeat ``dc:date`` for accession, availability and issue without saying which.
    """
    cleaned = [(v.qualifier, clean_text(v.text)) for v in values]
    cleaned = [(q, text) for q, text in cleaned if text]
    if not cleaned:
        return None, None, []
    modified = next((text for q, text in cleaned if q == "modified"), None)
    declared = [text for q, text in cleaned if q == "created"]
    candidates = declared or [text for q, text in cleaned if q != "modified"]
    created: str | None = None
    if candidates:
        keyed = [
            (key, i) for i, text in enumerate(candidates) if (key := date_key(text)) is not None
        ]
        created = candidates[min(keyed)[1] if keyed else 0]
    used = {created, modified}
    others = _distinct(text for _, text in cleaned if text not in used)
    return (
        normalise_date(created) if created else None,
        normalise_date(modified) if modified else None,
        others,
    )


# --- formats, durations and files ----------------------------------------------------------

_MIME = re.compile(
    r"^\s*((?:application|audio|chemical|font|image|message|model|multipart|text|video)"
    r"/[A-Za-z0-9][\w.+-]*)\s*(?:;.*)?$",
    re.IGNORECASE,
)
# EUR's DSpace: "application/pdf https://ep.eur.nl/retrieve/1004/BSK007.pdf".
_MIME_AND_URL = re.compile(
    r"^\s*((?:application|audio|image|text|video)/[A-Za-z0-9][\w.+-]*)\s+(https?://\S.*)$",
    re.IGNORECASE,
)
_ISO_DURATION = re.compile(
    r"^P(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?"
    r"(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?"
    r"(?:\d+(?:[.,]\d+)?S)?)?$"
)
_CLASS_HOURS = re.compile(r"^(?:共\s*)?(\d+(?:\.\d+)?)\s*学时$")

# File extensions of resource files → MIME type.  ``.html`` is missing on purpose: a
# page ending in .html is a landing page, not a file to mirror.
_EXTENSION_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "epub": "application/epub+zip",
    "zip": "application/zip",
    "h5p": "application/zip",  # an HTML5 package (H5P) is a zip archive
    "rar": "application/vnd.rar",
    "7z": "application/x-7z-compressed",
    "gz": "application/gzip",
    "tar": "application/x-tar",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "mp4": "video/mp4",
    "m4v": "video/mp4",
    "webm": "video/webm",
    "ogv": "video/ogg",
    "avi": "video/x-msvideo",
    "mov": "video/quicktime",
    "wmv": "video/x-ms-wmv",
    "flv": "video/x-flv",
    "mkv": "video/x-matroska",
    "txt": "text/plain",
    "csv": "text/csv",
    "xml": "application/xml",
    "json": "application/json",
    "swf": "application/x-shockwave-flash",
}


def _file_name(url: str) -> str:
    """The last segment of a URL's path, as written (``""`` for none)."""
    # By hand rather than urlsplit: this runs for every identifier of every record.
    path = url.partition("#")[0].partition("?")[0]
    scheme, separator, rest = path.partition("://")
    if separator and "/" not in scheme:
        path = rest.partition("/")[2]
    return path.rpartition("/")[2]


def file_extension(url: str) -> str | None:
    """The extension of a URL's path when it names a resource file we know, else None."""
    name = _file_name(url)
    if "." not in name:
        return None
    extension = name.rpartition(".")[2].lower()
    return extension if extension in _EXTENSION_TYPES else None


def mime_type_of(extension: str, declared: Iterable[str] = ()) -> str:
    """The MIME type of a file: a ``declared`` one that fits the extension, else a guess.

    ``audio/x-wav`` declared for ``lecture.wav`` is kept as the source wrote it.
    """
    guess = _EXTENSION_TYPES[extension]
    subtypes = {extension, guess.partition("/")[2]}
    for mime in declared:
        major, _, subtype = mime.partition("/")
        if mime == guess or (
            major == guess.partition("/")[0] and subtype.removeprefix("x-") in subtypes
        ):
            return mime
    return guess


@dataclass
class _Formats:
    formats: list[str]
    files: list[tuple[str, str]]  # (URL, MIME type) given together in one dc:format
    learning_time: str | None = None
    class_hours: float | None = None

    @classmethod
    def read(cls, values: list[Value]) -> _Formats:
        result = cls([], [])
        for value in values:
            text = clean_text(value.text)
            if not text:
                continue
            if match := _MIME_AND_URL.match(text):
                mime = match.group(1).lower()
                result.formats.append(mime)
                result.files.append((match.group(2).strip().replace(" ", "%20"), mime))
            elif (match := _MIME.match(text)) or value.scheme == "IMT":
                result.formats.append((match.group(1) if match else text).lower())
            elif _ISO_DURATION.match(text.upper()):
                result.learning_time = result.learning_time or text.upper()
            elif match := _CLASS_HOURS.match(text):
                result.class_hours = result.class_hours or float(match.group(1))
            else:
                result.formats.append(text)
        result.formats = _distinct(result.formats)
        return result


def _objects(identifiers: list[str], formats: _Formats) -> list[DigitalObjectRef]:
    declared = [f for f in formats.formats if "/" in f]
    found: dict[str, DigitalObjectRef] = {}
    for url, mime in formats.files:
        found.setdefault(url, _object(url, mime))
    for identifier in identifiers:
        if identifier in found or http_url(identifier) is None:
            continue
        extension = file_extension(identifier)
        if extension is not None:
            found[identifier] = _object(identifier, mime_type_of(extension, declared))
    return list(found.values())


def _object(url: str, mime: str) -> DigitalObjectRef:
    name = unquote(_file_name(url)) or None
    return DigitalObjectRef(url=url, format=mime, name=name)


# --- identifiers ---------------------------------------------------------------------------

# Only a labelled value is a course code: "CS101" alone could be anything.
_COURSE_CODE = re.compile(
    r"^(?:课程(?:代码|编号|编码|号)|course[\s_-]*(?:code|number|no\.?|id))\s*[:：]?\s*"
    r"([A-Za-z0-9][\w.\-/ ]{0,39})$",
    re.IGNORECASE,
)


def course_code_of(identifier: str) -> str | None:
    """``CS101`` of ``课程代码: CS101`` or ``Course code: CS101``; None if unlabelled."""
    match = _COURSE_CODE.match(identifier)
    return match.group(1).strip() if match else None


def _identifiers(values: list[Value]) -> tuple[list[str], str | None]:
    """(identifiers, course code): a labelled course code is taken out of the list."""
    identifiers: list[str] = []
    course_code: str | None = None
    for text in _plain_urls(values):
        code = course_code_of(text)
        if code is not None and course_code is None:
            course_code = code
        else:
            identifiers.append(text)
    return identifiers, course_code


def landing_page(identifiers: list[str]) -> str | None:
    """The first identifier that passes ``http_url`` and is not a direct link to a file."""
    for identifier in identifiers:
        if http_url(identifier) is not None and file_extension(identifier) is None:
            return identifier
    return None


# --- languages -----------------------------------------------------------------------------

_LANGUAGE_SEPARATORS = re.compile(r"\s*[;,/；，、]\s*")


def _languages(values: list[Value], issues: list[Issue]) -> list[str]:
    """Normalised, distinct languages; unmapped values are kept as given, with a warning."""
    result: list[str] = []
    for value in values:
        text = clean_text(value.text)
        if not text:
            continue
        whole = normalise_language(text)
        if whole is not None:
            codes: list[str] = [whole]
        else:
            parts = _LANGUAGE_SEPARATORS.split(text)
            mapped = [normalise_language(p) for p in parts]
            if len(parts) > 1 and all(mapped):
                codes = [m for m in mapped if m]  # "en; fr", "中文，英文"
            else:
                codes = [text]
                issues.append(
                    Issue(
                        severity="warning",
                        code="unknown_language",
                        message=f"language {text!r} is not a recognisable language tag or name",
                        path=value.path,
                    )
                )
        result.extend(code for code in codes if code not in result)
    return result


# --- rights --------------------------------------------------------------------------------

_FREE_ACCESS = re.compile(
    r"info:eu-repo/semantics/openAccess|\bopen[\s-]?access\b|免费|开放获取", re.IGNORECASE
)
# dcterms:accessRights values such as NSDL's "Free access" / "Available for purchase".
_FREE = re.compile(r"^\s*free\b", re.IGNORECASE)
_PAID = re.compile(r"purchase|subscription|\bfees?\b|收费|付费|购买", re.IGNORECASE)
_RIGHTS_ORDER = {"license": 0, None: 1, "accessRights": 2}


@dataclass
class _Rights:
    license: License | None
    cost: bool | None

    @classmethod
    def read(cls, values: list[Value]) -> _Rights:
        """Licence from rights, ``dcterms:license`` and ``dcterms:accessRights``.

        The licence URL is the first web address that names a recognisable licence,
        else the first web address; it is not repeated in ``text``.  Open access
        (``info:eu-repo/semantics/openAccess``, ``免费``) or free access means learners
        do not pay (``cost`` False); access "for purchase" or "by subscription", that
        they do.
        """
        ordered = sorted(values, key=lambda v: _RIGHTS_ORDER.get(v.qualifier, 1))
        rights = _plain_urls(ordered)
        if not rights:
            return cls(None, None)
        recognised = [(text, recognise_license(text)) for text in rights]
        # A licence wins over a copyright line beside it (a CC work still names its holder).
        spdx = next((f for _, f in recognised if f and f != ALL_RIGHTS_RESERVED), None)
        spdx = spdx or next((found for _, found in recognised if found), None)
        urls = [
            (text, found)
            for text, found in recognised
            if text.startswith(("http://", "https://")) and " " not in text
        ]
        url = next((text for text, found in urls if found), urls[0][0] if urls else None)
        statement = [text for text in rights if text != url] or rights
        access = [clean_text(v.text) for v in values if v.qualifier == "accessRights"]
        cost = None
        if any(_FREE_ACCESS.search(text) for text in rights) or any(map(_FREE.match, access)):
            cost = False
        elif any(map(_PAID.search, access)):
            cost = True
        return cls(License(spdx=spdx, url=url, text=STATEMENT_SEPARATOR.join(statement)), cost)


# --- relations -----------------------------------------------------------------------------


def _relations(values: list[Value]) -> list[Relation]:
    result: list[Relation] = []
    seen: set[tuple[str | None, str]] = set()
    for value in values:
        target = clean_text(_unwrapped(value.text))
        if target and (value.qualifier, target) not in seen:
            seen.add((value.qualifier, target))
            result.append(Relation(kind=value.qualifier, target=target))
    return result

"""Read IEEE LOM (GB/T 21365) into the course profile, in any of the bindings repositories use.

IEEE 1484.12.3, IMS Metadata 1.2 (as NL-LOM uses it), or LOM under another namespace or none;
elements matched by local name.  The mapping, category by category, is docs/mapping-lom.md;
the derivations the writer shares (``metadata.writers.lom``) are the public functions here.
Issues carry ``path`` such as ``lom/general/language[2]``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from lxml import etree

from metadata.languages import normalise_language
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
from metadata.readers.oai_dc import landing_page
from metadata.urls import STATEMENT_SEPARATOR, screen_urls
from metadata.vcard import parse_vcard
from metadata.vocabularies import DISCIPLINE_CATALOGUE, DISCIPLINE_CATEGORIES, DISCIPLINES
from metadata.xmlutil import (
    XML_LANG,
    clean_html_text,
    clean_text,
    local_name,
    namespace,
    split_tag,
    text_of,
)

LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
IMS_MD_NS = "http://www.imsglobal.org/xsd/imsmd_v1p2"
CF_NS = "https://coursefed.org/ns/lom-extension/1.0"
"""Our extension namespace (prefix ``cf``) for what LOM has no element for."""

LOM_VOCABULARY = "LOMv1.0"
CELTS_41 = "CELTS-41"
DISCIPLINE_CATALOGUE_EN = "Catalogue of Disciplines and Majors"
LEVEL_SCHEME = {"zh": "教育层次", "en": "Education levels"}
"""taxonPath source of the profile's education levels (9 purpose "educational level")."""

DISCIPLINE_PURPOSES = frozenset({"discipline", "idea", "学科", "学科分类"})
LEVEL_PURPOSES = frozenset({"educational level", "educationallevel", "教育层次", "教育层级"})
AUTHOR_ROLES = frozenset({"author", "publisher"})

# Roles some Chinese profiles spell in Chinese; every other role is kept (lower case).
_ROLE_ALIASES = {
    "作者": "author", "著者": "author", "出版者": "publisher", "出版单位": "publisher",
    "发布者": "publisher", "发行者": "publisher", "主讲教师": "instructor",
    "主讲人": "instructor", "授课教师": "instructor", "贡献者": "contributor", "编辑": "editor",
}  # fmt: skip
_COURSE_CODE_CATALOG = re.compile(
    r"course[\s_-]*(?:code|number|no\.?|id)\b|coursecode|课程(?:代码|编号|编码|号)", re.IGNORECASE
)
_CLASS_HOUR_NAMES = frozenset(
    {"学时", "课时", "总学时", "classhours", "classhour", "teachinghours", "contacthours"}
)
_CREDIT_NAMES = frozenset({"学分", "credit", "credits", "numberofcredits", "credithours"})
_CLASS_HOURS_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:学时|课时)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ISO_DURATION = re.compile(
    r"^P(?=\d|T\d)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?"
    r"(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?"
    r"(?:\d+(?:[.,]\d+)?S)?)?$"
)
_KEYWORD_SEPARATORS = re.compile(r"\s*[;；]\s*")
_PARAGRAPH = re.compile(r"\n\s*\n")
_URL = re.compile(r"https?://[^\s<>\"'（）()\[\]]+", re.IGNORECASE)
_COST = {
    "yes": True, "no": False, "true": True, "false": False, "是": True, "否": False,
    "收费": True, "免费": False, "paid": True, "free": False,
}  # fmt: skip
_HTML_FORMATS = frozenset({"text/html", "application/xhtml+xml"})


# --- derivations shared with the writer ------------------------------------------------


def is_iso_duration(value: str) -> bool:
    """An ISO 8601 duration (``PT1H30M``, ``P2W``, ``P1DT2H``) with at least one number."""
    return bool(_ISO_DURATION.match(value))


def institution_of(contributors: Iterable[Contributor]) -> str | None:
    """The first publisher's organisation, else its name."""
    for contributor in contributors:
        if contributor.role == "publisher":
            return contributor.organization or contributor.name
    return None


def _names_by_language(names: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A publisher's names by language; only when it gives more than one language."""
    result: dict[str, str] = {}
    for language, name in names:
        result.setdefault(normalise_language(language) or language, name)
    return result if len(result) > 1 else {}


def file_name(url: str) -> str | None:
    """The last segment of a URL's path, percent-decoded (``lecture 1.mp4``)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    return unquote(path.rpartition("/")[2]) or None


def technical_objects(
    formats: list[str], locations: list[str], size: int | None, duration: str | None
) -> tuple[str | None, list[DigitalObjectRef]]:
    """(landing page, files) of LOM 4.1-4.7.

    A web page among the locations is the landing page when the formats allow one
    (``text/html`` declared, no format at all, or several locations); every other
    location is a file, whose format is the one format left when exactly one is.
    Size and duration describe the resource, so they go with a single file only.
    """
    landing = None
    html = any(f.casefold() in _HTML_FORMATS for f in formats)
    if locations and (html or not formats or len(locations) > 1):
        landing = landing_page(locations)
    files = [location for location in locations if location != landing]
    candidates = [f for f in formats if f.casefold() not in _HTML_FORMATS] if landing else formats
    file_format = candidates[0] if len(candidates) == 1 else None
    objects = [DigitalObjectRef(url=u, format=file_format, name=file_name(u)) for u in files]
    if len(objects) == 1:
        objects[0] = objects[0].model_copy(update={"size": size, "duration": duration})
    return landing, objects


def resource_type_of(values: Iterable[tuple[str | None, str]]) -> str | None:
    """CELTS-41 type of (source, value) pairs: a CELTS-41-sourced value that maps wins."""
    pairs = list(values)
    national = [v for s, v in pairs if s and s.replace(" ", "").upper() in {"CELTS-41", "CELTS41"}]
    for value in (*national, *(v for _, v in pairs)):
        if (code := resource_type(value)) is not None:
            return code
    return None


def level_of(values: Iterable[str]) -> str | None:
    """The education level of the first value that maps to one."""
    return next((code for v in values if (code := education_level(v)) is not None), None)


def license_of(text: str) -> License:
    """A licence statement: SPDX id when recognisable, the first URL in it, the text."""
    match = _URL.search(text)
    url = match.group(0).rstrip(".,;:。，；") if match else None
    return License(spdx=recognise_license(text), url=url, text=text)


def subject_labels(code: str | None, scheme: str | None, labels: LangMap) -> LangMap:
    """``labels`` with missing zh/en filled from the national catalogue for its codes."""
    if code is None or scheme not in {None, DISCIPLINE_CATALOGUE}:
        return labels
    known = DISCIPLINES.get(code) or DISCIPLINE_CATEGORIES.get(code)
    if known is None:
        return labels
    return {**labels, "zh": labels.get("zh", known[0]), "en": labels.get("en", known[1])}


def scheme_of(sources: list[str]) -> str | None:
    """The scheme a taxonPath source names: ``学科专业目录`` in any language, else the first."""
    if any(s in {DISCIPLINE_CATALOGUE, DISCIPLINE_CATALOGUE_EN} for s in sources):
        return DISCIPLINE_CATALOGUE
    return sources[0] if sources else None


def role_of(value: str) -> str:
    """A LOM role as the profile keeps it: lower case; a few Chinese roles translated."""
    text = clean_text(value)
    return _ROLE_ALIASES.get(text, text.casefold()) or "contributor"


def number_of(text: str) -> float | None:
    """``64``, ``64学时``, ``３.５ 学分`` → a number; None when there is none."""
    text = unicodedata.normalize("NFKC", text).strip()
    try:
        number = float(text)
    except ValueError:
        match = _NUMBER.search(text)
        return float(match.group(0)) if match else None
    return number if math.isfinite(number) else None


# --- reading -----------------------------------------------------------------------------


def read_lom(element: etree._Element) -> tuple[CourseResource, list[Issue]]:
    """Map one LOM record (any binding) to a ``CourseResource`` and the issues found."""
    root = find_lom(element)
    if root is None:
        issue = Issue(
            severity="warning",
            code="no_lom",
            message=f"no <lom> element inside <{local_name(element)}>",
        )
        return CourseResource(), [issue]
    return _Reader(root).read()


def find_lom(element: etree._Element) -> etree._Element | None:
    """The ``<lom>`` element itself, inside an OAI ``<metadata>``/``<record>``, or None."""
    if local_name(element).casefold() == "lom":
        return element
    for candidate in element.iter():
        if isinstance(candidate.tag, str) and local_name(candidate).casefold() == "lom":
            return candidate
    return None


_MAX_TAGS = 4096
"""Distinct tags remembered per binding (bounds memory on documents of random names)."""


class _LomNames(dict[object, str | None]):
    """tag → casefolded local name when the tag is a LOM element of the binding, else None.

    Filled on demand (``names[element.tag]``); tags repeat from record to record.
    """

    def __init__(self, namespaces: frozenset[str | None]) -> None:
        super().__init__()
        self.namespaces = namespaces

    def __missing__(self, tag: object) -> str | None:
        name = None
        if isinstance(tag, str):
            ns, local = split_tag(tag)
            if ns in self.namespaces or (ns is not None and "imsmd" in ns):
                name = local.casefold()
        if len(self) < _MAX_TAGS:
            self[tag] = name
        return name


@lru_cache(maxsize=32)
def _lom_names(own: str | None) -> _LomNames:
    """The tag table of a ``<lom>`` root in namespace ``own``."""
    return _LomNames(frozenset({own, LOM_NS, IMS_MD_NS, None} - {CF_NS}))


class _NumberNames(dict[object, str | None]):
    """tag (any namespace) → casefolded local name when it names class hours or credits."""

    def __missing__(self, tag: object) -> str | None:
        name = split_tag(tag)[1].casefold() if isinstance(tag, str) else None
        if name not in _CLASS_HOUR_NAMES and name not in _CREDIT_NAMES:
            name = None
        if len(self) < _MAX_TAGS:
            self[tag] = name
        return name


_NUMBER_NAMES = _NumberNames()


class _Reader:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.names = _lom_names(namespace(root))
        self.issues: list[Issue] = []
        self.record_language: str | None = None
        self.institution_names: dict[str, str] = {}
        self._numbers: list[tuple[etree._Element, str]] | None = None
        self._categories: dict[str, list[etree._Element]] | None = None

    # --- navigation ------------------------------------------------------------------

    def _is_lom(self, element: etree._Element) -> bool:
        return self.names[element.tag] is not None

    def children(self, parent: etree._Element, *names: str) -> list[etree._Element]:
        """LOM children of ``parent`` whose local name is one of ``names`` (any case)."""
        table = self.names
        return [child for child in parent if table[child.tag] in names]

    def child(self, parent: etree._Element, *names: str) -> etree._Element | None:
        table = self.names
        for child in parent:
            if table[child.tag] in names:
                return child
        return None

    def cf(self, parent: etree._Element, name: str) -> list[etree._Element]:
        """Our extension elements ``cf:<name>`` directly inside ``parent``."""
        return [c for c in parent if isinstance(c.tag, str) and c.tag == f"{{{CF_NS}}}{name}"]

    def cf_anywhere(self, name: str) -> list[etree._Element]:
        found = []
        for element in self.root.iter(f"{{{CF_NS}}}{name}"):
            parent = element.getparent()
            if parent is None or namespace(parent) != CF_NS:  # not inside cf:object
                found.append(element)
        return found

    def categories(self, name: str) -> list[etree._Element]:
        if self._categories is None:  # the root's children, grouped once per record
            self._categories = {}
            table = self.names
            for child in self.root:
                if (key := table[child.tag]) is not None:
                    self._categories.setdefault(key, []).append(child)
        return self._categories.get(name, [])

    def path(self, element: etree._Element) -> str:
        """``lom/general/language[2]``: indexes where names repeat, always on the last step."""
        parts = []
        node: etree._Element | None = element
        while node is not None and node is not self.root:
            parent = node.getparent()
            name = ("cf:" if namespace(node) == CF_NS else "") + local_name(node)
            if parent is None:
                break
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == node.tag]
            repeated = len(same) > 1 or node is element
            parts.append(f"{name}[{same.index(node) + 1}]" if repeated else name)
            node = parent
        parts.append(local_name(self.root))
        return "/".join(reversed(parts))

    # --- LOM data types ----------------------------------------------------------------

    def strings(self, element: etree._Element) -> list[tuple[str, str | None]]:
        """A LangString's (text as written, declared language) pairs.

        ``<string language>`` (IEEE), ``<langstring xml:lang>`` (IMS), or a bare text.
        """
        found = self.children(element, "string", "langstring")
        if not found and (element.text or "").strip():
            found = [element]
        return [(text_of(s), s.get("language") or s.get(XML_LANG)) for s in found]

    def texts(self, element: etree._Element | None) -> list[str]:
        """The cleaned, non-empty strings of a LangString."""
        if element is None:
            return []
        return [t for t in (clean_text(text) for text, _ in self.strings(element)) if t]

    def text(self, element: etree._Element | None) -> str:
        return clean_text(text_of(element)) if element is not None else ""

    def vocabulary(self, element: etree._Element) -> tuple[str | None, str]:
        """(source, value) of a Vocabulary; a bare text is a value without source."""
        source_element = value_element = None
        table = self.names
        for child in element:
            name = table[child.tag]
            if name == "source":
                source_element = source_element if source_element is not None else child
            elif name == "value":
                value_element = value_element if value_element is not None else child
        source = self.text(source_element) or None
        if value_element is not None:
            value = self.text(value_element)
        else:
            value = self.text(element) if source_element is None else ""
        return source, value

    def date(self, element: etree._Element) -> str | None:
        """A DateTime: ``dateTime`` (IMS ``datetime``), else its description."""
        value = self.text(self.child(element, "datetime"))
        description = self.child(element, "description")
        if not value:
            value = next(iter(self.texts(description)), "")
        if not value and not len(element):  # a bare date without <dateTime>
            value = self.text(element)
        return normalise_date(value) if value else None

    def duration(self, element: etree._Element) -> str | None:
        """A Duration: ``duration`` (IMS ``datetime``) or bare text; None if no valid one."""
        inner = self.child(element, "duration", "datetime")
        value = self.text(inner) if inner is not None else ""
        if inner is None and not len(element):
            value = self.text(element)
        if not value:
            return None
        if is_iso_duration(value.upper()):
            return value.upper()
        where = inner if inner is not None else element
        self.warn("invalid_duration", f"{value!r} is not an ISO 8601 duration", where)
        return None

    def warn(self, code: str, message: str, element: etree._Element) -> None:
        self.issues.append(
            Issue(severity="warning", code=code, message=message, path=self.path(element))
        )

    def language_map(
        self,
        elements: Iterable[etree._Element],
        *,
        join: bool,
        clean: Callable[[str], str] = clean_text,
    ) -> LangMap:
        result: LangMap = {}
        for element in elements:
            for raw, declared in self.strings(element):
                text = clean(raw)
                if not text:
                    continue
                key = choose_language(text, declared, self.record_language)
                if key not in result:
                    result[key] = text
                elif text.casefold() in result[key].casefold():
                    continue
                elif join:
                    result[key] = f"{result[key]}\n\n{text}"
                else:
                    # A second title in the same language: kept only if its script says
                    # it is another language (a translation without its language).
                    result.setdefault(choose_language(text, None, None), text)
        return result

    # --- the record ----------------------------------------------------------------------

    def read(self) -> tuple[CourseResource, list[Issue]]:
        general = self.categories("general")
        languages = self._languages(general)
        proper = {lang for lang in languages if normalise_language(lang) == lang}
        distinct = proper - {"zxx", "mul", "und"}
        self.record_language = distinct.pop() if len(distinct) == 1 else None

        identifiers, course_code = self._identifiers(general)
        contributors, created, dates = self._life_cycle()
        url, objects, formats = self._technical(identifiers)
        educational = self._educational()
        subjects, level_terms, keywords = self._classifications()
        level = educational.level
        if not educational.level_given:
            level = level_of(level_terms) if level_terms else level_of(educational.audiences)
        license_, cost = self._rights()

        resource = CourseResource(
            title=self.language_map(self._all(general, "title"), join=False),
            description=self.language_map(
                self._all(general, "description"), join=True, clean=_paragraphs
            ),
            keywords=_distinct([*self._keywords(self._all(general, "keyword")), *keywords]),
            subjects=subjects,
            languages=[lang for lang in languages if lang != "und"],
            education_level=level,
            audiences=educational.audiences,
            resource_type=educational.resource_type,
            resource_types=educational.resource_types,
            course_code=course_code,
            learning_time=educational.learning_time,
            class_hours=self._number(_CLASS_HOUR_NAMES, educational.class_hours),
            credits=self._number(_CREDIT_NAMES, None),
            institution=self._override_text("institution", institution_of(contributors)),
            institution_names=self.institution_names,
            contributors=contributors,
            license=license_,
            cost=cost,
            created=created,
            modified=self._modified(),
            dates=dates,
            formats=formats,
            objects=objects,
            identifiers=identifiers,
            url=url,
            relations=self._relations(),
            sources=_distinct(self.text(e) for g in general for e in self.cf(g, "source")),
            coverage=_distinct(t for e in self._all(general, "coverage") for t in self.texts(e)),
        )
        resource, dropped = screen_urls(resource, self.locate)
        return resource, [*self.issues, *dropped]

    def locate(self, value: str) -> str | None:
        """The path of the element a value was read from: the first that says it, else holds it."""
        leaves = [
            (element, clean_text(element.text or ""))
            for element in self.root.iter()
            if isinstance(element.tag, str) and not len(element)
        ]
        found = next((e for e, text in leaves if text == value), None)
        if found is None:
            found = next((e for e, text in leaves if value in text), None)
        return self.path(found) if found is not None else None

    def _all(self, parents: list[etree._Element], *names: str) -> list[etree._Element]:
        return [child for parent in parents for child in self.children(parent, *names)]

    def _override_text(self, name: str, derived: str | None) -> str | None:
        """A ``cf:<name>`` override (empty = none) when there is one, else ``derived``."""
        found = self.cf_anywhere(name)
        return (self.text(found[0]) or None) if found else derived

    # --- 1 general -----------------------------------------------------------------------

    def _languages(self, general: list[etree._Element]) -> list[str]:
        result: list[str] = []
        for element in (c for g in general for c in g):
            ours = element.tag == f"{{{CF_NS}}}language"
            if not (ours or (self._is_lom(element) and local_name(element) == "language")):
                continue
            text = self.text(element)
            if not text:
                continue
            code = normalise_language(text)
            if code is None:
                parts = [normalise_language(p) for p in re.split(r"\s*[;,/；，、]\s*", text)]
                if len(parts) > 1 and all(parts):
                    result.extend(p for p in parts if p and p not in result)
                    continue
                code = text
                self.warn(
                    "unknown_language",
                    f"language {text!r} is not a recognisable language tag or name",
                    element,
                )
            if code not in result:
                result.append(code)
        return result

    def _identifiers(self, general: list[etree._Element]) -> tuple[list[str], str | None]:
        identifiers: list[str] = []
        course_code = None
        for identifier in self._all(general, "identifier", "catalogentry"):
            catalog = self.text(self.child(identifier, "catalog"))
            entry = self.text(self.child(identifier, "entry"))
            if not entry:
                continue
            if _COURSE_CODE_CATALOG.search(catalog):
                course_code = course_code or entry
            elif entry not in identifiers:
                identifiers.append(entry)
        return identifiers, course_code

    def _keywords(self, elements: Iterable[etree._Element]) -> Iterator[str]:
        for element in elements:
            for text in self.texts(element):
                yield from (k for k in _KEYWORD_SEPARATORS.split(text) if k)

    # --- 2 lifeCycle, 3 metaMetadata -------------------------------------------------------

    def _life_cycle(self) -> tuple[list[Contributor], str | None, list[str]]:
        contributors: list[Contributor] = []
        dated: list[tuple[str, str]] = []  # (role, date) in document order
        for life_cycle in self.categories("lifecycle"):
            for contribute in self.children(life_cycle, "contribute"):
                role_element = self.child(contribute, "role")
                role = role_of(self.vocabulary(role_element)[1] if role_element is not None else "")
                for entity in self.children(contribute, "entity", "centity"):
                    card = parse_vcard(text_of(entity))
                    if card.name is None:
                        self.warn("invalid_vcard", "entity holds no FN, N or ORG", entity)
                        continue
                    person = Contributor(
                        name=card.name, role=role, organization=card.organization, email=card.email
                    )
                    if role == "publisher" and not any(c.role == role for c in contributors):
                        self.institution_names = _names_by_language(card.organization_names)
                    if person not in contributors:
                        contributors.append(person)
                date_element = self.child(contribute, "date")
                date = self.date(date_element) if date_element is not None else None
                if date:
                    dated.append((role, date))
        created = _earliest([d for role, d in dated if role in AUTHOR_ROLES])
        dates = _distinct_exact(d for _, d in dated if d != created)
        return contributors, created, dates

    def _modified(self) -> str | None:
        found = self.cf_anywhere("modified")
        if found:
            return self.text(found[0]) or None
        dates = []
        for meta in self.categories("metametadata"):
            for contribute in self.children(meta, "contribute"):
                date_element = self.child(contribute, "date")
                if date_element is not None and (date := self.date(date_element)):
                    dates.append(date)
        return _latest(dates)

    # --- 4 technical ---------------------------------------------------------------------

    def _technical(
        self, identifiers: list[str]
    ) -> tuple[str | None, list[DigitalObjectRef], list[str]]:
        technical = self.categories("technical")
        formats = _distinct(self.text(e) for e in self._all(technical, "format"))
        locations = _distinct_exact(self.text(e) for e in self._all(technical, "location"))
        size = None
        for element in self._all(technical, "size")[:1]:
            text = self.text(element)
            if text.isascii() and text.isdigit():
                size = int(text)
            elif text:
                self.warn("invalid_size", f"size {text!r} is not a number of bytes", element)
        durations = [self.duration(e) for e in self._all(technical, "duration")]
        duration = next((d for d in durations if d), None)
        url, objects = technical_objects(formats, locations, size, duration)
        url = url or landing_page(identifiers)
        landing = [e for t in technical for e in self.cf(t, "landingPage")]
        if landing:
            url = self.text(landing[0]) or None
        listed = [e for t in technical for e in self.cf(t, "objects")]
        if listed:
            objects = [o for e in listed for o in self._cf_objects(e)]
        return url, objects, formats

    def _cf_objects(self, container: etree._Element) -> Iterator[DigitalObjectRef]:
        for element in self.cf(container, "object"):
            fields = {local_name(c): self.text(c) for c in element if isinstance(c.tag, str)}
            if not fields.get("url"):
                continue
            size = fields.get("size", "")
            yield DigitalObjectRef(
                url=fields["url"],
                format=fields.get("format") or None,
                size=int(size) if size.isascii() and size.isdigit() else None,
                duration=fields.get("duration") or None,
                name=fields.get("name") or None,
            )

    # --- 5 educational -------------------------------------------------------------------

    def _educational(self) -> _Educational:
        result = _Educational()
        for educational in self.categories("educational"):
            for element in educational:
                if not isinstance(element.tag, str):
                    continue
                if element.tag.startswith(f"{{{CF_NS}}}"):
                    result.extensions.setdefault(local_name(element), element)
                elif self._is_lom(element):
                    self._educational_element(element, result)
        result.resource_types = _distinct(v for _, v in result.types)
        result.resource_type = resource_type_of(result.types)
        ext = result.extensions
        if "resourceType" in ext:
            result.resource_type = self.text(ext["resourceType"]) or None
        if "educationLevel" in ext:
            result.level = self.text(ext["educationLevel"]) or None
            result.level_given = True
        if "learningTime" in ext:
            result.learning_time = self.text(ext["learningTime"]) or None
        return result

    def _educational_element(self, element: etree._Element, result: _Educational) -> None:
        name = local_name(element).casefold()
        if name == "learningresourcetype":
            source, value = self.vocabulary(element)
            if value:
                result.types.append((source, value))
                if resource_type(value) is None:
                    self.warn("unmapped_vocabulary", _unmapped("resource type", value), element)
        elif name in {"context", "intendedenduserrole"}:
            value = self.vocabulary(element)[1]
            result.add_audience(value)
            if value and name == "context" and education_level(value) is None:
                self.warn("unmapped_vocabulary", _unmapped("context", value), element)
        elif name == "typicalagerange":
            for text in self.texts(element):
                result.add_audience(text)
        elif name == "typicallearningtime":
            result.learning_time = result.learning_time or self.duration(element)
            # "64学时" in its description: class hours, as national profiles write them.
            for text in self.texts(self.child(element, "description")):
                if (match := _CLASS_HOURS_TEXT.search(text)) and result.class_hours is None:
                    result.class_hours = float(match.group(1))

    def _number(self, names: frozenset[str], fallback: float | None) -> float | None:
        """Class hours or credits from ``cf:`` or a national-profile element with that name."""
        if self._numbers is None:  # one walk over the record serves both numbers
            table = _NUMBER_NAMES
            self._numbers = [
                (element, name) for element in self.root.iter() if (name := table[element.tag])
            ]
        for element, name in self._numbers:
            if name in names:
                text = self.text(element)
                if not text:
                    continue
                found = number_of(text)
                if found is None:
                    self.warn("invalid_number", f"{text!r} holds no number", element)
                    continue
                return found
        return fallback

    # --- 6 rights, 7 relation ------------------------------------------------------------

    def _rights(self) -> tuple[License | None, bool | None]:
        rights = self.categories("rights")
        cost = None
        for element in self._all(rights, "cost")[:1]:
            value = self.vocabulary(element)[1]
            cost = _COST.get(value.casefold())
            if cost is None and value:
                self.warn("unknown_cost", f"cost {value!r} is neither yes nor no", element)
        texts = _distinct(t for e in self._all(rights, "description") for t in self.texts(e))
        license_ = license_of(STATEMENT_SEPARATOR.join(texts)) if texts else None
        if license_ is not None:
            fields = license_.model_dump(exclude={"open"})
            for name, key in (("licenseUrl", "url"), ("spdx", "spdx")):
                found = [e for r in rights for e in self.cf(r, name)]
                if found:
                    fields[key] = self.text(found[0]) or None
            license_ = License(**fields)  # built anew: ``open`` follows the final id
        return license_, cost

    def _relations(self) -> list[Relation]:
        result: list[Relation] = []
        for relation in self.categories("relation"):
            kind_element = self.child(relation, "kind")
            kind = None
            if kind_element is not None:
                kind = self.vocabulary(kind_element)[1] or None
            for resource in self.children(relation, "resource"):
                targets = [
                    entry
                    for identifier in self.children(resource, "identifier", "catalogentry")
                    if (entry := self.text(self.child(identifier, "entry")))
                ]
                if not targets:
                    descriptions = self.children(resource, "description")
                    texts = [t for d in descriptions for t in self.texts(d)]
                    targets = texts[:1]
                for target in targets:
                    found = Relation(kind=kind, target=target)
                    if found not in result:
                        result.append(found)
        return result

    # --- 9 classification ----------------------------------------------------------------

    def _classifications(self) -> tuple[list[Subject], list[str], list[str]]:
        """(subjects, education level values, keywords) of every classification."""
        subjects: list[Subject] = []
        levels: list[str] = []
        keywords = list(self._keywords(self._all(self.categories("classification"), "keyword")))
        for classification in self.categories("classification"):
            purpose_element = self.child(classification, "purpose")
            purpose = ""
            if purpose_element is not None:
                purpose = self.vocabulary(purpose_element)[1].casefold()
            for taxon_path in self.children(classification, "taxonpath"):
                source = self.child(taxon_path, "source")
                scheme = scheme_of(self.texts(source))
                for taxon in self.children(taxon_path, "taxon"):
                    code = self.text(self.child(taxon, "id")) or None
                    entries = self.children(taxon, "entry")
                    labels = self.language_map(entries, join=False, clean=clean_html_text)
                    if purpose in LEVEL_PURPOSES:
                        self._level_taxon(taxon, code, labels, levels)
                        continue
                    if purpose in DISCIPLINE_PURPOSES:
                        if not self.cf(taxon, "exactLabels"):
                            labels = subject_labels(code, scheme, labels)
                        subject = Subject(code=code, scheme=scheme, label=labels)
                    else:
                        subject = Subject(label=labels)
                    if (subject.code or subject.label) and subject not in subjects:
                        subjects.append(subject)
        return subjects, levels, keywords

    def _level_taxon(
        self, taxon: etree._Element, code: str | None, labels: LangMap, levels: list[str]
    ) -> None:
        values = [v for v in (code, *labels.values()) if v]
        if level_of(values) is not None:
            levels.extend(values)
        elif values:
            self.warn("unmapped_vocabulary", _unmapped("education level", values[0]), taxon)


@dataclass
class _Educational:
    audiences: list[str] = field(default_factory=list)
    types: list[tuple[str | None, str]] = field(default_factory=list)  # (source, value)
    resource_types: list[str] = field(default_factory=list)
    resource_type: str | None = None
    level: str | None = None
    level_given: bool = False
    learning_time: str | None = None
    class_hours: float | None = None
    extensions: dict[str, etree._Element] = field(default_factory=dict)

    def add_audience(self, value: str) -> None:
        if value and value.casefold() not in {a.casefold() for a in self.audiences}:
            self.audiences.append(value)


# --- small helpers -----------------------------------------------------------------------


def _paragraphs(raw: str) -> str:
    """A description cleaned of HTML, its paragraph breaks (blank lines) kept."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    parts = (clean_html_text(part) for part in _PARAGRAPH.split(text))
    return "\n\n".join(part for part in parts if part)


def _unmapped(what: str, value: str) -> str:
    return f"{what} {value!r} maps to no value of the profile's vocabulary"


def _distinct(items: Iterable[str]) -> list[str]:
    """Non-empty values, the first of those equal but for case, in order."""
    seen: set[str] = set()
    result = []
    for item in items:
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            result.append(item)
    return result


def _distinct_exact(items: Iterable[str]) -> list[str]:
    result: list[str] = []
    for item in items:
        if item and item not in result:
            result.append(item)
    return result


def _earliest(dates: list[str]) -> str | None:
    keyed = [(key, i) for i, d in enumerate(dates) if (key := date_key(d)) is not None]
    if keyed:
        return dates[min(keyed)[1]]
    return dates[0] if dates else None


def _latest(dates: list[str]) -> str | None:
    keyed = [(key, -i) for i, d in enumerate(dates) if (key := date_key(d)) is not None]
    if keyed:
        return dates[-max(keyed)[1]]
    return dates[-1] if dates else None

"""Read simple Dublin Core (``oai_dc``) into the course profile.

Takes the parsed ``<oai_dc:dc>`` element (or the ``<metadata>`` around it) and maps the
15 DC elements.  Tolerated: elements in no namespace, namespaces declared only on the
OAI-PMH root, DC terms (``dcterms:title``) for the same 15 names, HTML escaped once or
twice in descriptions, C1 control codes standing for Windows-1252 punctuation.

Mapping: title/description → language maps; subject → keywords and subjects
(``0812 计算机科学与技术`` → a discipline code); creator/contributor/publisher →
contributors (the first publisher is also the institution); date → created (the
earliest) and dates; type, format, identifier (+ ``url``), source, language,
relation, coverage; rights → licence.  Issues carry ``path`` such as ``dc:language[2]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from metadata.languages import normalise_language
from metadata.profile import Contributor, CourseResource, Issue, LangMap, License, Relation, Subject
from metadata.readers import choose_language, date_key, normalise_date, recognise_license
from metadata.xmlutil import (
    child_elements,
    clean_html_text,
    clean_text,
    local_name,
    namespace,
    text_of,
    xml_lang,
)

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_ELEMENTS = (
    "title", "creator", "subject", "description", "publisher", "contributor", "date",
    "type", "format", "identifier", "source", "language", "relation", "coverage", "rights",
)  # fmt: skip
_DC_NAMESPACES = (DC_NS, DCTERMS_NS, None)

_ROLES = {"creator": "author", "contributor": "contributor", "publisher": "publisher"}
_LIST_SEPARATORS = re.compile(r"\s*[;；]\s*")
_NAME_SEPARATORS = re.compile(r"\s*[;；、，]\s*")
_LANGUAGE_SEPARATORS = re.compile(r"\s*[;,/；，、]\s*")
# A discipline or major code of the national catalogues: 4 digits for a discipline
# (0812) or 6 for a major (080901), academic categories 01-14; vocational majors have 6
# digits from 41 to 79.  Anything else (JEL codes, years, "5548.6") is a keyword.
_CODE = r"(?:(?:0[1-9]|1[0-4])\d{2}(?:\d{2})?|[4-7]\d{5})"
_LABEL = r"[^\W\d_][^()（）]*?"  # starts with a letter or an ideograph
_CODE_FIRST = re.compile(rf"^({_CODE})(?:\s*[-–—:：、·]?\s*[（(]?\s*({_LABEL})\s*[)）]?)?$")
_CODE_LAST = re.compile(rf"^({_LABEL})\s*[（(\[]\s*({_CODE})\s*[)）\]]$")
_FILE_URL = re.compile(
    r"\.(?:pdf|docx?|pptx?|xlsx?|odt|odp|zip|rar|7z|gz|tar|jpe?g|png|gif|svg|tiff?|bmp|"
    r"mp3|mp4|m4a|wav|avi|mov|wmv|flv|mkv|webm|txt|csv|xml|json|epub|swf)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Value:
    name: str  # DC element name
    index: int  # 1-based position among elements of that name
    text: str  # as written (not cleaned)
    lang: str | None  # xml:lang in force

    @property
    def path(self) -> str:
        return f"dc:{self.name}[{self.index}]"


def read_oai_dc(element: etree._Element) -> tuple[CourseResource, list[Issue]]:
    """Map one oai_dc record to a ``CourseResource`` and the issues found reading it."""
    values = _collect(element)
    issues: list[Issue] = []
    if not any(values.values()):
        issues.append(
            Issue(
                severity="warning",
                code="no_dc_elements",
                message=f"no Dublin Core elements inside <{local_name(element)}>",
            )
        )

    languages = _languages(values["language"], issues)
    proper = [lang for lang in languages if normalise_language(lang) == lang]
    distinct = {lang for lang in proper if lang not in {"zxx", "mul", "und"}}
    record_language = distinct.pop() if len(distinct) == 1 else None

    title = _language_map(values["title"], record_language, join=False)
    description = _language_map(values["description"], record_language, join=True, html=True)
    keywords, subjects = _subjects(values["subject"], record_language)
    contributors = _contributors(values)
    publishers = [c.name for c in contributors if c.role == "publisher"]
    created, dates = _dates(values["date"])
    identifiers = _plain(values["identifier"])
    rights = _plain(values["rights"])

    resource = CourseResource(
        title=title,
        description=description,
        keywords=keywords,
        subjects=subjects,
        languages=[lang for lang in languages if lang != "und"],
        resource_types=_plain(values["type"]),
        institution=publishers[0] if publishers else None,
        contributors=contributors,
        license=_license(rights),
        created=created,
        dates=dates,
        formats=_plain(values["format"]),
        identifiers=identifiers,
        url=landing_page(identifiers),
        relations=[Relation(target=value) for value in _plain(values["relation"])],
        sources=_plain(values["source"]),
        coverage=_plain(values["coverage"]),
    )
    return resource, issues


# --- collecting ------------------------------------------------------------------------


def _collect(element: etree._Element) -> dict[str, list[_Value]]:
    container = element
    if local_name(container) == "metadata":  # handed the OAI <metadata> wrapper
        inner = child_elements(container)
        container = inner[0] if inner else container
    candidates = child_elements(container)
    if not any(_is_dc(c) for c in candidates):  # DC nested deeper than usual
        candidates = [c for c in container.iterdescendants() if isinstance(c.tag, str)]
    values: dict[str, list[_Value]] = {name: [] for name in DC_ELEMENTS}
    for child in candidates:
        if not _is_dc(child):
            continue
        name = local_name(child)
        bucket = values[name]
        bucket.append(_Value(name, len(bucket) + 1, text_of(child), xml_lang(child)))
    return values


def _is_dc(element: etree._Element) -> bool:
    return namespace(element) in _DC_NAMESPACES and local_name(element) in DC_ELEMENTS


def _plain(values: list[_Value]) -> list[str]:
    """Cleaned, non-empty, distinct values in document order."""
    return _distinct(clean_text(v.text) for v in values)


def _distinct(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for item in items:
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            result.append(item)
    return result


# --- text in languages -----------------------------------------------------------------


def _language_map(
    values: list[_Value], record_language: str | None, *, join: bool, html: bool = False
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


# --- subjects --------------------------------------------------------------------------


def _subjects(values: list[_Value], record_language: str | None) -> tuple[list[str], list[Subject]]:
    keywords: list[str] = []
    subjects: list[Subject] = []
    seen: set[tuple[str | None, str]] = set()
    for value in values:
        for part in _LIST_SEPARATORS.split(clean_text(value.text)):
            if not part:
                continue
            code, label = discipline_code(part)
            if label:
                keywords.append(label)
            key = (code, label.casefold())
            if key in seen:
                continue
            seen.add(key)
            labels = {choose_language(label, value.lang, record_language): label} if label else {}
            subjects.append(Subject(code=code, label=labels))
    return _distinct(keywords), subjects


def discipline_code(text: str) -> tuple[str | None, str]:
    """Split ``0812 计算机科学与技术`` (or ``计算机科学与技术（0812）``) into code and label.

    Returns ``(None, text)`` when the text carries no discipline code.
    """
    if match := _CODE_FIRST.match(text):
        return match.group(1), (match.group(2) or "").strip()
    if match := _CODE_LAST.match(text):
        return match.group(2), match.group(1).strip()
    return None, text


# --- people and organisations ----------------------------------------------------------


def _contributors(values: dict[str, list[_Value]]) -> list[Contributor]:
    result: list[Contributor] = []
    seen: set[tuple[str, str]] = set()
    for element, role in _ROLES.items():
        for value in values[element]:
            for name in _NAME_SEPARATORS.split(clean_text(value.text)):
                if name and (name.casefold(), role) not in seen:
                    seen.add((name.casefold(), role))
                    result.append(Contributor(name=name, role=role))
    return result


# --- dates, identifiers, languages, rights ---------------------------------------------


def _dates(values: list[_Value]) -> tuple[str | None, list[str]]:
    """(created, other dates): created is the earliest recognisable date, else the first."""
    dates = _plain(values)
    if not dates:
        return None, []
    keyed = [(key, i) for i, value in enumerate(dates) if (key := date_key(value)) is not None]
    chosen = min(keyed)[1] if keyed else 0
    created = normalise_date(dates[chosen])
    return created, [d for i, d in enumerate(dates) if i != chosen]


def landing_page(identifiers: list[str]) -> str | None:
    """The first http(s) identifier that is not a direct link to a file."""
    for identifier in identifiers:
        try:
            parts = urlsplit(identifier)
        except ValueError:
            continue
        is_web = parts.scheme in {"http", "https"} and bool(parts.netloc)
        if is_web and not _FILE_URL.search(parts.path):
            return identifier
    return None


def _languages(values: list[_Value], issues: list[Issue]) -> list[str]:
    """Normalised, distinct languages; unmapped values are kept as given, with a warning."""
    result: list[str] = []
    for value in values:
        text = clean_text(value.text)
        if not text:
            continue
        whole = normalise_language(text)
        parts = _LANGUAGE_SEPARATORS.split(text)
        mapped = [normalise_language(p) for p in parts]
        if whole is not None:
            codes: list[str] = [whole]
        elif len(parts) > 1 and all(mapped):
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


def _license(rights: list[str]) -> License | None:
    if not rights:
        return None
    spdx = next((found for r in rights if (found := recognise_license(r))), None)
    return License(spdx=spdx, text="; ".join(rights))

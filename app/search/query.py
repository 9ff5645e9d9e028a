"""Search filters and sorting: validated values, quoted into Meilisearch filter expressions.

Filter values never reach Meilisearch raw: each is checked against its field's rule
(a vocabulary, a code pattern, or plain text without backslashes or control characters)
and then quoted, so a value such as ``x" OR level = "undergraduate`` stays one value.
Values of one field are ORed; fields are ANDed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.search.documents import OTHER_LICENCE
from metadata.licences import licence_info
from metadata.vocabularies import (
    EDUCATION_LEVELS,
    RESOURCE_TYPES,
    discipline_labels,
    labels_of,
)

LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "zh": ("中文", "Chinese"),
    "en": ("英语", "English"),
    "fr": ("法语", "French"),
    "de": ("德语", "German"),
    "ja": ("日语", "Japanese"),
    "ko": ("韩语", "Korean"),
    "ru": ("俄语", "Russian"),
    "es": ("西班牙语", "Spanish"),
    "pt": ("葡萄牙语", "Portuguese"),
    "nl": ("荷兰语", "Dutch"),
    "cs": ("捷克语", "Czech"),
    "it": ("意大利语", "Italian"),
}


class InvalidFilter(ValueError):
    """A filter or sort value that is not allowed; names the parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class FilterField:
    """``attribute`` is filtered (and faceted, when ``facet``: not people's names, too many);
    a value also matches in ``also`` (ORed)."""

    attribute: str
    rule: str
    check: Callable[[str], bool]
    labels: Callable[[str], dict[str, str]] = lambda _value: {}
    also: tuple[str, ...] = ()
    facet: bool = True


_TEXT_FORBIDDEN = re.compile(r"[\\\x00-\x1f\x7f]")


def _text(value: str) -> bool:
    return 0 < len(value) <= 200 and not _TEXT_FORBIDDEN.search(value)


def _licence_labels(value: str) -> dict[str, str]:
    if value == OTHER_LICENCE:
        return {"zh": "其他许可", "en": "Other licence"}
    info = licence_info(value)
    return {"zh": info.name_zh or value, "en": info.name_en or value} if info else {}


def _licence(value: str) -> bool:
    return value == OTHER_LICENCE or licence_info(value) is not None


def _pattern(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex)
    return lambda value: bool(compiled.fullmatch(value))


FILTERS: dict[str, FilterField] = {
    "subject": FilterField(
        "subject_codes", "a discipline code of 2 to 6 digits", _pattern(r"\d{2,6}"),
        discipline_labels,
    ),
    "level": FilterField(
        "level", f"one of {', '.join(EDUCATION_LEVELS)}", EDUCATION_LEVELS.__contains__,
        lambda value: labels_of(EDUCATION_LEVELS, value),
    ),
    "language": FilterField(
        "languages", "a language tag such as zh or en", _pattern(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*"),
        lambda value: labels_of(LANGUAGE_NAMES, value),
    ),
    # An institution id (the facet's values); an institution's name is accepted too.
    "institution": FilterField(
        "institution_id", "an institution id or name", _text, also=("institution_names",),
    ),
    "license": FilterField(
        "license", f"an SPDX licence id, all-rights-reserved or {OTHER_LICENCE}", _licence,
        _licence_labels,
    ),
    "type": FilterField(
        "type", f"one of {', '.join(RESOURCE_TYPES)}", RESOURCE_TYPES.__contains__,
        lambda value: labels_of(RESOURCE_TYPES, value),
    ),
    "source": FilterField("source", "a source slug", _pattern(r"[a-z0-9][a-z0-9-]{0,62}")),
    "teacher": FilterField("teachers", "a teacher's name", _text, facet=False),
}  # fmt: skip
"""Query parameter → the document attribute it filters and how its values are checked."""

SORTS: dict[str, list[str]] = {
    "relevance": [],
    "newest": ["modified:desc"],
    "oldest": ["modified:asc"],
    "title": ["title:asc"],
    "title_desc": ["title:desc"],
}


def quote(value: str) -> str:
    """A Meilisearch filter string literal."""
    return '"' + value.replace('"', '\\"') + '"'


def filter_expression(filters: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Meilisearch's array form: the outer list is ANDed, each inner list ORed."""
    expression = []
    for parameter, values in filters.items():
        field = FILTERS.get(parameter)
        if field is None:
            raise InvalidFilter(parameter, f"unknown filter {parameter!r}")
        clause: list[str] = []
        for value in dict.fromkeys(values):
            if not field.check(value):
                raise InvalidFilter(parameter, f"{value[:100]!r} is not {field.rule}")
            clause.extend(f"{name} = {quote(value)}" for name in (field.attribute, *field.also))
        if clause:
            expression.append(clause)
    return expression


def any_of(attribute: str, values: Iterable[str]) -> list[str]:
    """An ORed clause: ``attribute`` equals one of ``values``.  Values that are not plain
    text (see ``FILTERS``' text rule) are left out, so none can change the filter."""
    return [f"{attribute} = {quote(value)}" for value in dict.fromkeys(values) if _text(value)]


def none_of(attribute: str, values: Iterable[str]) -> str | None:
    """``attribute`` is none of ``values`` (plain text only, as in ``any_of``)."""
    kept = [quote(value) for value in dict.fromkeys(values) if _text(value)]
    return f"{attribute} NOT IN [{', '.join(kept)}]" if kept else None


OPEN_FILTER = "license_open = true"
"""The ``open=true`` switch: open licences only (``metadata.licences`` says which are)."""


def sort_expression(sort: str) -> list[str]:
    if sort not in SORTS:
        raise InvalidFilter("sort", f"sort must be one of {', '.join(SORTS)}")
    return SORTS[sort]


def facet_values(
    parameter: str,
    distribution: Mapping[str, int],
    labels: Callable[[str], dict[str, str]] | None = None,
) -> list[dict[str, object]]:
    """Facet values with their counts and bilingual labels, most frequent first.

    ``labels`` overrides the field's own (institution names live in the database).
    """
    labels = labels or FILTERS[parameter].labels
    ordered = sorted(distribution.items(), key=lambda item: (-item[1], item[0]))
    return [{"value": value, "count": count, "label": labels(value)} for value, count in ordered]


MAX_VALUES = 20
"""Values one filter may be given at once (a learner or a program picks a few)."""


def chosen_filters(
    filters: Mapping[str, Sequence[str]], names: Iterable[str]
) -> dict[str, tuple[str, ...]]:
    """The non-empty values of the filters ``names``, each once, in their order, checked by
    ``FILTERS``; ``InvalidFilter`` names the first parameter that is wrong."""
    chosen: dict[str, tuple[str, ...]] = {}
    for name in names:
        values = tuple(dict.fromkeys(value for value in filters.get(name, ()) if value))
        if len(values) > MAX_VALUES:
            raise InvalidFilter(name, f"at most {MAX_VALUES} values")
        for value in values:
            if not FILTERS[name].check(value):
                raise InvalidFilter(name, f"{value[:100]!r} is not {FILTERS[name].rule}")
        if values:
            chosen[name] = values
    return chosen

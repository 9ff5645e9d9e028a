"""What the statistics page shows, as data (no I/O): each dimension's rows as words in the
page's language with their counts and the search that lists them, and the months courses
were added in, gaps included.  The template makes the charts and tables from them
(``templates/stats.html``, ``_charts.html``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from app.search.schemas import FacetValue
from app.stats.service import CatalogueStats, Dimension
from app.web import results
from app.web.i18n import Text

CHART_ROWS = 15
"""A dimension with more values than ``LONG`` charts its first ``CHART_ROWS`` (the table
below lists them all)."""
LONG = 20

RowKind = Literal["value", "not_stated", "others"]


@dataclass(frozen=True)
class Row:
    """One line of a dimension: a value (``label`` in words), or the courses without one
    (``not_stated``), or those whose value is not listed (``others``); the template names
    the last two."""

    kind: RowKind
    label: Text
    count: int
    href: str | None = None


@dataclass(frozen=True)
class Section:
    """One dimension as the page shows it."""

    name: str
    rows: list[Row] = field(default_factory=list)

    @property
    def values(self) -> int:
        """How many values it lists (not counting "not stated" and "others")."""
        return sum(row.kind == "value" for row in self.rows)

    @property
    def long(self) -> bool:
        return len(self.rows) > LONG

    def charted(self) -> list[Row]:
        """The rows its chart draws: all of them, or the first ``CHART_ROWS`` values."""
        if not self.long:
            return self.rows
        return [row for row in self.rows if row.kind == "value"][:CHART_ROWS]

    def items(self, not_stated: str, others: str) -> list[tuple[Text, int]]:
        """The chart's (label, count) items, with the words for the two kinds of remainder."""
        words = {"not_stated": Text(not_stated, ""), "others": Text(others, "")}
        return [(words.get(row.kind, row.label), row.count) for row in self.charted()]

    def links(self) -> list[str | None]:
        return [row.href for row in self.charted()]


def _row(dimension: Dimension, value: FacetValue, lang: str, page_lang: str | None) -> Row:
    filter_name = "subject" if dimension.name in {"category", "discipline"} else dimension.name
    if dimension.name == "open":
        label = results.value_label("open", value.value, value.label, lang)
    elif dimension.name == "added":
        label = Text(value.value, "")
    else:
        label = results.value_label(filter_name, value.value, value.label, lang)
    wanted = dimension.search_value(value.value)
    href = None
    if dimension.filter == "open" and wanted is not None:
        href = results.SearchState(open_only=True, lang=page_lang).url()
    elif dimension.filter is not None and wanted is not None:
        href = results.SearchState(filters={dimension.filter: (wanted,)}, lang=page_lang).url()
    return Row("value", label, value.count, href)


def section(dimension: Dimension, lang: str, page_lang: str | None = None) -> Section:
    """A dimension's rows in ``lang``: its values, then the courses without one and those
    not listed.  ``page_lang`` is the ``lang`` parameter the page's links keep, if any."""
    rows = [_row(dimension, value, lang, page_lang) for value in dimension.values]
    if dimension.not_stated:
        rows.append(Row("not_stated", Text("", ""), dimension.not_stated))
    if dimension.others:
        rows.append(Row("others", Text("", ""), dimension.others))
    return Section(dimension.name, rows)


def sections(stats: CatalogueStats, lang: str, page_lang: str | None = None) -> dict[str, Section]:
    """Every dimension but the months, by name."""
    return {
        name: section(dimension, lang, page_lang)
        for name, dimension in stats.dimensions.items()
        if name != "added"
    }


def months(values: Sequence[FacetValue]) -> list[tuple[str, dict[str, int]]]:
    """Courses added per month, from the first month to the last, months without any
    included (0), as points of a time series (series ``added``)."""
    counts = {v.value: v.count for v in values if _month(v.value) is not None}
    if not counts:
        return []
    first, last = (_month(key) for key in (min(counts), max(counts)))
    assert first is not None and last is not None  # noqa: S101 - read above
    year, month = first
    points = []
    while (year, month) <= last:
        key = f"{year:04d}-{month:02d}"
        points.append((key, {"added": counts.get(key, 0)}))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return points


def _month(value: str) -> tuple[int, int] | None:
    year, _, month = value.partition("-")
    if len(year) == 4 and year.isdigit() and month.isdigit() and 1 <= int(month) <= 12:
        return int(year), int(month)
    return None

"""Charts as data: the geometry of bar charts and time series, worked out here (pure, no I/O).

``bar_chart`` makes horizontal bars (one per label, the label on its own line above its bar,
so long names fit a phone), ``time_series`` columns (grouped or stacked) or lines over
x labels for several named series.  Both return frozen dataclasses holding every coordinate
in the units of a fixed ``viewBox`` (``VIEW_WIDTH`` wide); ``templates/_charts.html`` draws
them as inline SVG scaled to the width of the page, with a ``<title>``, a ``<desc>`` and a
table of the same numbers.  Colour is never the only cue: bars and columns carry their
value as text where it fits, series are told apart by fill patterns, line dashes and
marker shapes named in a legend, and the table always holds every number.

Text widths are estimates (a CJK character is one em, other characters about half), enough
to lay out labels and to shorten one that would not fit; the table keeps it whole.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

VIEW_WIDTH = 360.0
"""Width of every chart's viewBox; the SVG is scaled to the width it is given."""
FONT = 15.0
SMALL = 13.0
SERIES_STYLES = 6
"""Series are styled (colour, pattern, dash, marker) in a cycle of this many."""

Number = int | float
Format = Callable[[float], str]
SeriesKind = Literal["columns", "stacked", "lines"]

# Bar chart rows: the label's baseline, then the bar below it.
_ROW = 44.0
_LABEL_BASELINE = 15.0
_BAR_TOP = 20.0
_BAR_HEIGHT = 16.0
_VALUE_GAP = 6.0
# Time series: plot height, tick and label room.
_PLOT_HEIGHT = 200.0
_LEGEND_ROW = 22.0
_X_LABELS = 30.0
_TICKS = 5


_BROAD = frozenset("%@MW")
"""Narrow-width characters as broad as a wide one in common faces."""


def text_width(text: str, size: float = FONT) -> float:
    """About how wide ``text`` is at font ``size``: wide (CJK) characters and ``_BROAD``
    ones one em, others 0.6 em (digits and Latin letters in a sans-serif face)."""
    ems = sum(
        1.0 if ch in _BROAD or unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text
    )
    return ems * size


def fit(text: str, width: float, size: float = FONT) -> str:
    """``text`` shortened with an ellipsis so it takes at most ``width`` at ``size``."""
    if text_width(text, size) <= width:
        return text
    kept = ""
    for ch in text:
        if text_width(kept + ch + "…", size) > width:
            break
        kept += ch
    return kept.rstrip() + "…"


def plain_number(value: float) -> str:
    """A number with thousands separators; fractions to two places (0.83, 1,234)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def nice_ticks(top: float, count: int = _TICKS) -> list[float]:
    """Round tick values from 0 to at least ``top`` (steps of 1, 2 or 5 × 10ⁿ), about
    ``count`` of them after zero."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    steps = math.ceil(top / step - 1e-9)
    return [round(i * step, 10) for i in range(steps + 1)]


def _chart_id(kind: str, title: str, content: object) -> str:
    digest = hashlib.sha256(f"{kind}\x00{title}\x00{content!r}".encode()).hexdigest()
    return f"chart-{digest[:10]}"


def _checked(value: Number) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"a chart shows counts and measures of zero or more, not {value!r}")
    return number


@dataclass(frozen=True)
class Label:
    """A text and the language it is in (``""``: the page's), for ``lang`` attributes."""

    text: str
    lang: str = ""


def _label(value: object) -> Label:
    """A label from a string, or from a text that knows its language (``i18n.Text``)."""
    return Label(str(value), str(getattr(value, "lang", "") or ""))


# --- bar charts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One bar: its label (``shown``: shortened to fit the chart; ``label``: whole), value
    and where each piece goes."""

    label: Label
    shown: str
    value: float
    text: str  # the value as written, with its unit
    href: str | None
    label_y: float  # baseline of the label
    y: float  # top of the bar
    width: float
    value_x: float  # start of the value's text
    value_y: float  # its baseline
    row_y: float  # top of the row (label and bar): the area a click on the bar takes
    row_height: float


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars, one per item, in the order given."""

    id: str
    title: str
    description: str
    unit: str
    bars: tuple[Bar, ...]
    width: float
    height: float
    bar_height: float
    label_heading: str = ""
    value_heading: str = ""
    kind: Literal["bars"] = "bars"

    @property
    def empty(self) -> bool:
        return not self.bars

    @property
    def linked(self) -> bool:
        return any(bar.href for bar in self.bars)


def bar_chart(
    items: Sequence[tuple[object, Number]],
    *,
    title: str,
    unit: str = "",
    links: Sequence[str | None] = (),
    format: Format = plain_number,
    description: str = "",
    label_heading: str = "",
    value_heading: str = "",
    chart_id: str = "",
) -> BarChart:
    """Bars for ``(label, value)`` items, longest for the largest value.

    ``links`` (same order, ``None`` for none) makes a bar and its table row lead somewhere;
    ``format`` writes numbers (the page's grouping); ``description`` is the ``<desc>``
    (by default the items as "label: value" pairs).  A label may be a ``str`` or a text
    with a ``lang`` (shown in a foreign language).  Raises ``ValueError`` for a negative or
    non-finite value, or for more links than items.
    """
    if len(links) > len(items):
        raise ValueError("more links than items")
    values = [_checked(value) for _, value in items]
    labels = [_label(label) for label, _ in items]
    texts = [_with_unit(format(value), unit) for value in values]
    widest_text = max((text_width(text, SMALL) for text in texts), default=0.0)
    room = VIEW_WIDTH - widest_text - _VALUE_GAP - 2
    top = max(values, default=0.0)
    bars = []
    for position, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        y = position * _ROW
        length = room * value / top if top > 0 else 0.0
        # A bar of a count that is not zero is seen, however small beside the largest.
        length = max(length, 2.0) if value > 0 else 0.0
        bars.append(
            Bar(
                label=label,
                shown=fit(label.text, VIEW_WIDTH),
                value=value,
                text=text,
                href=links[position] if position < len(links) else None,
                label_y=y + _LABEL_BASELINE,
                y=y + _BAR_TOP,
                width=round(length, 2),
                value_x=round(length + _VALUE_GAP, 2),
                value_y=y + _BAR_TOP + _BAR_HEIGHT - 3,
                row_y=y,
                row_height=_BAR_TOP + _BAR_HEIGHT + 2,
            )
        )
    if not description:
        description = "; ".join(f"{bar.label.text}: {bar.text}" for bar in bars)
    return BarChart(
        id=chart_id or _chart_id("bars", title, items),
        title=title,
        description=description,
        unit=unit,
        bars=tuple(bars),
        width=VIEW_WIDTH,
        height=max(len(bars) * _ROW, _ROW) - (_ROW - _BAR_TOP - _BAR_HEIGHT - 4),
        bar_height=_BAR_HEIGHT,
        label_heading=label_heading,
        value_heading=value_heading or unit,
    )


# --- time series -------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One value of one series at one x: a column (or a stacked segment) or a line point."""

    series: int  # index into the chart's series: its style
    value: float
    text: str
    x: float  # a column's left edge; a point's centre
    y: float  # a column's top; a point's centre
    width: float  # a column's width; 0 for a point
    height: float  # a column's height; 0 for a point
    label: bool  # whether the value is written by it (when it fits)


@dataclass(frozen=True)
class Point:
    """One x label with its marks."""

    label: Label
    shown: bool  # whether the axis writes the label (crowded axes write every n-th)
    x: float  # centre of its band
    label_x: float  # where the axis label is anchored
    anchor: Literal["start", "middle", "end"]  # its text-anchor (the last one may end at the edge)
    marks: tuple[Mark, ...]
    values: tuple[str, ...]  # each series' value as written, in series order (the table)
    total: str  # a stack's total as written ("" unless stacked)
    total_y: float


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    style: int  # 0 … SERIES_STYLES - 1
    path: str  # for lines: the polyline's points


@dataclass(frozen=True)
class Tick:
    value: float
    text: str
    y: float


@dataclass(frozen=True)
class SeriesChart:
    """Values of named series over x labels (dates, runs): columns, stacked or lines."""

    id: str
    title: str
    description: str
    unit: str
    style: SeriesKind
    series: tuple[Series, ...]
    points: tuple[Point, ...]
    ticks: tuple[Tick, ...]
    width: float
    height: float
    plot_left: float
    plot_top: float
    plot_bottom: float
    legend: tuple[tuple[Series, float, float], ...]  # (series, x, y) of each legend entry
    x_heading: str = ""
    kind: Literal["series"] = "series"

    @property
    def empty(self) -> bool:
        return not self.points

    @property
    def plot_right(self) -> float:
        return self.width


def time_series(
    points: Sequence[tuple[object, Mapping[str, Number]]],
    *,
    title: str,
    series: Sequence[str],
    names: Mapping[str, str] | None = None,
    style: SeriesKind = "columns",
    unit: str = "",
    format: Format = plain_number,
    y_max: float | None = None,
    description: str = "",
    x_heading: str = "",
    chart_id: str = "",
) -> SeriesChart:
    """A chart of ``points`` — (x label, {series key: value}) in x order — for the
    ``series`` keys given (a key a point lacks counts 0); ``names`` gives each key's shown
    name (by default the key).  ``style``: ``columns`` side by side, ``stacked`` one
    column per x, or ``lines``.  ``y_max`` fixes the top of the axis (1 for shares).
    Raises ``ValueError`` for a negative or non-finite value, or no series."""
    if not series:
        raise ValueError("a time series needs at least one series")
    names = names or {}
    rows = [
        (_label(label), [_checked(values.get(key, 0)) for key in series])
        for label, values in points
    ]
    totals = [sum(values) for _, values in rows]
    peak = max((max(values) for _, values in rows), default=0.0)
    top = y_max if y_max is not None else (max(totals, default=0.0) if style == "stacked" else peak)
    ticks = nice_ticks(top)
    axis_top = ticks[-1]

    places = _legend_places([names.get(key, key) for key in series])
    plot_top = places[-1][1] + _LEGEND_ROW + 8
    tick_texts = [_with_unit(format(value), unit) for value in ticks]
    # The tick labels end 6 units left of the plot; keep 6 more so the widest is whole.
    plot_left = max(text_width(text, SMALL) for text in tick_texts) + 12
    plot_bottom = plot_top + _PLOT_HEIGHT
    plot_width = VIEW_WIDTH - plot_left
    band = plot_width / max(len(rows), 1)

    def y_of(value: float) -> float:
        return plot_bottom - _PLOT_HEIGHT * min(value, axis_top) / axis_top

    # Write every n-th x label so that none overlaps the next.
    widest = max((text_width(label.text, SMALL) for label, _ in rows), default=0.0)
    every = max(1, math.ceil((widest + 6) / band)) if rows else 1

    # Values are written by their marks when the widest of them fits (then all are).
    all_texts = [[_with_unit(format(value), unit) for value in values] for _, values in rows]
    widest_value = max((text_width(t, SMALL * 0.85) for ts in all_texts for t in ts), default=0)
    room = {"columns": band * 0.8 / len(series), "stacked": 0.0, "lines": band}[style]
    write = widest_value + 2 <= room and (style != "lines" or len(series) == 1)

    chart_points = []
    lines: list[list[str]] = [[] for _ in series]
    for position, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        left = plot_left + position * band
        centre = left + band / 2
        texts = tuple(all_texts[position])
        marks = _marks(
            style, values, texts, left=left, band=band, y_of=y_of, bottom=plot_bottom, write=write
        )
        if style == "lines":
            for index, mark in enumerate(marks):
                lines[index].append(f"{mark.x},{mark.y}")
        total_text = _with_unit(format(total), unit) if style == "stacked" else ""
        half = text_width(label.text, SMALL) / 2
        anchor: Literal["start", "middle", "end"] = "middle"
        label_x = centre
        if centre + half > VIEW_WIDTH:
            anchor, label_x = "end", VIEW_WIDTH
        elif centre - half < 0:
            anchor, label_x = "start", 0.0
        chart_points.append(
            Point(
                label=label,
                shown=position % every == 0,
                x=round(centre, 2),
                label_x=round(label_x, 2),
                anchor=anchor,
                marks=marks,
                values=texts,
                total=total_text if text_width(total_text, SMALL * 0.85) + 2 <= band else "",
                total_y=round(y_of(total) - 4, 2),
            )
        )
    final_series = tuple(
        Series(key, names.get(key, key), index % SERIES_STYLES, " ".join(lines[index]))
        for index, key in enumerate(series)
    )
    legend = [(entry, lx, ly) for entry, (lx, ly) in zip(final_series, places, strict=True)]
    if not description:
        description = "; ".join(
            f"{point.label.text}: "
            + ", ".join(
                f"{entry.name} {text}"
                for entry, text in zip(final_series, point.values, strict=True)
            )
            for point in chart_points
        )
    return SeriesChart(
        id=chart_id or _chart_id(style, title, (points, tuple(series))),
        title=title,
        description=description,
        unit=unit,
        style=style,
        series=final_series,
        points=tuple(chart_points),
        ticks=tuple(
            Tick(value, text, round(y_of(value), 2))
            for value, text in zip(ticks, tick_texts, strict=True)
        ),
        width=VIEW_WIDTH,
        height=plot_bottom + _X_LABELS,
        plot_left=round(plot_left, 2),
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        legend=tuple(legend),
        x_heading=x_heading,
    )


def _legend_places(names: Sequence[str]) -> list[tuple[float, float]]:
    """Where each legend entry (a swatch, then the name) starts, in rows that wrap."""
    places: list[tuple[float, float]] = []
    x, y = 0.0, 0.0
    for name in names:
        entry_width = 22 + text_width(name, SMALL) + 14
        if x > 0 and x + entry_width > VIEW_WIDTH:
            x, y = 0.0, y + _LEGEND_ROW
        places.append((x, y))
        x += entry_width
    return places


def _marks(
    style: SeriesKind,
    values: Sequence[float],
    texts: Sequence[str],
    *,
    left: float,
    band: float,
    y_of: Callable[[float], float],
    bottom: float,
    write: bool,
) -> tuple[Mark, ...]:
    """The marks of one x band (``left``, ``band`` wide) in ``style``; ``write``: whether
    each value is written by its mark."""
    marks = []
    base = bottom  # stacked: the top of the segment below
    running = 0.0
    column = band * 0.8 / len(values)
    for index, (value, text) in enumerate(zip(values, texts, strict=True)):
        if style == "columns":
            top = y_of(value)
            x, width, height = left + band * 0.1 + index * column, column, bottom - top
        elif style == "stacked":
            running += value
            top = y_of(running)
            x, width, height = left + band * 0.15, band * 0.7, base - top
            base = top
        else:
            top = y_of(value)
            x, width, height = left + band / 2, 0.0, 0.0
        marks.append(
            Mark(
                series=index % SERIES_STYLES,
                value=value,
                text=text,
                x=round(x, 2),
                y=round(top, 2),
                width=round(width, 2),
                height=round(height, 2),
                label=write,
            )
        )
    return tuple(marks)

"""The catalogue's public statistics: courses by every dimension a learner filters on, by the
month they were added, and the files held with the health of their links.

The course counts are the search engine's facets over the whole index (``app.search``:
the counts ``GET /api/v1/search`` gives the same values); the files come from the objects
domain.  Computing them costs one multi-search and two counting queries, so the answer is
kept in memory for ``MAX_AGE`` seconds; an older copy (up to ``STALE_LIMIT``) is answered
at once while a thread of its own computes the next, so a request never waits on the
counting but the first.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.engine import Engine

from app.clock import utcnow
from app.db import session_scope
from app.institutions import service as institutions
from app.objects import service as objects
from app.search import service as search
from app.search.gateway import SearchError, SearchIndex
from app.search.schemas import FacetValue
from app.sources import service as sources

log = logging.getLogger(__name__)

MAX_AGE = 30.0
"""Seconds a computed answer is served as it is."""
STALE_LIMIT = 600.0
"""Seconds an older answer is still served while the next is computed."""

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip


@dataclass(frozen=True)
class Dimension:
    """Courses counted by one dimension.

    ``filter``: the search parameter that keeps courses with a value (``None`` when the
    search has none).  ``not_stated``: courses without a value (``None`` when not known).
    ``others``: courses whose value is not listed, because only the most frequent values
    are (``complete`` is then false); ``None`` where a course may have several values.
    """

    name: str
    label: Mapping[str, str]
    filter: str | None
    values: list[FacetValue]
    not_stated: int | None = 0
    others: int | None = 0
    complete: bool = True

    def search_value(self, value: str) -> str | None:
        """The value of ``filter`` that keeps courses with ``value``, if there is one."""
        if self.filter is None:
            return None
        if self.filter == "open":
            return "true" if value == "true" else None
        return value


@dataclass(frozen=True)
class CatalogueStats:
    """Everything the statistics show, at one moment."""

    total: int
    dimensions: dict[str, Dimension]
    files: objects.Holdings = field(default_factory=objects.Holdings)
    computed_at: datetime = field(default_factory=utcnow)


# name → (zh, en), in the order the statistics show them.
DIMENSIONS: dict[str, tuple[str, str]] = {
    "category": ("学科门类", "Discipline category"),
    "discipline": ("一级学科", "Discipline"),
    "level": ("教育层次", "Level"),
    "type": ("资源类型", "Resource type"),
    "language": ("语言", "Language"),
    "institution": ("院校", "Institution"),
    "open": ("开放许可", "Open licence"),
    "license": ("许可协议", "Licence"),
    "source": ("来源", "Source"),
    "added": ("收录月份", "Month added"),
}


def month_labels(value: str) -> dict[str, str]:
    """``2026-03`` → 2026年3月 / March 2026 (a value of another form is its own label)."""
    year, _, month = value.partition("-")
    if not (year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
        return {"zh": value, "en": value}
    return {"zh": f"{year}年{int(month)}月", "en": f"{MONTHS_EN[int(month) - 1]} {year}"}


def _dimension(name: str, counted: search.FacetCount, filter_name: str | None) -> Dimension:
    zh, en = DIMENSIONS[name]
    return Dimension(
        name=name,
        label={"zh": zh, "en": en},
        filter=filter_name,
        values=counted.values,
        not_stated=counted.missing,
        others=counted.others,
        complete=counted.complete,
    )


def compute_stats(engine: Engine, index: SearchIndex, uid: str) -> CatalogueStats:
    """The statistics now (no cache).  Raises ``SearchError`` (``SearchUnavailable`` when
    Meilisearch cannot be reached)."""
    with session_scope(engine) as session:
        source_names = {source.slug: source.name for source in sources.list_sources(session)}
        files = objects.holdings(session)

    def source_labels(slug: str) -> dict[str, str]:
        name = source_names.get(slug)
        return {"zh": name, "en": name} if name else {}

    labels: dict[str, Callable[[str], dict[str, str]]] = {
        "institution": institutions.facet_labels(engine),
        "source": source_labels,
        "added": month_labels,
    }
    counts = search.catalogue_counts(index, uid, labels=labels)
    facets = counts.facets
    subject = facets.get("subject", search.FacetCount())
    by_length = {n: [v for v in subject.values if len(v.value) == n] for n in (2, 4)}
    added = facets.get("added", search.FacetCount())
    dimensions = {
        "category": _dimension("category", replace(subject, values=by_length[2]), "subject"),
        # A course may name a category only: how many name no discipline is not counted.
        "discipline": replace(
            _dimension("discipline", replace(subject, values=by_length[4]), "subject"),
            not_stated=None,
        ),
        **{
            name: _dimension(name, facets.get(name, search.FacetCount()), name)
            for name in ("level", "type", "language", "institution", "open", "license", "source")
        },
        # In time order.
        "added": _dimension(
            "added", replace(added, values=sorted(added.values, key=lambda v: v.value)), None
        ),
    }
    return CatalogueStats(total=counts.total, dimensions=dimensions, files=files)


# --- the copy in memory ----------------------------------------------------------------------

_lock = threading.Lock()
_copies: dict[tuple[str, str, int], tuple[float, CatalogueStats]] = {}
_refreshing: set[tuple[str, str, int]] = set()


def forget() -> None:
    """Drop every copy: the next request counts again."""
    with _lock:
        _copies.clear()


def catalogue_stats(
    engine: Engine, index: SearchIndex, uid: str, *, max_age: float = MAX_AGE
) -> CatalogueStats:
    """The statistics, from the copy in memory when it is at most ``max_age`` seconds old;
    a copy older than that (up to ``STALE_LIMIT``) is answered while the next is computed
    in the background.  Raises ``SearchError`` as ``compute_stats`` does when there is no
    copy to answer with."""
    key = (index.url, uid, id(engine))
    with _lock:
        taken, held = _copies.get(key, (float("-inf"), None))
        age = time.monotonic() - taken
        refresh = held is not None and max_age < age <= STALE_LIMIT and key not in _refreshing
        if refresh:
            _refreshing.add(key)
    if held is not None and age <= max_age:
        return held
    if held is not None and age <= STALE_LIMIT:
        if refresh:
            threading.Thread(
                target=_refresh, args=(key, engine, index, uid), daemon=True, name="stats"
            ).start()
        return held
    stats = compute_stats(engine, index, uid)
    with _lock:
        _copies[key] = (time.monotonic(), stats)
    return stats


def _refresh(key: tuple[str, str, int], engine: Engine, index: SearchIndex, uid: str) -> None:
    try:
        stats = compute_stats(engine, index, uid)
    except SearchError:
        log.warning("the statistics could not be counted again; the last copy stays")
    else:
        with _lock:
            _copies[key] = (time.monotonic(), stats)
    finally:
        with _lock:
            _refreshing.discard(key)


# --- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = ("dimension", "value", "label_zh", "label_en", "count")
NOT_STATED = "(none)"
OTHERS = "(others)"
_FILE_ROWS = {
    ("files", "held"): ("保存的文件", "Files held"),
    ("files", "bytes"): ("保存的字节数", "Bytes held"),
}
_OBJECT_LABELS = {
    "stored": ("已保存", "Stored"),
    "pending": ("等待获取", "Waiting to be fetched"),
    "failed": ("获取失败", "Could not be fetched"),
    "too_large": ("文件过大", "Too large"),
    "not_allowed": ("类型不允许", "Type not allowed"),
    "unsupported": ("不支持的地址", "Address not supported"),
}
_LINK_LABELS = {
    "ok": ("链接正常", "Link works"),
    "broken": ("链接失效", "Link broken"),
    "unchecked": ("尚未检查", "Not checked yet"),
}


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text: one starting like a formula (``=``, ``+``, ``-``,
    ``@``, a tab or a return; names come from records) gets a leading apostrophe."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def csv_rows(stats: CatalogueStats) -> Iterator[tuple[str, str, str, str, int]]:
    """The statistics as tidy rows (dimension, value, label_zh, label_en, count); see
    ``docs/statistics.md``."""
    yield ("total", "", "全部课程", "All courses", stats.total)
    for dimension in stats.dimensions.values():
        for item in dimension.values:
            zh, en = _cell(item.label.get("zh", "")), _cell(item.label.get("en", ""))
            yield (dimension.name, _cell(item.value), zh or en, en or zh, item.count)
        if dimension.not_stated:
            yield (dimension.name, NOT_STATED, "未注明", "Not stated", dimension.not_stated)
        if dimension.others:
            yield (dimension.name, OTHERS, "其他", "Others", dimension.others)
    files = stats.files
    for (name, key), (zh, en) in _FILE_ROWS.items():
        yield (name, key, zh, en, files.files if key == "held" else files.bytes)
    for status, count in sorted(files.objects.items()):
        zh, en = _OBJECT_LABELS.get(status, (status, status))
        yield ("objects", status, zh, en, count)
    for status, count in files.links.items():
        zh, en = _LINK_LABELS.get(status, (status, status))
        yield ("links", status, zh, en, count)


def stats_csv(stats: CatalogueStats) -> str:
    """The statistics as one CSV text (header first, CRLF line ends as RFC 4180 has)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(stats))
    return out.getvalue()

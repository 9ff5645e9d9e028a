"""Addresses of the catalogue files and the feeds for a selection (pure): the pages link
them, the feeds name themselves by them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal
from urllib.parse import urlencode

from app.publication.selection import SELECTION_FILTERS

FEED_PATH = "/feeds/courses.atom"
FILE_PATHS = {"csv": "/api/v1/catalogue.csv", "json": "/api/v1/catalogue.json"}
Format = Literal["csv", "json"]


def _pairs(
    filters: Mapping[str, Sequence[str]], open_only: bool, q: str = ""
) -> list[tuple[str, str]]:
    pairs = [("q", q)] if q else []
    pairs += [(name, value) for name in SELECTION_FILTERS for value in filters.get(name, ())]
    if open_only:
        pairs.append(("open", "true"))
    return pairs


def feed_url(
    *,
    q: str = "",
    filters: Mapping[str, Sequence[str]] | None = None,
    open_only: bool = False,
    lang: str | None = None,
) -> str:
    """The feed of new courses matching a search (``lang``: its words' language; Chinese
    without one)."""
    pairs = _pairs(filters or {}, open_only, q)
    if lang and lang != "zh":
        pairs.append(("lang", lang))
    return FEED_PATH + (f"?{urlencode(pairs)}" if pairs else "")


def file_url(
    fmt: Format,
    *,
    month: str | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
    open_only: bool = False,
) -> str:
    """A catalogue file: the courses first harvested in ``month`` (or ever) that pass the
    filters."""
    pairs = [("month", month)] if month else []
    pairs += _pairs(filters or {}, open_only)
    return FILE_PATHS[fmt] + (f"?{urlencode(pairs)}" if pairs else "")


def search_url(
    *,
    q: str = "",
    filters: Mapping[str, Sequence[str]] | None = None,
    open_only: bool = False,
    lang: str | None = None,
) -> str:
    """The results page of the same search."""
    pairs = _pairs(filters or {}, open_only, q)
    if lang and lang != "zh":
        pairs.append(("lang", lang))
    return "/search" + (f"?{urlencode(pairs)}" if pairs else "")

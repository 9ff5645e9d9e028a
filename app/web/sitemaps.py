"""Sitemap XML (sitemaps.org 0.9): an index of child sitemaps, and child sitemaps whose
URLs carry ``<lastmod>`` and ``xhtml:link`` hreflang alternates.

Pure: entries in, bytes out.  A child is written as chunks of a thousand URLs, so a
child of 50,000 (the protocol's limit, 20 MB or so with alternates) is sent as it is
written.  Every value is XML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from xml.sax.saxutils import escape

MAX_URLS = 50_000  # per child sitemap, and children per index
MEDIA_TYPE = "application/xml"
CHUNK = 1000  # URLs per chunk sent

_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_URLSET = (
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    b' xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
)
_INDEX = b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
_ATTRIBUTE = {'"': "&quot;"}


@dataclass(frozen=True)
class Entry:
    """One ``<url>`` (or one child in an index): its address, last change, alternates."""

    loc: str
    lastmod: datetime | None = None
    alternates: tuple[tuple[str, str], ...] = ()  # (hreflang, href)


def w3c_datetime(moment: datetime) -> str:
    """``2026-12-07T04:05:06Z``; a moment without a zone is UTC (as the database keeps it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lastmod(entry: Entry) -> str:
    return f"<lastmod>{w3c_datetime(entry.lastmod)}</lastmod>" if entry.lastmod else ""


def _url(entry: Entry) -> str:
    links = "".join(
        f'<xhtml:link rel="alternate" hreflang="{escape(lang, _ATTRIBUTE)}"'
        f' href="{escape(href, _ATTRIBUTE)}"/>'
        for lang, href in entry.alternates
    )
    return f"<url><loc>{escape(entry.loc)}</loc>{_lastmod(entry)}{links}</url>\n"


def urlset(entries: Iterable[Entry]) -> Iterator[bytes]:
    """A child sitemap, chunk by chunk."""
    yield _HEAD + _URLSET
    remaining = iter(entries)
    while chunk := "".join(map(_url, islice(remaining, CHUNK))):
        yield chunk.encode()
    yield b"</urlset>\n"


def index(children: Iterable[Entry]) -> bytes:
    """A sitemap index naming each child sitemap."""
    body = "".join(
        f"<sitemap><loc>{escape(child.loc)}</loc>{_lastmod(child)}</sitemap>\n"
        for child in children
    )
    return _HEAD + _INDEX + body.encode() + b"</sitemapindex>\n"

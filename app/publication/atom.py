"""Atom 1.0 (RFC 4287) documents, built with lxml from plain values (pure).

Every link passes ``metadata.urls.http_url`` (a link that is not http(s) is left out),
and text loses the characters XML 1.0 cannot hold (records mirrored from elsewhere may
carry them), so any record makes a well-formed feed.  Ids are ``tag:`` URIs (RFC 4151):
``tag:<host>,<date>:<path>``, stable while the site keeps its host name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast
from urllib.parse import urlsplit

from lxml import etree

from app.publication.entries import iso_utc
from metadata.urls import http_url

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# XML 1.0's Char production, inverted: C0 controls but tab and line ends, surrogates, and
# the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)


def tag_uri(base: str, day: datetime | str, specific: str) -> str:
    """``tag:<host of base>,<day>:<specific>``; ``day`` a moment (its UTC date) or a date
    in the tag grammar (``2026``, ``2026-12``, ``2026-12-01``)."""
    host = (urlsplit(base).hostname or "localhost").lower()
    if isinstance(day, datetime):
        day = iso_utc(day)[:10]
    return f"tag:{host},{day}:{specific}"


@dataclass(frozen=True)
class Text:
    """Text and the language it is in (``""``: the feed's)."""

    text: str
    lang: str = ""


@dataclass(frozen=True)
class Entry:
    id: str
    title: Text
    link: str  # the course's page
    updated: datetime
    published: datetime
    summary: Text = Text("")
    author: Text = Text("")
    categories: tuple[tuple[str, str], ...] = ()  # (term, label)
    related: str | None = None  # the record's own page


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    lang: str  # of the feed's own words and, unless an entry says otherwise, its text
    self_url: str
    updated: datetime
    author: str
    author_uri: str
    subtitle: str = ""
    alternate: str | None = None  # the same courses as a page
    entries: Sequence[Entry] = field(default_factory=tuple)


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{name}")
    if text is not None:
        element.text = xml_text(text)
    return element


def _other_language(text_lang: str, lang: str) -> bool:
    """Whether text in ``text_lang`` needs its own ``xml:lang`` in a feed in ``lang``."""
    return bool(text_lang) and _primary(text_lang) != _primary(lang)


def _primary(tag: str) -> str:
    return tag.split("-", maxsplit=1)[0].lower()


def _text(parent: etree._Element, name: str, value: Text, lang: str) -> None:
    element = _add(parent, name, value.text)
    element.set("type", "text")
    if _other_language(value.lang, lang):
        element.set(XML_LANG, value.lang)


def _link(parent: etree._Element, href: str | None, rel: str, kind: str | None = None) -> None:
    checked = http_url(href)
    if checked is None:
        return
    link = _add(parent, "link")
    link.set("rel", rel)
    link.set("href", xml_text(checked))
    if kind:
        link.set("type", kind)


def _moment(parent: etree._Element, name: str, moment: datetime) -> None:
    _add(parent, name, iso_utc(moment if moment.tzinfo else moment.replace(tzinfo=UTC)))


def render(feed: Feed) -> bytes:
    """The feed as UTF-8 XML with its declaration."""
    nsmap = {None: ATOM}
    root = etree.Element(f"{{{ATOM}}}feed", nsmap=cast("dict[str, str]", nsmap))  # stubs: no None
    root.set(XML_LANG, feed.lang)
    _add(root, "id", feed.id)
    _text(root, "title", Text(feed.title), feed.lang)
    if feed.subtitle:
        _text(root, "subtitle", Text(feed.subtitle), feed.lang)
    _moment(root, "updated", feed.updated)
    _link(root, feed.self_url, "self", "application/atom+xml")
    _link(root, feed.alternate, "alternate", "text/html")
    author = _add(root, "author")
    _add(author, "name", feed.author)
    if http_url(feed.author_uri):
        _add(author, "uri", http_url(feed.author_uri))
    _add(root, "generator", "coursefed")
    for item in feed.entries:
        entry = _add(root, "entry")
        _add(entry, "id", item.id)
        _text(entry, "title", item.title, feed.lang)
        _link(entry, item.link, "alternate", "text/html")
        _link(entry, item.related, "related")
        _moment(entry, "updated", item.updated)
        _moment(entry, "published", item.published)
        if item.author.text:
            person = _add(entry, "author")
            name = _add(person, "name", item.author.text)
            if _other_language(item.author.lang, feed.lang):
                name.set(XML_LANG, item.author.lang)
        for term, label in item.categories:
            category = _add(entry, "category")
            category.set("term", xml_text(term))
            if label:
                category.set("label", xml_text(label))
        if item.summary.text:
            _text(entry, "summary", item.summary, feed.lang)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

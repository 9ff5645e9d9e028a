"""Catalogue publication: the catalogue files, the months that have one, the Atom feeds.

A file (``CatalogueFile``) lists the live courses first harvested in a month (or ever)
that pass the search API's filters, oldest first, read in one consistent transaction a
keyset page at a time (``app.catalogue.service.live_courses_by_first_harvest``), so a
file is the catalogue at one moment and memory stays that of a page.  The school and the
source are narrowed in SQL; the other filters are checked on each record as its search
document would be (``selection.record_matches``).  Free-text search has no file: what
matches words is the search engine's to say, and it stops counting at 10,000.

A feed lists the 50 courses first harvested most recently that match a search (words,
filters or both): the search engine orders them (``app.search.service.newest_ids``), the
catalogue gives each entry its stored facts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.catalogue import service as catalogue
from app.clock import utcnow
from app.db import consistent_read
from app.institutions import service as institutions
from app.publication import atom, links, writers
from app.publication.entries import (
    CatalogueEntry,
    catalogue_entry,
    course_url,
    disciplines,
    iso_utc,
)
from app.publication.links import Format
from app.publication.selection import Month, Selection, record_matches
from app.search import service as search
from app.search.documents import OTHER_LICENCE, InstitutionEntry
from app.search.gateway import SearchIndex
from app.sources import service as sources
from app.web import i18n
from metadata.abbreviations import BUILT_IN, Vocabulary
from metadata.profile import ResourceRecord
from metadata.urls import http_url

log = logging.getLogger(__name__)

FILE_FORMAT = "coursefed-catalogue/1"
FEED_SIZE = 50
FEED_SPARE = 10
"""Courses asked of the engine beyond a feed's size: some may be gone from the catalogue
before the index follows."""
SUMMARY_CHARS = 400
LOCAL_SOURCE = "local"
"""The ``source`` of records stored here rather than harvested (as the search API says)."""
TAG_DATE = "2026"
"""The date in the feeds' own tag: ids (the year coursefed's feeds began)."""


def _(message: str) -> str:
    """Marks a message for ``make messages``; ``i18n.gettext`` translates it when used."""
    return message


NEW_COURSES = _("New courses on coursefed")
NEW_COURSES_IN = _("New courses on coursefed: %(what)s")
FEED_SUBTITLE = _("The courses most recently added to the catalogue, newest first.")
OPEN_ONLY = _("Open licences only")
OTHER = _("Other licence")


# --- catalogue files -----------------------------------------------------------------------


def file_name(month: Month | None, fmt: Format) -> str:
    """``coursefed-catalogue-2026-11.csv``; ``coursefed-catalogue.csv`` for every month."""
    return f"coursefed-catalogue{f'-{month}' if month else ''}.{fmt}"


class CatalogueFile:
    """An open consistent read of the catalogue, to be written once as CSV or JSON.

    The read starts here, so a database that cannot be read fails the request before
    any byte is sent; ``chunks()`` ends it when the iteration ends (or is abandoned),
    as does ``close()``.
    """

    def __init__(
        self, engine: Engine, selection: Selection, *, base: str, batch_size: int = 500
    ) -> None:
        self.selection = selection
        self.generated_at = utcnow()
        self._base = base
        self._batch_size = batch_size
        self._stack = ExitStack()
        self._session = self._stack.enter_context(consistent_read(engine))
        try:
            self._schools = _school_ids(self._session, selection.filters.get("institution"))
            self._sources = _source_ids(self._session, selection.filters.get("source"))
        except BaseException:
            self._stack.close()
            raise
        self._names: dict[str, InstitutionEntry] = {}

    def close(self) -> None:
        self._stack.close()

    def filename(self, fmt: Format) -> str:
        return file_name(self.selection.month, fmt)

    def chunks(self, fmt: Format) -> Iterator[bytes]:
        """The file's bytes, a chunk of ``batch_size`` courses at a time."""
        try:
            if fmt == "csv":
                yield from writers.csv_chunks(self.entries(), self._batch_size)
            else:
                yield from writers.json_chunks(self.entries(), self.about(), self._batch_size)
        finally:
            self.close()

    def about(self) -> dict[str, Any]:
        """What the JSON file says of itself before its courses."""
        return {
            "format": FILE_FORMAT,
            "generated_at": iso_utc(self.generated_at),
            "month": str(self.selection.month) if self.selection.month else None,
            "filters": {name: list(values) for name, values in self.selection.filters.items()},
            "open": self.selection.open_only,
        }

    def entries(self) -> Iterator[CatalogueEntry]:
        """The selected courses, oldest first harvest first."""
        month = self.selection.month
        if self._schools == [] or self._sources == []:
            return  # a school or source named that none of the catalogue's is
        for batch in catalogue.live_courses_by_first_harvest(
            self._session,
            start=month.start if month else None,
            end=month.end if month else None,
            institution_ids=self._schools,
            source_ids=self._sources,
            batch_size=self._batch_size,
        ):
            self._learn_schools(course.institution_id for course in batch)
            for course in batch:
                try:
                    record = ResourceRecord.model_validate(course.record)
                except ValidationError:
                    log.warning("catalogue file: record %s does not read back", course.id)
                    continue
                if not record_matches(record, self.selection):
                    continue
                school = self._names.get(course.institution_id or "")
                yield catalogue_entry(
                    course.id,
                    record,
                    first_harvested=course.first_harvested,
                    school=school,
                    base=self._base,
                )

    def _learn_schools(self, ids: Iterator[str | None]) -> None:
        wanted = {i for i in ids if i and i not in self._names}
        for school in institutions.institutions_by_id(self._session, wanted).values():
            self._names[school.id] = InstitutionEntry(school.id, school.name_zh, school.name_en)


def _school_ids(session: Session, values: tuple[str, ...] | None) -> list[str] | None:
    """The schools named by id or by a name the authority knows (None: no filter)."""
    if not values:
        return None
    found = (institutions.resolve(session, value) for value in values)
    return list(dict.fromkeys(school for school in found if school))


def _source_ids(session: Session, slugs: tuple[str, ...] | None) -> list[int | None] | None:
    """The sources of these slugs (``local``: records stored here; None: no filter)."""
    if not slugs:
        return None
    ids: list[int | None] = []
    for slug in slugs:
        if slug == LOCAL_SOURCE:
            ids.append(None)
        elif (source := sources.get_by_slug(session, slug)) is not None:
            ids.append(source.id)
    return ids


@dataclass(frozen=True)
class MonthFile:
    """A month with courses first harvested in it, and its files."""

    month: Month
    count: int

    @property
    def csv_url(self) -> str:
        return links.file_url("csv", month=str(self.month))

    @property
    def json_url(self) -> str:
        return links.file_url("json", month=str(self.month))


def monthly_files(session: Session) -> list[MonthFile]:
    """Every month in which live courses were first harvested, newest first, with how
    many; counted over the same bounds as the files, so the counts are their lengths."""
    span = catalogue.first_harvest_span(session)
    if span is None:
        return []
    month, last = Month.of(span[0]), Month.of(span[1])
    found = []
    while month <= last:
        count = catalogue.count_first_harvested(session, month.start, month.end)
        if count:
            found.append(MonthFile(month, count))
        month = month.next()
    return found[::-1]


def catalogue_size(session: Session) -> int:
    """How many live courses the catalogue holds (the file of every month lists them)."""
    return catalogue.count_first_harvested(session, None, None)


# --- Atom feeds ----------------------------------------------------------------------------


_WORDS: dict[str, Callable[[str, str], str]] = {
    "subject": i18n.discipline_name,
    "level": i18n.level_name,
    "type": i18n.type_name,
    "language": i18n.language_name,
    "license": lambda value, lang: (
        i18n.gettext(lang, OTHER) if value == OTHER_LICENCE else i18n.licence_name(value, lang)
    ),
}
"""A filter's value as words in a language, for the filters whose values are codes."""


def _named(value: str, name: str, lang: str, schools: Mapping[str, InstitutionEntry]) -> str:
    """A filter value as words in ``lang`` (a school by its name; a slug or a name as is)."""
    if name in _WORDS:
        return _WORDS[name](value, lang) or value
    if name == "institution" and value in schools:
        school = schools[value]
        names = {"zh": school.name_zh or "", "en": school.name_en or ""}
        return i18n.pick(names, lang).text or value
    return value


def feed_title(selection: Selection, lang: str, schools: Mapping[str, InstitutionEntry]) -> str:
    """What the feed follows, in ``lang``: the words, then each filter's values."""
    parts = [f"“{selection.q}”"] if selection.q else []
    for name, values in selection.filters.items():
        parts.append(" / ".join(_named(value, name, lang, schools) for value in values))
    if selection.open_only:
        parts.append(i18n.gettext(lang, OPEN_ONLY))
    if not parts:
        return i18n.gettext(lang, NEW_COURSES)
    return i18n.gettext(lang, NEW_COURSES_IN) % {"what": " · ".join(parts)}


def _alternate(selection: Selection, lang: str, schools: Mapping[str, InstitutionEntry]) -> str:
    """The page showing the same courses: a school's own page, else the results page."""
    only = selection.filters.get("institution", ())
    suffix = "?lang=en" if lang == "en" else ""
    if len(selection.filters) == 1 and len(only) == 1 and only[0] in schools:
        return f"/institutions/{quote(schools[only[0]].id, safe='')}{suffix}"
    return links.search_url(
        q=selection.q,
        filters=selection.filters,
        open_only=selection.open_only,
        lang=lang,
    )


def _schools_named(session: Session, values: tuple[str, ...]) -> dict[str, InstitutionEntry]:
    """The schools of an ``institution`` filter's values, by value (ids and known names)."""
    found: dict[str, InstitutionEntry] = {}
    for value in values:
        school_id = institutions.resolve(session, value)
        if school_id is None:
            continue
        for school in institutions.institutions_by_id(session, [school_id]).values():
            found[value] = InstitutionEntry(school.id, school.name_zh, school.name_en)
    return found


def _summary(texts: Mapping[str, str], lang: str) -> atom.Text:
    picked = i18n.pick(texts, lang)
    text = picked.text
    if len(text) > SUMMARY_CHARS:
        text = text[: SUMMARY_CHARS - 1].rstrip() + "…"
    return atom.Text(text, i18n.text_language(picked.lang))


def _entry(
    resource_id: str,
    record: ResourceRecord,
    *,
    published: datetime,
    updated: datetime,
    school: InstitutionEntry | None,
    lang: str,
    base: str,
) -> atom.Entry:
    title = i18n.pick(record.title, lang)
    names = {"zh": school.name_zh or "", "en": school.name_en or ""} if school else {}
    author = (
        i18n.pick(names, lang) if any(names.values()) else i18n.Text(record.institution or "", "")
    )
    link = course_url(base, resource_id) + ("?lang=en" if lang == "en" else "")
    return atom.Entry(
        id=atom.tag_uri(base, published, f"courses/{quote(resource_id, safe='')}"),
        title=atom.Text(title.text or resource_id, i18n.text_language(title.lang)),
        link=link,
        updated=updated,
        published=published,
        summary=_summary(record.description, lang),
        author=atom.Text(author.text, i18n.text_language(author.lang)),
        categories=tuple(
            (d.code, (d.name_zh if lang == "zh" else d.name_en) or d.name_zh or d.name_en)
            for d in disciplines(record)
        ),
        related=http_url(record.url),
    )


def course_feed(
    session: Session,
    index: SearchIndex,
    uid: str,
    selection: Selection,
    *,
    lang: str,
    base: str,
    vocabulary: Vocabulary = BUILT_IN,
) -> bytes:
    """The Atom feed of the ``FEED_SIZE`` courses first harvested most recently that match
    ``selection`` (its month is not used), in ``lang`` where there is a choice; ``vocabulary``
    writes out abbreviations in its words as the search does.  Raises ``InvalidFilter``
    and ``SearchError`` as the search service does."""
    ids = search.newest_ids(
        index,
        uid,
        q=selection.q,
        filters=selection.filters,
        open_only=selection.open_only,
        limit=FEED_SIZE + FEED_SPARE,
        vocabulary=vocabulary,
    )
    stored = {resource.id: resource for resource in catalogue.published_resources(session, ids)}
    # The engine's order; courses gone since it indexed them are left out.
    courses = [stored[i] for i in ids if i in stored][:FEED_SIZE]
    rows = institutions.institutions_by_id(session, (c.institution_id for c in courses))
    schools = {k: InstitutionEntry(v.id, v.name_zh, v.name_en) for k, v in rows.items()}
    entries = []
    for course in courses:
        try:
            record = ResourceRecord.model_validate(course.record)
        except ValidationError:
            log.warning("feed: record %s does not read back", course.id)
            continue
        entries.append(
            _entry(
                course.id,
                record,
                published=course.created_at,
                updated=course.updated_at,
                school=schools.get(course.institution_id or ""),
                lang=lang,
                base=base,
            )
        )
    named = _schools_named(session, selection.filters.get("institution", ()))
    self_path = links.feed_url(
        q=selection.q, filters=selection.filters, open_only=selection.open_only, lang=lang
    )
    feed = atom.Feed(
        id=atom.tag_uri(base, TAG_DATE, self_path.lstrip("/")),
        title=feed_title(selection, lang, named),
        subtitle=i18n.gettext(lang, FEED_SUBTITLE),
        lang=i18n.HTML_LANG[lang],
        self_url=base + self_path,
        alternate=base + _alternate(selection, lang, named),
        updated=max((entry.updated for entry in entries), default=utcnow()),
        author="coursefed",
        author_uri=base + "/",
        entries=entries,
    )
    return atom.render(feed)

"""What a course page shows, as data: its files, parts, provenance and related courses.

The route (``app.web.course``) hands a stored record here and the template decides the
markup.  Relations name their targets by an identifier or a URL; a target is one of our
courses when it is our own course address, an OAI identifier of the same source, or an
identifier some stored record is known by (looked up in the search index, checked
against the database).  Other parts of a course are the parts its whole lists, and
courses of the same institution whose titles differ from this one only in the part
(高等数学（上） / 高等数学（下）, Calculus I / Calculus II).

Anything asked of Meilisearch is an extra: when search fails, the page shows the
record without those links and related courses, and still answers.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

from sqlmodel import Session

from app.catalogue import clusters
from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject, Resource
from app.filenames import clean_file_name, file_name_from_url
from app.institutions import service as institutions
from app.objects import sniff
from app.search import service as search
from app.search.documents import identifiers_of
from app.search.gateway import SearchError, SearchIndex, SearchUnavailable
from app.search.query import InvalidFilter
from app.search.schemas import Hit
from app.sources import service as sources
from app.web.i18n import Text, pick
from metadata.licences import normalise_license
from metadata.profile import License, ResourceRecord
from metadata.urls import http_url

log = logging.getLogger(__name__)

T = TypeVar("T")

RELATED_COURSES = 4
# Courses of one institution looked at for other parts of a course.
PART_CANDIDATES = 20

# --- files ------------------------------------------------------------------------------

PLAYABLE = {
    "video": frozenset({"video/mp4", "video/webm", "video/ogg"}),
    "audio": frozenset(
        {"audio/mpeg", "audio/mp4", "audio/ogg", "audio/webm", "audio/wav", "audio/flac"}
    ),
}
"""Media types browsers play in ``<video>`` / ``<audio>`` without a plug-in."""

_KIND_OF_TYPE = {
    sniff.PDF: "pdf",
    sniff.EPUB: "ebook",
    sniff.ZIP: "archive",
    sniff.HTML: "webpage",
    sniff.TEXT: "text",
    sniff.CSV: "spreadsheet",
    sniff.DOC: "document",
    sniff.DOCX: "document",
    "application/rtf": "document",
    "application/vnd.oasis.opendocument.text": "document",
    sniff.XLS: "spreadsheet",
    sniff.XLSX: "spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet": "spreadsheet",
    sniff.PPT: "slides",
    sniff.PPTX: "slides",
    "application/vnd.oasis.opendocument.presentation": "slides",
}
_KIND_OF_PREFIX = {"video": "video", "audio": "audio", "image": "image"}


def file_kind(media_type: str | None, name: str | None = None) -> str:
    """What a file is, in a word the template names: video, audio, image, pdf, slides,
    document, spreadsheet, ebook, archive, webpage, text, or file when unknown.  Without a
    media type the name's extension is asked."""
    essence = (media_type or "").split(";", 1)[0].strip().lower()
    if not essence and name:
        essence = (mimetypes.guess_type(name, strict=False)[0] or "").lower()
    if essence in _KIND_OF_TYPE:
        return _KIND_OF_TYPE[essence]
    return _KIND_OF_PREFIX.get(essence.split("/", 1)[0], "file")


@dataclass(frozen=True)
class CourseFile:
    """One file of a course as a learner meets it.

    ``state``: ``stored`` (our copy: download, play, view), ``preparing`` (we are
    fetching it), ``elsewhere`` (we keep no copy; the source's link is all there is).
    """

    name: str
    kind: str
    size: int | None
    state: str
    href: str | None = None  # our copy, shown inline where the browser can
    download: str | None = None  # our copy, saved whatever its type (a PDF too)
    player: str | None = None  # "video" or "audio" when the browser can play our copy
    media_type: str | None = None
    view: str | None = None  # the inline PDF view
    source: str | None = None  # the source's own link (http(s) only)
    broken: bool = False


def course_file(row: DigitalObject, *, base_url: str, resource_id: str) -> CourseFile:
    held = row.status == "stored" and row.sha256 is not None
    # A record's declared name is shown as a download would save it (no bidi overrides).
    name = clean_file_name(row.file_name) or file_name_from_url(row.url.rstrip("/")) or row.url
    media_type = row.media_type if held else row.declared_format
    essence = (media_type or "").split(";", 1)[0].strip().lower()
    kind = file_kind(media_type, name)
    player = next((tag for tag, types in PLAYABLE.items() if essence in types), None)
    return CourseFile(
        name=name,
        kind=kind,
        size=row.size if held else row.declared_size,
        state="stored" if held else "preparing" if row.status == "pending" else "elsewhere",
        href=f"{base_url}/api/v1/objects/{row.sha256}" if held else None,
        download=f"{base_url}/api/v1/objects/{row.sha256}?download=true" if held else None,
        player=player if held else None,
        media_type=essence or None,
        view=f"/courses/{resource_id}/view/{row.sha256}" if held and kind == "pdf" else None,
        source=http_url(row.url),
        broken=row.link_status == "broken",
    )


# --- relations and parts ----------------------------------------------------------------


@dataclass(frozen=True)
class CourseLink:
    """A course or resource the page names: one of ours (``id``), a link elsewhere
    (``href``, http(s) only) or text alone."""

    title: Text
    id: str | None = None
    href: str | None = None
    institution: Text | None = None  # told apart from courses of the same title


@dataclass(frozen=True)
class RelationGroup:
    """Targets of one relation kind (``ispartof``, ``haspart``, ``parts`` for the other
    parts of one whole, ``related`` for a relation without a kind, ...)."""

    kind: str
    links: list[CourseLink] = field(default_factory=list)


# Relation kinds shown first, in this order; the others follow as the record lists them.
_KIND_ORDER = ("ispartof", "haspart", "parts")

_NUMERALS = {
    "上": 1, "中": 2, "下": 3, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
    "七": 7, "八": 8, "九": 9, "十": 10, "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5,
    "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5,
}  # fmt: skip
_PART = re.compile(
    r"^(?P<stem>.*?\S)\s*(?:"
    r"[（(]\s*(?:第\s*)?(?P<bracketed>[上中下一二三四五六七八九十]|\d{1,2}|I{1,3}|IV|V|[Ⅰ-Ⅴ])"
    r"\s*(?:册|部分)?\s*[）)]"
    r"|(?P<volume>[上中下])册"
    r"|\s(?:part\s+)?(?P<trailing>\d{1,2}|I{1,3}|IV|V|[Ⅰ-Ⅴ])"
    r")$",
    re.IGNORECASE,
)


def title_part(title: str) -> tuple[str, int] | None:
    """(the title without its part, the part's number) of a title naming a part:
    高等数学（上） → (高等数学, 1), Calculus II → (Calculus, 2); None otherwise."""
    text = unicodedata.normalize("NFC", title).strip()
    match = _PART.match(text)
    if match is None:
        return None
    mark = match.group("bracketed") or match.group("volume") or match.group("trailing")
    number = int(mark) if mark.isdigit() else _NUMERALS.get(mark.upper(), _NUMERALS.get(mark))
    if not number:
        return None
    return match.group("stem").strip(), number


def _stem_key(stem: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", stem)).casefold()


def own_course_id(target: str, base_url: str) -> str | None:
    """The id in one of our own course addresses (absolute or a path)."""
    parts = urlsplit(target.strip())
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if (parts.scheme or parts.netloc) and origin != base_url.lower().rstrip("/"):
        return None
    match = re.fullmatch(r"/courses/([^/?#]+)/?", parts.path)
    return match.group(1) if match else None


@dataclass
class Finder:
    """Looks up the courses a page names, in the database and (quietly) the index."""

    session: Session
    index: SearchIndex
    index_uid: str
    base_url: str
    # Once Meilisearch is found down, the page asks it nothing more.
    search_down: bool = False

    def _quietly(self, what: str, call: Callable[[], T], fallback: T) -> T:
        """A search the page can do without: its failure is logged and left out."""
        if self.search_down:
            return fallback
        try:
            return call()
        except SearchUnavailable as exc:
            self.search_down = True
            log.warning("course page: search unavailable, %s left out: %s", what, exc)
        except (SearchError, InvalidFilter) as exc:
            log.warning("course page: %s left out: %s", what, exc)
        return fallback

    def resolve(self, resource: Resource, targets: Sequence[str]) -> dict[str, Resource]:
        """Targets that are our published courses, each with its course (itself too: a
        record may name its own landing page)."""
        wanted = list(dict.fromkeys(t.strip() for t in targets if t and t.strip()))
        found: dict[str, Resource] = {}
        own = {t: i for t in wanted if (i := own_course_id(t, self.base_url))}
        if own:
            ours = catalogue.published_resources(self.session, list(own.values()))
            by_id = {row.id: row for row in ours}
            found.update({t: by_id[i] for t, i in own.items() if i in by_id})
        rest = [t for t in wanted if t not in found]
        if rest:
            same_source = catalogue.published_by_oai_identifier(
                self.session, resource.source_id, rest
            )
            found.update({r.oai_identifier: r for r in same_source if r.oai_identifier in rest})
        rest = [t for t in wanted if t not in found]
        if rest:
            no_ids: list[str] = []
            ids = self._quietly(
                "relation targets",
                lambda: search.ids_known_by(self.index, self.index_uid, rest),
                no_ids,
            )
            for row in catalogue.published_resources(self.session, ids):
                known = set(identifiers_of(ResourceRecord.model_validate(row.record)))
                found.update({t: row for t in rest if t in known and t not in found})
        return found

    def courses(
        self,
        what: str,
        *,
        q: str,
        filters: Mapping[str, Sequence[str]],
        exclude: Sequence[str],
        limit: int,
    ) -> list[Hit]:
        def call() -> list[Hit]:
            return search.courses(
                self.index, self.index_uid, q=q, filters=filters, exclude=exclude, limit=limit
            )

        return self._quietly(what, call, [])


def _title_of(row: Resource, lang: str) -> Text:
    return pick(ResourceRecord.model_validate(row.record).title, lang)


def _hit_title(hit: Hit, lang: str) -> Text:
    texts = {k: v for k, v in (("zh", hit.title_zh), ("en", hit.title_en)) if v}
    return pick(texts or {"und": hit.title}, lang)


def _hit_school(hit: Hit, lang: str) -> Text | None:
    names = {k: v for k, v in (("zh", hit.institution_zh), ("en", hit.institution_en)) if v}
    if names:
        return pick(names, lang)
    return Text(hit.institution, "") if hit.institution else None


@dataclass(frozen=True)
class School:
    """The course's institution: its name in the page's language where the authority
    knows it, and the value the search's ``institution=`` filter takes (the authority's
    id, else the name the record gives)."""

    name: Text
    value: str
    id: str | None = None


def school(
    session: Session, resource: Resource, record: ResourceRecord, lang: str
) -> School | None:
    if resource.institution_id:
        found = institutions.institutions_by_id(session, [resource.institution_id])
        entry = found.get(resource.institution_id)
        if entry is not None:
            names = {k: v for k, v in (("zh", entry.name_zh), ("en", entry.name_en)) if v}
            name = pick(names, lang) if names else Text(record.institution or entry.id, "")
            return School(name=name, value=entry.id, id=entry.id)
    if record.institution:
        return School(name=Text(record.institution, ""), value=record.institution)
    return None


def relation_groups(
    finder: Finder, resource: Resource, record: ResourceRecord, lang: str, school: School | None
) -> list[RelationGroup]:
    """The record's relations by kind, targets we hold as links to their pages, then the
    other parts of the same whole."""
    itself = set(identifiers_of(record))
    relations = [r for r in record.relations if r.target.strip() not in itself]
    resolved = finder.resolve(resource, [r.target for r in relations])
    groups: dict[str, RelationGroup] = {}
    shown: set[str] = {resource.id}
    for relation in relations:
        kind = (relation.kind or "related").lower()
        target = relation.target.strip()
        row = resolved.get(target)
        if row is not None:
            if row.id in shown:
                continue
            shown.add(row.id)
            link = CourseLink(title=_title_of(row, lang), id=row.id)
        else:
            link = CourseLink(title=Text(target, ""), href=http_url(target))
        group = groups.setdefault(kind, RelationGroup(kind))
        if link not in group.links:
            group.links.append(link)
    siblings = _other_parts(finder, record, resolved, school, lang=lang, shown=shown)
    if siblings:
        groups["parts"] = RelationGroup("parts", siblings)
    ordered = [groups.pop(kind) for kind in _KIND_ORDER if kind in groups]
    return ordered + list(groups.values())


def _other_parts(
    finder: Finder,
    record: ResourceRecord,
    resolved: dict[str, Resource],
    school: School | None,
    *,
    lang: str,
    shown: set[str],
) -> list[CourseLink]:
    """Other parts of the whole this course is a part of, in part order."""
    parts: list[tuple[int, CourseLink]] = []
    # The whole's own list of its parts.
    wholes = {
        whole.id: whole
        for r in record.relations
        if (r.kind or "").lower() == "ispartof"
        and (whole := resolved.get(r.target.strip())) is not None
        and whole.id != record.id
    }
    for whole in wholes.values():
        whole_record = ResourceRecord.model_validate(whole.record)
        targets = [r.target for r in whole_record.relations if (r.kind or "").lower() == "haspart"]
        for row in finder.resolve(whole, targets).values():
            if row.id not in shown:
                shown.add(row.id)
                title = _title_of(row, lang)
                found = title_part(title.text)
                parts.append((found[1] if found else 0, CourseLink(title=title, id=row.id)))
    # Courses of the same institution titled as other parts of the same stem.
    titles = [t for t in record.title.values() if t]
    named = [found for t in titles if (found := title_part(t))]
    if named and school is not None:
        stems = {_stem_key(stem) for stem, _ in named}
        hits = finder.courses(
            "other parts",
            q=named[0][0],
            filters={"institution": [school.value]},
            exclude=sorted(shown),
            limit=PART_CANDIDATES,
        )
        for hit in hits:
            numbers = [
                found[1]
                for t in (hit.title_zh, hit.title_en, hit.title)
                if t and (found := title_part(t)) and _stem_key(found[0]) in stems
            ]
            if numbers and hit.id not in shown:
                shown.add(hit.id)
                parts.append((numbers[0], CourseLink(title=_hit_title(hit, lang), id=hit.id)))
    return [link for _, link in sorted(parts, key=lambda item: item[0])]


# --- related courses --------------------------------------------------------------------


def related_courses(
    finder: Finder,
    record: ResourceRecord,
    lang: str,
    school: School | None,
    exclude: Iterable[str],
) -> list[CourseLink]:
    """A few courses of the same subject or institution, those sharing the title's first
    words first."""
    codes = sorted({s.code for s in record.subjects if s.code})
    specific = [code for code in codes if len(code) >= 4] or codes
    filters: list[dict[str, list[str]]] = []
    if specific:
        filters.append({"subject": specific})
    if school is not None:
        filters.append({"institution": [school.value]})
    shown = list(dict.fromkeys(exclude))
    found: list[Hit] = []
    title = pick(record.title, lang).text
    for query in (title, ""):
        for filter_ in filters:
            if len(found) >= RELATED_COURSES:
                break
            hits = finder.courses(
                "related courses",
                q=query,
                filters=filter_,
                exclude=shown,
                limit=RELATED_COURSES - len(found),
            )
            found += hits
            shown += [hit.id for hit in hits]
    return [
        CourseLink(title=_hit_title(hit, lang), id=hit.id, institution=_hit_school(hit, lang))
        for hit in found
    ]


# --- provenance -------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where the record comes from, for people: the source, when we harvested it, the
    record as received (ours, and the source's own GetRecord), the course's own page."""

    source_name: str | None
    harvested_at: datetime | None
    metadata_format: str | None
    raw_url: str
    get_record_url: str | None
    landing_page: str | None


def origin(session: Session, resource: Resource, record: ResourceRecord) -> Origin:
    source = sources.get_source(session, resource.source_id) if resource.source_id else None
    provenance = record.provenance
    name = (source.name or source.repository_name or source.slug) if source else None
    base = http_url((provenance.base_url if provenance else None) or (source and source.base_url))
    get_record = None
    if base:
        query = urlencode(
            {
                "verb": "GetRecord",
                "metadataPrefix": resource.metadata_prefix,
                "identifier": resource.oai_identifier,
            }
        )
        get_record = http_url(f"{base}{'&' if '?' in base else '?'}{query}")
    return Origin(
        source_name=name or (provenance.source if provenance else None),
        harvested_at=provenance.harvested_at if provenance else None,
        metadata_format=resource.metadata_prefix,
        raw_url=f"/api/v1/resources/{resource.id}/raw",
        get_record_url=get_record,
        landing_page=http_url(record.url),
    )


@dataclass(frozen=True)
class OtherRecord:
    """Another record of the same course (``app.catalogue.clusters``): its page here, and
    where it comes from."""

    id: str
    oai_identifier: str
    origin: Origin


def other_records(session: Session, resource: Resource) -> list[OtherRecord]:
    """The course's other records, the one search shows first, then by id."""
    return [
        OtherRecord(
            id=member.id,
            oai_identifier=member.oai_identifier,
            origin=origin(session, member, ResourceRecord.model_validate(member.record)),
        )
        for member in clusters.members(session, resource)
        if member.id != resource.id and member.publishable
    ]


# --- licence ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenceBadge:
    """A record's licence for people: its name and one-line meaning in the page's
    language, the deed it links to, whether it is open (None: not known); ``statement``
    is the source's own words when they say more (who holds the rights, conditions)."""

    name: str
    open: bool | None
    meaning: str | None = None
    deed_url: str | None = None
    statement: str | None = None


def licence_badge(stated: License | None, lang: str) -> LicenceBadge | None:
    """The badge of a record's licence, as ``metadata.licences`` reads its statement."""
    if stated is None:
        return None
    info = normalise_license(stated.text, stated.url, stated.spdx)
    names = (info.name_zh, info.name_en) if lang == "zh" else (info.name_en, info.name_zh)
    meanings = (
        (info.meaning_zh, info.meaning_en) if lang == "zh" else (info.meaning_en, info.meaning_zh)
    )
    text = stated.text.strip()
    name = next((n for n in names if n), None) or info.short or text
    # A copyright line says who holds the rights; an open licence's own words add nothing.
    said = {name, info.short, info.id, stated.url, stated.spdx, *names}
    plain = info.open is not True and http_url(text) is None and text not in said
    return LicenceBadge(
        name=name,
        open=info.open,
        meaning=next((m for m in meanings if m), None),
        # A licence we do not know is linked where the source says it is written.
        deed_url=http_url(info.deed_url) or (None if info.id else http_url(stated.url)),
        statement=text if plain else None,
    )

"""Conformance check of a college's OAI-PMH endpoint: what to fix before we harvest it.

``check_endpoint(base_url)`` answers with one ``Check`` per aspect, each ``pass``, ``warn`` or
``fail``; ``format_checks`` renders the lines ``coursefed sources check`` prints.  The checks,
in order, are listed in docs/harvesting.md.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol, TypeVar

import httpx
from lxml import etree

from app.sources.harvest import LOM_NAMESPACES, choose_format
from harvesters.net import AddressPolicy, async_client
from harvesters.net.endpoints import same_endpoint
from harvesters.oai.client import DEFAULT_USER_AGENT, OAIClient
from harvesters.oai.dates import DAY, GRANULARITIES, SECONDS, Datestamp, format_datestamp
from harvesters.oai.dates import parse as parse_datestamp
from harvesters.oai.errors import (
    BadArgument,
    BadVerb,
    HarvestError,
    XMLError,
    public_description,
)
from harvesters.oai.records import (
    OAI_NS,
    Identify,
    MetadataFormat,
    Page,
    RawRecord,
    parse_response,
)
from harvesters.xml import parse_xml_document
from metadata.readers import READERS

Outcome = Literal["pass", "warn", "fail"]

DELETED_RECORD = ("no", "transient", "persistent")
REQUIRED = (
    "repositoryName",
    "baseURL",
    "protocolVersion",
    "adminEmail",
    "earliestDatestamp",
    "deletedRecord",
    "granularity",
)
MAX_LIST_PAGES = 40  # pages of ListIdentifiers followed in search of the last one
MAX_SET_PAGES = 20
RICHER_NAMESPACES = (*LOM_NAMESPACES, "http://purl.org/dc/terms/")

_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_ENCODING_LABEL = re.compile(r"[A-Za-z0-9._:-]{1,40}")

_T = TypeVar("_T")


@dataclass(frozen=True)
class Check:
    """One aspect of the endpoint: its outcome and what the college should know."""

    name: str
    outcome: Outcome
    detail: str


class CheckLike(Protocol):
    """A check as it runs (``Check``) or as it was kept (the source's health)."""

    @property
    def name(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def detail(self) -> str: ...


def format_checks(checks: Iterable[CheckLike]) -> list[str]:
    """``PASS identify: ...`` lines, in the order the checks ran."""
    return [f"{check.outcome.upper()} {check.name}: {check.detail}" for check in checks]


def has_failures(checks: Iterable[Check]) -> bool:
    return any(check.outcome == "fail" for check in checks)


async def check_endpoint(
    base_url: str,
    *,
    timeout: float = 30,  # noqa: ASYNC109 - a per-request limit, not one for the whole check
    policy: AddressPolicy | None = None,
) -> list[Check]:
    """Check the OAI-PMH endpoint at ``base_url``; never raises for what it answers.

    The checks come in the order of docs/harvesting.md's table; a check whose subject
    is missing (a field Identify lacks, lists when no format is offered) is left out,
    and an endpoint that does not answer Identify gets only ``identify`` and ``errors``.
    Every request obeys ``policy`` (the strict outbound address policy when None).
    """
    headers = {"User-Agent": DEFAULT_USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    async with async_client(policy or AddressPolicy(), timeout=timeout, headers=headers) as http:
        client = OAIClient(
            base_url,
            http=http,
            timeout=timeout,
            deadline=timeout * 4,
            max_retries=1,
            backoff_base=0.5,
            max_retry_after=timeout,
        )
        return await _Inspection(base_url, client, http).run()


# --- dates ---------------------------------------------------------------------------------


def _datestamp(value: str) -> Datestamp | None:
    """A datestamp as the check reads it: strictly, but with XML's surrounding space forgiven."""
    return parse_datestamp(value.strip())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _describe(exc: BaseException) -> str:
    """The failure in our words: a college may publish these lines, and a server's own bytes
    (an error's text, a token) have no place in them."""
    if isinstance(exc, HarvestError):
        return public_description(exc)
    return exc.__class__.__name__


def _label(value: str | None) -> str | None:
    """An encoding label as a server wrote it, shown only when it looks like one."""
    if value is None:
        return None
    return value if _ENCODING_LABEL.fullmatch(value) else "(an invalid label)"


@dataclass(frozen=True)
class _Answer:
    status_code: int
    charset: str | None
    content: bytes


# --- the inspection ----------------------------------------------------------------------


@dataclass
class _Seen:
    """What the list requests brought back, for the checks that look at it afterwards."""

    headers: dict[tuple[str, str], RawRecord] = field(default_factory=dict)
    response_dates: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)


class _Inspection:
    def __init__(self, base_url: str, client: OAIClient, http: httpx.AsyncClient) -> None:
        self.base_url = base_url
        self.client = client
        self.http = http
        self.checks: list[Check] = []
        self.seen = _Seen()
        self.granularity = DAY
        self.deleted_record = ""

    def add(self, name: str, outcome: Outcome, detail: str) -> None:
        self.checks.append(Check(name, outcome, detail))

    async def run(self) -> list[Check]:
        identify = await self._identify()
        if identify is not None:
            prefix = await self._formats()
            await self._sets()
            if prefix is not None:
                await self._paging(prefix)
                self._deletions()
                await self._selective(prefix)
                await self._encoding(prefix)
                self._dates()
        await self._errors()
        return self.checks

    async def _raw(self, params: dict[str, str]) -> _Answer:
        """One answer read whole, bounded in size and in time like the harvester's."""
        try:
            async with (
                asyncio.timeout(self.client.deadline),
                self.http.stream("GET", self.base_url, params=params) as response,
            ):
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.client.max_bytes:
                        raise httpx.DecodingError("the answer is larger than the size cap")
                charset = _label(response.charset_encoding)
                return _Answer(response.status_code, charset, bytes(body))
        except builtins.TimeoutError:
            raise httpx.ReadTimeout("the answer took longer than its deadline") from None

    # --- Identify ---------------------------------------------------------------------

    async def _identify(self) -> Identify | None:
        try:
            identify = await self.client.identify()
        except HarvestError as exc:
            self.add("identify", "fail", f"no usable answer to Identify: {_describe(exc)}")
            return None
        self.seen.response_dates.append(identify.response_date)
        values = _identify_values(identify.raw_bytes)
        missing = [name for name in REQUIRED if not any(v.strip() for v in values.get(name, []))]
        version = " ".join(values.get("protocolVersion", []))
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if version and version != "2.0":
            problems.append(f"protocolVersion is {version!r}, not 2.0")
        if problems:
            self.add("identify", "fail", "; ".join(problems) + " (OAI-PMH 2.0 §4.2)")
        else:
            self.add("identify", "pass", f"{identify.repository_name!r} speaks OAI-PMH 2.0")
        self._identify_values(values)
        return identify

    def _identify_values(self, values: dict[str, list[str]]) -> None:
        """One check per field present (a missing one is the identify check's failure)."""

        def first(name: str) -> str:
            return next((v.strip() for v in values.get(name, []) if v.strip()), "")

        # Granularity first: the earliest datestamp is judged against it.
        for name, check in (
            ("baseURL", self._base_url),
            ("adminEmail", lambda _: self._admin_emails(values["adminEmail"])),
            ("granularity", self._granularity),
            ("deletedRecord", self._deleted_record),
            ("earliestDatestamp", self._earliest),
        ):
            if first(name):
                check(first(name))

    def _base_url(self, announced: str) -> None:
        if same_endpoint(announced, self.base_url):
            self.add("base-url", "pass", f"Identify announces {announced}")
        else:
            self.add(
                "base-url",
                "warn",
                f"Identify announces {announced} but was asked at {self.base_url}; "
                "harvesters that follow the announced URL go elsewhere",
            )

    def _admin_emails(self, values: list[str]) -> None:
        emails = [v.strip() for v in values if v.strip()]
        bad = [e for e in emails if not _EMAIL.fullmatch(e.removeprefix("mailto:"))]
        prefixed = [e for e in emails if e.lower().startswith("mailto:")]
        if bad:
            self.add("admin-email", "fail", f"not an e-mail address: {', '.join(bad)}")
        elif prefixed:
            self.add(
                "admin-email",
                "warn",
                f"{', '.join(prefixed)}: drop the mailto: prefix (the schema wants a plain "
                "address)",
            )
        else:
            self.add("admin-email", "pass", ", ".join(emails))

    def _granularity(self, granularity: str) -> None:
        if granularity in GRANULARITIES:
            self.granularity = granularity
            self.add("granularity", "pass", granularity)
        else:
            self.add(
                "granularity",
                "fail",
                f"{granularity!r} is neither {DAY} nor {SECONDS}; harvesters will assume {DAY}",
            )

    def _deleted_record(self, deleted: str) -> None:
        if deleted in DELETED_RECORD:
            self.deleted_record = deleted
            self.add("deleted-record", "pass", deleted)
        else:
            self.add(
                "deleted-record", "fail", f"{deleted!r} is not one of {', '.join(DELETED_RECORD)}"
            )

    def _earliest(self, earliest: str) -> None:
        parsed = _datestamp(earliest)
        if parsed is None:
            self.add(
                "earliest-datestamp",
                "fail",
                f"{earliest!r} is not a UTC datestamp ({DAY} or {SECONDS})",
            )
            return
        moment, granularity = parsed
        if moment.year < 1970:
            self.add(
                "earliest-datestamp",
                "warn",
                f"{earliest} looks like a placeholder: give the datestamp of the oldest record",
            )
        elif moment > datetime.now(UTC):
            self.add("earliest-datestamp", "warn", f"{earliest} is in the future")
        elif granularity != self.granularity:
            self.add(
                "earliest-datestamp",
                "warn",
                f"{earliest} is not in the announced granularity {self.granularity}",
            )
        else:
            self.add("earliest-datestamp", "pass", earliest)

    # --- formats and sets ------------------------------------------------------------------

    async def _formats(self) -> str | None:
        """Check the formats; returns the prefix to list with (oai_dc when offered)."""
        try:
            offered = await self.client.list_metadata_formats()
        except HarvestError as exc:
            self.add("formats", "fail", f"ListMetadataFormats failed: {_describe(exc)}")
            return "oai_dc"
        prefixes = [f.prefix for f in offered]
        names = ", ".join(prefixes) or "none"
        richer = _richer_formats(offered)
        if "oai_dc" not in prefixes:
            self.add(
                "formats",
                "fail",
                f"oai_dc is not offered (OAI-PMH 2.0 §3.4 requires it); offered: {names}",
            )
            return prefixes[0] if prefixes else None
        if richer:
            chosen = choose_format([(f.prefix, f.namespace) for f in offered])
            self.add(
                "formats",
                "pass",
                f"offers {names}; richer than oai_dc: {', '.join(richer)} "
                f"(we would harvest {chosen})",
            )
        else:
            self.add(
                "formats",
                "warn",
                f"only {names}: offering IEEE LOM or qualified DC as well lets learners "
                "find courses by level, learning time, licence and type",
            )
        return "oai_dc"

    async def _sets(self) -> None:
        count = pages = 0
        invalid: list[str] = []
        hierarchical = False
        set_pages, error = await _collect(self.client.list_set_pages(), MAX_SET_PAGES)
        if error is not None:
            self.add("sets", "fail", f"ListSets failed: {_describe(error)}")
            return
        for page in set_pages:
            pages += 1
            self.seen.response_dates.append(page.response_date)
            for item in page.sets:
                count += 1
                hierarchical = hierarchical or ":" in item.spec
                if not _SET_SPEC.fullmatch(item.spec):
                    invalid.append(item.spec)
        if count == 0:
            self.add("sets", "pass", "no sets (noSetHierarchy)")
            return
        more = " or more" if pages >= MAX_SET_PAGES else ""
        shape = "hierarchical" if hierarchical else "flat"
        if invalid:
            self.add(
                "sets",
                "warn",
                f"{count}{more} sets; setSpec not of the form the spec allows: "
                + ", ".join(repr(s) for s in invalid[:5]),
            )
        else:
            self.add("sets", "pass", f"{_plural(count, 'set')}{more} ({shape})")

    # --- lists ----------------------------------------------------------------------------

    async def _paging(self, prefix: str) -> None:
        pages, error = await _collect(self.client.list_identifiers_pages(prefix), MAX_LIST_PAGES)
        self._remember(pages)
        if error is not None:
            where = f"after page {len(pages)}" if pages else "on the first page"
            self.add("paging", "fail", f"ListIdentifiers failed {where}: {_describe(error)}")
            return
        total = sum(len(p.records) for p in pages)
        if len(pages) == 1:
            detail = (
                f"the whole list ({_plural(total, 'header')}) came in one response"
                if total
                else "the repository lists no records; paging not checked"
            )
            self.add("paging", "pass", detail)
            return
        complete = pages[-1].token is None
        problems = _paging_problems(pages, complete=complete)
        if complete and not _has_token_element(pages[-1].raw_bytes):
            problems.append(
                "the last page has no <resumptionToken/> at all; the spec asks for an "
                "empty one, so harvesters can tell a complete list from a cut-off response"
            )
        reach = (
            f"followed {len(pages)} pages to the end ({_plural(total, 'header')})"
            if complete
            else f"followed the first {len(pages)} pages ({_plural(total, 'header')})"
        )
        if problems:
            self.add("paging", "warn", f"{reach}; " + "; ".join(problems))
        else:
            self.add("paging", "pass", reach)

    def _remember(self, pages: list[Page]) -> None:
        for page in pages:
            for header in page.records:  # a header listed twice counts once
                self.seen.headers.setdefault((header.identifier, header.datestamp), header)
            self.seen.response_dates.append(page.response_date)
            self.seen.repairs.extend(page.repairs)

    def _deletions(self) -> None:
        deleted = [h for h in self.seen.headers.values() if h.deleted]
        anonymous = [h for h in deleted if not h.identifier]
        if not self.deleted_record:
            return
        if deleted and self.deleted_record == "no":
            self.add(
                "deletions",
                "warn",
                f"deletedRecord is 'no' yet {_plural(len(deleted), 'deleted header')} "
                "came in the list: announce 'transient' or 'persistent'",
            )
        elif anonymous:
            self.add(
                "deletions",
                "warn",
                f"{_plural(len(anonymous), 'deleted header')} without an identifier: "
                "harvesters cannot tell which record was deleted",
            )
        else:
            seen = f"; {_plural(len(deleted), 'deleted header')} seen" if deleted else ""
            self.add("deletions", "pass", f"deletedRecord {self.deleted_record}{seen}")

    async def _selective(self, prefix: str) -> None:
        stamps = sorted(
            parsed[0] for h in self.seen.headers.values() if (parsed := _datestamp(h.datestamp))
        )
        if not stamps:
            self.add("selective", "warn", "no datestamps were listed; from was not tried")
            return
        moment = stamps[len(stamps) // 2]
        since = format_datestamp(moment, self.granularity)
        try:
            answered = await _first(self.client.list_identifiers_pages(prefix, from_=since))
        except HarvestError as exc:
            self.add(
                "selective",
                "fail",
                f"from={since} (in the announced granularity) was refused: {_describe(exc)}",
            )
            return
        notes: list[str] = []
        outcome: Outcome = "pass"
        if answered is not None:
            self._remember([answered])
            floor = _truncate(moment, self.granularity)
            older = []
            for header in answered.records:
                parsed = _datestamp(header.datestamp)
                if parsed is not None and _truncate(parsed[0], self.granularity) < floor:
                    older.append(header.datestamp)
            if older:
                outcome = "warn"
                notes.append(
                    f"from={since} was ignored (records of {older[0]} came back): "
                    "every incremental harvest re-reads the whole repository"
                )
        probe_outcome, probe = await self._granularity_probe(prefix, moment)
        if probe_outcome == "warn":
            outcome = "warn"
        notes.append(probe)
        if outcome == "pass":
            notes.insert(0, f"from={since} is honoured")
        self.add("selective", outcome, "; ".join(notes))

    async def _granularity_probe(self, prefix: str, moment: datetime) -> tuple[Outcome, str]:
        """Day repositories must refuse seconds; every repository must accept days."""
        if self.granularity == DAY:
            seconds = format_datestamp(moment, SECONDS)
            try:
                await _first(self.client.list_identifiers_pages(prefix, from_=seconds))
            except BadArgument:
                return "pass", "from with seconds is refused with badArgument, as it should be"
            except HarvestError as exc:
                return "warn", f"from={seconds} earned {_describe(exc)}, not badArgument"
            return (
                "warn",
                f"from={seconds} was accepted although the granularity is {DAY}: announce "
                f"{SECONDS} if seconds are supported",
            )
        day = format_datestamp(moment, DAY)
        try:
            await _first(self.client.list_identifiers_pages(prefix, from_=day))
        except HarvestError as exc:
            return (
                "warn",
                f"from={day} was refused ({_describe(exc)}); every repository must accept "
                "day granularity",
            )
        return "pass", f"from={day} (day granularity) is accepted too"

    # --- bytes and dates ----------------------------------------------------------------------

    async def _encoding(self, prefix: str) -> None:
        problems: list[str] = []
        for params in (
            {"verb": "Identify"},
            {"verb": "ListRecords", "metadataPrefix": prefix},
        ):
            label = params["verb"]
            try:
                response = await self._raw(params)
            except httpx.HTTPError as exc:
                problems.append(f"{label}: not fetched ({exc.__class__.__name__})")
                continue
            charset = response.charset
            if charset and charset.lower().replace("_", "-") not in {"utf-8", "utf8"}:
                problems.append(f"{label}: Content-Type says charset={charset}")
            declared = _XML_ENCODING.match(response.content[:200])
            if declared and declared.group(1).lower() not in {b"utf-8", b"utf8"}:
                encoding = _label(declared.group(1).decode("ascii", "replace"))
                problems.append(f"{label}: the XML declaration says {encoding}")
            try:
                document = parse_xml_document(response.content)
            except XMLError as exc:
                self.add("encoding", "fail", f"{label} is not usable XML: {_describe(exc)}")
                return
            problems.extend(f"{label}: {repair}" for repair in document.repairs)
        problems.extend(f"ListIdentifiers: {repair}" for repair in dict.fromkeys(self.seen.repairs))
        if problems:
            self.add(
                "encoding",
                "warn",
                "bytes had to be repaired or re-encoded: " + "; ".join(dict.fromkeys(problems)),
            )
        else:
            self.add("encoding", "pass", "UTF-8, well-formed, no repairs needed")

    def _dates(self) -> None:
        wrong: list[str] = []
        headers = [h.datestamp for h in self.seen.headers.values() if h.datestamp]
        for value in headers:
            parsed = _datestamp(value)
            if parsed is None or parsed[1] != self.granularity:
                wrong.append(value)
        bad_response_dates = []
        for value in self.seen.response_dates:
            parsed = _datestamp(value)
            if parsed is None or parsed[1] != SECONDS:
                bad_response_dates.append(value)
        problems = []
        if wrong:
            problems.append(
                f"{_plural(len(wrong), 'datestamp')} of {len(headers)} not in the announced "
                f"granularity {self.granularity} (e.g. {wrong[0]})"
            )
        if bad_response_dates:
            problems.append(f"responseDate {bad_response_dates[0]!r} is not {SECONDS} in UTC")
        if problems:
            self.add("dates", "warn", "; ".join(problems))
        else:
            self.add(
                "dates",
                "pass",
                f"{_plural(len(headers), 'datestamp')} in {self.granularity}; "
                "responseDates in UTC seconds",
            )

    async def _errors(self) -> None:
        try:
            response = await self._raw({"verb": "NoSuchVerb"})
        except httpx.HTTPError as exc:
            self.add("errors", "fail", f"a bad verb got no answer ({exc.__class__.__name__})")
            return
        status = response.status_code
        try:
            parsed = parse_response(response.content, http_status=status)
        except HarvestError as exc:
            self.add(
                "errors",
                "fail",
                f"a bad verb got HTTP {status} without an OAI-PMH body ({_describe(exc)}); "
                "errors must be OAI-PMH <error> elements in an HTTP 200 response",
            )
            return
        codes = [code for code, _ in parsed.errors]
        if BadVerb.code not in codes:
            found = ", ".join(codes) or "no error"
            self.add("errors", "fail", f"a bad verb got {found} (HTTP {status}), not badVerb")
        elif status != 200:
            self.add(
                "errors",
                "fail",
                f"badVerb came with HTTP {status}; OAI-PMH errors belong in an HTTP 200 "
                "response (§3.6), other statuses make harvesters retry or give up",
            )
        else:
            self.add("errors", "pass", "a bad verb gets badVerb in an HTTP 200 response")


# --- helpers -------------------------------------------------------------------------------


async def _collect(pages: AsyncIterator[_T], limit: int) -> tuple[list[_T], HarvestError | None]:
    """Up to ``limit`` pages of a list, and the error that stopped it early, if any."""
    collected: list[_T] = []
    try:
        async for page in pages:
            collected.append(page)
            if len(collected) >= limit:
                break
    except HarvestError as exc:
        return collected, exc
    finally:
        close = getattr(pages, "aclose", None)  # stop the generator: no request past here
        if close is not None:
            await close()
    return collected, None


async def _first(pages: AsyncIterator[_T]) -> _T | None:
    """The first page of a list (None when it is empty); raises what the list raised."""
    collected, error = await _collect(pages, 1)
    if error is not None:
        raise error
    return collected[0] if collected else None


def _truncate(moment: datetime, granularity: str) -> datetime:
    if granularity == DAY:
        return moment.replace(hour=0, minute=0, second=0)
    return moment


def _identify_values(raw: bytes) -> dict[str, list[str]]:
    """Identify's fields as sent (``parse_identify`` fills in defaults; here we must not)."""
    try:
        response = parse_response(raw, expected_verb="Identify")
    except HarvestError:
        return {}
    values: dict[str, list[str]] = {}
    if response.body is None:
        return values
    for child in response.body:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child)
        if name.namespace in (OAI_NS, None) and name.localname != "description":
            text = "".join(t for t in child.itertext() if isinstance(t, str))
            values.setdefault(name.localname, []).append(text.strip())
    return values


def _richer_formats(offered: list[MetadataFormat]) -> list[str]:
    return [
        f.prefix
        for f in offered
        if f.prefix != "oai_dc" and (f.prefix in READERS or f.namespace in RICHER_NAMESPACES)
    ]


def _has_token_element(raw: bytes) -> bool:
    try:
        response = parse_response(raw)
    except HarvestError:
        return False
    body = response.body
    if body is None:
        return False
    return any(
        isinstance(c.tag, str) and etree.QName(c).localname == "resumptionToken" for c in body
    )


def _paging_problems(pages: list[Page], *, complete: bool) -> list[str]:
    problems: list[str] = []
    first = pages[0]
    if first.cursor not in (None, 0):
        problems.append(f"the first page has cursor={first.cursor}, expected 0")
    offset = 0
    sizes: list[int] = []
    cursor_problem = ""
    for index, page in enumerate(pages):
        cursor = page.cursor
        if not cursor_problem and index and cursor is not None and cursor != offset:
            cursor_problem = (
                f"cursor counts pages, not records (cursor={cursor} after "
                f"{_plural(offset, 'header')})"
                if cursor == index
                else f"cursor={cursor} on page {index + 1}, expected {offset}"
            )
        if page.complete_list_size is not None:
            sizes.append(page.complete_list_size)
        offset += len(page.records)
    if cursor_problem:
        problems.append(cursor_problem)
    if len(set(sizes)) > 1:
        problems.append(f"completeListSize drifts ({sizes[0]} → {sizes[-1]})")
    elif sizes and complete and sizes[0] != offset:
        problems.append(f"completeListSize says {sizes[0]}, the list held {offset}")
    elif sizes and sizes[0] < offset:
        problems.append(f"completeListSize says {sizes[0]}, already {offset} were listed")
    return problems


__all__ = ["Check", "Outcome", "check_endpoint", "format_checks", "has_failures"]

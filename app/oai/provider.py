"""The OAI-PMH 2.0 data provider: request arguments in, response XML out, over a repository.

Pure protocol: it knows nothing of HTTP (``app.oai.routes``) or SQL (``app.oai.repository``
implements ``Repository``), nor how a record is written in a format (a ``Dissemination``:
``ProfileDissemination`` for the catalogue; the demo repository sends its own XML, over
an in-memory ``Repository``).  What it promises harvesters:

* all six verbs; extra, repeated, empty or missing arguments are ``badArgument``, and
  ``resumptionToken`` is exclusive; every error travels in an ordinary response body;
* datestamps are the time a record last changed *here* (``updated_at``), granularity
  ``YYYY-MM-DDThh:mm:ssZ``; ``from``/``until`` may also be days, are inclusive, and must
  share one granularity;
* ``deletedRecord`` is persistent: tombstones are listed as ``<header status="deleted">``;
* lists are read by keyset (``updated_at``, id) and continued with signed, expiring,
  stateless tokens (``app.oai.tokens``), so records changing mid-harvest never make a
  harvester skip or repeat records still to come; every token carries ``cursor``,
  ``completeListSize`` and ``expirationDate``, and a paged list ends with an empty token;
* sets ``source:<slug>``, ``subject:<category>:<discipline>[:<major>]`` (national catalogue
  codes: ``subject:08`` holds ``subject:08:0812``) and ``level:<education level>``, each
  group also being a set of its own (``source``, ``subject``, ``level``);
* records carry an ``<about><provenance>`` describing where we harvested them, nesting the
  provenance the origin gave us.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from lxml import etree

from app.oai.formats import FORMATS
from app.oai.tokens import InvalidToken, ListState, TokenCodec
from harvesters.oai import dates
from harvesters.oai.dates import format_datestamp
from harvesters.oai.errors import XMLError
from harvesters.xml import parse_xml
from metadata.profile import ResourceRecord
from metadata.vocabularies import (
    DISCIPLINE_CATALOGUE,
    DISCIPLINE_CATEGORIES,
    DISCIPLINES,
    EDUCATION_LEVELS,
)

PAGE_SIZE = 100
REPOSITORY_IDENTIFIER = "coursefed"
REPOSITORY_NAME = "coursefed 课程资源联邦 / coursefed course resource federation"
ADMIN_EMAIL = "oai-admin@coursefed.invalid"

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
# repositoryIdentifier in the oai-identifier schema: a domain name of two labels or more.
DOMAIN_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
PROVENANCE_NS = "http://www.openarchives.org/OAI/2.0/provenance"
PROVENANCE_SCHEMA = "http://www.openarchives.org/OAI/2.0/provenance.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
GRANULARITY = dates.SECONDS

_EARLIER_ORIGIN = (
    f"{{{OAI_NS}}}about/{{{PROVENANCE_NS}}}provenance/{{{PROVENANCE_NS}}}originDescription"
)
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_SET_PART = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_DIGITS = re.compile(r"[0-9]+")
_SUBJECT_LENGTHS = (2, 4, 6)  # category, first-level discipline, major
_SET_GROUPS = {
    "source": "来源 / Sources",
    "subject": "学科 / Disciplines",
    "level": "教育层次 / Education levels",
}
# Namespaces of the prefixes we harvest, for provenance when the raw record is missing.
_PREFIX_NAMESPACES = {
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "lom": "http://ltsc.ieee.org/xsd/LOM",
    "oai_lom": "http://ltsc.ieee.org/xsd/LOM",
    "lom_ims": "http://www.imsglobal.org/xsd/imsmd_v1p2",
    "nsdl_dc": "http://ns.nsdl.org/nsdl_dc_v1.02/",
    "qdc": "http://purl.org/dc/terms/",
    "coursefed": "https://coursefed.org/ns/profile/1.0",
}

SetFilter = tuple[str, str]
"""("source", slug) | ("subject", code prefix) | ("level", level); "" = the whole group."""


@dataclass(frozen=True)
class Item:
    """One exposed resource, as much of it as a response needs."""

    id: str
    source: str | None
    deleted: bool
    updated_at: datetime
    record: dict[str, Any] = field(compare=False)
    raw_xml: bytes | None = field(default=None, compare=False)


@dataclass(frozen=True)
class SetsPresent:
    sources: list[tuple[str, str]]
    levels: list[str]
    subject_codes: list[str]


class Repository(Protocol):
    """What the provider reads; ``app.oai.repository.SqlRepository`` over the catalogue."""

    def get(self, resource_id: str, *, with_raw: bool) -> Item | None: ...

    def earliest(self) -> datetime | None: ...

    def page(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
        limit: int,
        *,
        with_raw: bool,
    ) -> list[Item]: ...

    def count(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
    ) -> int: ...

    def sets(self) -> SetsPresent: ...


class FormatDescription(Protocol):
    """What ListMetadataFormats says of a format."""

    @property
    def prefix(self) -> str: ...

    @property
    def schema(self) -> str: ...

    @property
    def namespace(self) -> str: ...


class Dissemination(Protocol):
    """The formats offered (each for every record) and a live item written in one of them."""

    def formats(self) -> Sequence[FormatDescription]: ...

    def metadata(self, item: Item, prefix: str) -> tuple[etree._Element, etree._Element | None]:
        """The ``<metadata>`` content and the ``<about>`` content (None: no ``<about>``)."""
        ...


class ProfileDissemination:
    """The catalogue's: every format written from the stored profile, with provenance."""

    def formats(self) -> Sequence[FormatDescription]:
        return list(FORMATS.values())

    def metadata(self, item: Item, prefix: str) -> tuple[etree._Element, etree._Element | None]:
        record = ResourceRecord.model_validate(item.record)
        return FORMATS[prefix].write(record), _provenance(record, item.raw_xml)


class ProtocolError(Exception):
    """One or more OAI-PMH errors (code, message) that become the response body."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{code}: {message}" for code, message in errors))
        self.errors = tuple(errors)

    @classmethod
    def one(cls, code: str, message: str) -> ProtocolError:
        return cls([(code, message)])


@dataclass(frozen=True)
class _Verb:
    required: frozenset[str]
    optional: frozenset[str]
    paged: bool  # accepts resumptionToken as its exclusive argument


_LIST_ARGUMENTS = frozenset({"from", "until", "set"})
_VERBS = {
    "Identify": _Verb(frozenset(), frozenset(), paged=False),
    "ListMetadataFormats": _Verb(frozenset(), frozenset({"identifier"}), paged=False),
    "ListSets": _Verb(frozenset(), frozenset(), paged=True),
    "ListIdentifiers": _Verb(frozenset({"metadataPrefix"}), _LIST_ARGUMENTS, paged=True),
    "ListRecords": _Verb(frozenset({"metadataPrefix"}), _LIST_ARGUMENTS, paged=True),
    "GetRecord": _Verb(frozenset({"identifier", "metadataPrefix"}), frozenset(), paged=False),
}
_ARGUMENT_ORDER = ("identifier", "metadataPrefix", "from", "until", "set", "resumptionToken")


@dataclass(frozen=True)
class _Query:
    prefix: str
    from_: str = ""
    until: str = ""
    set_spec: str = ""


def _parse_date(name: str, value: str) -> tuple[datetime, bool]:
    """(the moment, whether day granularity) or a badArgument error."""
    if dates.granularity_of(value) is None:
        raise ProtocolError.one("badArgument", f"{name}={value!r} is not a valid UTCdatetime")
    parsed = dates.parse(value)
    if parsed is None:
        raise ProtocolError.one("badArgument", f"{name}={value!r} is not a valid date")
    return parsed.moment, parsed.granularity == dates.DAY


def date_bounds(from_: str, until: str) -> tuple[datetime | None, datetime | None]:
    """The inclusive lower and exclusive upper bounds of ``updated_at`` for from/until."""
    parsed: dict[str, tuple[datetime, bool]] = {}
    errors: list[tuple[str, str]] = []
    for name, value in (("from", from_), ("until", until)):
        if value:
            try:
                parsed[name] = _parse_date(name, value)
            except ProtocolError as error:
                errors.extend(error.errors)
    if errors:
        raise ProtocolError(errors)
    low = parsed["from"][0] if "from" in parsed else None
    high = None
    if "until" in parsed:
        moment, day = parsed["until"]
        # Datestamps are whole seconds (or days), so "until" includes its whole tick.
        high = moment + (timedelta(days=1) if day else timedelta(seconds=1))
    if "from" in parsed and "until" in parsed:
        if parsed["from"][1] != parsed["until"][1]:
            raise ProtocolError.one("badArgument", "from and until have different granularities")
        if parsed["from"][0] > parsed["until"][0]:
            raise ProtocolError.one("badArgument", "from is later than until")
    return low, high


def subject_parts(code: str) -> list[str]:
    """The hierarchy of a discipline code: ``081201`` → ``08``, ``0812``, ``081201``."""
    return [code[:n] for n in _SUBJECT_LENGTHS if len(code) >= n and _DIGITS.fullmatch(code[:n])]


def set_specs(item: Item) -> list[str]:
    """The setSpecs of an item, each set once, ancestors before descendants."""
    specs: list[str] = []
    if item.source:
        specs.append(f"source:{item.source}")
    for subject in item.record.get("subjects") or []:
        code = subject.get("code")
        if not code or subject.get("scheme") not in {None, DISCIPLINE_CATALOGUE}:
            continue
        parts = subject_parts(code)
        specs.extend("subject:" + ":".join(parts[: i + 1]) for i in range(len(parts)))
    level = item.record.get("education_level")
    if level and _SET_PART.fullmatch(level):
        specs.append(f"level:{level}")
    return list(dict.fromkeys(specs))


def parse_set(spec: str) -> SetFilter | None:
    """The filter of a setSpec; None for a well-formed spec naming no set of ours."""
    group, _, rest = spec.partition(":")
    if group not in _SET_GROUPS:
        return None
    if not rest:
        return (group, "")
    if group != "subject":
        return None if ":" in rest else (group, rest)
    parts = rest.split(":")
    if len(parts) > len(_SUBJECT_LENGTHS) or subject_parts(parts[-1]) != parts:
        return None
    return ("subject", parts[-1])


def set_name(spec: str) -> str:
    """A bilingual name for one of our setSpecs."""
    group, _, rest = spec.partition(":")
    if not rest:
        return _SET_GROUPS[group]
    if group == "level" and rest in EDUCATION_LEVELS:
        zh, en = EDUCATION_LEVELS[rest]
        return f"{zh} / {en}"
    if group == "subject":
        code = rest.rsplit(":", 1)[-1]
        labels = (DISCIPLINES if len(code) == 4 else DISCIPLINE_CATEGORIES).get(code)
        return f"{code} {labels[0]} / {labels[1]}" if labels else f"{DISCIPLINE_CATALOGUE} {code}"
    return rest


class Provider:
    """OAI-PMH over a ``Repository``; ``handle`` turns request arguments into a response."""

    def __init__(
        self,
        repository: Repository,
        tokens: TokenCodec,
        base_url: str,
        *,
        page_size: int = PAGE_SIZE,
        repository_identifier: str = REPOSITORY_IDENTIFIER,
        repository_name: str = REPOSITORY_NAME,
        admin_email: str = ADMIN_EMAIL,
        compression: Sequence[str] = ("gzip",),
        clock: Callable[[], datetime] | None = None,
        dissemination: Dissemination | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.repository = repository
        self.dissemination = dissemination or ProfileDissemination()
        self.formats = {fmt.prefix: fmt for fmt in self.dissemination.formats()}
        self.tokens = tokens
        self.base_url = base_url
        self.page_size = page_size
        self.repository_identifier = repository_identifier
        self.repository_name = repository_name
        self.admin_email = admin_email
        self.compression = tuple(compression)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._prefix = f"oai:{repository_identifier}:"

    def identifier(self, resource_id: str) -> str:
        return self._prefix + resource_id

    # ------------------------------------------------------------ dispatch

    def handle(self, params: Mapping[str, Sequence[str]]) -> bytes:
        """The response to one request; ``params`` maps each argument to all its values."""
        params = {k: [v] if isinstance(v, str) else list(v) for k, v in params.items()}
        now = self._clock()
        verbs = params.get("verb", [])
        request: dict[str, str] | None = None
        try:
            if len(verbs) != 1:
                raise ProtocolError.one(
                    "badVerb", "the verb argument is missing" if not verbs else "verb repeated"
                )
            verb = verbs[0]
            if verb not in _VERBS:
                raise ProtocolError.one("badVerb", f"{verb!r} is not an OAI-PMH verb")
            args = self._check_arguments(verb, params)
            request = {"verb": verb, **{k: args[k] for k in _ARGUMENT_ORDER if k in args}}
            body = self._dispatch(verb, args, now)
        except ProtocolError as error:
            codes = {code for code, _ in error.errors}
            # After badVerb or badArgument the request element carries no attributes.
            echo = None if codes & {"badVerb", "badArgument"} else request
            return self._render(now, echo, errors=error.errors)
        return self._render(now, request, body=body)

    @staticmethod
    def _check_arguments(verb: str, params: Mapping[str, Sequence[str]]) -> dict[str, str]:
        spec = _VERBS[verb]
        allowed = spec.required | spec.optional | ({"resumptionToken"} if spec.paged else set())
        errors = []
        for name, values in params.items():
            if name == "verb":
                continue
            if name not in allowed:
                errors.append(("badArgument", f"{verb} does not take the argument {name!r}"))
            elif len(values) != 1:
                errors.append(("badArgument", f"the argument {name!r} is repeated"))
            elif not values[0]:
                errors.append(("badArgument", f"the argument {name!r} is empty"))
        if errors:
            raise ProtocolError(errors)
        args = {name: values[0] for name, values in params.items() if name != "verb"}
        if "resumptionToken" in args:
            if len(args) > 1:
                raise ProtocolError.one("badArgument", "resumptionToken is an exclusive argument")
            return args
        missing = sorted(spec.required - args.keys())
        if missing:
            raise ProtocolError(
                [("badArgument", f"{verb} requires the argument {name!r}") for name in missing]
            )
        return args

    def _dispatch(self, verb: str, args: dict[str, str], now: datetime) -> etree._Element:
        element = etree.Element(f"{{{OAI_NS}}}{verb}")
        if verb == "Identify":
            self._identify(element, now)
        elif verb == "ListMetadataFormats":
            self._list_metadata_formats(element, args.get("identifier"))
        elif verb == "ListSets":
            self._list_sets(element, args.get("resumptionToken"))
        elif verb == "GetRecord":
            self._get_record(element, args["identifier"], args["metadataPrefix"])
        else:
            self._list(element, verb, args, now)
        return element

    # ------------------------------------------------------------ verbs

    def _identify(self, element: etree._Element, now: datetime) -> None:
        earliest = self.repository.earliest() or now
        for name, text in (
            ("repositoryName", self.repository_name),
            ("baseURL", self.base_url),
            ("protocolVersion", "2.0"),
            ("adminEmail", self.admin_email),
            ("earliestDatestamp", format_datestamp(earliest)),
            ("deletedRecord", "persistent"),
            ("granularity", GRANULARITY),
            *(("compression", encoding) for encoding in self.compression),
        ):
            _oai(element, name, text)
        if not DOMAIN_NAME.fullmatch(self.repository_identifier):
            return  # the oai-identifier scheme wants a domain name: better none than a bad one
        nsmap = {None: OAI_IDENTIFIER_NS, "xsi": XSI_NS}
        description = etree.SubElement(
            _oai(element, "description"),
            f"{{{OAI_IDENTIFIER_NS}}}oai-identifier",
            nsmap=cast("dict[str, str]", nsmap),  # lxml-stubs omit the None key
        )
        description.set(
            f"{{{XSI_NS}}}schemaLocation", f"{OAI_IDENTIFIER_NS} {OAI_IDENTIFIER_SCHEMA}"
        )
        for name, text in (
            ("scheme", "oai"),
            ("repositoryIdentifier", self.repository_identifier),
            ("delimiter", ":"),
            ("sampleIdentifier", self.identifier("demo-0123456789abcdef0123")),
        ):
            etree.SubElement(description, f"{{{OAI_IDENTIFIER_NS}}}{name}").text = text

    def _item(self, identifier: str, *, with_raw: bool) -> Item | None:
        if not identifier.startswith(self._prefix):
            return None
        return self.repository.get(identifier.removeprefix(self._prefix), with_raw=with_raw)

    def _list_metadata_formats(self, element: etree._Element, identifier: str | None) -> None:
        if identifier is not None and self._item(identifier, with_raw=False) is None:
            raise ProtocolError.one("idDoesNotExist", f"no record {identifier!r}")
        for fmt in self.formats.values():  # every record is offered in every format
            entry = _oai(element, "metadataFormat")
            _oai(entry, "metadataPrefix", fmt.prefix)
            _oai(entry, "schema", fmt.schema)
            _oai(entry, "metadataNamespace", fmt.namespace)

    def _list_sets(self, element: etree._Element, token: str | None) -> None:
        if token is not None:
            # The list of sets is short and always sent whole, so we issue no ListSets token.
            raise ProtocolError.one("badResumptionToken", "ListSets was not given a token")
        present = self.repository.sets()
        specs: list[str] = []
        if present.sources:
            specs.append("source")
            specs.extend(f"source:{slug}" for slug, _ in present.sources)
        subjects = {
            "subject:" + ":".join(parts[: i + 1])
            for code in present.subject_codes
            for parts in [subject_parts(code)]
            for i in range(len(parts))
        }
        if subjects:
            specs.append("subject")
            specs.extend(sorted(subjects))
        levels = [f"level:{level}" for level in present.levels if _SET_PART.fullmatch(level)]
        if levels:
            specs.append("level")
            specs.extend(levels)
        if not specs:  # nothing is in any set yet (an empty catalogue)
            raise ProtocolError.one("noSetHierarchy", "no record is in any set yet")
        names = {f"source:{slug}": name for slug, name in present.sources}
        for spec in specs:
            entry = _oai(element, "set")
            _oai(entry, "setSpec", spec)
            _oai(entry, "setName", names.get(spec) or set_name(spec))

    def _get_record(self, element: etree._Element, identifier: str, prefix: str) -> None:
        errors = []
        if prefix not in self.formats:
            errors.append(("cannotDisseminateFormat", f"no metadata format {prefix!r}"))
        item = self._item(identifier, with_raw=True)
        if item is None:
            errors.append(("idDoesNotExist", f"no record {identifier!r}"))
        if errors:
            raise ProtocolError(errors)
        assert item is not None  # noqa: S101 - checked with the errors above
        self._record(element, item, prefix)

    def _list(
        self, element: etree._Element, verb: str, args: dict[str, str], now: datetime
    ) -> None:
        token = args.get("resumptionToken")
        after: tuple[datetime, str] | None = None
        cursor = 0
        if token is None:
            query = _Query(
                args["metadataPrefix"], args.get("from", ""), args.get("until", ""),
                args.get("set", ""),
            )  # fmt: skip
        else:
            state = self._open(token, verb, now)
            query = _Query(state.prefix, state.from_, state.until, state.set_spec)
            after, cursor = (state.after_time, state.after_id), state.cursor
        low, high, set_filter = self._select(query)
        with_metadata = verb == "ListRecords"
        items = self.repository.page(
            low, high, set_filter, after, self.page_size + 1, with_raw=with_metadata
        )
        more = len(items) > self.page_size
        items = items[: self.page_size]
        if not items:
            raise ProtocolError.one("noRecordsMatch", "no records match the request")
        for item in items:
            if with_metadata:
                self._record(element, item, query.prefix)
            else:
                self._header(element, item)
        if not more and cursor == 0:
            return  # a complete list in one response carries no token
        resumption = _oai(element, "resumptionToken")
        resumption.set("cursor", str(cursor))
        if not more:
            resumption.set("completeListSize", str(cursor + len(items)))
            return
        remaining = self.repository.count(low, high, set_filter, after)
        resumption.set("completeListSize", str(cursor + max(remaining, len(items) + 1)))
        last = items[-1]
        state = ListState(
            verb=verb,
            prefix=query.prefix,
            from_=query.from_,
            until=query.until,
            set_spec=query.set_spec,
            after_time=last.updated_at,
            after_id=last.id,
            cursor=cursor + len(items),
        )
        resumption.text, expires = self.tokens.seal(state, now)
        resumption.set("expirationDate", format_datestamp(expires))

    def _open(self, token: str, verb: str, now: datetime) -> ListState:
        try:
            state = self.tokens.open(token, now)
        except InvalidToken as exc:
            raise ProtocolError.one("badResumptionToken", str(exc)) from None
        if state.verb != verb:
            raise ProtocolError.one("badResumptionToken", f"the token continues a {state.verb}")
        return state

    def _select(self, query: _Query) -> tuple[datetime | None, datetime | None, SetFilter | None]:
        """Validate the list query: (low, high, set filter) or every error it has."""
        errors: list[tuple[str, str]] = []
        low = high = None
        try:
            low, high = date_bounds(query.from_, query.until)
        except ProtocolError as error:
            errors.extend(error.errors)
        set_filter = None
        if query.set_spec:
            if not _SET_SPEC.fullmatch(query.set_spec):
                errors.append(("badArgument", f"set={query.set_spec!r} is not a valid setSpec"))
            else:
                set_filter = parse_set(query.set_spec)
        if query.prefix not in self.formats:
            errors.append(("cannotDisseminateFormat", f"no metadata format {query.prefix!r}"))
        if errors:
            raise ProtocolError(errors)
        if query.set_spec and set_filter is None:
            raise ProtocolError.one("noRecordsMatch", f"there is no set {query.set_spec!r}")
        return low, high, set_filter

    # ------------------------------------------------------------ rendering

    def _header(self, parent: etree._Element, item: Item) -> None:
        header = _oai(parent, "header")
        if item.deleted:
            header.set("status", "deleted")
        _oai(header, "identifier", self.identifier(item.id))
        _oai(header, "datestamp", format_datestamp(item.updated_at))
        for spec in set_specs(item):
            _oai(header, "setSpec", spec)

    def _record(self, parent: etree._Element, item: Item, prefix: str) -> None:
        container = _oai(parent, "record")
        self._header(container, item)
        if item.deleted:
            return
        metadata, about = self.dissemination.metadata(item, prefix)
        _oai(container, "metadata").append(metadata)
        if about is not None:
            _oai(container, "about").append(about)

    def _render(
        self,
        now: datetime,
        request: Mapping[str, str] | None,
        *,
        body: etree._Element | None = None,
        errors: Sequence[tuple[str, str]] = (),
    ) -> bytes:
        nsmap = {None: OAI_NS, "xsi": XSI_NS}
        root = etree.Element(f"{{{OAI_NS}}}OAI-PMH", nsmap=cast("dict[str, str]", nsmap))
        root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
        _oai(root, "responseDate", format_datestamp(now))
        echo = _oai(root, "request", self.base_url)
        for name, value in (request or {}).items():
            echo.set(name, value)
        for code, message in errors:
            _oai(root, "error", message).set("code", code)
        if body is not None:
            root.append(body)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _provenance(record: ResourceRecord, raw_xml: bytes | None) -> etree._Element | None:
    """Where we harvested the record, with the provenance its origin sent nested inside."""
    origin = record.provenance
    if origin is None:
        return None
    namespace = _PREFIX_NAMESPACES.get(origin.metadata_prefix, "")
    earlier: etree._Element | None = None
    if raw_xml:
        try:
            raw = parse_xml(raw_xml)
        except XMLError:  # raw bytes are kept verbatim and may not parse; then go without
            raw = None
        if raw is not None:
            metadata = raw.find(f"{{{OAI_NS}}}metadata")
            if metadata is None:
                metadata = raw.find("metadata")  # sources without namespaces
            children = () if metadata is None else metadata
            content = next((c for c in children if isinstance(c.tag, str)), None)
            if content is not None:
                namespace = etree.QName(content).namespace or namespace
            earlier = raw.find(_EARLIER_ORIGIN)
    nsmap = {None: PROVENANCE_NS, "xsi": XSI_NS}
    provenance = etree.Element(
        f"{{{PROVENANCE_NS}}}provenance", nsmap=cast("dict[str, str]", nsmap)
    )
    provenance.set(f"{{{XSI_NS}}}schemaLocation", f"{PROVENANCE_NS} {PROVENANCE_SCHEMA}")
    description = etree.SubElement(provenance, f"{{{PROVENANCE_NS}}}originDescription")
    description.set("harvestDate", format_datestamp(origin.harvested_at))
    description.set("altered", "true")
    for name, text in (
        ("baseURL", origin.base_url or ""),
        ("identifier", origin.oai_identifier),
        ("datestamp", origin.datestamp),
        ("metadataNamespace", namespace),
    ):
        etree.SubElement(description, f"{{{PROVENANCE_NS}}}{name}").text = text
    if earlier is not None:
        description.append(earlier)
    return provenance


def _oai(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OAI_NS}}}{name}")
    if text is not None:
        element.text = text
    return element

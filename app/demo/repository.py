"""An OAI-PMH 2.0 data provider over demo records: request arguments in, XML bytes out.

It follows the specification strictly, so that harvester tests have a well-behaved
peer: all six verbs, every applicable error code in an ordinary response body,
``YYYY-MM-DDThh:mm:ssZ`` granularity (day dates accepted too), inclusive
``from``/``until``, hierarchical sets (``set=subject:08`` selects ``subject:08:0812``),
persistent deleted records, and resumption tokens with ``completeListSize`` and
``cursor`` that end with an empty token.  Tokens are stateless: they carry the query
and the offset, so re-issuing one returns the same page, on any instance serving the
same records.  Records are ordered by (datestamp, identifier), so paging is stable.
Transport (HTTP, compression) is the job of ``app.demo.server``.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from lxml import etree

from app.demo.corpus import EARLIEST, REPOSITORY_IDENTIFIER, DemoRecord, set_name
from app.demo.xml import METADATA_FORMATS, XSI_NS

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
DATESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_TOKEN_KEY = b"coursefed-demo-repository"


@dataclass(frozen=True)
class _Verb:
    required: frozenset[str]
    optional: frozenset[str]
    paged: bool  # accepts resumptionToken as its exclusive argument


_VERBS = {
    "Identify": _Verb(frozenset(), frozenset(), paged=False),
    "ListMetadataFormats": _Verb(frozenset(), frozenset({"identifier"}), paged=False),
    "ListSets": _Verb(frozenset(), frozenset(), paged=True),
    "ListIdentifiers": _Verb(
        frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), paged=True
    ),
    "ListRecords": _Verb(
        frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), paged=True
    ),
    "GetRecord": _Verb(frozenset({"identifier", "metadataPrefix"}), frozenset(), paged=False),
}
# Attributes of <request> in a readable order.
_ARGUMENT_ORDER = ("identifier", "metadataPrefix", "from", "until", "set", "resumptionToken")


class ProtocolError(Exception):
    """One or more OAI-PMH errors (code, message) that become the response body."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{code}: {message}" for code, message in errors))
        self.errors = tuple(errors)

    @classmethod
    def one(cls, code: str, message: str) -> ProtocolError:
        return cls([(code, message)])


@dataclass(frozen=True)
class _Query:
    """A ListIdentifiers/ListRecords selection, as the harvester sent it."""

    prefix: str
    from_: str = ""
    until: str = ""
    set_spec: str = ""


def format_datestamp(value: datetime) -> str:
    """``value`` (UTC) at the repository's granularity."""
    return value.astimezone(UTC).strftime(DATESTAMP_FORMAT)


def _parse_date(name: str, value: str) -> tuple[datetime, bool]:
    """(the moment, whether day granularity) or a badArgument error."""
    if _DAY.fullmatch(value):
        text, day = value + "T00:00:00+00:00", True
    elif _SECOND.fullmatch(value):
        text, day = value[:-1] + "+00:00", False
    else:
        raise ProtocolError.one("badArgument", f"{name}={value!r} is not a valid UTCdatetime")
    try:
        return datetime.fromisoformat(text), day
    except ValueError:
        raise ProtocolError.one("badArgument", f"{name}={value!r} is not a valid date") from None


def _date_bounds(from_: str, until: str) -> tuple[datetime | None, datetime | None]:
    """The inclusive lower and exclusive upper datestamp bounds of from/until."""
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
        # Datestamps are whole seconds, so "until" is inclusive up to its next tick.
        high = moment + (timedelta(days=1) if day else timedelta(seconds=1))
    if low is not None and high is not None:
        if parsed["from"][1] != parsed["until"][1]:
            raise ProtocolError.one("badArgument", "from and until have different granularities")
        if low >= high:
            raise ProtocolError.one("badArgument", "from is later than until")
    return low, high


def _ancestors(spec: str) -> list[str]:
    parts = spec.split(":")
    return [":".join(parts[: i + 1]) for i in range(len(parts))]


class DemoRepository:
    """OAI-PMH over ``records``; ``handle`` turns request arguments into a response.

    ``base_url`` may be left empty for a repository handed to ``DemoRepositoryServer``,
    which fills in the URL it serves on (a port is only known once bound).
    """

    def __init__(
        self,
        records: Iterable[DemoRecord],
        base_url: str = "",
        page_size: int = 100,
        *,
        repository_name: str = "coursefed 演示课程资源库 / coursefed demo course repository",
        admin_email: str = "oai-admin@demo.coursefed.example",
        compression: Sequence[str] = (),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.records: tuple[DemoRecord, ...] = tuple(
            sorted(records, key=lambda r: (r.datestamp, r.identifier))
        )
        self.base_url = base_url
        self.page_size = page_size
        self.repository_name = repository_name
        self.admin_email = admin_email
        self.compression = tuple(compression)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._stamps = [record.datestamp for record in self.records]
        self._by_identifier = {record.identifier: record for record in self.records}
        if len(self._by_identifier) != len(self.records):
            raise ValueError("record identifiers must be unique")
        # Positions (in datestamp order) of the records in each set and its descendants,
        # so that a page is found by bisection instead of a scan of every record.
        self._members: dict[str, list[int]] = {}
        for position, record in enumerate(self.records):
            for spec in {a for s in record.sets for a in _ancestors(s)}:
                self._members.setdefault(spec, []).append(position)
        self._set_specs = sorted(self._members)

    # ------------------------------------------------------------ dispatch

    def handle(self, params: Mapping[str, Sequence[str]]) -> bytes:
        """The response to one request; ``params`` maps each argument to its values."""
        # A bare string is one value, not a sequence of one-letter values.
        params = {k: [v] if isinstance(v, str) else list(v) for k, v in params.items()}
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
            body = self._dispatch(verb, args)
        except ProtocolError as error:
            codes = {code for code, _ in error.errors}
            # After badVerb or badArgument the request element carries no attributes.
            echo = None if codes & {"badVerb", "badArgument"} else request
            return self._render(echo, errors=error.errors)
        return self._render(request, body=body)

    def _check_arguments(self, verb: str, params: Mapping[str, Sequence[str]]) -> dict[str, str]:
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

    def _dispatch(self, verb: str, args: dict[str, str]) -> etree._Element:
        element = etree.Element(f"{{{OAI_NS}}}{verb}")
        if verb == "Identify":
            self._identify(element)
        elif verb == "ListMetadataFormats":
            self._list_metadata_formats(element, args.get("identifier"))
        elif verb == "ListSets":
            self._list_sets(element, args.get("resumptionToken"))
        elif verb == "GetRecord":
            self._get_record(element, args["identifier"], args["metadataPrefix"])
        else:
            self._list(element, args, with_metadata=verb == "ListRecords")
        return element

    # ------------------------------------------------------------ verbs

    def _identify(self, element: etree._Element) -> None:
        earliest = self.records[0].datestamp if self.records else EARLIEST
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
        nsmap = {None: OAI_IDENTIFIER_NS, "xsi": XSI_NS}
        identifier = etree.SubElement(
            _oai(element, "description"),
            f"{{{OAI_IDENTIFIER_NS}}}oai-identifier",
            nsmap=cast("dict[str, str]", nsmap),  # lxml-stubs omit the None key
        )
        identifier.set(
            f"{{{XSI_NS}}}schemaLocation", f"{OAI_IDENTIFIER_NS} {OAI_IDENTIFIER_SCHEMA}"
        )
        sample = self.records[0].identifier if self.records else "oai:demo:course-00001"
        for name, text in (
            ("scheme", "oai"),
            ("repositoryIdentifier", REPOSITORY_IDENTIFIER),
            ("delimiter", ":"),
            ("sampleIdentifier", sample),
        ):
            etree.SubElement(identifier, f"{{{OAI_IDENTIFIER_NS}}}{name}").text = text

    def _list_metadata_formats(self, element: etree._Element, identifier: str | None) -> None:
        if identifier is not None and identifier not in self._by_identifier:
            raise ProtocolError.one("idDoesNotExist", f"no record {identifier!r}")
        for fmt in METADATA_FORMATS.values():
            entry = _oai(element, "metadataFormat")
            _oai(entry, "metadataPrefix", fmt.prefix)
            _oai(entry, "schema", fmt.schema)
            _oai(entry, "metadataNamespace", fmt.namespace)

    def _list_sets(self, element: etree._Element, token: str | None) -> None:
        if not self._set_specs:
            raise ProtocolError.one("noSetHierarchy", "this repository has no sets")
        offset = 0
        if token is not None:
            fields = self._open_token(token)
            if len(fields) != 2 or fields[0] != "sets" or not fields[1].isdigit():
                raise ProtocolError.one("badResumptionToken", f"{token!r} is not a ListSets token")
            offset = int(fields[1])
            if not 0 < offset < len(self._set_specs):
                raise ProtocolError.one("badResumptionToken", f"{token!r} is out of range")
        page = self._set_specs[offset : offset + self.page_size]
        for spec in page:
            entry = _oai(element, "set")
            _oai(entry, "setSpec", spec)
            _oai(entry, "setName", set_name(spec))
        self._resumption(element, ["sets"], offset, len(page), len(self._set_specs))

    def _get_record(self, element: etree._Element, identifier: str, prefix: str) -> None:
        errors = []
        if prefix not in METADATA_FORMATS:
            errors.append(("cannotDisseminateFormat", f"no metadata format {prefix!r}"))
        record = self._by_identifier.get(identifier)
        if record is None:
            errors.append(("idDoesNotExist", f"no record {identifier!r}"))
            raise ProtocolError(errors)
        if errors:
            raise ProtocolError(errors)
        self._record(element, record, prefix)

    def _list(self, element: etree._Element, args: dict[str, str], *, with_metadata: bool) -> None:
        token = args.get("resumptionToken")
        if token is None:
            query = _Query(
                args["metadataPrefix"],
                args.get("from", ""),
                args.get("until", ""),
                args.get("set", ""),
            )
            offset = 0
        else:
            query, offset = self._query_from_token(token)
        members, start, stop = self._select(query)
        total = stop - start
        if total == 0:
            raise ProtocolError.one("noRecordsMatch", "no records match the request")
        if offset >= total:
            raise ProtocolError.one("badResumptionToken", f"{token!r} is past the end of the list")
        begin = start + offset
        end = min(stop, begin + self.page_size)
        for position in members[begin:end]:
            record = self.records[position]
            if with_metadata:
                self._record(element, record, query.prefix)
            else:
                self._header(element, record)
        fields = [query.prefix, query.from_, query.until, query.set_spec]
        self._resumption(element, fields, offset, end - begin, total)

    # ------------------------------------------------------------ selection

    def _select(self, query: _Query) -> tuple[Sequence[int], int, int]:
        """Validate ``query``; the matching positions are ``members[start:stop]``."""
        errors: list[tuple[str, str]] = []
        low = high = None
        try:
            low, high = _date_bounds(query.from_, query.until)
        except ProtocolError as error:
            errors.extend(error.errors)
        if query.set_spec and not _SET_SPEC.fullmatch(query.set_spec):
            errors.append(("badArgument", f"set={query.set_spec!r} is not a valid setSpec"))
        if query.prefix not in METADATA_FORMATS:
            errors.append(("cannotDisseminateFormat", f"no metadata format {query.prefix!r}"))
        if errors:
            raise ProtocolError(errors)

        first = 0 if low is None else bisect_left(self._stamps, low)
        last = len(self._stamps) if high is None else bisect_left(self._stamps, high)
        if not query.set_spec:
            return range(len(self.records)), first, max(first, last)
        members = self._members.get(query.set_spec, [])
        return members, bisect_left(members, first), bisect_left(members, last)

    # ------------------------------------------------------------ tokens

    @staticmethod
    def _seal(fields: Sequence[str]) -> str:
        payload = "|".join(fields)
        digest = hashlib.blake2s(payload.encode(), key=_TOKEN_KEY, digest_size=4).hexdigest()
        return f"{payload}|{digest}"

    def _open_token(self, token: str) -> list[str]:
        payload = token.rpartition("|")[0]
        if not payload or self._seal(payload.split("|")) != token:
            raise ProtocolError.one("badResumptionToken", f"{token!r} is not a token we issued")
        return payload.split("|")

    def _query_from_token(self, token: str) -> tuple[_Query, int]:
        fields = self._open_token(token)
        if len(fields) != 5 or fields[0] == "sets" or not fields[4].isdigit():
            raise ProtocolError.one("badResumptionToken", f"{token!r} is not a list token")
        offset = int(fields[4])
        if offset == 0:
            raise ProtocolError.one("badResumptionToken", f"{token!r} does not continue a list")
        return _Query(*fields[:4]), offset

    def _resumption(
        self, element: etree._Element, fields: list[str], offset: int, count: int, total: int
    ) -> None:
        if offset == 0 and count == total:
            return  # a complete list in one response carries no token
        token = _oai(element, "resumptionToken")
        token.set("completeListSize", str(total))
        token.set("cursor", str(offset))
        if offset + count < total:
            token.text = self._seal([*fields, str(offset + count)])

    # ------------------------------------------------------------ rendering

    @staticmethod
    def _header(parent: etree._Element, record: DemoRecord) -> None:
        header = _oai(parent, "header")
        if record.deleted:
            header.set("status", "deleted")
        _oai(header, "identifier", record.identifier)
        _oai(header, "datestamp", format_datestamp(record.datestamp))
        for spec in record.sets:
            _oai(header, "setSpec", spec)

    def _record(self, parent: etree._Element, record: DemoRecord, prefix: str) -> None:
        container = _oai(parent, "record")
        self._header(container, record)
        if not record.deleted:
            _oai(container, "metadata").append(METADATA_FORMATS[prefix].render(record))

    def _render(
        self,
        request: Mapping[str, str] | None,
        *,
        body: etree._Element | None = None,
        errors: Sequence[tuple[str, str]] = (),
    ) -> bytes:
        nsmap = {None: OAI_NS, "xsi": XSI_NS}
        root = etree.Element(
            f"{{{OAI_NS}}}OAI-PMH", nsmap=cast("dict[str, str]", nsmap)
        )  # lxml-stubs omit the None key
        root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
        _oai(root, "responseDate", format_datestamp(self._clock()))
        echo = _oai(root, "request", self.base_url)
        for name, value in (request or {}).items():
            echo.set(name, value)
        for code, message in errors:
            _oai(root, "error", message).set("code", code)
        if body is not None:
            root.append(body)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _oai(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{OAI_NS}}}{name}")
    if text is not None:
        element.text = text
    return element

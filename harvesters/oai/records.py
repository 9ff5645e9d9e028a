"""OAI-PMH response documents → typed values: records, pages, Identify, formats, sets.

Pure parsing of bytes already fetched (no HTTP here; ``client.py`` does that).  The
envelope is read whether it is in the OAI-PMH 2.0 namespace or, as some captures are,
in no namespace at all.

Each record keeps its ``raw`` bytes exactly as received: the ``<record>`` (or, for
ListIdentifiers, ``<header>``) element is cut out of the parsed bytes, and only the
namespace declarations it inherited from the envelope are added to its start tag, so
that it parses on its own again.  A page whose XML is broken inside one record is
salvaged: that record is returned with ``error`` set and its siblings parse as usual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from lxml import etree

from harvesters.oai.errors import MalformedXML, NotOAIPMH, ProtocolError, oai_error_class
from harvesters.xml import (
    DEFAULT_MAX_BYTES,
    XMLDocument,
    check_size,
    iter_elements,
    parse_xml_document,
    repair_xml_bytes,
)

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
LARGE_PAGE_BYTES = 8 * 1024 * 1024
"""Pages this large are read record by record (``parse_page``)."""
_OAI_NAMESPACES = (OAI_NS, None)


# --- values ----------------------------------------------------------------------------


class RawRecord:
    """One record (or, from ListIdentifiers, one header) as the repository sent it.

    ``metadata`` is the single element inside ``<metadata>`` (None for deleted records
    and headers); ``about`` the element inside each ``<about>``.  ``raw`` is the whole
    ``<record>``/``<header>`` element as received (see the module docstring).  When the
    record cannot be interpreted, ``error`` says why and the other fields hold what
    could still be read (often the identifier).

    Records of large pages are *lazy*: their ``metadata`` and ``about`` are parsed from
    ``raw`` at each access and not kept, so a page never holds every record's tree at
    once (read ``metadata`` once and keep the element while you need it).  Equality
    compares the header, ``raw`` and ``error``, never the elements.
    """

    __slots__ = ("_about", "_lazy", "_metadata", "datestamp", "deleted", "error", "identifier",
                 "raw", "set_specs")  # fmt: skip

    def __init__(
        self,
        identifier: str,
        datestamp: str,
        *,
        deleted: bool = False,
        set_specs: tuple[str, ...] = (),
        metadata: etree._Element | None = None,
        raw: bytes = b"",
        about: tuple[etree._Element, ...] = (),
        error: str | None = None,
        lazy: bool = False,
    ) -> None:
        self.identifier = identifier
        self.datestamp = datestamp
        self.deleted = deleted
        self.set_specs = set_specs
        self.raw = raw
        self.error = error
        self._metadata = metadata
        self._about = about
        self._lazy = lazy

    @property
    def metadata(self) -> etree._Element | None:
        if not self._lazy:
            return self._metadata
        return _elements_of(self.raw)[0]

    @property
    def about(self) -> tuple[etree._Element, ...]:
        if not self._lazy:
            return self._about
        return _elements_of(self.raw)[1]

    def _key(self) -> tuple[object, ...]:
        return (self.identifier, self.datestamp, self.deleted, self.set_specs, self.raw, self.error)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawRecord):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"RawRecord(identifier={self.identifier!r}, datestamp={self.datestamp!r}, "
            f"deleted={self.deleted!r}, set_specs={self.set_specs!r}, error={self.error!r})"
        )


@dataclass(frozen=True)
class Page:
    """One response of ListRecords or ListIdentifiers: the unit the app checkpoints.

    ``token`` is None when the list is complete (empty or absent resumptionToken).
    ``cursor`` and ``complete_list_size`` are reported as received: some servers
    count pages, not records, and the size drifts between pages.
    """

    response_date: str
    records: tuple[RawRecord, ...]
    token: str | None
    complete_list_size: int | None
    cursor: int | None
    raw_bytes: bytes = field(repr=False)
    expiration_date: str | None = None
    repairs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Identify:
    """The answer to Identify, values as received (``mailto:`` stripped from emails)."""

    repository_name: str
    base_url: str
    protocol_version: str
    granularity: str
    earliest_datestamp: str
    deleted_record: str
    compression: tuple[str, ...]
    admin_emails: tuple[str, ...]
    raw_bytes: bytes = field(repr=False)
    response_date: str = ""
    descriptions: tuple[etree._Element, ...] = field(default=(), compare=False, repr=False)
    peer_node: str = ""  # a coursefed peer's node id (its X-Coursefed-Node header)

    @property
    def repository_identifier(self) -> str:
        """The ``repositoryIdentifier`` of an ``oai-identifier`` description, or ""."""
        for description in self.descriptions:
            if isinstance(description.tag, str) and _local(description) == "oai-identifier":
                for child in description:
                    if isinstance(child.tag, str) and _local(child) == "repositoryIdentifier":
                        return (child.text or "").strip()
        return ""

    @property
    def seconds_granularity(self) -> bool:
        """True when the repository accepts ``YYYY-MM-DDThh:mm:ssZ`` in from/until."""
        return "hh:mm:ss" in self.granularity


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str


@dataclass(frozen=True)
class SetInfo:
    spec: str
    name: str
    descriptions: tuple[etree._Element, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class SetPage:
    """One response of ListSets."""

    response_date: str
    sets: tuple[SetInfo, ...]
    token: str | None
    complete_list_size: int | None
    cursor: int | None
    raw_bytes: bytes = field(repr=False)


@dataclass(frozen=True)
class OAIResponse:
    """A parsed OAI-PMH envelope; ``body`` is the verb element (None on errors)."""

    document: XMLDocument
    response_date: str
    request: dict[str, str]
    errors: tuple[tuple[str, str], ...]
    body: etree._Element | None
    http_status: int | None = None

    @property
    def root(self) -> etree._Element:
        return self.document.root

    def raise_for_error(self) -> None:
        """Raise the mapped ``OAIError`` subclass if the response carries ``<error>``."""
        if not self.errors:
            return
        code, message = self.errors[0]
        raise oai_error_class(code)(
            message,
            code=code,
            errors=self.errors,
            http_status=self.http_status,
            response_date=self.response_date,
        )


# --- envelope --------------------------------------------------------------------------


def parse_response(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    http_status: int | None = None,
    expected_verb: str | None = None,
) -> OAIResponse:
    """Parse an OAI-PMH response; does not raise for ``<error>`` (see ``raise_for_error``).

    Raises ``XMLError`` for unusable XML, ``NotOAIPMH`` when the root is not
    ``OAI-PMH``, and ``ProtocolError`` when a response without errors has no (or the
    wrong) verb element.
    """
    return _envelope(parse_xml_document(data, max_bytes=max_bytes), http_status, expected_verb)


def _envelope(
    document: XMLDocument, http_status: int | None, expected_verb: str | None
) -> OAIResponse:
    root = document.root
    if not _is(root, "OAI-PMH"):
        raise NotOAIPMH(f"not an OAI-PMH 2.0 document (root element {_describe(root)})")
    errors: list[tuple[str, str]] = []
    body: etree._Element | None = None
    response_date = ""
    request: dict[str, str] = {}
    for child in _elements(root):
        name = _oai_local(child)
        if name == "responseDate":
            response_date = _text(child)
        elif name == "request":
            request = {str(k): str(v) for k, v in child.attrib.items()}
            request["baseURL"] = _text(child)
        elif name == "error":
            errors.append((child.get("code", "").strip(), " ".join(_text(child).split())))
        elif name is not None and body is None:
            body = child
    response = OAIResponse(
        document=document,
        response_date=response_date,
        request=request,
        errors=tuple(errors),
        body=None if errors else body,
        http_status=http_status,
    )
    if errors:
        return response
    if body is None:
        raise ProtocolError("OAI-PMH response has neither a verb element nor <error>")
    if expected_verb is not None and _oai_local(body) != expected_verb:
        raise ProtocolError(f"asked for {expected_verb}, the response holds {_describe(body)}")
    return response


def looks_like_oai_error(data: bytes) -> bool:
    """Cheap sniff: could this body be an OAI-PMH document with an ``<error>``?"""
    head = data[:65536]
    return b"OAI-PMH" in head and b"error" in head


# --- verbs -----------------------------------------------------------------------------


def parse_identify(response: OAIResponse) -> Identify:
    body = _require_body(response, "Identify")
    values: dict[str, list[str]] = {}
    descriptions: list[etree._Element] = []
    for child in _elements(body):
        name = _oai_local(child)
        if name == "description":
            descriptions.extend(_elements(child)[:1])
        elif name is not None:
            values.setdefault(name, []).append(_text(child))

    def first(name: str) -> str:
        return values.get(name, [""])[0]

    return Identify(
        repository_name=first("repositoryName"),
        base_url=first("baseURL"),
        protocol_version=first("protocolVersion"),
        granularity=first("granularity") or "YYYY-MM-DD",
        earliest_datestamp=first("earliestDatestamp"),
        deleted_record=first("deletedRecord"),
        compression=tuple(v for v in values.get("compression", []) if v),
        admin_emails=tuple(
            _strip_mailto(v) for v in values.get("adminEmail", []) if _strip_mailto(v)
        ),
        raw_bytes=response.document.data,
        response_date=response.response_date,
        descriptions=tuple(descriptions),
    )


def parse_metadata_formats(response: OAIResponse) -> list[MetadataFormat]:
    body = _require_body(response, "ListMetadataFormats")
    formats = []
    for item in _elements(body):
        if _oai_local(item) != "metadataFormat":
            continue
        fields = {_oai_local(c): _text(c) for c in _elements(item)}
        formats.append(
            MetadataFormat(
                prefix=fields.get("metadataPrefix") or "",
                schema=fields.get("schema") or "",
                namespace=fields.get("metadataNamespace") or "",
            )
        )
    return formats


def parse_set_page(response: OAIResponse) -> SetPage:
    body = _require_body(response, "ListSets")
    sets = []
    for item in _elements(body):
        if _oai_local(item) != "set":
            continue
        spec = name = ""
        descriptions: list[etree._Element] = []
        for child in _elements(item):
            local = _oai_local(child)
            if local == "setSpec":
                spec = _text(child)
            elif local == "setName":
                name = _text(child)
            elif local == "setDescription":
                descriptions.extend(_elements(child)[:1])
        sets.append(SetInfo(spec=spec, name=name, descriptions=tuple(descriptions)))
    token, size, cursor, _ = _resumption(body)
    return SetPage(
        response_date=response.response_date,
        sets=tuple(sets),
        token=token,
        complete_list_size=size,
        cursor=cursor,
        raw_bytes=response.document.data,
    )


def parse_page(
    data: bytes,
    *,
    verb: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    http_status: int | None = None,
    stream_over: int = LARGE_PAGE_BYTES,
) -> Page:
    """Parse one ListRecords / ListIdentifiers / GetRecord response into a ``Page``.

    Raises the mapped ``OAIError`` for ``<error>`` responses (including
    ``NoRecordsMatch``: the client decides that it means an empty list).  A page of
    ``stream_over`` bytes or more is read record by record and its records are lazy
    (see ``RawRecord``): its whole tree is never held, so memory stays a small multiple
    of the page.
    """
    check_size(data, max_bytes)
    if len(data) >= stream_over and verb != "GetRecord":
        try:
            streamed = _stream_page(data, verb=verb, max_bytes=max_bytes, http_status=http_status)
        except MalformedXML:
            streamed = None  # the whole-tree path repairs or salvages what it can
        if streamed is not None:
            return streamed
    try:
        response = parse_response(
            data, max_bytes=max_bytes, http_status=http_status, expected_verb=verb
        )
    except MalformedXML as exc:
        return _salvage_page(data, verb=verb, max_bytes=max_bytes, original=exc)
    response.raise_for_error()
    return _page_from_response(response, verb)


def _page_from_response(response: OAIResponse, verb: str) -> Page:
    body = _require_body(response, verb)
    item_name = "header" if verb == "ListIdentifiers" else "record"
    items = [el for el in _elements(body) if _oai_local(el) == item_name]
    raws = _raw_items(response.document.data, item_name, items)
    records = tuple(_record(el, raw, header_only=item_name == "header") for el, raw in raws)
    token, size, cursor, expiration = _resumption(body)
    return Page(
        response_date=response.response_date,
        records=records,
        token=token,
        complete_list_size=size,
        cursor=cursor,
        raw_bytes=response.document.data,
        expiration_date=expiration,
        repairs=response.document.repairs,
    )


def _stream_page(data: bytes, *, verb: str, max_bytes: int, http_status: int | None) -> Page | None:
    """A large page read item by item with lazy records; None when it needs the whole-tree
    path (bytes to repair, or boundaries the byte scanner cannot match)."""
    item = "header" if verb == "ListIdentifiers" else "record"
    elements = iter_elements(data, (f"{{{OAI_NS}}}{item}", item))
    if elements is None:
        return None
    headers: list[RawRecord] = []
    for element in elements:
        parent = element.getparent()
        if parent is None or _oai_local(parent) != verb:
            continue  # a record of another format nested inside one of ours
        found = _record(element, b"", header_only=item == "header")
        # Keep the header's values only: a live proxy of its metadata would keep that
        # subtree alive after the clear below.
        headers.append(
            RawRecord(
                found.identifier,
                found.datestamp,
                deleted=found.deleted,
                set_specs=found.set_specs,
                error=found.error,
            )
        )
        del found
        element.clear()
        while element.getprevious() is not None:
            del parent[0]
    spans = _quick_spans(data, item.encode(), len(headers))
    if spans is None:
        spans = [
            (s.start, s.end) for s in _scan(data).children if _local_bytes(s.name) == item.encode()
        ]
        if len(spans) != len(headers):
            return None
    envelope = bytearray()
    position = 0
    for start, end in spans:
        envelope += data[position:start]
        position = end
    envelope += data[position:]
    response = parse_response(
        bytes(envelope), max_bytes=max_bytes, http_status=http_status, expected_verb=verb
    )
    response.raise_for_error()
    body = _require_body(response, verb)
    declarations = [
        (None if prefix is None else prefix.encode(), quoteattr(uri).encode())
        for prefix, uri in body.nsmap.items()
    ]
    records = tuple(
        RawRecord(
            header.identifier,
            header.datestamp,
            deleted=header.deleted,
            set_specs=header.set_specs,
            raw=_standalone(data[start:end], declarations),
            error=header.error,
            lazy=item == "record",
        )
        for header, (start, end) in zip(headers, spans, strict=True)
    )
    token, size, cursor, expiration = _resumption(body)
    return Page(
        response_date=response.response_date,
        records=records,
        token=token,
        complete_list_size=size,
        cursor=cursor,
        raw_bytes=data,
        expiration_date=expiration,
    )


def parse_raw_record(raw: bytes) -> RawRecord:
    """Read a stored ``RawRecord.raw`` again (a ``<record>`` or a ``<header>``).

    Re-normalising stored records therefore never needs a re-harvest.
    """
    element = parse_xml_document(raw).root
    local = etree.QName(element).localname
    if local not in {"record", "header"}:
        raise NotOAIPMH(f"not an OAI-PMH record (root element {_describe(element)})")
    return _record(element, raw, header_only=local == "header")


def parse_get_record(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> RawRecord:
    page = parse_page(data, verb="GetRecord", max_bytes=max_bytes)
    if not page.records:
        raise ProtocolError("GetRecord response holds no <record>")
    return page.records[0]


# --- records ---------------------------------------------------------------------------


def _record(element: etree._Element, raw: bytes, *, header_only: bool) -> RawRecord:
    header = element if header_only else _child(element, "header")
    if header is None:
        return RawRecord(identifier="", datestamp="", raw=raw, error="<record> has no <header>")
    identifier, datestamp, specs = _header_fields(header)
    deleted = header.get("status", "").strip() == "deleted"
    set_specs = tuple(dict.fromkeys(specs))
    metadata: etree._Element | None = None
    about: list[etree._Element] = []
    error: str | None = None
    if not header_only:
        container = None
        for child in element:
            name = _OAI_TAGS.get(child.tag)
            if name == "metadata":
                container = child if container is None else container
            elif name == "about":
                about.extend(_elements(child)[:1])
        if container is not None:
            metadata = next((c for c in container if isinstance(c.tag, str)), None)
        if metadata is None and not deleted:
            error = "record is not deleted but has no metadata"
    if not identifier:
        error = "header has no identifier"
    return RawRecord(
        identifier=identifier,
        datestamp=datestamp,
        deleted=deleted,
        set_specs=set_specs,
        metadata=metadata,
        raw=raw,
        about=tuple(about),
        error=error,
    )


def _elements_of(raw: bytes) -> tuple[etree._Element | None, tuple[etree._Element, ...]]:
    """``metadata`` and ``about`` of a lazy record, parsed again from its raw bytes."""
    record = _record(parse_xml_document(raw).root, raw, header_only=False)
    return record.metadata, record.about


def _header_fields(header: etree._Element) -> tuple[str, str, list[str]]:
    """(identifier, datestamp, setSpecs) in one pass; the first identifier/datestamp wins."""
    first: dict[str, str] = {}
    specs: list[str] = []
    for child in header:
        name = _OAI_TAGS.get(child.tag)
        if name == "setSpec":
            specs.append(_text(child))
        elif name in {"identifier", "datestamp"} and name not in first:
            first[name] = _text(child)
    return first.get("identifier", ""), first.get("datestamp", ""), specs


def _raw_items(
    data: bytes, item_name: str, items: list[etree._Element]
) -> Iterator[tuple[etree._Element, bytes]]:
    """Pair each parsed item with its bytes as received (made standalone)."""
    spans = _quick_spans(data, item_name.encode(), len(items))
    if spans is None:
        name = item_name.encode()
        spans = [(s.start, s.end) for s in _scan(data).children if _local_bytes(s.name) == name]
    if len(spans) != len(items):  # the scanner disagrees with libxml2: serialise instead
        for element in items:
            yield element, etree.tostring(element, encoding="UTF-8", with_tail=False)
        return
    # Items are siblings: their inherited declarations are worked out once per parent.
    last_parent: etree._Element | None = None
    declarations: list[tuple[bytes | None, bytes]] = []
    for element, (start, end) in zip(items, spans, strict=True):
        parent = element.getparent()
        if parent is None or parent is not last_parent:
            inherited = parent.nsmap if parent is not None else {}
            declarations = [
                (None if prefix is None else prefix.encode(), quoteattr(uri).encode())
                for prefix, uri in inherited.items()
            ]
            last_parent = parent
        yield element, _standalone(data[start:end], declarations)


def _salvage_page(data: bytes, *, verb: str, max_bytes: int, original: MalformedXML) -> Page:
    """Recover the good records of a page that does not parse as a whole."""
    fixed, repairs = repair_xml_bytes(data)
    scan = _scan(fixed)
    item_name = b"header" if verb == "ListIdentifiers" else b"record"
    verb_tags = [s for s in scan.sections if _local_bytes(s.name) == verb.encode()]
    if scan.root is None or len(verb_tags) != 1:
        raise original
    items = [s for s in scan.children if _local_bytes(s.name) == item_name]
    if not items:
        raise original
    envelope = bytearray()
    position = 0
    for span in items:
        envelope += fixed[position : span.start]
        position = span.end
    envelope += fixed[position:]
    try:
        response = parse_response(bytes(envelope), max_bytes=max_bytes, expected_verb=verb)
    except MalformedXML:
        raise original from None
    response.raise_for_error()
    declarations: dict[bytes | None, bytes] = {}
    for ancestor in (scan.root, verb_tags[0]):
        declarations.update(_declared_namespaces(fixed[ancestor.start : ancestor.end]))
    records = []
    for span in items:
        raw = _standalone(fixed[span.start : span.end], list(declarations.items()))
        try:
            element = parse_xml_document(raw, max_bytes=max_bytes).root
        except MalformedXML as exc:
            records.append(_unreadable(raw, str(exc)))
            continue
        records.append(_record(element, raw, header_only=item_name == b"header"))
    body = _require_body(response, verb)
    token, size, cursor, expiration = _resumption(body)
    return Page(
        response_date=response.response_date,
        records=tuple(records),
        token=token,
        complete_list_size=size,
        cursor=cursor,
        raw_bytes=fixed,
        expiration_date=expiration,
        repairs=(*repairs, f"salvaged records from a page that is not well-formed: {original}"),
    )


_IDENTIFIER = re.compile(rb"<(?:[\w.-]+:)?identifier\b[^>]*>([^<]*)<")
_DATESTAMP = re.compile(rb"<(?:[\w.-]+:)?datestamp\b[^>]*>([^<]*)<")
_DELETED = re.compile(rb"""<(?:[\w.-]+:)?header\b[^>]*\bstatus\s*=\s*["']deleted["']""")


def _unreadable(raw: bytes, reason: str) -> RawRecord:
    """What can still be read from a record that is not well-formed."""
    identifier = _IDENTIFIER.search(raw)
    datestamp = _DATESTAMP.search(raw)
    return RawRecord(
        identifier=identifier.group(1).decode("utf-8", "replace").strip() if identifier else "",
        datestamp=datestamp.group(1).decode("utf-8", "replace").strip() if datestamp else "",
        deleted=bool(_DELETED.search(raw)),
        raw=raw,
        error=reason,
    )


def _resumption(body: etree._Element) -> tuple[str | None, int | None, int | None, str | None]:
    """(token or None, completeListSize, cursor, expirationDate) of a list response."""
    element = _child(body, "resumptionToken")
    if element is None:
        return None, None, None, None
    token = _text(element) or None
    return (
        token,
        _int(element.get("completeListSize")),
        _int(element.get("cursor")),
        (element.get("expirationDate") or "").strip() or None,
    )


# --- byte scanning ---------------------------------------------------------------------

# Enough of XML's lexical structure to find element boundaries in bytes libxml2 has
# accepted (or, for salvage, nearly accepted): comments, CDATA, PIs and declarations
# are skipped whole; quoted attribute values may contain '>'.
_TOKEN = re.compile(
    rb"""
      <!--.*?-->
    | <!\[CDATA\[.*?\]\]>
    | <\?.*?\?>
    | <!(?:[^>"'\[]|"[^"]*"|'[^']*'|\[.*?\])*>
    | </(?P<end>[^\s>]+)\s*>
    | <(?P<start>[^\s/>!?]+)(?:[^>"'/]|/(?!>)|"[^"]*"|'[^']*')*(?P<empty>/)?>
    """,
    re.DOTALL | re.VERBOSE,
)
_XMLNS = re.compile(rb"""\sxmlns(?::([^\s=/>]+))?\s*=\s*("[^"]*"|'[^']*')""")
_TAG_NAME = re.compile(rb"<[^\s/>]+")


_ROOT_PREFIX = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?OAI-PMH[\s>/]")


def _quick_spans(data: bytes, item_name: bytes, expected: int) -> list[tuple[int, int]] | None:
    """Record boundaries found by searching for OAI start and end tags, not tokenising.

    A record starts where an OAI ``<record>`` is followed by its ``<header>``, and ends at
    the *last* OAI ``</record>`` before the next one starts, which steps over records of
    other formats nested inside (MARC has its own ``<record>``).  Used only when it finds
    exactly as many items as libxml2 did; otherwise the full scanner decides.
    """
    if expected == 0:
        return []
    root = _ROOT_PREFIX.search(data, 0, 4096)
    if root is None:
        return None
    prefix = re.escape(root.group(1) + b":") if root.group(1) else b""
    if item_name == b"record":
        opening = rb"<" + prefix + rb"record(?:\s[^>]*)?>\s*<" + prefix + rb"header[\s>/]"
    else:
        opening = rb"<" + prefix + item_name + rb"[\s>/]"
    starts = [m.start() for m in re.finditer(opening, data)]
    if len(starts) != expected:
        return None
    closing = b"</" + (root.group(1) + b":" if root.group(1) else b"") + item_name + b">"
    spans = []
    for start, bound in zip(starts, [*starts[1:], len(data)], strict=True):
        end = data.rfind(closing, start, bound)
        if end < 0:
            return None
        spans.append((start, end + len(closing)))
    return spans


@dataclass(frozen=True)
class _Span:
    name: bytes
    start: int
    end: int


@dataclass(frozen=True)
class _Scan:
    root: _Span | None  # start tag of the root element
    sections: tuple[_Span, ...]  # start tags of its children (responseDate ... verb)
    children: tuple[_Span, ...]  # whole elements one level further in (the records)


def _scan(data: bytes) -> _Scan:
    """Find element boundaries in the first two levels below the root, by bytes."""
    ancestors: list[_Span] = []
    children: list[_Span] = []
    depth = 0
    open_child: tuple[bytes, int] | None = None
    for match in _TOKEN.finditer(data):
        start_name, end_name = match.group("start"), match.group("end")
        if start_name is not None:
            if depth < 2:
                ancestors.append(_Span(start_name, match.start(), match.end()))
            if match.group("empty") is not None:
                if depth == 2:
                    children.append(_Span(start_name, match.start(), match.end()))
                continue
            if depth == 2:
                open_child = (start_name, match.start())
            depth += 1
        elif end_name is not None:
            depth -= 1
            if depth == 2 and open_child is not None:
                children.append(_Span(open_child[0], open_child[1], match.end()))
                open_child = None
            if depth <= 0:
                break
    return _Scan(
        root=ancestors[0] if ancestors else None,
        sections=tuple(ancestors[1:]),
        children=tuple(children),
    )


def _declared_namespaces(start_tag: bytes) -> dict[bytes | None, bytes]:
    """Namespace declarations of one start tag: prefix (None = default) → quoted URI."""
    return {m.group(1): m.group(2) for m in _XMLNS.finditer(start_tag)}


def _standalone(fragment: bytes, declarations: Iterable[tuple[bytes | None, bytes]]) -> bytes:
    """Add the inherited namespace declarations ``fragment``'s start tag lacks."""
    name = _TAG_NAME.match(fragment)
    if name is None:
        return fragment
    start_tag_end = fragment.find(b">")
    own = _declared_namespaces(fragment[: start_tag_end + 1])
    extra = b"".join(
        b" xmlns" + (b":" + prefix if prefix else b"") + b"=" + quoted
        for prefix, quoted in declarations
        if prefix not in own
    )
    return fragment[: name.end()] + extra + fragment[name.end() :] if extra else fragment


def _local_bytes(qname: bytes) -> bytes:
    return qname.rpartition(b":")[2]


# --- element helpers -------------------------------------------------------------------


def _elements(parent: etree._Element) -> list[etree._Element]:
    """Element children only (no comments or processing instructions)."""
    return [c for c in parent if isinstance(c.tag, str)]


def _oai_local(element: etree._Element) -> str | None:
    """Local name of an element in the OAI namespace (or none); None otherwise."""
    tag = element.tag
    if not isinstance(tag, str):
        qname = etree.QName(element)
        return qname.localname if qname.namespace in _OAI_NAMESPACES else None
    if tag[:1] != "{":
        return tag
    namespace, _, local = tag[1:].partition("}")
    return local if namespace == OAI_NS else None


# The record-level names, each as ``{OAI_NS}name`` and as a plain name: a dict lookup on
# ``element.tag`` replaces building a QName per child.
_OAI_TAGS: dict[str, str] = {
    tag: name
    for name in ("header", "identifier", "datestamp", "setSpec", "metadata", "about")
    for tag in (f"{{{OAI_NS}}}{name}", name)
}


def _is(element: etree._Element, local: str) -> bool:
    return isinstance(element.tag, str) and _oai_local(element) == local


def _child(parent: etree._Element | None, local: str) -> etree._Element | None:
    if parent is None:
        return None
    qualified = f"{{{OAI_NS}}}{local}"
    for child in parent:
        tag = child.tag
        if tag in (qualified, local):
            return child
    return None


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    if not len(element):  # no children: the text is all there is
        return (element.text or "").strip()
    return "".join(t for t in element.itertext() if isinstance(t, str)).strip()


def _int(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def _strip_mailto(value: str) -> str:
    value = value.strip()
    return value[len("mailto:") :] if value.lower().startswith("mailto:") else value


def _describe(element: etree._Element) -> str:
    return f"<{etree.QName(element).localname}>" if isinstance(element.tag, str) else "?"


def _require_body(response: OAIResponse, verb: str) -> etree._Element:
    response.raise_for_error()
    body = response.body
    if body is None or _oai_local(body) != verb:
        raise ProtocolError(f"response holds no <{verb}>")
    return body


__all__ = [
    "OAI_NS",
    "Identify",
    "MetadataFormat",
    "OAIResponse",
    "Page",
    "RawRecord",
    "SetInfo",
    "SetPage",
    "looks_like_oai_error",
    "parse_get_record",
    "parse_identify",
    "parse_metadata_formats",
    "parse_page",
    "parse_raw_record",
    "parse_response",
    "parse_set_page",
]


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname

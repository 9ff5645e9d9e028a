"""The one hardened XML parser for everything we harvest.

Every harvested byte goes through ``parse_xml`` (or ``parse_xml_document``), which:

* refuses documents over a size cap (``DocumentTooLarge``);
* refuses any DOCTYPE that declares entities (``UnsafeXML``): XXE and billion laughs
  are stopped before libxml2 sees the document, and the parser itself never resolves
  entities, loads DTDs or touches the network;
* repairs what real repositories send: invalid UTF-8 (replaced by U+FFFD, or the whole
  document read as cp1252 when it is evidently a legacy single-byte document), control
  characters that XML 1.0 forbids (raw or as ``&#6;`` references, replaced by U+FFFD),
  a byte-order mark or blank lines before the XML declaration;
* and otherwise fails with a clear ``MalformedXML`` (line and column included).

``iter_elements`` streams the named elements of a large document that needs no repair,
with the same hardening, so its whole tree is never held in memory.

A ``<?xml-stylesheet?>`` processing instruction before the root is legal XML and is
simply kept.  ``metadata/`` never imports this module: it receives parsed elements.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

from harvesters.oai.errors import DocumentTooLarge, MalformedXML, UnsafeXML, XMLError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DocumentTooLarge",
    "MalformedXML",
    "UnsafeXML",
    "XMLDocument",
    "XMLError",
    "iter_elements",
    "parse_xml",
    "parse_xml_document",
    "repair_xml_bytes",
]

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Largest document we parse: generous for OAI-PMH pages, small enough for memory."""

_REPLACEMENT = "\ufffd"

# Characters XML 1.0 forbids anywhere (§2.2): C0 controls except TAB, LF, CR; lone
# surrogates (only reachable through broken decoders); U+FFFE and U+FFFF.
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The same characters written as character references, e.g. ``&#6;`` or ``&#x1F;``.
_CHAR_REF = re.compile(r"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")

_XML_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
# Every byte value except the C0 controls XML 1.0 forbids: deleting these from a document
# with ``bytes.translate`` leaves exactly its forbidden bytes (much faster than a regex).
_ALLOWED_BYTES = bytes(b for b in range(256) if b >= 0x20 or b in (0x09, 0x0A, 0x0D))
_CHAR_REF_BYTES = re.compile(rb"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)

# Labels that in practice mean windows-1252 (as the WHATWG encoding standard treats them).
_CP1252_LABELS = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"}


@dataclass(frozen=True)
class XMLDocument:
    """A parsed document and the exact bytes libxml2 parsed.

    ``data`` equals the input unless something had to be repaired (then ``repairs``
    says what); it is always UTF-8, so byte offsets into it are meaningful.
    """

    root: etree._Element
    data: bytes
    repairs: tuple[str, ...] = ()


# The hardening every parse of ours uses, whole-tree or streamed.
_HARDENED: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_blank_text": False,
    "encoding": "utf-8",  # ``repair_xml_bytes`` always hands over UTF-8
}


def _parser() -> etree.XMLParser:
    # A new parser per call: lxml parsers are not safe to share between threads.
    return etree.XMLParser(**_HARDENED)


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse harvested bytes safely; the root element (see the module docstring)."""
    return parse_xml_document(data, max_bytes=max_bytes).root


def parse_xml_document(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> XMLDocument:
    """Parse harvested bytes safely, keeping the parsed bytes and the repairs made."""
    check_size(data, max_bytes)
    if _plausibly_clean(data):
        # The common case: parse the bytes as they are.  Invalid UTF-8 or a character
        # XML forbids that this cheap check cannot see makes libxml2 refuse the
        # document, and then it is repaired and parsed again below.
        refuse_entities(data)
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError:
            pass
        else:
            _refuse_parsed_entities(root)
            return XMLDocument(root=root, data=data)
    fixed, repairs = repair_xml_bytes(data)
    refuse_entities(fixed)
    try:
        root = etree.fromstring(fixed, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise MalformedXML(f"not well-formed XML: {exc.msg}", line=line, column=column) from exc
    _refuse_parsed_entities(root)
    return XMLDocument(root=root, data=fixed, repairs=tuple(repairs))


def iter_elements(data: bytes, tags: Collection[str]) -> Iterator[etree._Element] | None:
    """The elements named ``tags``, each when its end tag is read; None when ``data``
    needs repairing first (then use ``parse_xml_document``).

    Same refusals as ``parse_xml_document``; the caller clears each element (and its
    earlier siblings) once read, so memory stays that of one element.  Raises
    ``MalformedXML`` when libxml2 refuses the document part-way.
    """
    if not _plausibly_clean(data):
        return None
    refuse_entities(data)
    return _iterate(data, tuple(tags))


def _iterate(data: bytes, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    events = etree.iterparse(io.BytesIO(data), events=("end",), tag=tags, **_HARDENED)
    try:
        for _event, element in events:
            yield element
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise MalformedXML(f"not well-formed XML: {exc.msg}", line=line, column=column) from exc


def check_size(data: bytes, max_bytes: int) -> None:
    """Raise ``DocumentTooLarge`` when ``data`` is over the cap."""
    if len(data) > max_bytes:
        raise DocumentTooLarge(len(data), max_bytes)


def refuse_entities(data: bytes) -> None:
    """Raise ``UnsafeXML`` if the document has a DOCTYPE and declares any entity.

    Deliberately coarse (it may refuse a document that merely quotes both strings in a
    comment): no prolog trick, such as a comment holding ``<a>``, can slip a
    declaration past it.  ``data`` must be UTF-8 (the output of ``repair_xml_bytes``),
    so that no other encoding can hide the declaration from the check.
    """
    if _DOCTYPE.search(data) and _ENTITY_DECL.search(data):
        raise UnsafeXML("the document declares entities in its DOCTYPE; refused")


def _refuse_parsed_entities(root: etree._Element) -> None:
    # Belt and braces: whatever the byte check missed, libxml2 has recorded.
    dtd = root.getroottree().docinfo.internalDTD
    # ``DTD.entities`` is missing from lxml-stubs 0.5, hence getattr.
    if dtd is not None and list(getattr(dtd, "entities", list)()):
        raise UnsafeXML("the document declares entities in its DOCTYPE; refused")


def repair_xml_bytes(data: bytes) -> tuple[bytes, list[str]]:
    """Return UTF-8 bytes libxml2 can parse, and a list of what was repaired.

    Raises ``MalformedXML`` for an empty document.  Bytes that need no repair are
    returned unchanged (same object), so offsets into them are offsets into the input.
    """
    if _clean_utf8(data):
        return data, []
    repairs: list[str] = []
    body = data
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
        repairs.append("removed a UTF-8 byte-order mark")
    if body[:1].isspace():
        stripped = body.lstrip()
        if stripped.startswith(b"<?xml"):
            # A declaration is only legal at offset 0 (PHP scripts love blank lines).
            repairs.append("removed whitespace before the XML declaration")
            body = stripped
    if not body.strip():
        raise MalformedXML("empty document")

    text = body.decode("ascii") if body.isascii() else _decode(body, repairs)
    fixed = _CHAR_REF.sub(_repair_char_ref, text)
    if fixed != text:
        repairs.append("replaced character references to characters XML forbids")
    text, count = _INVALID_CHARS.subn(_REPLACEMENT, fixed)
    if count:
        repairs.append(f"replaced {count} character(s) XML forbids with U+FFFD")
    if not repairs:
        return data, repairs
    return text.encode("utf-8"), repairs


def _plausibly_clean(data: bytes) -> bool:
    """Cheap checks on bytes for a document that needs no repair (UTF-8 not yet checked)."""
    if data[:1] != b"<":
        return False
    if _XML_DECL.match(data[:200]) and _declared_encoding(data) not in {"utf-8", "utf8"}:
        return False
    if data.translate(None, _ALLOWED_BYTES):  # what is left are C0 controls XML forbids
        return False
    if b"&#" in data:
        for match in _CHAR_REF_BYTES.finditer(data):
            hex_digits, decimal = match.groups()
            code = int(hex_digits, 16) if hex_digits else int(decimal)
            if code > 0x10FFFF or _INVALID_CHARS.match(chr(code)):
                return False
    return True


def _clean_utf8(data: bytes) -> bool:
    """Nothing to repair at all: plausibly clean, valid UTF-8, no U+FFFE or U+FFFF."""
    if not _plausibly_clean(data):
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
            return False
    return True


def _decode(body: bytes, repairs: list[str]) -> str:
    declared = _declared_encoding(body)
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        repairs.append("re-encoded UTF-16 as UTF-8")
        return _drop_declared_encoding(body.decode("utf-16", errors="replace"))
    if declared and declared not in {"utf-8", "utf8"}:
        codec = "cp1252" if declared in _CP1252_LABELS else declared
        try:
            codecs.lookup(codec)
        except LookupError:
            codec = "utf-8"
        if codec != "utf-8":
            repairs.append(f"re-encoded {declared} as UTF-8")
            return _drop_declared_encoding(body.decode(codec, errors="replace"))
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _looks_like_cp1252(body):
        repairs.append("decoded invalid UTF-8 as cp1252 (a legacy single-byte document)")
        return body.decode("cp1252", errors="replace")
    repairs.append("replaced invalid UTF-8 bytes with U+FFFD")
    return body.decode("utf-8", errors="replace")


def _declared_encoding(body: bytes) -> str | None:
    match = _XML_DECL.match(body[:200])
    return match.group(1).decode("ascii").lower() if match else None


def _drop_declared_encoding(text: str) -> str:
    # The text is re-encoded as UTF-8, so the declaration must not contradict it.
    return re.sub(
        r"""^(<\?xml[^>]*?)\sencoding\s*=\s*["'][^"']*["']""", r"\1", text.lstrip("\ufeff")
    )


def _looks_like_cp1252(body: bytes) -> bool:
    """True for a document written in a single-byte legacy encoding and sent as UTF-8.

    Such documents contain no valid multi-byte UTF-8 sequence at all, and their high
    bytes are mostly lower-case accented letters (0xE0-0xFF) or Windows punctuation
    (0x80-0x9F).  Truncated UTF-8 instead leaves lone lead bytes (0xC2-0xDF): those
    are better shown as U+FFFD than as "Â".
    """
    if _UTF8_MULTIBYTE.search(body):
        return False
    high = _HIGH_BYTE.findall(body)
    lead_bytes = sum(1 for b in high if 0xC2 <= b[0] <= 0xDF)
    return lead_bytes * 2 < len(high)


def _repair_char_ref(match: re.Match[str]) -> str:
    hex_digits, decimal = match.groups()
    try:
        code = int(hex_digits, 16) if hex_digits else int(decimal)
    except ValueError:  # pragma: no cover - the pattern only admits digits
        return _REPLACEMENT
    if code > 0x10FFFF or _INVALID_CHARS.match(chr(code)):
        return _REPLACEMENT
    return match.group(0)

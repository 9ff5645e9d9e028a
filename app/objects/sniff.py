"""The real media type of an object from its first bytes, and the types we store.

Ours are the rules for documents (PDF, RTF, legacy Office, and the ZIP family from the
local headers within the head, decompressing nothing), programs, SVG, HTML and UTF-8
text; other bytes get the ``filetype`` library's signatures.  The declared
``Content-Type`` only ever refines a verdict the bytes already support (a ZIP declared as
``.docx``); it never turns bytes that say otherwise into an allowed type.
"""

from __future__ import annotations

import codecs
import re
import struct
from dataclasses import dataclass
from typing import Literal

import filetype

SNIFF_BYTES = 64 * 1024

PDF = "application/pdf"
ZIP = "application/zip"
EPUB = "application/epub+zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"
PPT = "application/vnd.ms-powerpoint"
CFB = "application/x-cfb"  # an OLE2 compound file we could not place
TEXT = "text/plain"
HTML = "text/html"
CSV = "text/csv"
SVG = "image/svg+xml"
XML = "application/xml"
UNKNOWN = "application/octet-stream"

_ODF_PREFIX = "application/vnd.oasis.opendocument."
# ZIP files whose kind a declared type may name: ODF and OOXML (Office) documents.
_ZIP_DOCUMENTS = (_ODF_PREFIX, "application/vnd.openxmlformats-officedocument.")
_ALLOWED = frozenset({PDF, EPUB, ZIP, TEXT, HTML, CSV, DOC, XLS, PPT, "application/rtf"})
_ALLOWED_PREFIXES = ("video/", "audio/", "image/", *_ZIP_DOCUMENTS)

# Declared types that may refine a sniffed one: the bytes are consistent with them.
_REFINES: dict[str, frozenset[str]] = {
    TEXT: frozenset({CSV, HTML}),
    ZIP: frozenset({EPUB}),  # and any OOXML or ODF type: see _refine
    CFB: frozenset({DOC, XLS, PPT}),
    "video/mp4": frozenset({"audio/mp4"}),
    "video/webm": frozenset({"audio/webm"}),
    "audio/ogg": frozenset({"video/ogg"}),
    XML: frozenset({SVG, HTML}),
}
# Other names of the types we use (some are the filetype library's), so a stored type does
# not depend on who named it.
_ALIASES = {
    "audio/x-m4a": "audio/mp4",
    "audio/x-flac": "audio/flac",
    "audio/x-wav": "audio/wav",
    "audio/x-aiff": "audio/aiff",
    "video/x-m4v": "video/mp4",
    "image/apng": "image/png",  # an animated PNG is a PNG, shown in place as one
    "application/x-zip-compressed": ZIP,
    "application/x-zip": ZIP,
    "text/comma-separated-values": CSV,
    "application/csv": CSV,
}

Package = Literal["ims", "html5"]


@dataclass(frozen=True)
class Sniffed:
    """What the bytes are: a media type, and for a ZIP whether it is a content package."""

    media_type: str
    # "ims": has imsmanifest.xml (IMS content package, SCORM); "html5": index.html at the top
    package: Package | None = None


def is_allowed(media_type: str) -> bool:
    """True when objects of this media type are stored (video, audio, images, documents)."""
    value = essence(media_type) or ""
    return value in _ALLOWED or value.startswith(_ALLOWED_PREFIXES)


def essence(content_type: str | None) -> str | None:
    """``text/CSV; charset=utf-8`` → ``text/csv``; None for a missing or malformed type."""
    if not content_type:
        return None
    value = content_type.split(";", 1)[0].strip().lower()
    if not re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", value):
        return None
    return _ALIASES.get(value, value)


def sniff(head: bytes, declared: str | None = None, *, complete: bool = False) -> Sniffed:
    """The media type of an object whose first bytes are ``head``; ``complete`` says
    ``head`` is the whole object (so a character cut at its end is an error, not a
    truncation), ``declared`` is the server's ``Content-Type``."""
    found = (
        _from_magic(head)
        or _from_text(head, complete=complete)
        or _from_binary(head)
        or Sniffed(UNKNOWN)
    )
    return _refine(found, essence(declared))


def _refine(found: Sniffed, declared: str | None) -> Sniffed:
    if declared is None or declared == found.media_type:
        return found
    if declared in _REFINES.get(found.media_type, ()):
        return Sniffed(declared, found.package)
    if found.media_type == ZIP and declared.startswith(_ZIP_DOCUMENTS) and found.package is None:
        return Sniffed(declared)
    return found


# --- binary formats -------------------------------------------------------------------------


def _from_magic(head: bytes) -> Sniffed | None:
    """Our own signatures, tried first: nothing at all, PDF, RTF, OLE2, the ZIP family."""
    if not head:
        return Sniffed("application/x-empty")
    if head.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"%PDF-"):
        return Sniffed(PDF)
    if head.startswith(b"{\\rtf"):
        return Sniffed("application/rtf")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Sniffed(_compound_file(head))
    return _zip(head)


# Stream names in an OLE2 directory (UTF-16LE), when the directory is within the head.
_CFB_STREAMS = (
    ("WordDocument", DOC),
    ("Workbook", XLS),
    ("Book", XLS),
    ("PowerPoint Document", PPT),
)
# Root-entry class ids (little-endian GUID bytes) of Windows Installer packages.
_MSI_CLSIDS = (
    bytes.fromhex("84100c0000000000c000000000000046"),  # {000C1084-0000-0000-C000-...46}
    bytes.fromhex("86100c0000000000c000000000000046"),  # a patch (.msp)
    bytes.fromhex("82100c0000000000c000000000000046"),  # a transform (.mst)
)


def _compound_file(head: bytes) -> str:
    if any(clsid in head for clsid in _MSI_CLSIDS):
        return "application/x-msi"
    for name, media_type in _CFB_STREAMS:
        if name.encode("utf-16-le") + b"\x00\x00" in head:
            return media_type
    return CFB


# Executables, before anything else their bytes may resemble; named, so a refusal can say
# what it refused.
_PROGRAMS = (
    (b"\x7fELF", "application/x-executable"),
    (b"MZ", "application/x-msdownload"),
    (b"\xcf\xfa\xed\xfe", "application/x-mach-binary"),
    (b"\xfe\xed\xfa\xcf", "application/x-mach-binary"),
    (b"\xca\xfe\xba\xbe", "application/java-vm"),
)
# QuickTime files from before the ftyp box start with one of these.
_QUICKTIME_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})


def _from_binary(head: bytes) -> Sniffed | None:
    """Bytes that are not text: a program, what the library knows, a PDF after junk."""
    media_type = (
        next((t for magic, t in _PROGRAMS if head.startswith(magic)), None)
        or essence(filetype.guess_mime(head))
        or (PDF if b"%PDF-" in head[:1024] else None)  # readers accept 1 KiB of junk first
        or _iso_media(head)
    )
    if media_type == "audio/ogg" and b"\x80theora" in head[:512]:
        return Sniffed("video/ogg")  # a Theora stream: a video, to be played as one
    return Sniffed(media_type) if media_type else None


def _iso_media(head: bytes) -> str | None:
    """ISO media the library cannot place: brands it lacks, QuickTime before the ftyp box."""
    if head[4:8] != b"ftyp":
        return "video/quicktime" if head[4:8] in _QUICKTIME_BOXES else None
    brands = head[8 : int.from_bytes(head[:4], "big")]
    if b"mif1" in brands or b"msf1" in brands:  # HEIF's: a still image or an image sequence
        return "image/heif"
    return {b"3gp": "video/3gpp", b"3g2": "video/3gpp2"}.get(head[8:11], "video/mp4")


# --- ZIP and its kinds ----------------------------------------------------------------------

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_MAX_NAME = 1024


def zip_members(head: bytes) -> tuple[list[str], str | None]:
    """Member names from the local file headers within ``head``, and the ``mimetype`` text;
    a member whose size is only given after its data (bit 3, streamed ZIPs) is skipped by
    searching for the next header signature."""
    names: list[str] = []
    mimetype: str | None = None
    offset = 0
    while offset + _LOCAL_HEADER.size <= len(head):
        fields = _LOCAL_HEADER.unpack_from(head, offset)
        signature, _, flags, method, _, _, _, size, _, name_length, extra_length = fields
        if signature != _LOCAL_SIGNATURE or name_length > _MAX_NAME:
            break
        start = offset + _LOCAL_HEADER.size
        raw_name = head[start : start + name_length]
        if len(raw_name) < name_length or b"\x00" in raw_name:
            break
        names.append(raw_name.decode("utf-8" if flags & 0x0800 else "cp437", errors="replace"))
        data = start + name_length + extra_length
        if not names[1:] and raw_name == b"mimetype" and method == 0 and size <= 200:
            mimetype = head[data : data + size].decode("ascii", errors="replace").strip()
        if flags & 0x08 or size == 0xFFFFFFFF:  # size unknown here (streamed or ZIP64)
            following = head.find(_LOCAL_SIGNATURE, data)
            if following < 0:
                break
            offset = following
        else:
            offset = data + size
    return names, mimetype


def _zip(head: bytes) -> Sniffed | None:  # noqa: PLR0911 - one return per format reads best
    if head.startswith(b"PK\x05\x06"):  # an empty archive: only the end record
        return Sniffed(ZIP)
    if not head.startswith(_LOCAL_SIGNATURE):
        return None
    names, mimetype = zip_members(head)
    if mimetype == EPUB or (mimetype or "").startswith(_ODF_PREFIX):
        return Sniffed(mimetype or ZIP)
    tops = {name.split("/", 1)[0] for name in names if "/" in name}
    if "[Content_Types].xml" in names or tops & {"word", "ppt", "xl"}:
        for folder, media_type in (("word", DOCX), ("ppt", PPTX), ("xl", XLSX)):
            if folder in tops:
                return Sniffed(media_type)
    if "AndroidManifest.xml" in names or "classes.dex" in names:
        return Sniffed("application/vnd.android.package-archive")
    if "META-INF/MANIFEST.MF" in names:
        return Sniffed("application/java-archive")
    if "imsmanifest.xml" in names:
        return Sniffed(ZIP, package="ims")
    if "index.html" in names or "index.htm" in names:
        return Sniffed(ZIP, package="html5")
    return Sniffed(ZIP)


# --- text -----------------------------------------------------------------------------------

# Bytes that never occur in text (the WHATWG "binary data bytes").
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
# The WHATWG HTML signatures: a tag name followed by a space or ">".
_HTML_START = re.compile(
    rb"<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body"
    rb"|br|p)[\s>]|<!--",
    re.IGNORECASE,
)
_HTML_DOCTYPE = re.compile(rb"<!doctype\s+html[\s>]", re.IGNORECASE)
_XML_DECLARATION = re.compile(rb"<\?xml[^>]*\?>", re.IGNORECASE)
_PROLOG_ITEM = re.compile(rb"\s*(?:<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S)
_ROOT = re.compile(rb"\s*<([A-Za-z_][\w.:-]*)")


def _from_text(head: bytes, *, complete: bool) -> Sniffed | None:  # noqa: PLR0911 - one return per format reads best
    body = head.removeprefix(codecs.BOM_UTF8)
    if _BINARY_BYTES.search(body):
        return None
    try:
        codecs.getincrementaldecoder("utf-8")().decode(body, final=complete)
    except UnicodeDecodeError:
        return None
    text = body.lstrip()
    if not text.startswith(b"<"):
        return Sniffed(TEXT)
    if _HTML_DOCTYPE.match(text):
        return Sniffed(HTML)
    position = _after_prolog(text)
    root = _ROOT.match(text, position)
    if root is not None:
        local = root.group(1).rsplit(b":", 1)[-1].lower()
        if local == b"svg":
            return Sniffed(SVG)
        if local == b"html" or _HTML_START.match(text, position):
            return Sniffed(HTML)
        return Sniffed(XML)
    if _HTML_START.match(text, position):  # "<!--" not closed within the head
        return Sniffed(HTML)
    return Sniffed(XML) if _XML_DECLARATION.match(text) else Sniffed(TEXT)


def _after_prolog(text: bytes) -> int:
    """Where the root element may start: after the XML declaration, comments, doctype."""
    position = 0
    while True:
        item = _PROLOG_ITEM.match(text, position)
        if item is None or item.end() == position:
            return position
        position = item.end()

"""HTTP pieces for serving files: byte ranges (RFC 9110), ETags, Content-Disposition (RFC 6266).

Pure functions of header values, shared by the proxy and by presigned S3 URLs.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from app.filenames import clean_file_name
from app.objects.sniff import essence

# Types a browser may show in place: documents, pictures and media that run no script.
# Everything else (HTML, SVG, XML, scripts, archives) is offered as a download, so a
# file served from our origin can never act as one of our pages.
INLINE_TYPES = frozenset(
    {
        "application/pdf",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/plain",
    }
)
INLINE_PREFIXES = ("audio/", "video/")

# bytes=first-last, bytes=first-, bytes=-suffix; 19 digits reach past any real size.
_RANGE = re.compile(r"bytes\s*=\s*(\d{0,19})\s*-\s*(\d{0,19})\s*", re.IGNORECASE)
_FALLBACK_UNSAFE = re.compile(r"[^A-Za-z0-9 !#$&'()+.=@\[\]^_`{}~-]")


class Unsatisfiable(Exception):
    """The Range asks for bytes the file does not have."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, total: int) -> str:
        return f"bytes {self.start}-{self.end}/{total}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range a ``Range`` header asks of a file of ``size`` bytes.

    ``None`` means "send the whole file": no header, another unit, a malformed or
    backwards range (which RFC 9110 lets a server ignore) and several ranges (answered
    whole rather than as multipart/byteranges).  Raises ``Unsatisfiable`` when the
    range starts past the end, or asks for the last zero bytes.
    """
    if not header or "," in header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise Unsatisfiable
    return ByteRange(start, min(end, size - 1))


def content_length(value: str | None) -> int | None:
    """A ``Content-Length`` header's value as a number; None when missing or not one."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def etag(sha256: str) -> str:
    """A strong ETag: content-addressed bytes never change under their hash."""
    return f'"{sha256}"'


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison, as RFC 9110 asks)."""
    candidates = (value.strip() for value in (if_none_match or "").split(","))
    return any(value == "*" or value.removeprefix("W/") == tag for value in candidates)


def default_file_name(sha256: str, media_type: str | None) -> str:
    """A name for bytes nobody named: the hash's start and the type's usual extension."""
    extension = mimetypes.guess_extension(media_type or "", strict=False) or ""
    return f"{sha256[:16]}{extension}"


def ascii_file_name(name: str) -> str:
    """The name in plain ASCII, for clients that ignore ``filename*`` (RFC 6266 §4.3)."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"\s+", " ", _FALLBACK_UNSAFE.sub("_", folded)).strip(" ")
    stem, dot, extension = folded.rpartition(".")
    if not dot:
        stem, extension = folded, ""
    stem = stem.strip(" ")
    if not any(ch.isalnum() for ch in stem):
        stem = "download"
    return f"{stem}.{extension}" if extension else stem


def content_disposition(
    file_name: str | None, media_type: str | None, sha256: str, *, attachment: bool = False
) -> str:
    """``inline`` (for types a browser shows, unless ``attachment`` is asked for) or
    ``attachment``, with the name twice: an ASCII fallback and UTF-8.  The name is cleaned
    here too: a record may have declared it, and records are not trusted."""
    name = clean_file_name(file_name) or default_file_name(sha256, media_type)
    kind = "inline" if is_inline(media_type) and not attachment else "attachment"
    encoded = quote(name, safe="!#$&+-.^_`|~")
    return f"{kind}; filename=\"{ascii_file_name(name)}\"; filename*=UTF-8''{encoded}"


def is_inline(media_type: str | None) -> bool:
    value = essence(media_type) or ""
    return value in INLINE_TYPES or value.startswith(INLINE_PREFIXES)

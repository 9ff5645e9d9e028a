"""File names: the one sanitiser, and the names a Content-Disposition header or a URL gives.

Every name that reaches a stored row, a ``Content-Disposition`` we send or a course page
passes ``clean_file_name``, whether a college's server, an uploading browser, an upstream
mirror or a record suggested it: the last path segment only, no control or invisible
formatting characters (bidirectional overrides included), no leading or trailing dots and
spaces, no Windows device name, at most ``MAX_BYTES`` of UTF-8 with the extension kept.
Names in any script are kept as they are (after NFC normalisation).
"""

from __future__ import annotations

import re
import unicodedata
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from urllib.parse import unquote, unquote_to_bytes

import httpx

MAX_BYTES = 255  # the longest name ext4, XFS and btrfs take (NTFS and APFS: 255 characters)
MAX_EXTENSION = 16  # a longer "extension" is no extension worth keeping when cutting

_SEPARATORS = re.compile(r"[/\\]")
_EDGES = re.compile(r"^[\s.]+|[\s.]+$")  # Windows drops trailing dots and spaces itself
# CON, PRN, AUX, NUL, COM1-9, LPT1-9 (and the superscript digits Windows also reserves),
# with any extension: Windows opens the device, not a file, under these names.
_DEVICE = re.compile(r"(?i)(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])")
_PARAMETER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAMETER = re.compile(rf'\s*;\s*({_PARAMETER_NAME})\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_ENCODED_WORD = re.compile(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=")


def clean_file_name(name: str | None) -> str | None:
    """``name`` made safe to suggest for saving (see the module docstring); None when
    nothing is left of it."""
    if not name:
        return None
    base = _SEPARATORS.split(name)[-1]
    # Cc controls, Cf formatting (RTL overrides, zero-width), Cs/Co/Cn; line separators.
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C" and c not in "\u2028\u2029")
    base = _EDGES.sub("", unicodedata.normalize("NFC", base))
    if not base:
        return None
    if _DEVICE.fullmatch(base.split(".", 1)[0].rstrip()):
        base = f"_{base}"
    return _shortened(base)


def _shortened(name: str) -> str:
    if len(name.encode()) <= MAX_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    keep = f".{extension}" if dot and stem and len(extension) <= MAX_EXTENSION else ""
    head = name[: len(name) - len(keep)]
    room = MAX_BYTES - len(keep.encode())
    head = head.encode()[:room].decode("utf-8", "ignore")  # never half a character
    return _EDGES.sub("", head) + keep


def file_name_from_disposition(header: str | None) -> str | None:
    """The file name a ``Content-Disposition`` header gives (RFC 6266), cleaned.

    ``filename*`` (RFC 8187: ``UTF-8''%E8%AF%BE.pdf``) wins over ``filename``.  Quirks
    of real servers are read too: percent-encoded UTF-8 in ``filename`` and RFC 2047
    encoded words (``=?UTF-8?B?...?=``).
    """
    if not header:
        return None
    parameters: dict[str, str] = {}
    _, _, rest = header.partition(";")
    for match in _PARAMETER.finditer(";" + rest):
        name, value = match.group(1).lower(), match.group(2).strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        parameters.setdefault(name, value)
    extended = parameters.get("filename*")
    if extended is not None:
        name = _ext_value(extended)
        if name is not None:
            return clean_file_name(name)
    plain = parameters.get("filename")
    if plain is None:
        return None
    return clean_file_name(_plain_name(plain))


def _ext_value(value: str) -> str | None:
    """RFC 8187 ``charset'language'pct-encoded`` → text (UTF-8 and ISO-8859-1 only)."""
    charset, quote, rest = value.strip('"').partition("'")
    _, quote2, encoded = rest.partition("'")
    if not quote or not quote2 or charset.lower() not in {"utf-8", "iso-8859-1"}:
        return None
    try:
        return unquote_to_bytes(encoded).decode(charset.lower())
    except UnicodeDecodeError:
        return None


def _plain_name(value: str) -> str:
    if _ENCODED_WORD.search(value):
        try:
            return str(make_header(decode_header(value)))
        except (HeaderParseError, LookupError, UnicodeDecodeError):
            return value
    if "%" in value:
        try:
            decoded = unquote_to_bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return value
        if not decoded.isascii():  # "%E8%AF%BE.pdf": UTF-8 sent percent-encoded
            return decoded
    return value


def file_name_from_url(url: httpx.URL | str) -> str | None:
    """The last segment of the URL's path, percent-decoded and cleaned; None if empty."""
    path = url.raw_path.decode("ascii") if isinstance(url, httpx.URL) else url
    path = path.split("?", 1)[0].split("#", 1)[0]
    segment = path.rsplit("/", 1)[-1]
    return clean_file_name(unquote(segment, errors="replace"))

"""vCards as LOM carries them in ``entity``: read the few properties the profile uses, write them.

LOM puts a vCard (2.1, 3.0 or 4.0) in every ``lifeCycle/contribute/entity``.  What
repositories really write there is read here: folded lines (a line break followed by a
space or tab, with CRLF, LF or a lone CR, as ``&#xD;`` entities leave them), escaped
``\\,`` ``\\;`` ``\\n`` ``\\\\`` and the ``\\:`` some tools write inside URLs, an ``FN``
with an unescaped ``;`` (``FN:Antoine Toma;Antoine``), an empty ``FN`` beside a
structured ``N`` or an ``ORG``, vCard 2.1 ``QUOTED-PRINTABLE`` values in a declared
``CHARSET`` (GBK included), base64 ``LOGO``/``PHOTO`` data (skipped), property groups
(``item1.EMAIL``), lower-case names, trailing spaces, and a bare name instead of a vCard.

Only ``FN``, ``N``, ``ORG`` and ``EMAIL`` are read; ``format_vcard`` writes them back as
vCard 3.0 that ``parse_vcard`` reads to the same values.  An organisation named in
several languages (vCard 4.0: ``ORG;ALTID=1;LANGUAGE=zh:…`` and ``ORG;ALTID=1;LANGUAGE=en:…``)
keeps every name with its language (``organization_names``).
"""

from __future__ import annotations

import codecs
import quopri
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from metadata.xmlutil import clean_text

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FOLD = re.compile(r"\n[ \t]")
_PROPERTY = re.compile(
    r"^\s*(?:[A-Za-z0-9-]+\.)?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<params>(?:;[^:]*)?):(?P<value>.*)$"
)
_LOOKS_LIKE_VCARD = re.compile(
    r"^\s*(?:BEGIN|END)\s*:|^\s*(?:[A-Za-z0-9-]+\.)?(?:FN|N|ORG|EMAIL|VERSION)\s*[;:]",
    re.IGNORECASE | re.MULTILINE,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_FOLD_AT = 75  # octets per line, as RFC 2426 recommends


@dataclass(frozen=True)
class VCard:
    """The properties of one vCard that the profile uses (each cleaned, or None)."""

    formatted_name: str | None = None  # FN
    structured_name: tuple[str, ...] = ()  # N: family; given; additional; prefixes; suffixes
    organization: str | None = None  # ORG, its units joined with ", "
    email: str | None = None  # the first EMAIL that is an address
    # (LANGUAGE parameter, ORG) of every ORG that declares a language (translations)
    organization_names: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str | None:
        """FN, else the name N spells (``王伟``, ``Johanne Raymond``), else the ORG."""
        return self.formatted_name or _name_of(self.structured_name) or self.organization


@lru_cache(maxsize=2048)
def parse_vcard(text: str) -> VCard:
    """Read a vCard's FN, N, ORG and EMAIL; a bare name (no vCard syntax) is its FN.

    Never raises: text that holds no usable property gives a ``VCard`` whose ``name``
    is None.  Memoised: the same people and publishers recur from record to record
    (``VCard`` is frozen, so sharing one is safe).
    """
    if "\r" in text:
        text = _LINE_BREAK.sub("\n", text)
    if not _LOOKS_LIKE_VCARD.search(text):
        lines = [clean_text(line) for line in text.split("\n")]
        return VCard(formatted_name=next((line for line in lines if line), None))
    values: dict[str, str] = {}
    email: str | None = None
    translations: list[tuple[str, str]] = []
    unfolded = _FOLD.sub("", text) if "\n " in text or "\n\t" in text else text
    for name, value, language in _properties(unfolded):
        if name == "EMAIL":
            email = email or _email(value)
        elif name in {"FN", "N", "ORG"} and value.strip(" ;"):
            if name == "ORG" and language:
                translations.append((language, _organization(value)))
            values.setdefault(name, value)
    formatted = None
    if "FN" in values:  # a single value: an unescaped ";" ends it
        formatted = next((p for p in _components(values["FN"]) if p), None)
    structured = tuple(_components(values["N"])) if "N" in values else ()
    organization = _organization(values.get("ORG", "")) or None
    named = tuple((lang, org) for lang, org in dict.fromkeys(translations) if org)
    return VCard(formatted, structured, organization, email, named)


def _organization(value: str) -> str:
    return ", ".join(p for p in _components(value) if p)


def format_vcard(
    name: str,
    organization: str | None = None,
    email: str | None = None,
    organization_names: Mapping[str, str] | None = None,
) -> str:
    """A vCard 3.0 for a contributor, folded at 75 octets, that ``parse_vcard`` reads back.

    ``N`` (required by vCard 3.0) carries the whole name as the family name: which
    part of ``王伟`` or ``Anna Maria Rossi`` is the given name is not known.  The
    organisation's names by language follow its ``ORG`` as ``ORG;LANGUAGE=…`` lines.
    """
    lines = ["BEGIN:VCARD", "VERSION:3.0", f"N:{escape(name)};;;;", f"FN:{escape(name)}"]
    if organization:
        lines.append(f"ORG:{escape(organization)}")
    for language, translated in (organization_names or {}).items():
        lines.append(f"ORG;LANGUAGE={language}:{escape(translated)}")
    if email:
        lines.append(f"EMAIL;TYPE=INTERNET:{escape(email)}")
    lines.append("END:VCARD")
    return "\n".join(_fold(line) for line in lines)


def escape(text: str) -> str:
    """vCard 3.0 TEXT escaping: backslash, comma, semicolon and line breaks."""
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def unescape(text: str) -> str:
    """Undo vCard escaping: ``\\n`` is a line break, any other ``\\x`` is ``x``."""
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


# --- reading ---------------------------------------------------------------------------


def _properties(text: str) -> list[tuple[str, str, str | None]]:
    """(NAME, decoded value, LANGUAGE) of each property line; binary values are skipped."""
    lines = text.split("\n")
    result: list[tuple[str, str, str | None]] = []
    index = 0
    while index < len(lines):
        match = _PROPERTY.match(lines[index])
        index += 1
        if match is None:
            continue
        name = match.group("name").upper()
        if not match.group("params"):  # the usual ``FN:...``: nothing to decode
            result.append((name, match.group("value"), None))
            continue
        params = [p.strip() for p in match.group("params").split(";") if p.strip()]
        upper = [p.upper() for p in params]
        value = match.group("value")
        if any(p in {"ENCODING=B", "ENCODING=BASE64", "BASE64", "B"} for p in upper):
            continue
        if "ENCODING=QUOTED-PRINTABLE" in upper or "QUOTED-PRINTABLE" in upper:
            # vCard 2.1: a line ending in "=" is a soft break, continued on the next line.
            while value.endswith("=") and index < len(lines):
                value = value[:-1] + lines[index]
                index += 1
            value = _quoted_printable(value, _charset(params))
        result.append((name, value, _language(params)))
    return result


def _language(params: list[str]) -> str | None:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().upper() == "LANGUAGE" and value.strip().strip('"'):
            return value.strip().strip('"')
    return None


def _charset(params: list[str]) -> str:
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().upper() == "CHARSET" and value.strip():
            try:
                return codecs.lookup(value.strip().strip('"')).name
            except LookupError:
                break
    return "utf-8"


def _quoted_printable(value: str, charset: str) -> str:
    raw = quopri.decodestring(value.encode("utf-8"))
    return raw.decode(charset, errors="replace")


def _components(value: str) -> list[str]:
    """The ``;``-separated components of a value, each unescaped and cleaned."""
    if "\\" not in value:  # nothing escaped: a plain split says the same
        return [clean_text(part) for part in value.split(";")]
    parts: list[str] = []
    current: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            current.append(char + next(chars, ""))
        elif char == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [clean_text(unescape(part)) for part in parts]


def _email(value: str) -> str | None:
    address = clean_text(unescape(value))
    address = re.sub(r"^mailto:", "", address, flags=re.IGNORECASE)
    if "@" not in address or " " in address or "://" in address:
        return None
    return address


def _name_of(parts: tuple[str, ...]) -> str | None:
    """``N:Raymond;Johanne`` → ``Johanne Raymond``; ``N:王;伟`` → ``王伟``."""
    family, given, additional = (*parts, "", "", "")[:3]
    if additional == given:  # "N:Toma;Antoine;Antoine;;;" repeats the given name
        additional = ""
    if _HAN.search(family + given):
        return (family + given) or None
    return " ".join(p for p in (given, additional, family) if p) or None


# --- writing ---------------------------------------------------------------------------


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    pieces: list[str] = []
    current = ""
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = _FOLD_AT if not pieces else _FOLD_AT - 1  # continuation lines start with " "
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
        current += char
        size += width
    pieces.append(current)
    return "\n ".join(pieces)

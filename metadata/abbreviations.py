"""The words learners search by that courses are not titled by: abbreviations and other names.

Students say 高数 for 高等数学 and 线代 for 线性代数; an English speaker types "physics"
for 物理.  ``BUILT_IN`` holds both kinds, maintained here as data (tests keep it sound):

* ``ABBREVIATIONS``: a short form and the full course names it stands for, one way
  (a search for 高数 finds 高等数学; a search for 高等数学 does not widen to everything
  someone might abbreviate so);
* ``SUBJECT_PAIRS``: Chinese and English names of one subject, both ways.

Admins add their own in a file of Solr's synonym format (``parse``), one rule a line::

    # a comment
    高数, 高数学 => 高等数学         one way: either short form finds the full name
    计算机, computer, 电脑           both ways: each finds the others

Meilisearch applies these as synonyms (``Vocabulary.synonyms``).  Chinese needs more:
Meilisearch cuts a query such as 高数 into the words 高 and 数 (it is in no dictionary),
and a synonym reached through two joined words counts as two typos, so courses whose
teacher is surnamed 高 and whose title starts with 数 stood before every 高等数学.  So the
search also rewrites a query word that is a known abbreviation into its full name
(``Vocabulary.expand``) before Meilisearch reads it.  Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

MAX_TERM_CHARS = 60
"""Longest synonym term accepted from a file: a course name, not a paragraph."""


@dataclass(frozen=True)
class Abbreviation:
    """Short forms and the full names they stand for.

    ``rewrite`` False: the short form is itself a name courses carry (概率论), so a query
    for it is left as typed and only widened by the synonym.
    """

    short: tuple[str, ...]
    full: tuple[str, ...]
    rewrite: bool = True


def _a(short: str, *full: str, rewrite: bool = True) -> Abbreviation:
    return Abbreviation(tuple(short.split("/")), full, rewrite)


# Short forms in everyday use at Chinese universities (slash-separated when several);
# the current name of a course first, then older ones still in catalogues.
# 数据结构, 大学物理 and other names already short are not abbreviations: they stay.
ABBREVIATIONS: tuple[Abbreviation, ...] = (
    # Mathematics
    _a("高数", "高等数学"),
    _a("线代", "线性代数"),
    _a("概率论", "概率论与数理统计", rewrite=False),
    _a("概率统计/概统/概率论与数理", "概率论与数理统计"),
    _a("离散", "离散数学"),
    _a("复变", "复变函数"),
    _a("数分", "数学分析"),
    _a("高代", "高等代数"),
    _a("常微分", "常微分方程"),
    _a("数模", "数学建模"),
    # Political theory (the national compulsory courses)
    _a("马原", "马克思主义基本原理"),
    _a("毛概", "毛泽东思想和中国特色社会主义理论体系概论"),
    _a("思修", "思想道德与法治", "思想道德修养与法律基础"),
    _a("史纲", "中国近现代史纲要"),
    _a("近代史", "中国近现代史纲要", rewrite=False),
    _a("形策/形势政策", "形势与政策"),
    _a("习概", "习近平新时代中国特色社会主义思想概论"),
    # Physics, electronics
    _a("大物", "大学物理"),
    _a("物化", "物理化学"),
    _a("数电", "数字电子技术"),
    _a("模电", "模拟电子技术"),
    _a("电路分析", "电路分析基础", rewrite=False),
    _a("信号", "信号与系统", rewrite=False),
    _a("自控", "自动控制原理"),
    _a("微机", "微机原理与接口技术", rewrite=False),
    # Computing
    _a("c语言/c程序设计", "c语言程序设计"),
    _a("计组", "计算机组成原理"),
    _a("操统/os", "操作系统", "operating systems"),
    _a("计网", "计算机网络"),
    _a("数据库", "数据库系统原理", "数据库原理", rewrite=False),
    _a("编译", "编译原理", rewrite=False),
    _a("软工", "软件工程"),
    _a("计导", "计算机导论"),
    _a("ai", "人工智能", "artificial intelligence"),
    # Life sciences
    _a("生化", "生物化学"),
    # Languages, others
    _a("大英", "大学英语"),
    _a("大语", "大学语文"),
    _a("军理", "军事理论"),
)

# Chinese and English names of one subject, found both ways.
SUBJECT_PAIRS: tuple[tuple[str, str], ...] = (
    ("计算机", "computer"),
    ("计算机科学", "computer science"),
    ("数学", "mathematics"),
    ("数学", "math"),
    ("高等数学", "advanced mathematics"),
    ("高等数学", "calculus"),
    ("微积分", "calculus"),
    ("线性代数", "linear algebra"),
    ("概率论", "probability"),
    ("统计", "statistics"),
    ("物理", "physics"),
    ("化学", "chemistry"),
    ("生物", "biology"),
    ("数据", "data"),
    ("数据结构", "data structures"),
    ("算法", "algorithms"),
    ("操作系统", "operating systems"),
    ("计算机网络", "computer networks"),
    ("数据库", "database"),
    ("编程", "programming"),
    ("程序设计", "programming"),
    ("软件", "software"),
    ("人工智能", "artificial intelligence"),
    ("机器学习", "machine learning"),
    ("电子", "electronics"),
    ("经济", "economics"),
    ("管理", "management"),
    ("会计", "accounting"),
    ("金融", "finance"),
    ("法律", "law"),
    ("医学", "medicine"),
    ("护理", "nursing"),
    ("教育", "education"),
    ("心理学", "psychology"),
    ("历史", "history"),
    ("哲学", "philosophy"),
    ("文学", "literature"),
    ("英语", "english"),
    ("艺术", "art"),
    ("音乐", "music"),
    ("工程", "engineering"),
    ("机械", "mechanical"),
    ("建筑", "architecture"),
    ("农业", "agriculture"),
)


class VocabularyError(ValueError):
    """A synonym rule that cannot be used; the message names the line."""


@dataclass(frozen=True)
class Vocabulary:
    """Abbreviations (one way) and groups of equivalent names (each finds the others)."""

    abbreviations: tuple[Abbreviation, ...] = ()
    equivalents: tuple[tuple[str, ...], ...] = ()
    _rewrites: dict[str, str] = field(init=False, repr=False, compare=False)
    _latin: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rewrites: dict[str, str] = {}
        latin: dict[str, str] = {}
        for entry in self.abbreviations:
            if entry.rewrite:
                for short in entry.short:
                    # Only Chinese needs it: Meilisearch finds a Latin word's synonyms, but
                    # not one glued to Chinese (AI导论), which ``_expand_word`` splits.
                    if any(_is_han(char) for char in short):
                        rewrites.setdefault(_key(short), entry.full[0])
                    elif _LATIN.fullmatch(short):
                        latin.setdefault(_key(short), entry.full[0])
        object.__setattr__(self, "_rewrites", rewrites)
        object.__setattr__(self, "_latin", latin)

    def __add__(self, other: Vocabulary) -> Vocabulary:
        """This vocabulary with ``other``'s rules after its own."""
        return Vocabulary(
            self.abbreviations + other.abbreviations, self.equivalents + other.equivalents
        )

    def synonyms(self) -> dict[str, list[str]]:
        """Meilisearch's ``synonyms`` setting: each term → what a search for it also finds."""
        found: dict[str, list[str]] = {}

        def add(term: str, others: Iterable[str]) -> None:
            targets = found.setdefault(_key(term), [])
            for other in others:
                if _key(other) != _key(term) and _key(other) not in targets:
                    targets.append(_key(other))

        for entry in self.abbreviations:
            for short in entry.short:
                add(short, entry.full)
        for group in self.equivalents:
            for term in group:
                add(term, group)
        return {term: targets for term, targets in sorted(found.items()) if targets}

    def expand(self, query: str) -> str:
        """``query`` with each word that is a known Chinese abbreviation written out in full
        (高数 → 高等数学), also when a part or a kind of material follows it in the word
        (高数上 → 高等数学 上, see ``QUALIFIERS``).  Other words stay as typed."""
        if not self._rewrites and not self._latin:
            return query
        return _WORD.sub(lambda match: self._expand_word(match.group(0)), query)

    def _expand_word(self, word: str) -> str:
        key = _key(word)
        if key in self._rewrites:
            return self._rewrites[key]
        # An abbreviation with a part or a kind of material typed after it: 高数上, 线代习题.
        # Nothing else: 离散型 is not 离散数学型, and 离散数学 is typed out already.
        for length in range(min(len(key) - 1, 8), 1, -1):
            head, rest = key[:length], key[length:]
            if head in self._rewrites and rest in QUALIFIERS:
                return f"{self._rewrites[head]} {word[length:]}"
        # A Latin abbreviation glued to Chinese words: AI导论 → 人工智能 导论.
        runs = _SCRIPT_RUN.findall(word)
        if len(runs) > 1 and any(_key(run) in self._latin for run in runs):
            return " ".join(self._latin.get(_key(run), run) for run in runs)
        return word


QUALIFIERS = frozenset(
    {
        *("上", "下", "一", "二", "三", "1", "2", "3", "i", "ii", "iii", "a", "b"),
        *("(上)", "(下)", "（上）", "（下）", "（一）", "（二）", "(一)", "(二)"),
        *("习题", "练习", "复习", "期末", "期中", "考试", "考研", "试题", "真题", "答案"),
        *("课程", "课件", "视频", "网课", "慕课", "教程", "教材", "辅导", "笔记", "基础", "实验"),
    }
)
"""What may follow an abbreviation in one word and still be written out (高数上 → 高等数学 上)."""


_WORD = re.compile(r"[^\s\"]+")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_SCRIPT_RUN = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]+")


def _key(term: str) -> str:
    """How Meilisearch compares terms: case-insensitive, spaces collapsed."""
    return " ".join(term.casefold().split())


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


BUILT_IN = Vocabulary(ABBREVIATIONS, tuple(SUBJECT_PAIRS))


def parse(text: str, *, origin: str = "synonyms") -> Vocabulary:
    """Read rules in Solr's synonym format (see the module docstring).

    Raises ``VocabularyError`` naming ``origin`` and the line for a rule that cannot be
    used: an empty term, a term too long, more than one ``=>``, or a group of one name.
    """
    abbreviations: list[Abbreviation] = []
    equivalents: list[tuple[str, ...]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{origin}, line {number}"
        sides = line.split("=>")
        if len(sides) > 2:
            raise VocabularyError(f"{where}: one '=>' per rule, found {len(sides) - 1}")
        terms = [_terms(side, where) for side in sides]
        if len(terms) == 2:
            abbreviations.append(Abbreviation(terms[0], terms[1]))
        elif len(terms[0]) < 2:
            raise VocabularyError(
                f"{where}: {terms[0][0]!r} alone; write 'a, b' (each finds the other) or"
                " 'short => full name'"
            )
        else:
            equivalents.append(terms[0])
    return Vocabulary(tuple(abbreviations), tuple(equivalents))


def _terms(side: str, where: str) -> tuple[str, ...]:
    terms = tuple(" ".join(term.split()) for term in side.split(","))
    for term in terms:
        if not term:
            raise VocabularyError(f"{where}: an empty term (a comma or '=>' with nothing by it)")
        if len(term) > MAX_TERM_CHARS:
            raise VocabularyError(
                f"{where}: {term[:20]!r}… is longer than {MAX_TERM_CHARS} characters"
            )
    return terms


def rewrites(vocabulary: Vocabulary) -> Mapping[str, str]:
    """Each short form a query is rewritten from → the full name it becomes (for tests)."""
    return dict(vocabulary._rewrites)

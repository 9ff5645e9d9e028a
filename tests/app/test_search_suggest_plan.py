"""Whether a query needs help is decided in memory from the catalogue's lexicon: known
words need none (so no request more than the search), Chinese typos get a close course
name, Latin typos only when Meilisearch's own typo tolerance does not reach them."""

from __future__ import annotations

from typing import Any

import pytest

from app.search import suggest
from app.search.suggest import Lexicon, plan
from metadata.abbreviations import BUILT_IN


def _document(title: str, code: str = "0812", **more: Any) -> dict[str, Any]:
    return {"titles": [title], "discipline_codes": [code[:2], code], **more}


LEXICON = Lexicon.of(
    [
        _document("操作系统"),
        _document("操作系统（混合式）"),
        _document("数据结构与算法"),
        _document("计算机网络", teachers=["高伟"]),
        _document("线性代数", "0701"),
        _document("Linear Algebra (MOOC)", "0701"),
        _document("Principles of Marketing", "1202", keywords=["营销"]),
        _document("Organic Chemistry", "0703", title_pinyin=["youjihuaxue"]),
    ]
)


@pytest.mark.parametrize(
    "query",
    [
        "操作系统",
        "数据结构",  # a part of a name
        "算法",
        "操作",
        "高伟",  # a teacher
        "营销",  # a keyword
        "linear algebra",
        "chem",  # the last word is a prefix
        "markting",  # Meilisearch forgives one typo in a word of 8
        "youjihuaxue",
        "高数",  # an abbreviation, written out
        "calculus",  # a synonym
        "数",
        "",
    ],
)
def test_a_query_the_catalogue_knows_needs_no_help(query: str) -> None:
    assert plan(query, LEXICON, BUILT_IN) is None


@pytest.mark.parametrize(
    ("query", "meant"),
    [
        ("操做系统", "操作系统"),
        ("数剧结构", "数据结构"),
        ("线形代数", "线性代数"),
        ("计算机网落", "计算机网络"),
        ("操做系统 实验", "操作系统 实验"),
        ("kemistry", "Chemistry"),
        ("organic kemistry", "organic Chemistry"),
    ],
)
def test_a_typo_is_mended_with_a_name_courses_carry(query: str, meant: str) -> None:
    found = plan(query, LEXICON, BUILT_IN)
    assert found is not None
    assert found.candidates[0].q == meant
    assert found.candidates[0].confident


def test_a_pasted_sentence_is_no_typo() -> None:
    assert plan("操做系统" * 10, LEXICON, BUILT_IN) is None
    assert plan(" ".join(["操做系统"] * 9), LEXICON, BUILT_IN) is None


def test_a_two_character_chinese_word_is_never_guessed() -> None:
    """One character of two changed is another word as often as a typo."""
    assert plan("操做", LEXICON, BUILT_IN) is None


def test_a_correction_replaces_results_only_when_it_is_safe() -> None:
    chinese = plan("操做系统", LEXICON, BUILT_IN)
    assert chinese is not None
    # The Chinese words typed match no course name: the correction is shown.
    assert chinese.outcome(12, [3]).corrected == "操作系统"
    assert chinese.outcome(12, [3]).offers == [("original", "操做系统", 12)]
    assert chinese.outcome(12, [3], correct=False).corrected is None
    assert chinese.outcome(12, [3], correct=False).offers == [("spelling", "操作系统", 3)]
    assert chinese.outcome(12, [0]) == suggest.Suggested(None, []), "it must find something"
    # The words typed are found whole (in a description): a learner meant them.
    assert chinese.outcome(12, [3], found_as_typed=True).corrected is None

    latin = plan("organic kemistry", LEXICON, BUILT_IN)
    assert latin is not None
    # Meilisearch found courses for the other words: they stay, the fix is offered.
    assert latin.outcome(1, [1]).corrected is None
    assert latin.outcome(1, [1]).offers == [("spelling", "organic Chemistry", 1)]
    assert latin.outcome(0, [1]).corrected == "organic Chemistry"


def test_nothing_found_is_offered_the_disciplines_of_the_closest_names() -> None:
    assert suggest.nearest_disciplines("biochemistryx", LEXICON)[0] == "0703"
    assert suggest.nearest_disciplines("操作系统原理课程设计", LEXICON)[0] == "0812"
    # Nothing close: the disciplines with most courses.
    assert suggest.nearest_disciplines("zzqx", LEXICON) == ["0812", "0701", "0703"]

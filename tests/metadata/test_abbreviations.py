"""The search vocabulary: abbreviations learners type, subject names in both languages,
and the rules an admin adds in a file."""

from __future__ import annotations

import pytest

from metadata.abbreviations import (
    ABBREVIATIONS,
    BUILT_IN,
    SUBJECT_PAIRS,
    Vocabulary,
    VocabularyError,
    parse,
    rewrites,
)

EVERYDAY = {
    "高数": "高等数学",
    "线代": "线性代数",
    "概率统计": "概率论与数理统计",
    "马原": "马克思主义基本原理",
    "毛概": "毛泽东思想和中国特色社会主义理论体系概论",
    "思修": "思想道德与法治",
    "大物": "大学物理",
    "数电": "数字电子技术",
    "模电": "模拟电子技术",
    "c语言": "c语言程序设计",
    "计组": "计算机组成原理",
    "操统": "操作系统",
    "计网": "计算机网络",
    "离散": "离散数学",
    "大英": "大学英语",
    "生化": "生物化学",
    "物化": "物理化学",
}


@pytest.mark.parametrize(("short", "full"), EVERYDAY.items())
def test_everyday_abbreviations_are_written_out(short: str, full: str) -> None:
    assert BUILT_IN.expand(short) == full
    assert full in BUILT_IN.synonyms()[short]


def test_si_xiu_finds_both_the_old_and_the_new_course_name() -> None:
    assert BUILT_IN.synonyms()["思修"] == ["思想道德与法治", "思想道德修养与法律基础"]


def test_names_that_are_already_short_stay_as_typed() -> None:
    for query in ("数据结构", "概率论", "大学物理", "计算机网络", "数据库"):
        assert BUILT_IN.expand(query) == query


def test_an_abbreviation_with_a_part_or_material_after_it_is_written_out() -> None:
    assert BUILT_IN.expand("高数上") == "高等数学 上"
    assert BUILT_IN.expand("高数（下）") == "高等数学 （下）"
    assert BUILT_IN.expand("线代 习题") == "线性代数 习题"
    assert BUILT_IN.expand("高数习题 北京") == "高等数学 习题 北京"


def test_an_abbreviation_inside_another_word_is_left_alone() -> None:
    """提高数据 holds 高数 but means 'improve data'; 离散型 is 'discrete', not 离散数学."""
    for query in ("提高数据分析", "最高数值", "离散型随机变量", "大英博物馆", "数模转换"):
        assert BUILT_IN.expand(query) == query


def test_a_full_name_typed_out_is_not_written_out_again() -> None:
    for query in ("离散数学", "c语言程序设计", "C语言程序设计", "高等数学", "大学英语"):
        assert BUILT_IN.expand(query) == query


def test_latin_abbreviations_are_left_to_meilisearch_synonyms() -> None:
    """Meilisearch finds a Latin word's synonyms itself, ranked as the word."""
    assert BUILT_IN.expand("OS") == "OS"
    assert BUILT_IN.synonyms()["os"] == ["操作系统", "operating systems"]


def test_a_latin_abbreviation_glued_to_chinese_is_written_out() -> None:
    """Meilisearch cuts AI导论 into ai and 导论 but finds no synonym of a part of a word."""
    assert BUILT_IN.expand("AI导论") == "人工智能 导论"
    assert BUILT_IN.expand("ai导论") == "人工智能 导论"
    assert BUILT_IN.expand("AI") == "AI", "alone, Meilisearch's synonyms find it"
    assert BUILT_IN.expand("Python程序设计") == "Python程序设计", "no abbreviation: as typed"


def test_subject_names_find_each_other_both_ways() -> None:
    synonyms = BUILT_IN.synonyms()
    for zh, en in SUBJECT_PAIRS:
        assert en in synonyms[zh]
        assert zh in synonyms[en]
    assert "计算机" in synonyms["computer"]


def test_each_short_form_is_listed_once_and_differs_from_its_full_names() -> None:
    shorts = [short.casefold() for entry in ABBREVIATIONS for short in entry.short]
    assert len(shorts) == len(set(shorts))
    for entry in ABBREVIATIONS:
        assert entry.full, entry
        assert not set(entry.short) & set(entry.full), entry


def test_synonym_terms_are_lowercase_as_meilisearch_compares_them() -> None:
    for term, targets in BUILT_IN.synonyms().items():
        assert term == term.casefold()
        assert all(target == target.casefold() for target in targets)
        assert term not in targets


def test_a_file_adds_one_way_and_two_way_rules() -> None:
    extra = parse(
        "# our college's words\n\n工图, 画法几何 => 工程制图   # one way\nPython, 派森\n",
        origin="extra.txt",
    )
    vocabulary = BUILT_IN + extra
    synonyms = vocabulary.synonyms()
    assert synonyms["工图"] == ["工程制图"]
    assert synonyms["画法几何"] == ["工程制图"]
    assert "工程制图" not in synonyms
    assert synonyms["python"] == ["派森"]
    assert synonyms["派森"] == ["python"]
    assert vocabulary.expand("工图") == "工程制图"
    assert vocabulary.expand("高数") == "高等数学", "the built-in rules stay"


def test_a_built_in_rule_wins_a_rewrite_an_admin_repeats() -> None:
    vocabulary = BUILT_IN + parse("高数 => 高等数学A")
    assert vocabulary.expand("高数") == "高等数学"
    assert vocabulary.synonyms()["高数"] == ["高等数学", "高等数学a"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("高数 => 高等数学\n\n高数\n", "extra.txt, line 3: '高数' alone"),
        ("a => b => c\n", "extra.txt, line 1: one '=>' per rule, found 2"),
        ("# fine\n高数, => 高等数学\n", "extra.txt, line 2: an empty term"),
        ("=> 高等数学\n", "extra.txt, line 1: an empty term"),
        (
            "x, " + "长" * 61 + "\n",
            "extra.txt, line 1: '长长长长长长长长长长长长长长长长长长长长'… is longer",
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_its_line(text: str, message: str) -> None:
    with pytest.raises(VocabularyError) as raised:
        parse(text, origin="extra.txt")
    assert str(raised.value).startswith(message)


def test_an_empty_vocabulary_changes_nothing() -> None:
    assert Vocabulary().expand("高数") == "高数"
    assert Vocabulary().synonyms() == {}
    assert rewrites(BUILT_IN)["高数"] == "高等数学"

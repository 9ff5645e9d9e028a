"""Institution names: the matching key keeps schools apart and spellings together."""

from __future__ import annotations

import pytest

from metadata.institutions import match_key, name_language, record_names, slug_of
from metadata.profile import Contributor, CourseResource


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("东湖财经大学", "东湖 财经大学"),
        ("东湖财经大学", " 东湖财经大学。"),
        ("（东湖）财经大学", "(东湖)财经大学"),
        ("Donghu University of Finance and Economics", "DONGHU UNIVERSITY OF FINANCE & ECONOMICS"),
        (
            "Donghu University of Finance and Economics",
            "Donghu  University of Finance and Economics.",
        ),
        (
            "Donghu University of Finance and Economics",
            "Ｄｏｎｇｈｕ University of Finance and Economics",
        ),
        ("The Open University of Anlan", "Open University of Anlan"),
        ("Xinghe Vocational and Technical College", "Xinghe Vocational-and-Technical College"),
        ("St. Mary's College", "St Marys College"),
    ],
)
def test_spellings_of_one_name_share_a_key(one: str, other: str) -> None:
    assert match_key(one) == match_key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("东湖大学", "东湖学院"),  # 大学 and 学院 are different schools
        ("东湖大学", "东湖"),
        ("Donghu University", "Donghu College"),
        ("Donghu University", "Donghu"),
        ("Jianglan University", "University of Jianglan Theatre"),
        ("东湖财经大学", "Donghu University of Finance and Economics"),  # languages never match
        ("Open University", "Open University of the Theory"),
    ],
)
def test_different_schools_keep_different_keys(one: str, other: str) -> None:
    assert match_key(one) != match_key(other)


def test_ids_are_url_safe_slugs_in_pinyin_for_chinese_names() -> None:
    assert slug_of("Donghu University of Finance & Economics") == (
        "donghu-university-of-finance-economics"
    )
    assert slug_of("东湖财经大学") == "dong-hu-cai-jing-da-xue"
    assert slug_of("The Open University") == "open-university"
    assert slug_of("Université de Nantes") == "universite-de-nantes"
    assert slug_of("!!!") == ""
    assert len(slug_of("A" * 200)) <= 60


def test_a_name_is_chinese_or_english_by_its_script() -> None:
    assert name_language("东湖财经大学") == "zh"
    assert name_language("Donghu University") == "en"
    assert name_language("123") is None


def test_a_record_names_its_school_in_its_slot_and_pairs_only_what_it_gives_together() -> None:
    record = CourseResource(
        institution="东湖财经大学",
        institution_names={
            "zh": "东湖财经大学",
            "en": "Donghu University of Finance and Economics",
        },
        contributors=[
            Contributor(name="东湖财经大学", role="publisher", organization="东湖财经大学"),
            Contributor(name="王伟", role="author", organization="江澜大学"),
        ],
    )
    names = record_names(record)
    assert names.main == ["东湖财经大学"]
    assert names.paired == {
        "zh": "东湖财经大学",
        "en": "Donghu University of Finance and Economics",
    }
    assert names.others == ["江澜大学"]

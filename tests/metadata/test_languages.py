"""Language tags as repositories write them, and guessing a text's language."""

from __future__ import annotations

import pytest

from metadata.languages import guess_text_language, normalise_language


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # English in every spelling seen in the samples and beyond
        ("eng", "en"), ("en", "en"), ("English", "en"), ("en-US", "en"), ("en_GB", "en"),
        ("EN", "en"), (" english ", "en"), ("English (United States)", "en"), ("英语", "en"),
        # Chinese
        ("chi", "zh"), ("zho", "zh"), ("zh-CN", "zh"), ("zh-Hans", "zh"), ("zh_TW", "zh"),
        ("中文", "zh"), ("汉语", "zh"), ("Chinese", "zh"), ("普通话", "zh"), ("简体中文", "zh"),
        # French (BnF writes fre, Québec LOM writes fr-CA and FRE)
        ("fre", "fr"), ("fra", "fr"), ("French", "fr"), ("fr-CA", "fr"), ("FRE", "fr"),
        ("Français", "fr"),
        # the other languages the profile must know
        ("ger", "de"), ("deu", "de"), ("de", "de"), ("Deutsch", "de"),
        ("spa", "es"), ("jpn", "ja"), ("kor", "ko"), ("rus", "ru"), ("por", "pt"),
        ("ita", "it"), ("cze", "cs"), ("ces", "cs"), ("dut", "nl"), ("nld", "nl"),
        # special codes
        ("zxx", "zxx"), ("mul", "mul"), ("und", "und"),
        # deprecated two-letter codes
        ("iw", "he"), ("in", "id"),
    ],
)  # fmt: skip
def test_language_values_are_normalised(value: str, expected: str) -> None:
    assert normalise_language(value) == expected


@pytest.mark.parametrize("value", ["other", "Klingon", "xx", "x-none", "", "   ", None, "oty"])
def test_unknown_language_values_give_none(value: str | None) -> None:
    assert normalise_language(value) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("数据结构与算法", "zh"),
        ("Python程序设计", "zh"),  # Han outnumbers the Latin words
        ("C++ 语言程序设计", "zh"),
        ("Introduction to 中国 history", "en"),
        ("Data Structures and Algorithms", "en"),
        ("日本語のテキスト", "ja"),
        ("한국어 강의", "ko"),
        ("Die Geschichte der Mathematik und der Physik", "de"),
        ("La huella de la identidad femenina en la narrativa colombiana: una lectura", "es"),
        ("Les fondements de la géométrie et des nombres", "fr"),
        ("12345", "und"),
        ("", "und"),
    ],
)
def test_text_language_is_guessed_from_script_and_words(text: str, expected: str) -> None:
    assert guess_text_language(text) == expected


def test_hint_is_trusted_unless_the_text_contradicts_it() -> None:
    assert guess_text_language("Railway stations and networks", hint="nl") == "nl"
    assert guess_text_language("数据结构", hint="en") == "zh"  # the script says otherwise
    assert guess_text_language("Data structures", hint="zh") == "en"
    english = "This is a study of the uses of the Internet by women's organisations in the city."
    assert guess_text_language(english, hint="nl") == "en"
    uzbek = "Mazkur maqolada Germaniya va O‘zbekiston o‘rtasidagi munosabatlar tahlil qilinadi."
    assert guess_text_language(uzbek, hint="uz") == "uz"
    assert guess_text_language("1234", hint="fr") == "fr"

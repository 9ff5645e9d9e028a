"""The demo corpus: deterministic, realistic, and holding the records other tests rely on."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import re
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.demo.corpus import (
    DISCIPLINE_CATEGORIES,
    DISCIPLINES,
    INSTITUTIONS,
    LEVELS,
    DemoRecord,
    generate_corpus,
    institution_by_slug,
)

# sha256 of the first 50 default records as canonical JSON (see _fingerprint).  If a
# change to the generator is intended, update it and say so in the commit: benchmarks
# and recorded expectations elsewhere assume the corpus does not drift.
FIRST_50_FINGERPRINT = "ffddb750a13ec3b4884b80e74f382fda607db8899ada5c0186a73b5ea9e8f12a"

VOCATIONAL_LEVELS = {"secondary_vocational", "higher_vocational", "vocational_training"}


@pytest.fixture(scope="module")
def corpus() -> list[DemoRecord]:
    return generate_corpus()


def _fingerprint(records: list[DemoRecord]) -> str:
    rows = []
    for record in records:
        row = dataclasses.asdict(record)
        row["datestamp"] = record.datestamp.isoformat()
        rows.append(row)
    canonical = json.dumps(rows, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _live(corpus: list[DemoRecord]) -> list[DemoRecord]:
    return [record for record in corpus if not record.deleted]


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_the_same_corpus(corpus: list[DemoRecord]) -> None:
    assert generate_corpus() == corpus


def test_first_50_records_match_the_pinned_fingerprint() -> None:
    assert _fingerprint(generate_corpus(50)) == FIRST_50_FINGERPRINT


def test_a_shorter_corpus_is_a_prefix_of_a_longer_one(corpus: list[DemoRecord]) -> None:
    assert generate_corpus(100) == corpus[:100]


def test_another_seed_gives_other_records(corpus: list[DemoRecord]) -> None:
    other = generate_corpus(200, seed=7)
    assert [r.title for r in other] != [r.title for r in corpus[:200]]


def test_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        generate_corpus(-1)


def test_a_large_corpus_numbers_its_records_with_distinct_identifiers() -> None:
    # How fast a corpus is made is measured by bench.scale, not asserted here.
    records = generate_corpus(20_000)
    assert len({record.identifier for record in records}) == 20_000
    assert records[-1].identifier.endswith("course-20000")
    assert [r.identifier for r in records[:5]] == [r.identifier for r in generate_corpus(5)]


# ---------------------------------------------------------------- shape


def test_default_corpus_is_large_and_half_chinese(corpus: list[DemoRecord]) -> None:
    assert len(corpus) >= 2000
    languages = Counter(record.language for record in corpus)
    assert set(languages) == {"zh", "en"}
    assert 0.4 < languages["zh"] / len(corpus) < 0.6


def test_identifiers_and_urls_follow_the_demo_host(corpus: list[DemoRecord]) -> None:
    assert len({record.identifier for record in corpus}) == len(corpus)
    for number, record in enumerate(corpus, start=1):
        assert record.identifier == f"oai:demo.coursefed.example:course-{number:05d}"
        assert record.local_id == f"course-{number:05d}"
        assert record.url == f"https://demo.coursefed.example/courses/{number:05d}"
        assert record.object_url.startswith(f"https://demo.coursefed.example/files/{number:05d}/")
        extension = {"application/pdf": ".pdf", "video/mp4": ".mp4"}[record.object_format]
        assert record.object_url.endswith(extension)
        assert record.object_size > 0


def test_datestamps_are_utc_seconds_spread_over_2019_to_2026(corpus: list[DemoRecord]) -> None:
    for record in corpus:
        assert record.datestamp.tzinfo == UTC
        assert record.datestamp.microsecond == 0
        assert (
            datetime(2019, 1, 1, tzinfo=UTC) <= record.datestamp < datetime(2027, 1, 1, tzinfo=UTC)
        )
    assert {record.datestamp.year for record in corpus} == set(range(2019, 2027))


def test_some_records_are_deleted(corpus: list[DemoRecord]) -> None:
    deleted = sum(record.deleted for record in corpus)
    assert 0.003 * len(corpus) <= deleted <= 0.03 * len(corpus)


def test_disciplines_are_catalogue_codes_with_both_labels(corpus: list[DemoRecord]) -> None:
    assert len(DISCIPLINES) >= 15
    for code, (zh, en) in DISCIPLINES.items():
        assert re.fullmatch(r"\d{4}", code)
        assert code[:2] in DISCIPLINE_CATEGORIES
        assert re.search(r"[\u4e00-\u9fff]", zh)
        assert en.isascii()
    assert DISCIPLINES["0812"] == ("计算机科学与技术", "Computer Science and Technology")
    used = {record.subject_code for record in corpus}
    assert used <= DISCIPLINES.keys()
    assert len(used) >= 15


def test_sets_agree_with_the_record(corpus: list[DemoRecord]) -> None:
    for record in corpus:
        code = record.subject_code
        assert record.sets == (
            f"source:{record.institution_slug}",
            f"subject:{code[:2]}",
            f"subject:{code[:2]}:{code}",
            f"level:{record.level}",
        )
        for spec in record.sets:
            assert re.fullmatch(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*", spec)


def test_institutions_mix_universities_and_vocational_colleges(corpus: list[DemoRecord]) -> None:
    slugs = Counter(record.institution_slug for record in corpus)
    assert len(slugs) >= 10
    assert slugs.keys() == {institution.slug for institution in INSTITUTIONS}
    vocational = [i for i in INSTITUTIONS if "职业技术学院" in i.name_zh]
    assert len(vocational) >= 3
    assert all(slugs[i.slug] > 0 for i in vocational)


def test_records_name_the_institution_in_their_own_language(corpus: list[DemoRecord]) -> None:
    for record in corpus:
        institution = institution_by_slug(record.institution_slug)
        expected = institution.name_zh if record.language == "zh" else institution.name_en
        assert record.institution == expected


def test_vocational_colleges_give_vocational_levels(corpus: list[DemoRecord]) -> None:
    for record in corpus:
        kind = institution_by_slug(record.institution_slug).kind
        if kind in {"V", "S"}:
            assert record.level in VOCATIONAL_LEVELS | {"continuing_education"}, record
        if kind == "U":
            assert record.level in {"undergraduate", "postgraduate", "continuing_education"}


def test_every_education_level_appears(corpus: list[DemoRecord]) -> None:
    assert {record.level for record in corpus} == LEVELS.keys()


def test_licences_mix_creative_commons_and_all_rights_reserved(
    corpus: list[DemoRecord],
) -> None:
    licences = {record.license for record in corpus}
    for url in (
        "https://creativecommons.org/licenses/by/4.0/",
        "https://creativecommons.org/licenses/by-sa/4.0/",
        "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    ):
        assert url in licences
    assert "CC BY-NC-SA 4.0" in licences
    assert "All rights reserved" in licences
    assert any(text.startswith("版权所有") for text in licences)


def test_resource_types_are_celts_labels_with_lom_values(corpus: list[DemoRecord]) -> None:
    zh_types = {r.resource_type for r in corpus if r.language == "zh"}
    en_types = {r.resource_type for r in corpus if r.language == "en"}
    assert {"网络课程", "课件", "视频素材", "试卷", "案例"} <= zh_types
    assert {"web course", "courseware", "video material", "test paper"} <= en_types
    lom_types = {r.learning_resource_type for r in corpus}
    assert {"lecture", "slide", "exam", "exercise"} <= lom_types


def test_learning_time_is_an_iso8601_duration(corpus: list[DemoRecord]) -> None:
    for record in corpus:
        assert re.fullmatch(r"PT\d+H(\d+M)?", record.learning_time), record.learning_time


def test_descriptions_have_two_or_three_sentences(corpus: list[DemoRecord]) -> None:
    for record in corpus:
        if record.language == "zh":
            sentences = record.description.count("。")
        else:
            sentences = len(re.findall(r"[.!?](?:\s|$)", record.description))
        assert sentences in {2, 3}, record.description


def test_titles_are_plausible_and_varied(corpus: list[DemoRecord]) -> None:
    titles = {record.title for record in corpus}
    assert len(titles) >= 300
    assert {"数据结构与算法", "大学物理（上）", "Introduction to Data Science"} <= titles
    assert any(title.endswith(" for Engineers") for title in titles)
    assert any(re.search(r"（20\d\d[春秋]）$", title) for title in titles)
    for record in corpus:
        is_chinese = bool(re.search(r"[\u4e00-\u9fff]", record.title))
        assert is_chinese == (record.language == "zh"), record.title
        assert record.creators
        assert 3 <= len(record.keywords) <= 4


# ---------------------------------------------------------------- contracts for other tests


def test_contract_a_live_chinese_record_titled_intro_to_computer_science(
    corpus: list[DemoRecord],
) -> None:
    matches = [r for r in _live(corpus) if r.language == "zh" and r.title == "计算机科学导论"]
    assert matches


def test_contract_several_live_records_mention_computers(corpus: list[DemoRecord]) -> None:
    matches = [r for r in _live(corpus) if "计算机" in r.title or "计算机" in r.description]
    assert len(matches) >= 5


def test_contract_several_live_english_records_are_about_data(corpus: list[DemoRecord]) -> None:
    matches = [
        r for r in _live(corpus) if r.language == "en" and re.search(r"\bdata\b", r.title, re.I)
    ]
    assert len(matches) >= 5
    titles = {r.title for r in matches}
    assert "Introduction to Data Science" in titles
    assert "Data Structures and Algorithms" in titles


def test_contracts_hold_even_for_a_tiny_corpus() -> None:
    tiny = _live(generate_corpus(5))
    assert any(r.language == "zh" and r.title == "计算机科学导论" for r in tiny)
    assert sum("计算机" in r.title + r.description for r in tiny) >= 2
    english_data = [r for r in tiny if r.language == "en" and "data" in r.title.lower().split()]
    assert len(english_data) >= 2


def test_demo_records_stand_alone() -> None:
    """The simulated third party's records and XML share no code with what reads them."""
    package = Path(__file__).resolve().parents[2] / "app" / "demo"
    allowed = set(sys.stdlib_module_names) | {"lxml", "app", "__future__"}
    for name in ("__init__", "corpus", "xml", "files"):
        tree = ast.parse((package / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] in allowed, f"{name}.py imports {module}"
                if module.startswith("app"):
                    assert module.startswith("app.demo"), f"{name}.py imports {module}"

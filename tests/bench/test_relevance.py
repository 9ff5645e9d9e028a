"""The relevance benchmark's judged queries stay valid, and its metrics are the textbook ones."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from app.demo.corpus import DemoRecord, generate_corpus
from bench.relevance import (
    CATEGORIES,
    RELEVANT,
    JudgedQuery,
    as_json,
    course_of,
    dcg,
    evaluate,
    grades,
    load_queries,
    missed,
    ndcg,
    parse_selector,
    reciprocal_rank,
    report,
    summarise,
    unmatched_selectors,
)

BENCH_RECORDS = 2400  # python -m bench.relevance's default --records


@pytest.fixture(scope="module")
def corpus() -> list[DemoRecord]:
    return generate_corpus(BENCH_RECORDS)


@pytest.fixture(scope="module")
def queries() -> list[JudgedQuery]:
    return load_queries()


def test_the_judged_set_has_over_a_hundred_queries_in_every_category(
    queries: list[JudgedQuery],
) -> None:
    assert len(queries) >= 100
    present = {query.category for query in queries}
    assert present == set(CATEGORIES)


def test_every_judged_course_exists_in_the_corpus_the_benchmark_loads(
    queries: list[JudgedQuery], corpus: list[DemoRecord]
) -> None:
    missing = {q.id: unmatched_selectors(q, corpus) for q in queries}
    assert {qid: found for qid, found in missing.items() if found} == {}


def test_every_query_has_a_relevant_course_that_passes_its_filters(
    queries: list[JudgedQuery], corpus: list[DemoRecord]
) -> None:
    empty = [q.id for q in queries if not any(g >= RELEVANT for g in grades(q, corpus).values())]
    assert empty == []


def test_every_demo_record_is_of_one_known_course(corpus: list[DemoRecord]) -> None:
    by_id = {record.local_id: course_of(record) for record in corpus}
    assert by_id["course-00001"] == "计算机科学导论"
    # The longest stem wins: 大学物理实验 is not 大学物理.
    lab = next(r for r in corpus if r.title.startswith("大学物理实验"))
    assert course_of(lab) == "大学物理实验"


def test_a_judgment_picks_courses_by_language_and_takes_the_best_grade(
    corpus: list[DemoRecord],
) -> None:
    query = JudgedQuery("t", "zh_full", "高等数学", {"course:高等数学@zh": 3, "course:高等数学": 2})
    found = grades(query, corpus)
    records = {r.identifier: r for r in corpus}
    assert found
    for identifier, grade in found.items():
        assert grade == (3 if records[identifier].language == "zh" else 2)
    filtered = JudgedQuery(
        "f", "filtered", "高等数学", {"course:高等数学": 3}, filters={"language": ["en"]}
    )
    assert {records[i].language for i in grades(filtered, corpus)} == {"en"}


def test_a_selector_naming_no_demo_course_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no course"):
        parse_selector("course:C语言程序设计")
    with pytest.raises(ValueError, match="bad selector"):
        parse_selector("title:高等数学")
    with pytest.raises(ValueError, match="no institution"):
        parse_selector("course:高等数学#nowhere-univ")
    assert parse_selector("course:高等数学@zh#jianglan-univ").institution == "jianglan-univ"
    path = tmp_path / "q.json"
    entry = {"id": "x", "category": "typo", "q": "x", "judged": {"course:高等数学": 1}}
    path.write_text(json.dumps({"queries": [entry]}), encoding="utf-8")
    with pytest.raises(ValueError, match="no course judged"):
        load_queries(path)


def test_dcg_uses_exponential_gain_and_a_log2_discount() -> None:
    assert dcg([3, 2, 0, 1]) == pytest.approx(7 + 3 / math.log2(3) + 0 + 1 / math.log2(5))
    assert dcg([]) == 0
    assert dcg([1] * 20, k=10) == pytest.approx(sum(1 / math.log2(r + 1) for r in range(1, 11)))


def test_ndcg_is_one_for_the_ideal_order_and_less_for_any_other() -> None:
    judged = [3, 2, 2, 1]
    assert ndcg([3, 2, 2, 1], judged) == pytest.approx(1.0)
    assert ndcg([1, 2, 2, 3], judged) < 1.0
    assert ndcg([0, 0, 0], judged) == 0.0
    # Worked example: ranking [2, 3] against ideal [3, 2].
    expected = (3 + 7 / math.log2(3)) / (7 + 3 / math.log2(3))
    assert ndcg([2, 3], [3, 2]) == pytest.approx(expected)
    # Only the top 10 count: the ideal hit at rank 11 earns nothing.
    assert ndcg([0] * 10 + [3], [3]) == 0.0


def test_reciprocal_rank_counts_the_first_relevant_hit_in_the_top_ten() -> None:
    assert reciprocal_rank([3, 0]) == 1.0
    assert reciprocal_rank([0, 1, 2]) == pytest.approx(1 / 3)  # grade 1 is related only
    assert reciprocal_rank([0] * 10 + [3]) == 0.0
    assert reciprocal_rank([]) == 0.0


def test_a_query_is_missed_when_a_relevant_course_exists_but_not_in_the_top_ten() -> None:
    assert missed([0, 1, 0], [3, 1])
    assert not missed([0, 2], [3, 2])
    assert not missed([1], [1])  # nothing relevant to find


def test_a_summary_averages_queries_and_counts_zero_results_and_misses() -> None:
    query = JudgedQuery("q", "typo", "x", {"record:course-00001": 3})
    judged = {"oai:a": 3, "oai:b": 2}
    found = evaluate(query, judged, ["oai:b", "oai:a"], total=2, top=["B", "A"])
    nothing = evaluate(query, judged, [], total=0, top=[])
    summary = summarise([found, nothing])
    assert summary.count == 2
    assert summary.mrr == pytest.approx(0.5)
    assert summary.zero_rate == pytest.approx(0.5)
    assert summary.missed == 1
    assert summary.ndcg == pytest.approx(found.ndcg / 2)


def test_the_report_prints_the_table_the_worst_queries_and_the_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = JudgedQuery("good", "zh_full", "高等数学", {"course:高等数学": 3})
    bad = JudgedQuery("bad", "abbreviation", "高数", {"course:高等数学": 3}, {"level": ["x"]})
    judged = {"oai:a": 3}
    ours = [
        evaluate(good, judged, ["oai:a"], total=1, top=["高等数学"]),
        evaluate(bad, judged, ["oai:z"], total=1, top=["数据库系统原理"]),
    ]
    theirs = [
        evaluate(good, judged, ["oai:a"], total=1, top=["高等数学"]),
        evaluate(bad, judged, [], total=0, top=[]),
    ]
    met = report([good, bad], ours, theirs, records=10, worst=1)
    out = capsys.readouterr().out
    assert not met
    assert "abbreviation" in out
    assert "all" in out
    assert "高数 level=x" in out  # the worst query, with its filter
    assert "数据库系统原理" in out
    assert "target MRR >= 0.85: FAIL (0.500)" in out
    assert "1 missed" in out
    document = as_json(ours, theirs, records=10)
    assert document["ours"]["missed"] == 1
    assert document["queries"][1]["defaults"]["zero"] is True

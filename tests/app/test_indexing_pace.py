"""Indexing alongside harvests: rounds wait for new entries making a tenth of the index,
between a thousand and fifty thousand, and never more than a minute."""

from __future__ import annotations

from app.jobs import ROUND_LEAST, ROUND_LONGEST_WAIT, ROUND_MOST, _Pacing


def test_the_first_check_is_a_round() -> None:
    assert _Pacing(now=0.0).due(lag=0, now=1.0)


def test_a_round_waits_for_a_tenth_of_the_index() -> None:
    pacing = _Pacing(now=0.0)
    pacing.after_round(held=200_000, now=10.0)
    assert not pacing.due(lag=19_999, now=12.0)
    assert pacing.due(lag=20_000, now=12.0)


def test_small_and_large_indexes_are_bounded() -> None:
    pacing = _Pacing(now=0.0)
    pacing.after_round(held=300, now=0.0)
    assert not pacing.due(lag=ROUND_LEAST - 1, now=1.0)
    assert pacing.due(lag=ROUND_LEAST, now=1.0)
    pacing.after_round(held=10_000_000, now=0.0)
    assert not pacing.due(lag=ROUND_MOST - 1, now=1.0)
    assert pacing.due(lag=ROUND_MOST, now=1.0)


def test_a_few_new_entries_are_indexed_within_the_longest_wait() -> None:
    pacing = _Pacing(now=0.0)
    pacing.after_round(held=1_000_000, now=100.0)
    assert not pacing.due(lag=1, now=100.0 + ROUND_LONGEST_WAIT - 1)
    assert pacing.due(lag=1, now=100.0 + ROUND_LONGEST_WAIT)


def test_an_index_not_reached_makes_the_next_check_a_round() -> None:
    pacing = _Pacing(now=0.0)
    pacing.after_round(held=None, now=5.0)
    assert pacing.due(lag=0, now=6.0)

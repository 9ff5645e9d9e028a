"""OAI-PMH datestamps: strict reading for arguments and checks, lenient for what servers send."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from harvesters.oai.dates import (
    DAY,
    SECONDS,
    Datestamp,
    format_datestamp,
    granularity_of,
    parse,
    parse_lenient,
)


def test_both_granularities_are_read_as_utc_with_their_granularity() -> None:
    assert parse("2024-04-01") == Datestamp(datetime(2024, 4, 1, tzinfo=UTC), DAY)
    assert parse("2024-04-01T10:00:05Z") == Datestamp(
        datetime(2024, 4, 1, 10, 0, 5, tzinfo=UTC), SECONDS
    )


@pytest.mark.parametrize(
    "value",
    [
        "aaaa-bb-cc",
        "yesterday",
        "",
        "2024-4-1",
        "2024-04-01T10:00:00",  # no Z: a local time, not UTC
        "2024-04-01T10:00:00.5Z",  # finer than the protocol's seconds
        "2024-04-01T10:00:00+02:00",
        " 2024-04-01",
        "2024-04-01\n",
        "２０２４-０４-０１",  # full-width digits look like a date to ``\d``
    ],
)
def test_strict_reading_refuses_every_other_form(value: str) -> None:
    assert granularity_of(value) is None
    assert parse(value) is None


@pytest.mark.parametrize(
    ("value", "granularity"),
    [
        ("2024-13-01", DAY),
        ("2023-02-29", DAY),
        ("2024-13-45", DAY),
        ("2024-04-01T24:00:00Z", SECONDS),
        ("2024-04-01T10:00:60Z", SECONDS),
    ],
)
def test_dates_that_do_not_exist_have_a_form_but_no_moment(value: str, granularity: str) -> None:
    """A provider answers these with "not a valid date" rather than "not a UTCdatetime"."""
    assert granularity_of(value) == granularity
    assert parse(value) is None


def test_leap_day_exists() -> None:
    assert parse("2024-02-29") is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-04-01T10:00:00Z", datetime(2024, 4, 1, 10, tzinfo=UTC)),
        ("2024-04-01", datetime(2024, 4, 1, tzinfo=UTC)),
        # Servers send fractions and offsets in responseDates: read, and moved to UTC.
        ("2024-04-01T10:00:00.250Z", datetime(2024, 4, 1, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2024-04-01T12:00:00+02:00", datetime(2024, 4, 1, 10, tzinfo=UTC)),
        # No zone at all: taken as UTC, as the protocol means.
        ("2024-04-01T10:00:00", datetime(2024, 4, 1, 10, tzinfo=UTC)),
        ("  2024-04-01T10:00:00Z\n", datetime(2024, 4, 1, 10, tzinfo=UTC)),
    ],
)
def test_lenient_reading_of_what_servers_send(value: str, expected: datetime) -> None:
    moment = parse_lenient(value)
    assert moment == expected
    assert moment is not None and moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", ["", "yesterday", "2024-13-01", "0000-00-00T00:00:00Z"])
def test_lenient_reading_of_garbage_is_none_not_an_error(value: str) -> None:
    assert parse_lenient(value) is None


def test_writing_truncates_to_the_granularity_in_utc() -> None:
    moment = datetime(2024, 4, 1, 1, 30, 59, 999999, tzinfo=timezone(timedelta(hours=8)))
    assert format_datestamp(moment) == "2024-03-31T17:30:59Z"
    assert format_datestamp(moment, DAY) == "2024-03-31"
    assert parse(format_datestamp(moment)) == Datestamp(
        datetime(2024, 3, 31, 17, 30, 59, tzinfo=UTC), SECONDS
    )


def test_a_naive_moment_is_utc_whatever_the_server_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database keeps UTC without a zone: a server set to China time must not shift it."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        naive = datetime(2026, 3, 1, 12, 0, 0)  # noqa: DTZ001 - as the database hands it over
        assert format_datestamp(naive) == "2026-03-01T12:00:00Z"
    finally:
        monkeypatch.undo()
        time.tzset()

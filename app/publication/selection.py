"""Which courses a catalogue file or feed holds: a month of first harvest and the search
API's filters, checked by the search API's own rules (``app.search.query.FILTERS``).

Pure.  A month is a calendar month in UTC, as every stored time is.  ``record_matches``
reads a stored record's facts exactly as its search document does (``app.search.documents``),
so a filter keeps in a file what it keeps in a search; the school and the source are
matched by the caller in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.search.documents import OTHER_LICENCE, licence_of, subject_codes, teachers
from app.search.query import InvalidFilter, chosen_filters
from metadata.profile import ResourceRecord

SELECTION_FILTERS = (
    "subject", "level", "type", "language", "institution", "license", "source", "teacher",
)  # fmt: skip
"""The search API's filters the catalogue files and feeds take, in the order their URLs
name them (the results page's)."""
_MONTH = re.compile(r"(\d{4})-(\d{2})")
FIRST_YEAR = 2000
LAST_YEAR = 2999


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month in UTC: courses first harvested in ``[start, end)``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-11`` → Month; ``InvalidFilter`` for anything else."""
        found = _MONTH.fullmatch(text)
        if found is None:
            raise InvalidFilter("month", "month must be a year and month, such as 2026-11")
        year, month = int(found[1]), int(found[2])
        if not 1 <= month <= 12:
            raise InvalidFilter("month", f"{text!r}: the month must be 01 to 12")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise InvalidFilter("month", f"{text!r}: the year must be {FIRST_YEAR} to {LAST_YEAR}")
        return cls(year, month)

    @classmethod
    def of(cls, moment: datetime) -> Month:
        """The UTC month ``moment`` falls in (a naive moment is UTC)."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True)
class Selection:
    """A month (or the whole catalogue), filters (values of one ORed, filters ANDed, as in
    the search API), the open-licence switch and, for feeds, words to search for."""

    month: Month | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    open_only: bool = False
    q: str = ""

    @classmethod
    def of(
        cls,
        *,
        filters: Mapping[str, Sequence[str]],
        month: str | None = None,
        open_only: bool = False,
        q: str = "",
    ) -> Selection:
        """A checked selection; ``InvalidFilter`` names the first parameter that is wrong."""
        return cls(
            month=Month.parse(month) if month else None,
            filters=chosen_filters(filters, SELECTION_FILTERS),
            open_only=open_only,
            q=q.strip(),
        )

    @property
    def filtered(self) -> bool:
        return bool(self.filters or self.open_only or self.q)


def _any(wanted: tuple[str, ...] | None, values: Sequence[str | None]) -> bool:
    return wanted is None or any(value in wanted for value in values if value)


def licence_id(record: ResourceRecord) -> tuple[str | None, bool]:
    """The record's licence id as the search API names it (``other`` for a statement we do
    not recognise, None for none) and whether it is open."""
    licence = licence_of(record)
    if licence is None:
        return None, False
    return licence.id or OTHER_LICENCE, bool(licence.open)


def _facts(record: ResourceRecord) -> dict[str, Sequence[str | None]]:
    """The record's values of each filter it is matched on here, as its search document
    has them."""
    return {
        "subject": subject_codes(record),
        "level": [record.education_level],
        "type": [record.resource_type],
        "language": record.languages,
        "teacher": teachers(record),
    }


def record_matches(record: ResourceRecord, selection: Selection) -> bool:
    """Whether the record passes the selection's filters on what the record itself says
    (not ``institution`` and ``source``: those are the caller's, in SQL)."""
    chosen = selection.filters
    if any(name in chosen for name in _FACTS):
        facts = _facts(record)
        if not all(_any(chosen.get(name), facts[name]) for name in _FACTS):
            return False
    if "license" in chosen or selection.open_only:
        licence, is_open = licence_id(record)
        if not _any(chosen.get("license"), [licence]):
            return False
        return is_open or not selection.open_only
    return True


_FACTS = ("subject", "level", "type", "language", "teacher")

"""OAI-PMH datestamps: the protocol's two granularities, read and written.

* ``parse`` is strict: exactly ``YYYY-MM-DD`` or ``YYYY-MM-DDThh:mm:ssZ``, a date that
  exists, and which of the two it is (a provider's ``from``/``until``, the conformance check);
* ``parse_lenient`` reads what servers really send in datestamps and responseDates
  (fractional seconds, offsets, no zone) as a UTC moment (harvest high-water marks);
* ``format_datestamp`` writes a moment in UTC at a granularity.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import NamedTuple

DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
GRANULARITIES = (DAY, SECONDS)

_FORMS = {DAY: "%Y-%m-%d", SECONDS: "%Y-%m-%dT%H:%M:%SZ"}
# ASCII digits only: ``\d`` would let other scripts' digits through.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SECONDS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


class Datestamp(NamedTuple):
    moment: datetime  # in UTC
    granularity: str  # DAY or SECONDS


def granularity_of(value: str) -> str | None:
    """Which of the two forms ``value`` is written in; None for neither.

    Only the form is judged: ``2024-02-30`` is written in ``DAY`` (``parse`` refuses it).
    """
    if _SECONDS.fullmatch(value):
        return SECONDS
    if _DAY.fullmatch(value):
        return DAY
    return None


def parse(value: str) -> Datestamp | None:
    """A datestamp in one of the two forms naming a real moment; None otherwise.

    Nothing else is accepted: no surrounding space, fraction, offset or missing ``Z``.
    """
    granularity = granularity_of(value)
    if granularity is None:
        return None
    try:
        moment = datetime.strptime(value, _FORMS[granularity])  # noqa: DTZ007 - UTC below
    except ValueError:  # a month 13, a 30 February, a second 60
        return None
    return Datestamp(moment.replace(tzinfo=UTC), granularity)


def parse_lenient(value: str) -> datetime | None:
    """A UTC moment from a datestamp or responseDate as servers send them; None if unreadable.

    Beyond the two granularities, servers send fractional seconds and offsets
    (``…T10:00:00.250Z``, ``…T12:00:00+02:00``); they are read and turned into UTC, and
    a moment without a zone is taken as UTC.
    """
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_datestamp(moment: datetime, granularity: str = SECONDS) -> str:
    """``moment`` in UTC at ``granularity`` (truncated, never rounded up).

    A naive ``moment`` is taken as UTC (the database keeps UTC without a zone), never as
    the server's local time.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_FORMS[granularity])

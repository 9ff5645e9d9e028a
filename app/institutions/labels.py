"""Institution names for facet labels, from a copy of the table at most a minute old.

The search API labels up to 200 institution facet values per query; a copy in memory
keeps the database off the search path.  Writes in this process (a harvest seeding a
school, an administrator's change through the API) drop the copy at once; a change made
by another process (``coursefed institutions`` in a shell) shows within a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import session_scope

MAX_AGE_SECONDS = 60.0
_PENDING = "institution_labels_changed"
Labels = dict[str, dict[str, str]]

_lock = threading.Lock()
_copies: dict[int, tuple[float, Labels]] = {}


def invalidate() -> None:
    """Forget every copy: the next lookup reads the table again."""
    with _lock:
        _copies.clear()


def changed(session: Session) -> None:
    """Names change in this transaction: forget the copies once it commits (not before,
    or a lookup in between would copy the old names again)."""
    if not session.info.get(_PENDING):
        session.info[_PENDING] = True
        event.listen(session, "after_commit", _committed, once=True)


def _committed(session: Session) -> None:
    session.info.pop(_PENDING, None)
    invalidate()


def for_engine(
    engine: Engine, read: Callable[[Session], Labels]
) -> Callable[[str], dict[str, str]]:
    """A lookup of one id's labels ({} when unknown) over ``read``'s copy of the table."""

    def lookup(institution_id: str) -> dict[str, str]:
        with _lock:
            taken, copy = _copies.get(id(engine), (float("-inf"), {}))
        if time.monotonic() - taken > MAX_AGE_SECONDS:
            with session_scope(engine) as session:
                copy = read(session)
            with _lock:
                _copies[id(engine)] = (time.monotonic(), copy)
        return copy.get(institution_id, {})

    return lookup

"""The audit log: every write through the API or the key commands, and every refused one.

A write request opens a ``Pending`` entry (who, what, on what, from where) for as long
as it runs.  The first transaction of that request that changes the database adds the
entry, outcome ``ok``, just before it commits, so the write and its entry stand or fall
together; services need not know.  A request that changed nothing (refused, invalid,
failed) has its entry written on its own at the end, with the outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from app.db import session_scope
from app.keys import repository
from app.keys.models import AuditEntry

OK = "ok"
CLI = "cli"
LOCAL = "local"

_WROTE = "coursefed.audit.wrote"
_ADDED = "coursefed.audit.added"


@dataclass
class Pending:
    """The audit entry of a write in progress."""

    credential: str
    action: str
    target: str
    client: str
    status: int = 200  # answered on success
    recorded: bool = False
    closed: bool = False

    def entry(self, outcome: str, status: int) -> AuditEntry:
        return AuditEntry(
            credential=self.credential[:32],
            action=self.action[:64],
            target=self.target[:300],
            client=self.client[:64],
            outcome=outcome[:32],
            status=status,
        )


_pending: ContextVar[Pending | None] = ContextVar("coursefed_audit_pending", default=None)


@contextmanager
def pending(entry: Pending) -> Iterator[Pending]:
    """While inside, the first committing transaction that writes records ``entry``."""
    token = _pending.set(entry)
    try:
        yield entry
    finally:
        entry.closed = True  # tasks started meanwhile hold a copy of the context
        _pending.reset(token)


def record(session: Session, entry: Pending, outcome: str, status: int) -> None:
    """Add the entry to ``session``'s transaction."""
    repository.add_entry(session, entry.entry(outcome, status))
    entry.recorded = True


def record_alone(engine: Engine, entry: Pending, outcome: str, status: int) -> None:
    """Write the entry in a transaction of its own (the request wrote nothing)."""
    entry.closed = True
    with session_scope(engine) as session:
        record(session, entry, outcome, status)


def _active() -> Pending | None:
    entry = _pending.get()
    if entry is None or entry.recorded or entry.closed:
        return None
    return entry


@event.listens_for(OrmSession, "after_flush")
def _after_flush(session: OrmSession, _context: Any) -> None:
    if _active() is not None:
        session.info[_WROTE] = True


@event.listens_for(OrmSession, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if _active() is not None and (state.is_insert or state.is_update or state.is_delete):
        state.session.info[_WROTE] = True


@event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    entry = _active()
    if entry is None:
        return
    session.flush()
    if session.info.pop(_WROTE, False):
        session.add(entry.entry(OK, entry.status))
        session.flush()
        session.info[_ADDED] = entry


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    session.info.pop(_WROTE, None)
    entry: Pending | None = session.info.pop(_ADDED, None)
    if entry is not None:
        entry.recorded = True


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    session.info.pop(_WROTE, None)
    session.info.pop(_ADDED, None)


def page(session: Session, *, page: int, per_page: int) -> tuple[list[AuditEntry], int]:
    """One page of the log, newest first, and the number of entries in all."""
    rows = repository.entries(session, offset=(page - 1) * per_page, limit=per_page)
    return rows, repository.count_entries(session)

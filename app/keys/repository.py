"""All SQL of the keys domain: API keys by id, and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.keys.models import ApiKey, AuditEntry


def get_key(session: Session, key_id: str) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def add_key(session: Session, key: ApiKey) -> ApiKey:
    session.add(key)
    session.flush()
    return key


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id))))


def mark_used(session: Session, key_id: str, now: datetime, not_since: datetime) -> None:
    """Record a use, unless one was recorded after ``not_since`` (one write a minute, not
    one per request)."""
    session.execute(
        update(ApiKey)
        .where(col(ApiKey.id) == key_id)
        .where((col(ApiKey.last_used_at).is_(None)) | (col(ApiKey.last_used_at) < not_since))
        .values(last_used_at=now)
    )


def add_entry(session: Session, entry: AuditEntry) -> None:
    session.add(entry)
    session.flush()


def entries(session: Session, *, offset: int, limit: int) -> list[AuditEntry]:
    """Newest first."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)
    return list(session.exec(query))


def count_entries(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEntry)).one()

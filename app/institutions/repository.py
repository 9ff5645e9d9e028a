"""All SQL of the institution authority: schools and their aliases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, select

from app.clock import utcnow
from app.institutions import labels
from app.institutions.models import Institution, InstitutionAlias


def get(session: Session, institution_id: str) -> Institution | None:
    return session.get(Institution, institution_id)


def get_many(session: Session, ids: Sequence[str]) -> list[Institution]:
    if not ids:
        return []
    statement = select(Institution).where(col(Institution.id).in_(list(ids)))
    return list(session.exec(statement).all())


def all_institutions(session: Session) -> list[Institution]:
    return list(session.exec(select(Institution).order_by(col(Institution.id))).all())


def alias(session: Session, key: str) -> InstitutionAlias | None:
    return session.get(InstitutionAlias, key)


def aliases_of(session: Session, institution_id: str) -> list[InstitutionAlias]:
    statement = (
        select(InstitutionAlias)
        .where(InstitutionAlias.institution_id == institution_id)
        .order_by(col(InstitutionAlias.key))
    )
    return list(session.exec(statement).all())


def targets(session: Session, keys: Sequence[str]) -> dict[str, str]:
    """Matching key → institution id, for the keys that have an alias."""
    if not keys:
        return {}
    statement = select(InstitutionAlias.key, InstitutionAlias.institution_id).where(
        col(InstitutionAlias.key).in_(list(keys))
    )
    return dict(session.exec(statement).all())


def add_institution(
    session: Session, institution_id: str, name_zh: str | None, name_en: str | None
) -> Institution:
    """Add a school, or find the one another transaction added under this id meanwhile
    (two harvests seeding the same school from the same name at once)."""
    now = utcnow()
    values = {
        "id": institution_id,
        "name_zh": name_zh,
        "name_en": name_en,
        "created_at": now,
        "updated_at": now,
    }
    session.execute(_insert(session, Institution).values(**values).on_conflict_do_nothing())
    institution = session.get(Institution, institution_id)
    if institution is None:  # pragma: no cover - inserted or found just above
        raise LookupError(f"institution {institution_id} vanished while being added")
    labels.changed(session)
    return institution


def _insert(session: Session, table: type[SQLModel]) -> Any:
    """INSERT for the session's database, with its ON CONFLICT clause available."""
    dialect = session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)


def add_alias_if_absent(
    session: Session, key: str, name: str, institution_id: str, origin: str
) -> None:
    """Insert an alias unless its key is taken (two harvests may learn one name at once)."""
    statement = _insert(session, InstitutionAlias)
    values = {
        "key": key,
        "name": name,
        "institution_id": institution_id,
        "origin": origin,
        "created_at": utcnow(),
    }
    session.execute(statement.values(**values).on_conflict_do_nothing(index_elements=["key"]))


def point_alias(session: Session, key: str, name: str, institution_id: str, origin: str) -> None:
    """Make ``key`` name ``institution_id`` (insert or move)."""
    found = session.get(InstitutionAlias, key)
    if found is None:
        session.add(
            InstitutionAlias(key=key, name=name, institution_id=institution_id, origin=origin)
        )
    else:
        found.institution_id = institution_id
        found.origin = origin
        session.add(found)
    session.flush()


def move_aliases(session: Session, source_id: str, target_id: str) -> None:
    session.execute(
        update(InstitutionAlias)
        .where(col(InstitutionAlias.institution_id) == source_id)
        .values(institution_id=target_id)
    )


def remove_institution(session: Session, institution_id: str) -> None:
    session.execute(delete(Institution).where(col(Institution.id) == institution_id))
    labels.changed(session)


def touch(session: Session, institution: Institution) -> None:
    institution.updated_at = utcnow()
    session.add(institution)
    session.flush()
    labels.changed(session)

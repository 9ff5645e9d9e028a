"""All SQL of the OAI-PMH provider: exposed resources in (updated_at, id) order, and sets.

Exposed means publishable, or a tombstone (``deleted``: persistent deletions are always
reported).  Lists are read a page at a time by keyset — ``(updated_at, id)`` after the
last item sent — with a LIMIT, so a page never loads the table and rows changed while a
harvest runs neither shift nor hide the rows still to come.  Subject sets look inside the
JSON record's ``subjects``, which needs each engine's JSON table function.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from app.catalogue.models import Resource
from app.oai.provider import Item, SetFilter, SetsPresent
from app.sources.models import Source
from metadata.vocabularies import DISCIPLINE_CATALOGUE

# The JSON array of a record's subjects as rows ``s`` (``s.code``/``s.scheme`` below).
_SUBJECT_ROWS = {
    "sqlite": "json_each(resources.record, '$.subjects') AS s",
    "postgresql": (
        "json_array_elements(CASE WHEN json_typeof(resources.record -> 'subjects') = 'array' "
        "THEN resources.record -> 'subjects' ELSE '[]'::json END) AS s"
    ),
}
_SUBJECT_FIELD = {
    "sqlite": "json_extract(s.value, '$.{}')",
    "postgresql": "(s ->> '{}')",
}


def _exposed() -> ColumnElement[bool]:
    return or_(col(Resource.deleted), col(Resource.publishable))


class SqlRepository:
    """The provider's view of the catalogue, inside the request's session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    # ------------------------------------------------------------ items

    def _columns(self, *, with_raw: bool) -> Select[Any]:
        columns: list[Any] = [
            col(Resource.id),
            col(Source.slug),
            col(Resource.deleted),
            col(Resource.updated_at),
            col(Resource.record),
        ]
        if with_raw:
            columns.append(col(Resource.raw_xml))
        return (
            select(*columns)
            .select_from(Resource)
            .outerjoin(Source, col(Source.id) == col(Resource.source_id))
            .where(_exposed())
        )

    @staticmethod
    def _item(row: Any, *, with_raw: bool) -> Item:
        return Item(
            id=row.id,
            source=row.slug,
            deleted=bool(row.deleted),
            updated_at=row.updated_at,
            record=row.record or {},
            raw_xml=row.raw_xml if with_raw else None,
        )

    def get(self, resource_id: str, *, with_raw: bool) -> Item | None:
        statement = self._columns(with_raw=with_raw).where(col(Resource.id) == resource_id)
        row = self.session.execute(statement).first()
        return None if row is None else self._item(row, with_raw=with_raw)

    def earliest(self) -> datetime | None:
        statement = select(func.min(col(Resource.updated_at))).where(_exposed())
        value: datetime | None = self.session.execute(statement).scalar_one_or_none()
        return value

    def _filters(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [_exposed()]
        updated = col(Resource.updated_at)
        if low is not None:
            conditions.append(updated >= low)
        if high is not None:
            conditions.append(updated < high)
        if after is not None:
            moment, resource_id = after
            # The first conjunct is an index range; the second breaks ties within a moment.
            conditions.append(
                and_(updated >= moment, or_(updated > moment, col(Resource.id) > resource_id))
            )
        if set_filter is not None:
            conditions.append(self._in_set(set_filter))
        return conditions

    def _in_set(self, set_filter: SetFilter) -> ColumnElement[bool]:
        kind, value = set_filter
        if kind == "source":
            slugs = select(col(Source.id))
            if value:
                slugs = slugs.where(col(Source.slug) == value)
            return col(Resource.source_id).in_(slugs)
        if kind == "level":
            level = col(Resource.record)["education_level"].as_string()
            return level == value if value else level.is_not(None)
        field = _SUBJECT_FIELD[self.dialect]
        clause = (
            f"EXISTS (SELECT 1 FROM {_SUBJECT_ROWS[self.dialect]} "  # noqa: S608 - fixed SQL
            f"WHERE {field.format('code')} LIKE :subject_prefix "
            f"AND coalesce({field.format('scheme')}, :catalogue) = :catalogue)"
        )
        # ``value`` is digits only (checked by the provider), so it holds no LIKE wildcard.
        return text(clause).bindparams(  # type: ignore[return-value]
            subject_prefix=f"{value}%", catalogue=DISCIPLINE_CATALOGUE
        )

    def page(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
        limit: int,
        *,
        with_raw: bool,
    ) -> list[Item]:
        statement = (
            self._columns(with_raw=with_raw)
            .where(*self._filters(low, high, set_filter, after))
            .order_by(col(Resource.updated_at), col(Resource.id))
            .limit(limit)
        )
        return [self._item(row, with_raw=with_raw) for row in self.session.execute(statement)]

    def count(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
    ) -> int:
        statement = select(func.count()).select_from(Resource)
        statement = statement.where(*self._filters(low, high, set_filter, after))
        return int(self.session.execute(statement).scalar_one())

    # ------------------------------------------------------------ sets

    def sets(self) -> SetsPresent:
        sources = self.session.execute(
            select(col(Source.slug), col(Source.name))
            .where(col(Source.id).in_(select(col(Resource.source_id)).where(_exposed()).distinct()))
            .order_by(col(Source.slug))
        ).all()
        level = col(Resource.record)["education_level"].as_string()
        levels = self.session.execute(
            select(level).where(_exposed(), level.is_not(None)).distinct()
        ).scalars()
        field = _SUBJECT_FIELD[self.dialect]
        codes = self.session.execute(
            text(
                f"SELECT DISTINCT {field.format('code')} FROM resources, "  # noqa: S608
                f"{_SUBJECT_ROWS[self.dialect]} "
                "WHERE (resources.deleted OR resources.publishable) "
                f"AND {field.format('code')} IS NOT NULL "
                f"AND coalesce({field.format('scheme')}, :catalogue) = :catalogue"
            ).bindparams(catalogue=DISCIPLINE_CATALOGUE)
        ).scalars()
        return SetsPresent(
            sources=[(slug, name) for slug, name in sources],
            levels=sorted(str(value) for value in levels if value),
            subject_codes=sorted(str(code) for code in codes if code),
        )

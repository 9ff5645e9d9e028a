"""The institution authority's operations: read it, resolve names, and curate it.

Reading (``list_institutions``, ``get_institution``, ``resolve``, ``facet_labels``) serves
the API, the pages and the search facet.  Curating (``add_institution``, ``add_alias``,
``merge``, ``seed``) is for administrators (``coursefed institutions``): every change
that moves a course to another school, or renames a school, journals the courses it
touches, so the search index and mirrors follow.  Records stored later resolve through
the same aliases, so curation survives every re-harvest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.catalogue import service as catalogue
from app.institutions import labels, repository
from app.institutions.authority import ADMIN, Authority
from app.institutions.models import Institution
from metadata.institutions import clean_name, match_key, name_language
from metadata.profile import ResourceRecord

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


class InstitutionError(ValueError):
    """A curation request that cannot be done; the message says why."""


class UnknownInstitution(InstitutionError):
    """No institution has this id."""


@dataclass(frozen=True)
class InstitutionSummary:
    """A school with the number of live courses it offers."""

    id: str
    name_zh: str | None
    name_en: str | None
    count: int
    aliases: list[str] = field(default_factory=list)

    def labels(self) -> dict[str, str]:
        return _labels(self.id, self.name_zh, self.name_en)


def _labels(institution_id: str, name_zh: str | None, name_en: str | None) -> dict[str, str]:
    """Both languages always get a label: the other language's name, else the id."""
    return {
        "zh": name_zh or name_en or institution_id,
        "en": name_en or name_zh or institution_id,
    }


def _summary(
    institution: Institution, count: int, aliases: list[str] | None = None
) -> InstitutionSummary:
    return InstitutionSummary(
        institution.id, institution.name_zh, institution.name_en, count, aliases or []
    )


# --- reading ---------------------------------------------------------------------------


def list_institutions(
    session: Session, *, with_courses_only: bool = False
) -> list[InstitutionSummary]:
    """Every school with its course count, most courses first (then by id)."""
    counts = catalogue.institution_counts(session)
    rows = [_summary(i, counts.get(i.id, 0)) for i in repository.all_institutions(session)]
    if with_courses_only:
        rows = [row for row in rows if row.count]
    return sorted(rows, key=lambda row: (-row.count, row.id))


def get_institution(session: Session, institution_id: str) -> InstitutionSummary | None:
    """A school with its course count and the names that lead to it; None if unknown."""
    institution = repository.get(session, institution_id)
    if institution is None:
        return None
    count = catalogue.institution_counts(session).get(institution_id, 0)
    aliases = [alias.name for alias in repository.aliases_of(session, institution_id)]
    return _summary(institution, count, aliases)


def institutions_by_id(session: Session, ids: Iterable[str | None]) -> dict[str, Institution]:
    """The schools of these ids (unknown ones left out)."""
    wanted = sorted({i for i in ids if i})
    return {i.id: i for i in repository.get_many(session, wanted)}


def resolve(session: Session, name: str) -> str | None:
    """The id of the school a name (or an id) leads to; None when none does."""
    found = Authority(session).resolve(name)
    if found is None and ID_PATTERN.fullmatch(name) and repository.get(session, name):
        return name
    return found


def facet_labels(engine: Engine) -> Callable[[str], dict[str, str]]:
    """Labels of institution facet values (``app.institutions.labels``)."""
    return labels.for_engine(engine, _all_labels)


def _all_labels(session: Session) -> dict[str, dict[str, str]]:
    return {i.id: _labels(i.id, i.name_zh, i.name_en) for i in repository.all_institutions(session)}


# --- curating --------------------------------------------------------------------------


def _check_names(name_zh: str | None, name_en: str | None) -> tuple[str | None, str | None]:
    zh = clean_name(name_zh) if name_zh else None
    en = clean_name(name_en) if name_en else None
    if not zh and not en:
        raise InstitutionError("give the institution's Chinese name, English name or both")
    if zh and name_language(zh) != "zh":
        raise InstitutionError(f"{zh!r} is not a Chinese name")
    if en and name_language(en) != "en":
        raise InstitutionError(f"{en!r} is not a name in Latin letters")
    return zh, en


def add_institution(
    session: Session,
    *,
    name_zh: str | None = None,
    name_en: str | None = None,
    institution_id: str | None = None,
    aliases: Iterable[str] = (),
) -> Institution:
    """A new school with its names and aliases (each must not lead elsewhere yet)."""
    zh, en = _check_names(name_zh, name_en)
    authority = Authority(session)
    if institution_id is not None:
        if not ID_PATTERN.fullmatch(institution_id):
            raise InstitutionError(
                f"{institution_id!r} is not an id: lower-case letters, digits and '-', "
                "at most 64, starting with a letter or digit"
            )
        if repository.get(session, institution_id) is not None:
            raise InstitutionError(f"institution {institution_id!r} exists already")
    names = [name for name in (zh, en, *map(clean_name, aliases)) if name]
    for name in names:
        if not match_key(name):
            raise InstitutionError(f"{name!r} has nothing to match on")
        taken = authority.resolve(name)
        if taken is not None:
            raise InstitutionError(
                f"{name!r} already leads to institution {taken!r}: use alias or merge"
            )
    new_id = institution_id or authority.new_id(en or zh or "")
    institution = repository.add_institution(session, new_id, zh, en)
    for name in dict.fromkeys(names):
        repository.point_alias(session, match_key(name), name, new_id, ADMIN)
    return institution


def set_names(
    session: Session, institution_id: str, *, name_zh: str | None = None, name_en: str | None = None
) -> Institution:
    """Give a school its Chinese and/or English name (each becomes an alias too)."""
    institution = _existing(session, institution_id)
    zh, en = _check_names(name_zh, name_en)
    for name in (zh, en):
        if name:
            add_alias(session, name, institution_id)
    institution.name_zh = zh or institution.name_zh
    institution.name_en = en or institution.name_en
    repository.touch(session, institution)
    _journal_courses(session, institution_id)
    return institution


def add_alias(session: Session, name: str, institution_id: str) -> int:
    """Let ``name`` lead to the school ``institution_id``; returns the courses it moved.

    A name that led to another school moves here; that school's courses are resolved
    again, and a school left with no name and no course is removed.
    """
    target = _existing(session, institution_id)
    cleaned = clean_name(name)
    key = match_key(cleaned)
    if not key:
        raise InstitutionError(f"{name!r} has nothing to match on")
    previous = repository.alias(session, key)
    old_id = previous.institution_id if previous is not None else None
    repository.point_alias(session, key, cleaned, target.id, ADMIN)
    if old_id is None or old_id == target.id:
        return 0
    moved = _resolve_again(session, old_id)
    if not repository.aliases_of(session, old_id) and not catalogue.resources_of_institution(
        session, old_id
    ):
        _absorb(session, old_id, target)
    return moved


def merge(session: Session, source_id: str, target_id: str) -> int:
    """Fold the school ``source_id`` into ``target_id``: its names lead there, its
    courses move there, its missing names fill the target's; returns courses moved."""
    if source_id == target_id:
        raise InstitutionError("an institution cannot be merged into itself")
    source = _existing(session, source_id)
    target = _existing(session, target_id)
    repository.move_aliases(session, source.id, target.id)
    resources = catalogue.resources_of_institution(session, source.id)
    for resource in resources:
        catalogue.set_institution(session, resource, target.id)
    _absorb(session, source.id, target, source)
    return sum(1 for r in resources if not r.deleted)


def seed(session: Session, *, every: bool = False) -> int:
    """Resolve stored courses without a school (``every``: all of them) through the
    authority, learning from them as a harvest does; returns the courses that changed."""
    authority = Authority(session)
    changed, after = 0, ""
    while page := catalogue.resources_for_seeding(session, every=every, after=after):
        for resource in page:
            record = ResourceRecord.model_validate(resource.record)
            institution_id = authority.institution_for(record)
            if institution_id != resource.institution_id:
                catalogue.set_institution(session, resource, institution_id)
                changed += 1
        after = page[-1].id
        session.expunge_all()  # a page at a time in memory
    return changed


def _existing(session: Session, institution_id: str) -> Institution:
    institution = repository.get(session, institution_id)
    if institution is None:
        raise UnknownInstitution(f"no institution with id {institution_id!r}")
    return institution


def _resolve_again(session: Session, institution_id: str) -> int:
    authority = Authority(session)
    moved = 0
    for resource in catalogue.resources_of_institution(session, institution_id):
        found = authority.institution_for(ResourceRecord.model_validate(resource.record))
        if found != institution_id:
            catalogue.set_institution(session, resource, found)
            moved += 0 if resource.deleted else 1
    return moved


def _absorb(
    session: Session, old_id: str, target: Institution, old: Institution | None = None
) -> None:
    """Remove ``old_id``, giving its names to ``target`` where it has none."""
    old = old or repository.get(session, old_id)
    if old is not None:
        filled = False
        if not target.name_zh and old.name_zh:
            target.name_zh, filled = old.name_zh, True
        if not target.name_en and old.name_en:
            target.name_en, filled = old.name_en, True
        if filled:
            repository.touch(session, target)
            _journal_courses(session, target.id)
    session.flush()
    repository.remove_institution(session, old_id)


def _journal_courses(session: Session, institution_id: str) -> None:
    """The school's names changed: its courses' search documents must be made again."""
    catalogue.journal_resources(
        session, catalogue.resources_of_institution(session, institution_id)
    )

"""Resolve a record's institution names to one school, learning names as records arrive.

The catalogue calls ``Authority.institution_for`` for every record it stores (one
``Authority`` per transaction, so a harvest page asks the database once per name).  A
name resolves through its alias (``metadata.institutions.match_key``).  The first name
of the record's institution slot decides; when none is known, the names a record gives
together for one school (``institution_names``) are tried, then other contributors'
organisations when the record names no institution.  What the record teaches is kept:
names it gives together join the school it resolved to, and a school no alias knows is
added, with the record's names as its aliases (``origin`` seeded).  Two known schools
are never merged from a record: that is an administrator's decision (``merge``).
"""

from __future__ import annotations

import hashlib

from sqlmodel import Session

from app.institutions import repository
from app.institutions.models import Institution
from metadata.institutions import clean_name, match_key, name_language, record_names, slug_of
from metadata.profile import CourseResource

SEEDED = "seeded"
ADMIN = "admin"


class Authority:
    """Name → school lookups and seeding inside one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids: dict[str, str | None] = {}
        # What ``_learn`` has already taken in: a page names the same school hundreds of
        # times, and learning it again would read the school's row again for nothing.
        self._learned: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()

    def lookup(self, names: list[str]) -> dict[str, str | None]:
        """Matching key → institution id (None: no alias) for ``names``."""
        keys = [match_key(name) for name in names]
        missing = [key for key in dict.fromkeys(keys) if key and key not in self._ids]
        if missing:
            found = repository.targets(self.session, missing)
            self._ids.update({key: found.get(key) for key in missing})
        return {key: self._ids.get(key) for key in keys if key}

    def resolve(self, name: str) -> str | None:
        """The school a name leads to, without learning anything."""
        key = match_key(name)
        return self.lookup([name]).get(key) if key else None

    def institution_for(self, record: CourseResource) -> str | None:
        """The school of a record, seeding the authority from what the record says."""
        names = record_names(record)
        ordered = [
            *names.main,
            *names.paired.values(),
            *([] if names.main else names.others),
        ]
        if not ordered:
            return None
        known = self.lookup(ordered)
        chosen = next((known[k] for n in ordered if (k := match_key(n)) and known.get(k)), None)
        primary = ordered[0]
        if chosen is None:
            chosen = self._seed(primary, names.paired)
        else:
            self._learn(chosen, primary, names.paired)
        return chosen

    def _learn(self, institution_id: str, primary: str, paired: dict[str, str]) -> None:
        """Names given together with a known one join its school (unless taken)."""
        if not paired:
            return
        learned = (institution_id, primary, tuple(sorted(paired.items())))
        if learned in self._learned:
            return
        self._learned.add(learned)
        known = self.lookup([primary, *paired.values()])
        if known.get(match_key(primary)) not in (None, institution_id):
            return  # the record's own name leads elsewhere: the pair is not evidence here
        institution = repository.get(self.session, institution_id)
        if institution is None:
            return
        changed = False
        named = [(name_language(primary) or "", primary), *paired.items()]
        for language, name in dict.fromkeys(named):
            key = match_key(name)
            if known.get(key) is None:
                repository.add_alias_if_absent(self.session, key, name, institution_id, SEEDED)
                self._ids[key] = institution_id
            if known.get(key) in (None, institution_id):
                changed |= _fill_name(institution, language, name)
        if changed:
            repository.touch(self.session, institution)

    def _seed(self, primary: str, paired: dict[str, str]) -> str:
        names: dict[str, str] = {}
        language = name_language(primary)
        if language in ("zh", "en"):
            names[language] = primary
        for lang, name in paired.items():
            if lang in ("zh", "en") and name_language(name) == lang:
                names.setdefault(lang, name)
        institution_id = self.new_id(names.get("en") or primary)
        repository.add_institution(self.session, institution_id, names.get("zh"), names.get("en"))
        for name in dict.fromkeys([primary, *paired.values()]):
            key = match_key(name)
            if key and self._ids.get(key) is None:
                repository.add_alias_if_absent(
                    self.session, key, clean_name(name), institution_id, SEEDED
                )
                self._ids[key] = institution_id
        return institution_id

    def new_id(self, name: str) -> str:
        """A free id from a name's slug (``-2``, ``-3`` … when taken)."""
        base = slug_of(name) or "i-" + hashlib.sha256(match_key(name).encode()).hexdigest()[:10]
        candidate, n = base, 1
        while repository.get(self.session, candidate) is not None:
            n += 1
            candidate = f"{base[: 64 - len(str(n)) - 1]}-{n}"
        return candidate


def _fill_name(institution: Institution, language: str, name: str) -> bool:
    """Give the school its name in ``language`` when it has none yet."""
    if language == "zh" and not institution.name_zh and name_language(name) == "zh":
        institution.name_zh = name
        return True
    if language == "en" and not institution.name_en and name_language(name) == "en":
        institution.name_en = name
        return True
    return False

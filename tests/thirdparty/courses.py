"""A seeded course catalogue that third-party data providers serve, and what we stored of it.

Each backend (pyoai's ``IOAI``, oai-repo's ``DataInterface``) adapts the same
``Catalogue``: thousands of courses with datestamps spread over years, hierarchical
sets (``subject:07`` holds ``subject:07:0701``), a share of persistent deletions, and
methods that change, delete and add courses "now" the way a college's repository does
between two harvests.  ``stored`` reads back what the harvest engine kept.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue.models import Resource
from app.db import session_scope
from app.sources import service as sources
from app.sources.harvest import HarvestOptions, harvest
from app.sources.models import HarvestRun

FAST = HarvestOptions(overlap_seconds=300, timeout=15, max_retries=1, backoff_base=0.01)

SUBJECTS = {
    "07": ("Science", {"0701": "Mathematics", "0702": "Physics", "0703": "Chemistry"}),
    "08": ("Engineering", {"0802": "Mechanical Engineering", "0812": "Computer Science"}),
    "12": ("Management", {"1201": "Management Science", "1202": "Business Administration"}),
}
LEVELS = ("undergraduate", "vocational", "graduate")
TOPICS = (
    ("Linear Algebra", "线性代数"),
    ("Thermodynamics", "热力学"),
    ("Data Structures", "数据结构"),
    ("Organic Chemistry", "有机化学"),
    ("Operations Research", "运筹学"),
    ("Machine Design", "机械设计"),
)
# Naive UTC datetimes: pyoai asserts its datestamps carry no tzinfo.  The corpus ends
# years before any clock this runs on, so "now" (a change) is always newer than it.
START = datetime(2015, 1, 1, tzinfo=UTC).replace(tzinfo=None)
SPAN_SECONDS = 7 * 365 * 86400


@dataclass(frozen=True)
class Course:
    identifier: str
    datestamp: datetime  # naive UTC, whole seconds
    title: str
    sets: tuple[str, ...]
    deleted: bool = False

    @property
    def language(self) -> str:
        return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in self.title) else "en"


def utc_now() -> datetime:
    """Now as a naive UTC datetime in whole seconds (the backends' datestamp shape)."""
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None)


def make_courses(count: int, *, seed: int = 2026, deleted_share: float = 0.05) -> list[Course]:
    rng = random.Random(seed)  # noqa: S311 - a seeded corpus, not a secret
    courses = []
    for n in range(1, count + 1):
        category = rng.choice(sorted(SUBJECTS))
        discipline = rng.choice(sorted(SUBJECTS[category][1]))
        english, chinese = rng.choice(TOPICS)
        title = f"{chinese}（{n:05d}）" if rng.random() < 0.4 else f"{english} {n:05d}"
        courses.append(
            Course(
                identifier=f"oai:college.example.edu:course/{n:05d}",
                datestamp=START + timedelta(seconds=rng.randrange(SPAN_SECONDS)),
                title=title,
                sets=(
                    f"subject:{category}",
                    f"subject:{category}:{discipline}",
                    f"level:{rng.choice(LEVELS)}",
                ),
                deleted=rng.random() < deleted_share,
            )
        )
    return courses


def set_name(spec: str) -> str:
    parts = spec.split(":")
    if parts[0] == "subject":
        name, disciplines = SUBJECTS[parts[1]]
        return disciplines[parts[2]] if len(parts) == 3 else name
    return f"Level: {parts[-1]}"


class Catalogue:
    """The courses a repository holds, changed between harvests by the test."""

    def __init__(self, courses: list[Course]) -> None:
        self._lock = threading.Lock()
        self._courses = {c.identifier: c for c in courses}

    def all(self) -> list[Course]:
        """Every course, deleted ones included, by (datestamp, identifier)."""
        with self._lock:
            return sorted(self._courses.values(), key=lambda c: (c.datestamp, c.identifier))

    def get(self, identifier: str) -> Course | None:
        with self._lock:
            return self._courses.get(identifier)

    def select(
        self,
        *,
        set_spec: str | None = None,
        from_: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Course]:
        """Inclusive dates; a set selects itself and the sets below it."""
        return [
            c
            for c in self.all()
            if (from_ is None or c.datestamp >= from_)
            and (until is None or c.datestamp <= until)
            and (
                set_spec is None
                or any(s == set_spec or s.startswith(set_spec + ":") for s in c.sets)
            )
        ]

    def set_specs(self) -> list[str]:
        return sorted({spec for course in self.all() for spec in course.sets})

    def expected(self) -> dict[str, str]:
        """identifier → title of every live course."""
        return {c.identifier: c.title for c in self.all() if not c.deleted}

    def deleted(self) -> set[str]:
        return {c.identifier for c in self.all() if c.deleted}

    # --- what a college does between two harvests (datestamps move to now) -------------

    def retitle(self, identifiers: list[str], suffix: str) -> None:
        now = utc_now()
        with self._lock:
            for identifier in identifiers:
                course = self._courses[identifier]
                self._courses[identifier] = replace(
                    course, title=f"{course.title} {suffix}", datestamp=now
                )

    def delete(self, identifiers: list[str]) -> None:
        now = utc_now()
        with self._lock:
            for identifier in identifiers:
                self._courses[identifier] = replace(
                    self._courses[identifier], deleted=True, datestamp=now
                )

    def add(self, courses: list[Course]) -> None:
        now = utc_now()
        with self._lock:
            for course in courses:
                self._courses[course.identifier] = replace(course, datestamp=now)


def new_courses(count: int, *, first: int) -> list[Course]:
    return [
        Course(
            identifier=f"oai:college.example.edu:course/{n:05d}",
            datestamp=START,
            title=f"New Course {n:05d}",
            sets=("subject:08", "subject:08:0812", "level:graduate"),
        )
        for n in range(first, first + count)
    ]


def add_source(
    engine: Engine,
    base_url: str,
    *,
    slug: str,
    prefix: str | None = "oai_dc",
    set_spec: str | None = None,
) -> int:
    with session_scope(engine) as session:
        source = sources.add_source(
            session,
            base_url=base_url,
            slug=slug,
            metadata_prefix=prefix,
            set_spec=set_spec,
            allow_private_network=True,  # the servers under test listen on loopback
        )
        assert source.id is not None
        return source.id


def run_harvest(engine: Engine, source_id: int, *, full: bool = False) -> HarvestRun:
    return asyncio.run(harvest(engine, source_id, full=full, options=FAST))


@dataclass(frozen=True)
class Stored:
    live: dict[str, str]  # identifier → title (all language variants, " / "-joined)
    tombstones: set[str]


def stored(engine: Engine, source_id: int) -> Stored:
    """What the catalogue holds for one source."""
    with session_scope(engine) as session:
        rows = session.exec(select(Resource).where(Resource.source_id == source_id)).all()
        live = {
            row.oai_identifier: " / ".join(sorted(row.record.get("title", {}).values()))
            for row in rows
            if not row.deleted
        }
        return Stored(live, {row.oai_identifier for row in rows if row.deleted})

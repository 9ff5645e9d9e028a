"""Courses stored as a harvest at a given moment stores them (``Harvest``), so "first
harvested" is what the store keeps through later updates, deletions and returns."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine

from app.catalogue import service as catalogue
from app.db import session_scope
from app.sources import service as sources
from metadata.profile import Issue, License, Provenance, ResourceRecord, Subject
from tests.app.records import stored

CC_BY = License(text="CC BY 4.0", url="https://creativecommons.org/licenses/by/4.0/")


class Harvest:
    """Stores courses of source ``college`` as a harvest at a given moment would."""

    def __init__(self, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
        self.engine = engine
        self.monkeypatch = monkeypatch
        with session_scope(engine) as session:
            source = sources.add_source(session, slug="college", base_url="http://example.org/oai")
            self.source_id = source.id

    def store(
        self,
        n: int,
        at: datetime,
        *,
        title: dict[str, str] | None = None,
        institution: str | None = "江澜大学",
        subjects: tuple[str, ...] = ("0812",),
        level: str = "undergraduate",
        licence: License | None = CC_BY,
        url: str | None = None,
        issues: list[Issue] | None = None,
        revision: int = 0,
        languages: tuple[str, ...] = ("zh",),
    ) -> str:
        oai_id = f"oai:college:{n}"
        rid = catalogue.resource_id_for("college", oai_id)
        raw = f"<record n='{n}' r='{revision}'/>".encode()
        record = ResourceRecord(
            id=rid,
            title=title if title is not None else {"zh": f"课程{n}", "en": f"Course {n}"},
            institution=institution,
            institution_names={"zh": institution} if institution else {},
            subjects=[Subject(code=code, scheme="学科专业目录") for code in subjects],
            education_level=level,
            languages=list(languages),
            license=licence,
            url=url if url is not None else f"https://college.example.edu.cn/c/{n}",
            provenance=Provenance(
                source="college",
                oai_identifier=oai_id,
                datestamp="2026-01-01T00:00:00Z",
                metadata_prefix="oai_dc",
                harvested_at=at,
                raw_sha256=hashlib.sha256(raw).hexdigest(),
            ),
        )
        self.monkeypatch.setattr("app.catalogue.service.utcnow", lambda: at)
        with session_scope(self.engine) as session:
            catalogue.upsert(
                session,
                stored(record, raw, oai_id=oai_id, source_id=self.source_id, issues=issues),
            )
        return rid

    def delete(self, rid: str, at: datetime) -> None:
        self.monkeypatch.setattr("app.catalogue.service.utcnow", lambda: at)
        with session_scope(self.engine) as session:
            catalogue.delete(session, rid)

"""Catalogue records written as a harvest writes them (``stored``), and records that name
files (``publish``)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from app.catalogue import service as catalogue
from app.db import session_scope
from app.sources import service as sources
from metadata.profile import (
    Contributor,
    DigitalObjectRef,
    Issue,
    LangMap,
    License,
    Provenance,
    ResourceRecord,
)

DATESTAMP = "2026-01-01T00:00:00Z"


def publish(
    engine: Engine,
    source_id: int,
    n: int,
    urls: list[str],
    *,
    title: LangMap,
    description: LangMap | None = None,
    slug: str = "college",
    names: bool = False,
) -> str:
    """Store record ``n`` of a source naming ``urls`` as its files; returns its id.

    ``names`` declares each file's name (the last segment of its URL), as LOM and DC
    records often do; otherwise only the format is declared.
    """
    oai_id = f"oai:college:{n}"
    rid = catalogue.resource_id_for(slug, oai_id)
    raw = f"<record n='{n}'>{title}{urls}</record>".encode()
    record = ResourceRecord(
        id=rid,
        title=title,
        description=description or {},
        objects=[
            DigitalObjectRef(
                url=url,
                format=None if names else "application/pdf",
                name=url.rsplit("/", 1)[-1] if names else None,
            )
            for url in urls
        ],
        provenance=harvested(slug, oai_id, raw),
    )
    with session_scope(engine) as session:
        catalogue.upsert(session, stored(record, raw, oai_id=oai_id, source_id=source_id))
    return rid


def stored(
    record: ResourceRecord,
    raw: bytes,
    *,
    oai_id: str,
    source_id: int | None,
    issues: list[Issue] | None = None,
) -> catalogue.StoredRecord:
    """``record`` as a harvest hands it to the catalogue: with its raw XML and OAI header."""
    return catalogue.StoredRecord(
        record=record,
        issues=issues or [],
        source_id=source_id,
        oai_identifier=oai_id,
        datestamp=DATESTAMP,
        metadata_prefix="oai_dc",
        raw_xml=raw,
        raw_sha256=hashlib.sha256(raw).hexdigest(),
    )


def store_course(
    engine: Engine,
    n: int,
    institution: str | None,
    *,
    paired: dict[str, str] | None = None,
    title: str = "课程",
    revision: int = 0,
    license: License | None = None,
) -> str:
    """Store course ``n`` of source ``college`` as a harvest would, naming its school
    ``institution`` (and ``paired``: its names by language); ``revision`` changes its raw
    bytes, as a source that edits the record."""
    oai_id = f"oai:college:{n}"
    rid = catalogue.resource_id_for("college", oai_id)
    raw = f"<record n='{n}' r='{revision}'>{institution}</record>".encode()
    sha = hashlib.sha256(raw).hexdigest()
    contributors = [Contributor(name=institution, role="publisher")] if institution else []
    record = ResourceRecord(
        id=rid,
        title={"zh": f"{title}{n}"},
        languages=["zh"],
        institution=institution,
        institution_names=paired or {},
        contributors=contributors,
        license=license,
        provenance=harvested("college", oai_id, raw, metadata_prefix="lom"),
    )
    with session_scope(engine) as session:
        source = sources.get_by_slug(session, "college") or sources.add_source(
            session, slug="college", base_url="http://example.org/oai"
        )
        catalogue.upsert(
            session,
            catalogue.StoredRecord(
                record=record,
                issues=[],
                source_id=source.id,
                oai_identifier=oai_id,
                datestamp="2026-01-01T00:00:00Z",
                metadata_prefix="lom",
                raw_xml=raw,
                raw_sha256=sha,
            ),
        )
    return rid


def store_record(
    engine: Engine,
    source_id: int | None,
    n: int,
    *,
    slug: str = "college",
    revision: int = 0,
    **fields: Any,
) -> str:
    """Store course ``n`` of source ``slug`` as a harvest would (its record built from
    ``fields``, with an OAI header and raw XML of its own); returns its id.  ``revision``
    changes its raw bytes, as a source that edits the record."""
    oai_id = f"oai:{slug}:{n}"
    raw = (f"<record r='{revision}'>{n}</record>" if revision else f"<record>{n}</record>").encode()
    record = ResourceRecord(
        id=catalogue.resource_id_for(slug, oai_id),
        provenance=harvested(slug, oai_id, raw),
        **fields,
    )
    with session_scope(engine) as session:
        catalogue.upsert(session, stored(record, raw, oai_id=oai_id, source_id=source_id))
    return record.id


def harvested(slug: str, oai_id: str, raw: bytes, *, metadata_prefix: str = "oai_dc") -> Provenance:
    """Where a record stored by these helpers comes from: source ``slug``, harvested now."""
    return Provenance(
        source=slug,
        oai_identifier=oai_id,
        datestamp="2026-01-01T00:00:00Z",
        metadata_prefix=metadata_prefix,
        harvested_at=datetime.now(UTC),
        raw_sha256=hashlib.sha256(raw).hexdigest(),
    )

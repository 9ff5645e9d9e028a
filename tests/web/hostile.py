"""Hostile records stored as a harvest stores them, and one stored as an older version did."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject
from app.catalogue.normalise import normalise
from app.db import session_scope
from harvesters.xml import parse_xml
from metadata.profile import (
    Contributor,
    DigitalObjectRef,
    License,
    Provenance,
    Relation,
    ResourceRecord,
)
from metadata.urls import http_url
from tests.app.records import stored
from tests.fixtures.hostile import HostileRecord

SLUG = "hostile"
OLD_ID = "hostile-stored-before-the-rule"
OLD_RAW = b"<record>stored before the URL rule</record>"


def harvest_into(engine: Engine, record: HostileRecord) -> str:
    """Store ``record`` as the harvest job does (hardened parse, ``normalise``); its id."""
    raw = record.read_bytes()
    content, issues = normalise(parse_xml(raw), record.prefix)
    resource_id = catalogue.resource_id_for(SLUG, record.oai_identifier)
    profile = ResourceRecord(
        id=resource_id,
        provenance=Provenance(
            source=SLUG,
            oai_identifier=record.oai_identifier,
            datestamp="2026-01-01T00:00:00Z",
            metadata_prefix=record.prefix,
            harvested_at=datetime.now(UTC),
            raw_sha256=hashlib.sha256(raw).hexdigest(),
        ),
        **dict(content),
    )
    with session_scope(engine) as session:
        catalogue.upsert(
            session,
            stored(profile, raw, oai_id=record.oai_identifier, source_id=None, issues=issues),
        )
    return resource_id


def store_before_the_rule(engine: Engine, raw: bytes = OLD_RAW) -> str:
    """A published record holding script URLs, and a file row naming one, written directly
    into the database as a version without the URL rule did; its id."""
    record = ResourceRecord(
        id=OLD_ID,
        title={"en": "Stored before the URL rule"},
        url="javascript:alert('landing page')",
        license=License(spdx="CC-BY-4.0", url="JavaScript:confirm('licence')", text="CC BY 4.0"),
        objects=[DigitalObjectRef(url="data:text/html,<script>alert('file')</script>")],
        identifiers=["vbscript:msgbox('identifier')"],
        relations=[Relation(kind="ispartof", target="javascript:alert('relation')")],
        contributors=[Contributor(name="M", role="author", email="javascript:alert('mail')")],
    )
    with session_scope(engine) as session:
        catalogue.upsert(session, stored(record, raw, oai_id="oai:old:1", source_id=None))
        session.add(
            DigitalObject(resource_id=OLD_ID, url="javascript:alert('file row')", status="pending")
        )
    return OLD_ID


def foreign_links(values: list[str]) -> list[str]:
    """The values that are neither a path on our own site nor an http(s) URL."""
    return [v for v in values if not _own_path(v) and http_url(v) is None]


def _own_path(value: str) -> bool:
    # "//host" and "/\host" are other sites to a browser; "#main" is a place on the page.
    return value.startswith("#") or (value.startswith("/") and value[1:2] not in {"/", "\\"})

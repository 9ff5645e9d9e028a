"""Harvest a real third-party data provider: ``oai-repo`` (PyPI), over HTTP on loopback,
with a ``DataInterface`` of ours over the same seeded catalogue.

oai-repo has no way to say a record is deleted: ``RecordHeader.status`` is never
written, and a record without metadata is silently left out of ``ListRecords``.  Such a
repository must announce ``deletedRecord=no``; deletions then reach us only by
reconciliation (``app.sources.reconcile``), which this test exercises.  Its tokens are
base64 (``+``, ``/`` and ``=`` must be URL-encoded), carry ``cursor`` and
``completeListSize``, and the last page has a correct empty token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from lxml import etree
from sqlalchemy.engine import Engine

from app.settings import Settings
from app.sources import registration
from app.sources.conformance import check_endpoint, format_checks
from app.sources.reconcile import reconcile
from tests.outbound import PRIVATE
from tests.thirdparty.courses import (
    FAST,
    Catalogue,
    Course,
    make_courses,
    new_courses,
    run_harvest,
    set_name,
    stored,
)
from tests.thirdparty.loopback import OAIApp, Reply, serve

oai_repo = pytest.importorskip("oai_repo", reason="oai-repo not installed")

LIMIT = 100
COURSES = 2100
DC = "http://purl.org/dc/elements/1.1/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"


def _aware(moment: datetime | None) -> datetime | None:
    # oai-repo hands us timezone-aware UTC datetimes; the catalogue is naive UTC.
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


class OaiRepoBackend(oai_repo.DataInterface):  # type: ignore[name-defined]
    """oai-repo's ``DataInterface`` over a ``Catalogue``; deleted courses are not listed."""

    limit = LIMIT

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.base_url = ""

    def get_identify(self) -> object:
        identify = oai_repo.Identify()
        identify.repository_name = "Example College course repository (oai-repo)"
        identify.base_url = self.base_url
        identify.admin_email = ["oai-admin@college.example.edu"]
        identify.earliest_datestamp = "2015-01-01T00:00:00Z"
        identify.deleted_record = "no"
        identify.granularity = "YYYY-MM-DDThh:mm:ssZ"
        return identify

    def is_valid_identifier(self, identifier: str) -> bool:
        course = self.catalogue.get(identifier)
        return course is not None and not course.deleted

    def get_metadata_formats(self, identifier: str | None = None) -> list[object]:
        return [
            oai_repo.MetadataFormat(
                "oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC
            )
        ]

    def get_record_header(self, identifier: str) -> object:
        course = self._course(identifier)
        return oai_repo.RecordHeader(
            identifier=course.identifier,
            datestamp=course.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            setspecs=list(course.sets),
        )

    def get_record_metadata(self, identifier: str, metadataprefix: str) -> etree._Element | None:
        course = self._course(identifier)
        if course.deleted:
            return None
        dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC})
        number = course.identifier.rsplit("/", 1)[-1]
        for name, value in (
            ("title", course.title),
            ("creator", "Example College"),
            ("description", f"Course {number} of the Example College catalogue."),
            ("identifier", f"https://courses.college.example.edu/{number}"),
            ("language", course.language),
            ("rights", "https://creativecommons.org/licenses/by-sa/4.0/"),
        ):
            element = etree.SubElement(dc, f"{{{DC}}}{name}")
            element.text = value
            if name == "title":
                element.set("{http://www.w3.org/XML/1998/namespace}lang", course.language)
        return dc

    def get_record_abouts(self, identifier: str) -> list[etree._Element]:
        return []

    def list_set_specs(
        self, identifier: str | None = None, cursor: int = 0
    ) -> tuple[list[str], int, None]:
        specs = self.catalogue.set_specs()
        return specs, len(specs), None

    def get_set(self, setspec: str) -> object:
        return oai_repo.Set(spec=setspec, name=set_name(setspec), description=[])

    def list_identifiers(
        self,
        metadataprefix: str,
        filter_from: datetime | None = None,
        filter_until: datetime | None = None,
        filter_set: str | None = None,
        cursor: int = 0,
    ) -> tuple[list[str], int, None]:
        selected = [
            c.identifier
            for c in self.catalogue.select(
                set_spec=filter_set, from_=_aware(filter_from), until=_aware(filter_until)
            )
            if not c.deleted
        ]
        return selected[cursor : cursor + self.limit], len(selected), None

    def _course(self, identifier: str) -> Course:
        course = self.catalogue.get(identifier)
        if course is None:
            raise KeyError(identifier)
        return course


@pytest.fixture
def oai_repo_server() -> Iterator[tuple[OaiRepoBackend, OAIApp, str]]:
    backend = OaiRepoBackend(Catalogue(make_courses(COURSES, seed=7)))
    repository = oai_repo.OAIRepository(backend)
    server, app = serve(lambda params: Reply(bytes(repository.process(dict(params)))))
    backend.base_url = server.base_url
    try:
        yield backend, app, server.base_url
    finally:
        server.stop()


def test_oai_repo_full_incremental_and_reconciled_harvest(
    engine: Engine, settings: Settings, oai_repo_server: tuple[OaiRepoBackend, OAIApp, str]
) -> None:
    backend, app, base_url = oai_repo_server
    catalogue = backend.catalogue
    # Registered like an operator does: Identify first, format left to the harvest.
    source = asyncio.run(
        registration.register(
            engine, settings, base_url=base_url, slug="oai-repo-college", allow_private_network=True
        )
    )
    assert source.id is not None and source.deleted_record == "no"
    source_id = source.id

    first = run_harvest(engine, source_id)
    assert first.status == "succeeded", first.error
    assert first.metadata_prefix == "oai_dc", "chosen from ListMetadataFormats"
    live = catalogue.expected()
    assert first.records_seen == first.records_added == len(live)
    assert first.pages == -(-len(live) // LIMIT)
    held = stored(engine, source_id)
    assert held.live == live, "exactly the live catalogue, titles included"
    assert not held.tombstones
    tokens = [r["resumptionToken"] for r in app.requests if "resumptionToken" in r]
    assert tokens and any(set(token) & set("+/=") for token in tokens), "base64 tokens"

    ordered = sorted(live)
    changed, gone = ordered[5:30], ordered[200:215]
    catalogue.retitle(changed, "(revised)")
    catalogue.delete(gone)
    catalogue.add(new_courses(8, first=COURSES + 1))

    second = run_harvest(engine, source_id)
    assert second.status == "succeeded", second.error
    assert (
        second.records_seen,
        second.records_updated,
        second.records_added,
        second.records_deleted,
    ) == (33, 25, 8, 0), "deletions are invisible to a deletedRecord=no repository"
    assert set(stored(engine, source_id).live) == set(catalogue.expected()) | set(gone)

    reconciled = asyncio.run(reconcile(engine, source_id, max_share=0.2, options=FAST))
    assert (reconciled.status, reconciled.records_deleted) == ("succeeded", len(gone))
    held = stored(engine, source_id)
    assert held.live == catalogue.expected()
    assert held.tombstones == set(gone)
    assert app.errors == []


def test_oai_repo_conformance_report(
    oai_repo_server: tuple[OaiRepoBackend, OAIApp, str],
) -> None:
    """What ``coursefed sources check`` tells a college running oai-repo."""
    _, app, base_url = oai_repo_server
    checks = {c.name: c for c in asyncio.run(check_endpoint(base_url, timeout=15, policy=PRIVATE))}
    warned = {name: c.outcome for name, c in checks.items() if c.outcome != "pass"}
    assert warned == {"formats": "warn"}, format_checks(checks.values())
    assert checks["deleted-record"].detail == "no"
    assert app.errors == []

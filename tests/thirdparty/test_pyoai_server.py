"""Harvest a real third-party data provider: pyoai's ``oaipmh.server`` (oaipmh 4.0, the
maintained fork), over HTTP on loopback, with an in-memory ``IOAI`` backend of ours.

What pyoai does its own way, and we must survive: resumption tokens are its own
URL-encoded query strings (``metadataPrefix%3Doai_dc%26cursor%3D100``), the last page
carries no ``<resumptionToken>`` element at all, tokens have no ``cursor`` or
``completeListSize``, and ``oai_dc`` is written by its own writer (no ``xml:lang``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from app.sources.conformance import check_endpoint, format_checks
from tests.outbound import PRIVATE
from tests.thirdparty.courses import (
    START,
    Catalogue,
    Course,
    add_source,
    make_courses,
    new_courses,
    run_harvest,
    set_name,
    stored,
)
from tests.thirdparty.loopback import OAIApp, Reply, serve

server_module = pytest.importorskip("oaipmh.server", reason="oaipmh (pyoai fork) not installed")
from oaipmh import common, error, metadata  # type: ignore[import-untyped]  # noqa: E402

BATCH = 100
COURSES = 2400


class PyoaiBackend:
    """pyoai's ``IOAI`` interface over a ``Catalogue`` (persistent deletions)."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.base_url = ""

    def identify(self) -> common.Identify:
        courses = self.catalogue.all()
        return common.Identify(
            repositoryName="Example College course repository (pyoai)",
            baseURL=self.base_url,
            protocolVersion="2.0",
            adminEmails=["oai-admin@college.example.edu"],
            earliestDatestamp=courses[0].datestamp if courses else START,
            deletedRecord="persistent",
            granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"],
        )

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        if identifier is not None and self.catalogue.get(identifier) is None:
            raise error.IdDoesNotExistError(identifier)
        return [
            (
                "oai_dc",
                "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                "http://www.openarchives.org/OAI/2.0/oai_dc/",
            )
        ]

    def listSets(self) -> list[tuple[str, str, None]]:
        return [(spec, set_name(spec), None) for spec in self.catalogue.set_specs()]

    def listIdentifiers(
        self,
        metadataPrefix: str,
        set: str | None = None,
        from_: datetime | None = None,
        until: datetime | None = None,
    ) -> list[common.Header]:
        return [header for header, _, _ in self.listRecords(metadataPrefix, set, from_, until)]

    def listRecords(
        self,
        metadataPrefix: str,
        set: str | None = None,
        from_: datetime | None = None,
        until: datetime | None = None,
    ) -> list[tuple[common.Header, common.Metadata | None, None]]:
        self._check_prefix(metadataPrefix)
        selected = self.catalogue.select(set_spec=set, from_=from_, until=until)
        return [self._record(course) for course in selected]

    def getRecord(
        self, metadataPrefix: str, identifier: str
    ) -> tuple[common.Header, common.Metadata | None, None]:
        self._check_prefix(metadataPrefix)
        course = self.catalogue.get(identifier)
        if course is None:
            raise error.IdDoesNotExistError(identifier)
        return self._record(course)

    @staticmethod
    def _check_prefix(prefix: str) -> None:
        if prefix != "oai_dc":
            raise error.CannotDisseminateFormatError(prefix)

    @staticmethod
    def _record(course: Course) -> tuple[common.Header, common.Metadata | None, None]:
        header = common.Header(
            None, course.identifier, course.datestamp, list(course.sets), course.deleted
        )
        if course.deleted:
            return header, None, None
        number = course.identifier.rsplit("/", 1)[-1]
        fields: dict[str, list[str]] = {
            "title": [course.title],
            "creator": ["Example College"],
            "subject": [set_name(spec) for spec in course.sets[:2]],
            "description": [f"Course {number} of the Example College catalogue."],
            "publisher": ["Example College"],
            "type": ["Text"],
            "identifier": [f"https://courses.college.example.edu/{number}"],
            "language": [course.language],
            "rights": ["https://creativecommons.org/licenses/by/4.0/"],
        }
        return header, common.Metadata(None, fields), None


@pytest.fixture
def pyoai() -> Iterator[tuple[PyoaiBackend, OAIApp, str]]:
    backend = PyoaiBackend(Catalogue(make_courses(COURSES)))
    registry = metadata.MetadataRegistry()
    registry.registerWriter("oai_dc", server_module.oai_dc_writer)
    provider: Any = server_module.Server(backend, registry, resumption_batch_size=BATCH)
    server, app = serve(lambda params: Reply(provider.handleRequest(params)))
    backend.base_url = server.base_url
    try:
        yield backend, app, server.base_url
    finally:
        server.stop()


def test_pyoai_full_then_incremental_harvest(
    engine: Engine, pyoai: tuple[PyoaiBackend, OAIApp, str]
) -> None:
    backend, app, base_url = pyoai
    catalogue = backend.catalogue
    source_id = add_source(engine, base_url, slug="pyoai-college")

    first = run_harvest(engine, source_id)
    assert first.status == "succeeded", first.error
    assert first.records_seen == COURSES
    assert first.pages == COURSES // BATCH
    assert first.records_added == len(catalogue.expected())
    assert first.records_failed == 0
    held = stored(engine, source_id)
    assert held.live == catalogue.expected(), "exactly the live catalogue, titles included"
    assert not held.tombstones, "deletions never held before create nothing"
    assert catalogue.deleted(), "the backend does serve deleted headers"
    tokens = [r["resumptionToken"] for r in app.requests if "resumptionToken" in r]
    assert len(tokens) == COURSES // BATCH - 1
    assert all("%26cursor%3D" in token for token in tokens), "pyoai's own token shape"

    live = sorted(catalogue.expected())
    changed, gone = live[10:40], live[100:120]
    catalogue.retitle(changed, "(2nd edition)")
    catalogue.delete(gone)
    catalogue.add(new_courses(10, first=COURSES + 1))
    app.requests.clear()

    second = run_harvest(engine, source_id)
    assert second.status == "succeeded", second.error
    assert second.from_date is not None and second.from_date.endswith("Z")
    listed = [r for r in app.requests if r.get("verb") == "ListRecords"]
    assert listed[0].get("from") == second.from_date, "the incremental run asked from its mark"
    assert (
        second.records_seen,
        second.records_updated,
        second.records_deleted,
        second.records_added,
        second.records_unchanged,
    ) == (60, 30, 20, 10, 0)
    held = stored(engine, source_id)
    assert held.live == catalogue.expected()
    assert held.tombstones == set(gone)
    assert app.errors == []


def test_pyoai_selective_harvest_of_a_set_takes_its_descendants(
    engine: Engine, pyoai: tuple[PyoaiBackend, OAIApp, str]
) -> None:
    backend, app, base_url = pyoai
    source_id = add_source(engine, base_url, slug="pyoai-science", set_spec="subject:07")
    run = run_harvest(engine, source_id)
    assert run.status == "succeeded", run.error
    expected = {
        c.identifier: c.title
        for c in backend.catalogue.select(set_spec="subject:07")
        if not c.deleted
    }
    assert 300 < len(expected) < COURSES
    assert stored(engine, source_id).live == expected
    assert {r.get("set") for r in app.requests if r.get("verb") == "ListRecords"} <= {
        "subject:07",
        None,
    }


def test_pyoai_conformance_report(pyoai: tuple[PyoaiBackend, OAIApp, str]) -> None:
    """What ``coursefed sources check`` tells a college running pyoai."""
    _, app, base_url = pyoai
    checks = {c.name: c for c in asyncio.run(check_endpoint(base_url, timeout=15, policy=PRIVATE))}
    warned = {name: c.outcome for name, c in checks.items() if c.outcome != "pass"}
    assert warned == {"formats": "warn", "paging": "warn"}, format_checks(checks.values())
    assert "the last page has no <resumptionToken/> at all" in checks["paging"].detail
    assert f"followed {COURSES // BATCH} pages to the end" in checks["paging"].detail
    assert app.errors == []

"""Our OAI-PMH provider at /oai, verb by verb and error by error, over a harvested catalogue.

The catalogue is the demo repository harvested for real; then its records are given
spread-out change times (some sharing a moment, as a harvest page's records do), a few
are tombstoned and one is made unpublishable, as later harvests and validation would.
"""

from __future__ import annotations

import asyncio
import gzip
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.catalogue import service as catalogue
from app.catalogue.models import Resource
from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.oai.provider import PROVENANCE_NS, format_datestamp
from app.oai.routes import router
from app.oai.tokens import ListState, TokenCodec, derive_key
from app.settings import Settings
from app.sources import service as sources
from app.sources.harvest import harvest
from metadata.profile import ResourceRecord
from metadata.writers.profile_xml import PROFILE_NS, read_profile_xml

OAI = "http://www.openarchives.org/OAI/2.0/"
NS = {"o": OAI, "p": PROVENANCE_NS, "cf": PROFILE_NS, "lom": "http://ltsc.ieee.org/xsd/LOM"}
LOM_XSD = Path("/work/shared/standards/lom-xsd/lomLoose.xsd")
CORPUS_SIZE = 300
TOMBSTONES = 10
BASE = datetime(2024, 1, 1, tzinfo=UTC)

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@dataclass
class Catalogue:
    client: TestClient
    engine: Engine
    settings: Settings
    demo_url: str
    exposed: dict[str, Resource]  # by OAI identifier
    deleted: set[str]
    hidden: str


def oai_id(resource_id: str) -> str:
    return f"oai:coursefed:{resource_id}"


def build_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.include_router(router)
    return app


def populate(engine: Engine, base_url: str, slug: str = "demo") -> None:
    with session_scope(engine) as session:
        source_id = sources.add_source(
            session, base_url=base_url, slug=slug, allow_private_network=True
        ).id
    assert source_id is not None
    run = asyncio.run(harvest(engine, source_id))
    assert run.status == "succeeded", run.error


def spread_change_times(engine: Engine) -> None:
    """Give records distinct change times, every tenth sharing its neighbour's moment."""
    with session_scope(engine) as session:
        ids = sorted(session.exec(select(Resource.id)).all())
        for i, resource_id in enumerate(ids):
            step = i - 1 if i % 10 == 1 else i
            moment = BASE + timedelta(hours=5 * step, microseconds=250)
            session.execute(
                update(Resource).where(col(Resource.id) == resource_id).values(updated_at=moment)
            )


class Harvested:
    """The catalogue harvested once per database kind, kept as a template database that each
    test's database is replaced by (a harvest of the demo takes longer than most tests)."""

    def __init__(self, folder: Path, demo_url: str, postgres_admin: Engine | None) -> None:
        self.folder, self.demo_url, self.admin = folder, demo_url, postgres_admin
        self.templates: dict[str, str] = {}  # database kind -> the template's file or name
        self.hidden = ""

    def restore(self, settings: Settings) -> None:
        """Put the harvested catalogue in place of the test's (still unopened) database."""
        url = settings.resolved_database_url
        kind = "sqlite" if url.startswith("sqlite") else "postgresql"
        if kind not in self.templates:
            self.templates[kind] = self._template(kind, url)
        template = self.templates[kind]
        if kind == "sqlite":
            shutil.copyfile(template, url.removeprefix("sqlite:///"))
            return
        assert self.admin is not None
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def _template(self, kind: str, url: str) -> str:
        if kind == "sqlite":
            path = self.folder / "harvested.db"
            shutil.copyfile(url.removeprefix("sqlite:///"), path)
            self._harvest(f"sqlite:///{path}")
            assert not path.with_name(path.name + "-wal").exists(), "the copy must hold everything"
            return str(path)
        assert self.admin is not None
        name = f"coursefed_oai_{uuid.uuid4().hex[:12]}"
        migrated = url.rsplit("/", 1)[1]  # a fresh copy of the migrated template
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{migrated}"'))
        self._harvest(url.rsplit("/", 1)[0] + f"/{name}")
        return name

    def _harvest(self, url: str) -> None:
        engine = make_engine(Settings(database_url=url))
        try:
            populate(engine, self.demo_url)
            spread_change_times(engine)
            with session_scope(engine) as session:
                ids = sorted(session.exec(select(Resource.id)).all())
                for resource_id in ids[5 : 5 + TOMBSTONES]:
                    catalogue.delete(session, resource_id)
                self.hidden = ids[-1]
                session.execute(
                    update(Resource).where(col(Resource.id) == ids[-1]).values(publishable=False)
                )
        finally:
            engine.dispose()

    def drop(self) -> None:
        name = self.templates.get("postgresql")
        if name is not None and self.admin is not None:
            with self.admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def harvested(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin: Engine | None
) -> Iterator[Harvested]:
    with DemoRepositoryServer(generate_corpus(CORPUS_SIZE)) as demo:
        made = Harvested(tmp_path_factory.mktemp("harvested"), demo.base_url, postgres_admin)
        try:
            yield made
        finally:
            made.drop()


@pytest.fixture
def cat(settings: Settings, engine: Engine, harvested: Harvested) -> Iterator[Catalogue]:
    harvested.restore(settings)
    with session_scope(engine) as session:
        rows = session.exec(select(Resource)).all()
        exposed = {oai_id(r.id): r for r in rows if r.publishable or r.deleted}
        deleted = {oai_id(r.id) for r in rows if r.deleted}
    with TestClient(build_app(settings)) as client:
        yield Catalogue(
            client, engine, settings, harvested.demo_url, exposed, deleted, oai_id(harvested.hidden)
        )


# ---------------------------------------------------------------- helpers


def request(client: TestClient, method: str = "GET", **params: Any) -> etree._Element:
    if method == "POST":
        response = client.post("/oai", data=params)
    else:
        response = client.get("/oai", params=params)
    assert response.status_code == 200, "OAI-PMH errors travel in a 200 body"
    assert response.headers["content-type"].startswith("text/xml")
    return etree.fromstring(response.content)


def error_codes(root: etree._Element) -> list[str]:
    return [e.get("code", "") for e in root.findall("o:error", NS)]


def headers_of(root: etree._Element) -> list[etree._Element]:
    return root.findall(".//o:header", NS)


def token_of(root: etree._Element) -> etree._Element | None:
    return root.find(".//o:resumptionToken", NS)


def walk(
    client: TestClient, verb: str, between_pages: Any = None, **params: str
) -> tuple[list[etree._Element], list[etree._Element]]:
    """Every page of a list: (the pages, the resumptionToken elements)."""
    pages, tokens = [], []
    root = request(client, verb=verb, **params)
    while True:
        assert not error_codes(root), etree.tostring(root)
        pages.append(root)
        token = token_of(root)
        if token is None or not token.text:
            if token is not None:
                tokens.append(token)
            return pages, tokens
        tokens.append(token)
        if between_pages is not None:
            between_pages(len(pages))
        root = request(client, verb=verb, resumptionToken=token.text)


def listed(pages: list[etree._Element]) -> list[tuple[str, str, bool]]:
    return [
        (
            h.findtext("o:identifier", namespaces=NS) or "",
            h.findtext("o:datestamp", namespaces=NS) or "",
            h.get("status") == "deleted",
        )
        for page in pages
        for h in headers_of(page)
    ]


# ---------------------------------------------------------------- Identify and formats


@sqlite_only
def test_identify_describes_the_repository(cat: Catalogue) -> None:
    root = request(cat.client, verb="Identify")
    identify = root.find("o:Identify", NS)
    assert identify is not None
    assert identify.findtext("o:baseURL", namespaces=NS) == "http://testserver/oai"
    assert identify.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert identify.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext("o:compression", namespaces=NS) == "gzip"
    assert "@" in (identify.findtext("o:adminEmail", namespaces=NS) or "")
    oldest = min(r.updated_at for r in cat.exposed.values())
    assert identify.findtext("o:earliestDatestamp", namespaces=NS) == format_datestamp(oldest)
    # "coursefed" is no domain name: the oai-identifier scheme is not announced with it.
    assert identify.find("o:description", NS) is None
    request_element = root.find("o:request", NS)
    assert request_element is not None and request_element.get("verb") == "Identify"


@sqlite_only
def test_identify_announces_the_oai_identifier_scheme_of_a_configured_domain(
    cat: Catalogue,
) -> None:
    settings = cat.settings.model_copy(
        update={
            "oai_repository_identifier": "courses.example.edu.cn",
            "oai_repository_name": "示范课程中心",
            "oai_admin_email": "oai@courses.example.edu.cn",
        }
    )
    with TestClient(build_app(settings)) as client:
        identify = request(client, verb="Identify").find("o:Identify", NS)
        assert identify is not None
        assert identify.findtext("o:repositoryName", namespaces=NS) == "示范课程中心"
        assert identify.findtext("o:adminEmail", namespaces=NS) == "oai@courses.example.edu.cn"
        ns = {"i": "http://www.openarchives.org/OAI/2.0/oai-identifier"}
        description = identify.find("o:description/i:oai-identifier", {**NS, **ns})
        assert description is not None
        identifier = description.findtext("i:repositoryIdentifier", namespaces=ns)
        assert identifier == "courses.example.edu.cn"
        sample = description.findtext("i:sampleIdentifier", namespaces=ns) or ""
        assert sample.startswith("oai:courses.example.edu.cn:")
        listed = request(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
        first = listed.findtext("o:ListIdentifiers/o:header/o:identifier", namespaces=NS) or ""
        assert first.startswith("oai:courses.example.edu.cn:")
        record = request(client, verb="GetRecord", identifier=first, metadataPrefix="oai_dc")
        assert record.find("o:GetRecord", NS) is not None


@sqlite_only
def test_list_metadata_formats_offers_dc_lom_and_the_profile(cat: Catalogue) -> None:
    root = request(cat.client, verb="ListMetadataFormats")
    prefixes = [e.text for e in root.iterfind(".//o:metadataPrefix", NS)]
    assert prefixes == ["oai_dc", "lom", "coursefed"]
    namespaces = [e.text for e in root.iterfind(".//o:metadataNamespace", NS)]
    assert "https://coursefed.org/ns/profile/1.0" in namespaces
    some = next(iter(cat.exposed))
    root = request(cat.client, verb="ListMetadataFormats", identifier=some)
    assert len(root.findall(".//o:metadataFormat", NS)) == 3
    missing = request(cat.client, verb="ListMetadataFormats", identifier="oai:coursefed:nope")
    assert error_codes(missing) == ["idDoesNotExist"]


# ---------------------------------------------------------------- errors


@sqlite_only
@pytest.mark.parametrize(
    "params",
    [{}, {"verb": "ListEverything"}, {"verb": "identify"}],
    ids=["missing", "unknown", "wrong-case"],
)
def test_bad_verb(cat: Catalogue, params: dict[str, str]) -> None:
    root = request(cat.client, **params)
    assert error_codes(root) == ["badVerb"]
    echo = root.find("o:request", NS)
    assert echo is not None and echo.attrib == {}, "after badVerb <request> has no attributes"
    assert echo.text == "http://testserver/oai"


@sqlite_only
def test_repeated_verb_is_bad_verb(cat: Catalogue) -> None:
    response = cat.client.get("/oai?verb=Identify&verb=Identify")
    assert error_codes(etree.fromstring(response.content)) == ["badVerb"]


BAD_ARGUMENTS = {
    "identify-extra": "verb=Identify&metadataPrefix=oai_dc",
    "list-extra": "verb=ListRecords&metadataPrefix=oai_dc&colour=blue",
    "repeated": "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=lom",
    "repeated-from": "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2024-01-01&from=2024-01-02",
    "missing-prefix": "verb=ListRecords",
    "getrecord-missing-identifier": "verb=GetRecord&metadataPrefix=oai_dc",
    "getrecord-missing-both": "verb=GetRecord",
    "empty-value": "verb=ListIdentifiers&metadataPrefix=",
    "from-after-until": "verb=ListRecords&metadataPrefix=oai_dc&from=2024-02-01&until=2024-01-01",
    "mixed-granularity": (
        "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01&until=2024-02-01T00:00:00Z"
    ),
    "bad-date": "verb=ListRecords&metadataPrefix=oai_dc&from=2024-13-45",
    "no-z": "verb=ListRecords&metadataPrefix=oai_dc&from=2024-01-01T00:00:00",
    "finer-than-seconds": "verb=ListRecords&metadataPrefix=oai_dc&until=2024-01-01T00:00:00.5Z",
    "not-a-date": "verb=ListIdentifiers&metadataPrefix=oai_dc&until=yesterday",
    "token-not-exclusive": "verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=abc",
    "set-syntax": "verb=ListIdentifiers&metadataPrefix=oai_dc&set=subject::08",
    "getrecord-token": "verb=GetRecord&identifier=x&metadataPrefix=oai_dc&resumptionToken=a",
    "listsets-extra": "verb=ListSets&set=subject",
}


@sqlite_only
@pytest.mark.parametrize("query", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_bad_argument(cat: Catalogue, query: str) -> None:
    root = etree.fromstring(cat.client.get(f"/oai?{query}").content)
    assert set(error_codes(root)) == {"badArgument"}, etree.tostring(root)
    echo = root.find("o:request", NS)
    assert echo is not None and echo.attrib == {}


@sqlite_only
def test_post_form_is_served_like_get(cat: Catalogue) -> None:
    root = request(cat.client, "POST", verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert len(headers_of(root)) == 100
    response = cat.client.post(
        "/oai",
        content="verb=Identify&verb=Identify",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert error_codes(etree.fromstring(response.content)) == ["badVerb"]


@sqlite_only
@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_unknown_prefix_cannot_be_disseminated(cat: Catalogue, verb: str) -> None:
    root = request(cat.client, verb=verb, metadataPrefix="marc21")
    assert error_codes(root) == ["cannotDisseminateFormat"]
    echo = root.find("o:request", NS)
    assert echo is not None and echo.get("metadataPrefix") == "marc21", "echoed when valid"


@sqlite_only
def test_get_record_errors(cat: Catalogue) -> None:
    some = next(i for i in cat.exposed if i not in cat.deleted)
    root = request(cat.client, verb="GetRecord", identifier=some, metadataPrefix="marc21")
    assert error_codes(root) == ["cannotDisseminateFormat"]
    for unknown in ("oai:coursefed:demo-nothing", "oai:elsewhere:x", cat.hidden):
        root = request(cat.client, verb="GetRecord", identifier=unknown, metadataPrefix="lom")
        assert error_codes(root) == ["idDoesNotExist"], unknown
    root = request(cat.client, verb="GetRecord", identifier="oai:x:y", metadataPrefix="marc21")
    assert sorted(error_codes(root)) == ["cannotDisseminateFormat", "idDoesNotExist"]


@sqlite_only
def test_no_records_match(cat: Catalogue) -> None:
    for query in (
        "from=2999-01-01",
        "until=2000-01-01T00:00:00Z",
        "set=subject:07:0812",  # 0812 is not inside 07
        "set=inst:somewhere",
        "set=source:nowhere",
        "set=level:kindergarten",
    ):
        root = etree.fromstring(
            cat.client.get(f"/oai?verb=ListIdentifiers&metadataPrefix=oai_dc&{query}").content
        )
        assert error_codes(root) == ["noRecordsMatch"], query


def test_list_sets_without_any_record_is_no_set_hierarchy(settings: Settings) -> None:
    with TestClient(build_app(settings)) as client:
        assert error_codes(request(client, verb="ListSets")) == ["noSetHierarchy"]
        empty = request(client, verb="ListRecords", metadataPrefix="oai_dc")
        assert error_codes(empty) == ["noRecordsMatch"]
        identify = request(client, verb="Identify")
        assert identify.findtext(".//o:earliestDatestamp", namespaces=NS)


@sqlite_only
def test_bad_resumption_tokens(cat: Catalogue) -> None:
    first = request(cat.client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = token_of(first)
    assert token is not None and token.text
    payload, _, signature = token.text.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    codec = TokenCodec(derive_key(cat.settings.admin_token.get_secret_value()))
    state = ListState("ListIdentifiers", "oai_dc", "", "", "", BASE, "demo-0", 100)
    expired, _ = codec.seal(state, datetime.now(UTC) - timedelta(days=2))
    other_key, _ = TokenCodec(derive_key("another-secret")).seal(state, datetime.now(UTC))
    for bad in (forged, expired, other_key, "garbage", "a.b", token.text + "x"):
        root = request(cat.client, verb="ListIdentifiers", resumptionToken=bad)
        assert error_codes(root) == ["badResumptionToken"], bad
    # A ListIdentifiers token does not continue ListRecords, and ListSets issues none.
    root = request(cat.client, verb="ListRecords", resumptionToken=token.text)
    assert error_codes(root) == ["badResumptionToken"]
    assert error_codes(request(cat.client, verb="ListSets", resumptionToken=token.text)) == [
        "badResumptionToken"
    ]


# ---------------------------------------------------------------- paging


@pytest.mark.postgres
def test_list_records_pages_through_everything_once(cat: Catalogue) -> None:
    pages, tokens = walk(cat.client, "ListRecords", metadataPrefix="oai_dc")
    items = listed(pages)
    assert Counter(i for i, _, _ in items) == Counter(set(cat.exposed)), "each record exactly once"
    assert [len(headers_of(p)) for p in pages] == [100, 100, len(cat.exposed) - 200]
    assert [t.get("cursor") for t in tokens] == ["0", "100", "200"]
    assert {t.get("completeListSize") for t in tokens} == {str(len(cat.exposed))}
    assert all(t.get("expirationDate") for t in tokens[:-1])
    assert tokens[-1].text is None, "the last page carries an empty token"
    stamps = [(d, i) for i, d, _ in items]
    assert stamps == sorted(stamps, key=lambda s: s[0]), "in datestamp order"
    assert {i for i, _, deleted in items if deleted} == cat.deleted
    assert len(cat.deleted) == TOMBSTONES


@sqlite_only
def test_reissued_token_returns_the_same_page(cat: Catalogue) -> None:
    first = request(cat.client, verb="ListIdentifiers", metadataPrefix="lom")
    token = token_of(first)
    assert token is not None and token.text
    once = listed([request(cat.client, verb="ListIdentifiers", resumptionToken=token.text)])
    twice = listed([request(cat.client, verb="ListIdentifiers", resumptionToken=token.text)])
    assert once == twice
    assert len(once) == 100


@pytest.mark.postgres
def test_changes_mid_harvest_neither_skip_nor_repeat_records_still_to_come(
    cat: Catalogue,
) -> None:
    """Records added or changed between pages: each is listed once more, at its new place."""
    order = [
        i for i, _, _ in listed(walk(cat.client, "ListIdentifiers", metadataPrefix="oai_dc")[0])
    ]
    behind, ahead = order[10:13], order[250:253]  # already sent / still to come at page 2
    added: list[str] = []

    def change(pages_seen: int) -> None:
        if pages_seen != 1:
            return
        with session_scope(cat.engine) as session:
            for identifier in [*behind, *ahead]:
                row = cat.exposed[identifier]
                stored = session.get(Resource, row.id)
                assert stored is not None
                if stored.deleted:
                    continue
                record = ResourceRecord.model_validate(stored.record)
                record.title = {**record.title, "en": "Changed mid-harvest"}
                outcome = catalogue.upsert(session, _stored(stored, record, "changed"))
                assert outcome is catalogue.Outcome.UPDATED
            template = session.get(Resource, cat.exposed[order[50]].id)
            assert template is not None
            for n in range(3):
                record = ResourceRecord.model_validate(template.record)
                record.id = f"demo-added-{n}"
                catalogue.upsert(session, _stored(template, record, f"added-{n}"))
                added.append(oai_id(record.id))

    pages, tokens = walk(cat.client, "ListIdentifiers", change, metadataPrefix="oai_dc")
    items = listed(pages)
    seen = Counter(i for i, _, _ in items)
    changed_behind = [i for i in behind if i not in cat.deleted]
    for identifier in cat.exposed:
        expected = 2 if identifier in changed_behind else 1
        assert seen[identifier] == expected, identifier
    for identifier in added:
        assert seen[identifier] == 1
    assert len(set(items)) == len(items), "no (identifier, datestamp) twice"
    last = tokens[-1]
    assert last.text is None
    assert int(last.get("cursor", "")) + len(headers_of(pages[-1])) == int(
        last.get("completeListSize", "")
    )
    assert len(items) == len(cat.exposed) + len(changed_behind) + len(added)


def _stored(row: Resource, record: ResourceRecord, salt: str) -> catalogue.StoredRecord:
    return catalogue.StoredRecord(
        record=record,
        issues=[],
        source_id=row.source_id,
        oai_identifier=f"{row.oai_identifier}-{salt}"
        if salt.startswith("added")
        else row.oai_identifier,
        datestamp=row.datestamp,
        metadata_prefix=row.metadata_prefix,
        raw_xml=row.raw_xml or b"",
        raw_sha256=f"{salt}-{row.raw_sha256}"[:64],
    )


@pytest.mark.postgres
def test_from_and_until_are_inclusive(cat: Catalogue) -> None:
    live = sorted(
        r.updated_at for r in cat.exposed.values() if r.updated_at < BASE.replace(year=2025)
    )
    moment = live[40]
    stamp = format_datestamp(moment)
    query = f"verb=ListIdentifiers&metadataPrefix=oai_dc&from={stamp}&until={stamp}"
    root = etree.fromstring(cat.client.get(f"/oai?{query}").content)
    expected = {i for i, r in cat.exposed.items() if format_datestamp(r.updated_at) == stamp}
    assert {i for i, _, _ in listed([root])} == expected
    assert expected
    day = stamp[:10]
    pages, _ = walk(
        cat.client, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": day, "until": day}
    )
    on_day = {i for i, r in cat.exposed.items() if format_datestamp(r.updated_at)[:10] == day}
    assert {i for i, _, _ in listed(pages)} == on_day
    after = format_datestamp(moment + timedelta(seconds=1))
    pages, _ = walk(cat.client, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": after})
    later = {i for i, r in cat.exposed.items() if format_datestamp(r.updated_at) >= after}
    assert {i for i, _, _ in listed(pages)} == later
    assert expected.isdisjoint(later)


# ---------------------------------------------------------------- sets


@pytest.mark.postgres
def test_list_sets_names_every_set_present(cat: Catalogue) -> None:
    root = request(cat.client, verb="ListSets")
    names = {
        s.findtext("o:setSpec", namespaces=NS): s.findtext("o:setName", namespaces=NS)
        for s in root.iterfind(".//o:set", NS)
    }
    assert names["source:demo"]
    assert names["subject:08"] == "08 工学 / Engineering"
    assert names["subject:08:0812"] == "0812 计算机科学与技术 / Computer Science and Technology"
    assert names["level:undergraduate"] == "本科教育 / Undergraduate education"
    assert {"source", "subject", "level"} <= names.keys()
    assert token_of(root) is None


@pytest.mark.postgres
def test_subject_sets_are_hierarchical(cat: Catalogue) -> None:
    def members(spec: str) -> dict[str, list[str]]:
        pages, _ = walk(cat.client, "ListIdentifiers", metadataPrefix="oai_dc", set=spec)
        return {
            h.findtext("o:identifier", namespaces=NS) or "": [
                s.text or "" for s in h.iterfind("o:setSpec", NS)
            ]
            for page in pages
            for h in headers_of(page)
        }

    def codes(identifier: str) -> set[str]:
        return {s.get("code") or "" for s in cat.exposed[identifier].record["subjects"]}

    engineering = members("subject:08")
    computing = members("subject:08:0812")
    assert computing and set(computing) < set(engineering)
    assert {i for i in cat.exposed if any(c.startswith("08") for c in codes(i))} == set(engineering)
    assert {i for i in cat.exposed if "0812" in codes(i)} == set(computing)
    for specs in computing.values():
        assert {"subject:08", "subject:08:0812", "source:demo"} <= set(specs)
    assert set(members("subject")) >= set(engineering)
    assert set(members("source:demo")) == set(cat.exposed)
    level = members("level:undergraduate")
    assert level
    assert {
        i for i, r in cat.exposed.items() if r.record.get("education_level") == "undergraduate"
    } == set(level)
    assert cat.deleted & set(members("source")), "set-selective harvests see deletions too"


# ---------------------------------------------------------------- records


@sqlite_only
def test_deleted_records_are_headers_with_status_deleted(cat: Catalogue) -> None:
    gone = sorted(cat.deleted)[0]
    root = request(cat.client, verb="GetRecord", identifier=gone, metadataPrefix="oai_dc")
    record = root.find(".//o:record", NS)
    assert record is not None
    header = record.find("o:header", NS)
    assert header is not None and header.get("status") == "deleted"
    assert record.find("o:metadata", NS) is None
    pages, _ = walk(cat.client, "ListRecords", metadataPrefix="lom")
    for page in pages:
        for rec in page.iterfind(".//o:record", NS):
            deleted = rec.find("o:header", NS).get("status") == "deleted"  # type: ignore[union-attr]
            assert (rec.find("o:metadata", NS) is None) == deleted
    assert cat.hidden not in {i for i, _, _ in listed(pages)}, "unpublishable stays hidden"


@sqlite_only
def test_records_carry_provenance_of_where_we_harvested_them(cat: Catalogue) -> None:
    some = next(i for i in sorted(cat.exposed) if i not in cat.deleted)
    row = cat.exposed[some]
    root = request(cat.client, verb="GetRecord", identifier=some, metadataPrefix="oai_dc")
    origin = root.find(".//o:about/p:provenance/p:originDescription", NS)
    assert origin is not None
    assert origin.get("altered") == "true"
    assert origin.get("harvestDate", "").endswith("Z")
    assert origin.findtext("p:baseURL", namespaces=NS) == cat.demo_url
    assert origin.findtext("p:identifier", namespaces=NS) == row.oai_identifier
    assert origin.findtext("p:datestamp", namespaces=NS) == row.datestamp
    assert origin.findtext("p:metadataNamespace", namespaces=NS) == NS["lom"]
    datestamp = root.findtext(".//o:header/o:datestamp", namespaces=NS)
    assert datestamp == format_datestamp(row.updated_at), "our change time, not the origin's"


@sqlite_only
def test_coursefed_format_round_trips_the_profile(cat: Catalogue) -> None:
    pages, _ = walk(cat.client, "ListRecords", metadataPrefix="coursefed")
    count = 0
    for page in pages:
        for rec in page.iterfind(".//o:record", NS):
            metadata = rec.find("o:metadata/cf:record", NS)
            if metadata is None:
                continue
            identifier = rec.findtext("o:header/o:identifier", namespaces=NS) or ""
            stored = ResourceRecord.model_validate(cat.exposed[identifier].record)
            assert read_profile_xml(metadata) == stored
            count += 1
    assert count == len(cat.exposed) - len(cat.deleted)


@sqlite_only
def test_lom_records_validate_against_the_ieee_schema(cat: Catalogue) -> None:
    if not LOM_XSD.exists():
        pytest.skip(f"IEEE LOM schema not found at {LOM_XSD}")
    schema = etree.XMLSchema(file=str(LOM_XSD))
    pages, _ = walk(cat.client, "ListRecords", metadataPrefix="lom")
    records = [lom for page in pages for lom in page.iterfind(".//o:metadata/lom:lom", NS)]
    assert len(records) == len(cat.exposed) - len(cat.deleted)
    for lom in records:
        document = etree.ElementTree(etree.fromstring(etree.tostring(lom)))
        assert schema.validate(document), schema.error_log.last_error


@sqlite_only
def test_gzip_when_the_harvester_asks_for_it(cat: Catalogue) -> None:
    query = "/oai?verb=ListRecords&metadataPrefix=oai_dc"
    plain = cat.client.get(query, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    with cat.client.stream("GET", query, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["vary"]
        raw = b"".join(response.iter_raw())
    assert len(raw) < len(plain.content) / 3
    body = etree.fromstring(gzip.decompress(raw))
    assert len(headers_of(body)) == 100
    refused = cat.client.get(query, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


@sqlite_only
def test_a_page_reads_one_page_of_rows_in_index_order(cat: Catalogue) -> None:
    """No statement reads the table unbounded; with an (updated_at, id) index no sort runs."""
    statements: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()))

    # The migration that adds this index belongs to the catalogue's owners.
    with cat.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_resources_updated_at_id ON resources (updated_at, id)"
        )
    app_engine = cat.client.app.state.coursefed.engine  # type: ignore[attr-defined]
    event.listen(app_engine, "before_cursor_execute", capture)
    try:
        first = request(cat.client, verb="ListRecords", metadataPrefix="lom")
        token = token_of(first)
        assert token is not None and token.text
        request(cat.client, verb="ListRecords", resumptionToken=token.text)
    finally:
        event.remove(app_engine, "before_cursor_execute", capture)
    reads = [s for s in statements if s.upper().startswith("SELECT") and "resources" in s]
    assert reads
    for statement in reads:
        assert "LIMIT" in statement.upper() or "count(" in statement.lower(), statement
    page_query = next(s for s in reads if "LIMIT" in s.upper() and "ORDER BY" in s.upper())
    with cat.engine.connect() as connection:
        compiled = page_query.replace("?", "NULL")
        plan = " ".join(
            str(row) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )
    assert "TEMP B-TREE FOR ORDER BY" not in plan.upper(), plan

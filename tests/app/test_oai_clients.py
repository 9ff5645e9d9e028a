"""Third-party OAI-PMH harvesters (sickle, oaipmh-scythe, pyoai's oaipmh 4.0) and our own
harvester, each harvesting our /oai served by uvicorn over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from oaipmh.client import Client
from oaipmh.metadata import MetadataRegistry, oai_dc_reader
from oaipmh_scythe import Scythe
from sickle import Sickle
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue import service as catalogue
from app.catalogue.models import Resource
from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.settings import Settings
from app.sources import service as sources
from app.sources.harvest import harvest
from tests.app.test_oai_provider import build_app, oai_id, populate, spread_change_times
from tests.conftest import migrated
from tests.services_plugin import free_port, serving

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
WINDOW = ("2024-02-01", "2024-03-15")  # day-granularity from/until


@dataclass
class Served:
    url: str  # the OAI-PMH base URL
    engine: Engine
    live: dict[str, dict[str, str]]  # OAI identifier → title
    deleted: set[str]
    stamps: dict[str, str]  # OAI identifier → datestamp
    subject_08: set[str]


def _expected(engine: Engine) -> tuple[dict[str, dict[str, str]], set[str], dict[str, str]]:
    from app.oai.provider import format_datestamp  # noqa: PLC0415

    with session_scope(engine) as session:
        rows = [r for r in session.exec(select(Resource)).all() if r.publishable or r.deleted]
    live = {oai_id(r.id): r.record["title"] for r in rows if not r.deleted}
    deleted = {oai_id(r.id) for r in rows if r.deleted}
    stamps = {oai_id(r.id): format_datestamp(r.updated_at) for r in rows}
    return live, deleted, stamps


@pytest.fixture
def served(settings: Settings, engine: Engine) -> Iterator[Served]:
    with DemoRepositoryServer(generate_corpus(240)) as demo:
        populate(engine, demo.base_url)
    spread_change_times(engine)
    with session_scope(engine) as session:
        for resource_id in sorted(session.exec(select(Resource.id)).all())[:7]:
            catalogue.delete(session, resource_id)
    live, deleted, stamps = _expected(engine)
    with session_scope(engine) as session:
        subject_08 = {
            oai_id(r.id)
            for r in session.exec(select(Resource)).all()
            if (r.publishable or r.deleted)
            and any((s.get("code") or "").startswith("08") for s in r.record["subjects"])
        }
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    app = build_app(settings.model_copy(update={"public_url": root}))
    with serving(app, port):
        yield Served(f"{root}/oai", engine, live, deleted, stamps, subject_08)


def _in_window(served: Served) -> set[str]:
    low, high = WINDOW
    return {i for i, stamp in served.stamps.items() if low <= stamp[:10] <= high}


def _check(served: Served, live: dict[str, Any], deleted: set[str]) -> None:
    assert set(live) == set(served.live)
    assert deleted == served.deleted
    assert len(served.deleted) == 7


def test_sickle_harvests_everything(served: Served) -> None:
    sickle = Sickle(served.url)
    records = list(sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    live = {r.header.identifier: r.metadata["title"] for r in records if not r.header.deleted}
    _check(served, live, {r.header.identifier for r in records if r.header.deleted})
    for identifier, titles in live.items():
        assert set(titles) == set(served.live[identifier].values())
    lom = list(sickle.ListRecords(metadataPrefix="lom", ignore_deleted=False))
    assert all(LOM_NS in r.raw for r in lom if not r.header.deleted)
    _check(
        served,
        {r.header.identifier: 1 for r in lom if not r.header.deleted},
        {r.header.identifier for r in lom if r.header.deleted},
    )
    in_set = {
        h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", set="subject:08")
    }
    assert in_set == served.subject_08
    low, high = WINDOW
    window = sickle.ListIdentifiers(**{"metadataPrefix": "lom", "from": low, "until": high})
    assert {h.identifier for h in window} == _in_window(served)


def test_oaipmh_scythe_harvests_everything(served: Served) -> None:
    with Scythe(served.url) as scythe:
        records = list(scythe.list_records(metadata_prefix="oai_dc"))
        live = {r.header.identifier: r.metadata["title"] for r in records if not r.deleted}
        _check(served, live, {r.header.identifier for r in records if r.deleted})
        for identifier, titles in live.items():
            assert set(titles) == set(served.live[identifier].values())
        lom = list(scythe.list_records(metadata_prefix="lom"))
        assert all(LOM_NS in r.raw for r in lom if not r.deleted)
        _check(
            served,
            {r.header.identifier: 1 for r in lom if not r.deleted},
            {r.header.identifier for r in lom if r.deleted},
        )
        in_set = {
            h.identifier
            for h in scythe.list_identifiers(metadata_prefix="oai_dc", set_="subject:08")
        }
        assert in_set == served.subject_08
        low, high = WINDOW
        window = scythe.list_identifiers(metadata_prefix="lom", from_=low, until=high)
        assert {h.identifier for h in window} == _in_window(served)


def test_pyoai_harvests_everything(served: Served) -> None:
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    # pyoai hands a reader the <metadata> element: keep its LOM child as parsed XML.
    registry.registerReader("lom", lambda element: element[0])
    client = Client(served.url, registry)
    identify = client.identify()
    assert identify.deletedRecord() == "persistent"
    client.updateGranularity()
    records = list(client.listRecords(metadataPrefix="oai_dc"))
    live = {h.identifier(): m.getField("title") for h, m, _ in records if not h.isDeleted()}
    _check(served, live, {h.identifier() for h, _, _ in records if h.isDeleted()})
    for identifier, titles in live.items():
        assert set(titles) == set(served.live[identifier].values())
    lom = list(client.listRecords(metadataPrefix="lom"))
    for header, metadata, _ in lom:
        if not header.isDeleted():
            assert metadata.tag == f"{{{LOM_NS}}}lom"
    _check(
        served,
        {h.identifier(): 1 for h, _, _ in lom if not h.isDeleted()},
        {h.identifier() for h, _, _ in lom if h.isDeleted()},
    )
    in_set = {
        h.identifier() for h in client.listIdentifiers(metadataPrefix="oai_dc", set="subject:08")
    }
    assert in_set == served.subject_08
    low, high = (datetime.fromisoformat(d).replace(tzinfo=None) for d in WINDOW)
    window = client.listIdentifiers(
        metadataPrefix="lom", from_=low, until=high.replace(hour=23, minute=59, second=59)
    )
    assert {h.identifier() for h in window} == _in_window(served)


def test_another_coursefed_harvests_the_same_catalogue(served: Served, tmp_path: Path) -> None:
    second = Settings(
        data_dir=tmp_path / "second",
        database_url=f"sqlite:///{tmp_path / 'second.db'}",
        scheduler=False,
        meili_url="http://127.0.0.1:9",
        s3_endpoint="http://127.0.0.1:9",
    )
    migrated(second)
    engine = make_engine(second)
    try:
        with session_scope(engine) as session:
            source_id = sources.add_source(
                session, base_url=served.url, slug="upstream", allow_private_network=True
            ).id
        assert source_id is not None
        run = asyncio.run(harvest(engine, source_id))
        assert run.status == "succeeded", run.error
        assert run.metadata_prefix == "lom", "the richest format we read"
        with session_scope(engine) as session:
            rows = session.exec(select(Resource)).all()
            titles = {r.oai_identifier: r.record["title"] for r in rows if not r.deleted}
            assert {r.source_id for r in rows} == {source_id}
        assert titles == served.live

        # Deletions upstream reach the second catalogue on its next (incremental) harvest.
        with session_scope(served.engine) as session:
            gone = sorted(r.id for r in session.exec(select(Resource)).all() if not r.deleted)[:3]
            for resource_id in gone:
                catalogue.delete(session, resource_id)
        again = asyncio.run(harvest(engine, source_id))
        assert again.status == "succeeded", again.error
        assert again.from_date is not None, "incremental"
        assert again.records_deleted == 3
        with session_scope(engine) as session:
            deleted = {r.oai_identifier for r in session.exec(select(Resource)).all() if r.deleted}
        assert deleted == {oai_id(resource_id) for resource_id in gone}
    finally:
        engine.dispose()

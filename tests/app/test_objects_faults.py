"""S3 outages cost the object pipeline time, never metadata, bytes or duplicates.

The test runs a SeaweedFS of its own (the session's shared one keeps serving other
tests), a real OAI-PMH repository on loopback whose records name files on a local HTTP
file server, and stops S3 while downloads are in flight.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue.models import DigitalObject
from app.catalogue.service import resource_id_for
from app.db import session_scope
from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.server import DemoRepositoryServer
from app.jobs import run_harvest, run_objects
from app.main import create_app
from app.objects.fetcher import FetchReport
from app.objects.models import Blob
from app.objects.store import ObjectStore, content_key
from app.search.gateway import SearchIndex
from app.services.manager import services_down, services_up
from app.services.ports import service_ports
from app.settings import Settings
from app.sources import service as sources
from tests.app.oai_faults import FaultyRepository
from tests.app.object_server import GeneratedPdf, ObjectServer, Reply
from tests.app.test_objects_store import bucket_keys

pytestmark = pytest.mark.services

PDF = b"%PDF-1.7\n"
SIZE = 40_000
SLUG = "college"


def File(path: str, seed: int) -> GeneratedPdf:
    return GeneratedPdf(path, seed, SIZE)


class HeldFiles(ObjectServer):
    """A file server whose answers can be held back, keeping downloads in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.released = threading.Event()
        self.released.set()

    def reply_for(self, path: str) -> Reply | None:
        self.released.wait(timeout=60)
        return super().reply_for(path)


def own_s3(live: Settings, data_dir: Path) -> Settings:
    """The test's settings with a SeaweedFS of its own on fresh ports (Meilisearch stays
    the session's, being external here); retries are due at once."""
    return live.model_copy(
        update={
            "data_dir": data_dir,
            "s3_endpoint": None,
            **service_ports(),
            "service_start_timeout": 60.0,
            "service_stop_timeout": 15.0,
            "objects_store_retry_seconds": 0.0,
            "objects_retry_base_seconds": 0.0,
        }
    )


def naming(
    records: Sequence[DemoRecord], files: ObjectServer, chosen: Sequence[File]
) -> list[DemoRecord]:
    """The records, each naming its file (served as a PDF) as its only object."""
    return [
        dataclasses.replace(
            record,
            object_url=files.url(file.path),
            object_format="application/pdf",
            object_size=SIZE + len(PDF),
        )
        for record, file in zip(records, chosen, strict=True)
    ]


def serve_files(files: ObjectServer, chosen: Sequence[File]) -> None:
    for file in chosen:
        files.serve(file.path, file.reply)


def object_rows(engine: Engine) -> list[DigitalObject]:
    with session_scope(engine) as session:
        return list(session.exec(select(DigitalObject)).all())


def indexed_ids(settings: Settings) -> set[str]:
    with SearchIndex.from_settings(settings) as index:
        return {d["id"] for d in index.iter_documents(settings.meili_index, ["id"])}


def in_background(
    target: Callable[[], FetchReport],
) -> tuple[threading.Thread, list[FetchReport]]:
    reports: list[FetchReport] = []

    def run() -> None:
        reports.append(target())

    thread = threading.Thread(target=run, name="objects-round")
    thread.start()
    return thread, reports


def test_s3_stopped_while_fetching_keeps_harvesting_and_stores_every_file_once(
    live: Settings, live_engine: Engine, tmp_path: Path
) -> None:
    own = own_s3(live, tmp_path / "own")
    corpus = [r for r in generate_corpus(40) if not r.deleted][:20]
    first, later = corpus[:12], corpus[12:]
    # Record 1 names record 0's file again; record 2's file has record 0's bytes under
    # another name; a later record's file has the bytes of an earlier one.
    first_files = [File(f"/files/{n}/lecture-{n}.pdf", seed=n) for n in range(12)]
    first_files[1] = first_files[0]
    first_files[2] = File("/mirror/lecture-0-copy.pdf", seed=0)
    later_files = [File(f"/files/{n}/lecture-{n}.pdf", seed=n) for n in range(12, 20)]
    later_files[3] = File("/files/15/same-as-five.pdf", seed=5)
    every_file = {*first_files, *later_files}

    services_up(own)
    try:
        with HeldFiles() as files:
            serve_files(files, first_files)
            records = naming(first, files, first_files) + naming(later, files, later_files)
            repository = FaultyRepository(
                records, page_size=5, hidden=[r.identifier for r in later]
            )
            with DemoRepositoryServer(repository) as server:
                with session_scope(live_engine) as session:
                    source_id = sources.add_source(
                        session, base_url=server.base_url, slug=SLUG, allow_private_network=True
                    ).id
                assert source_id is not None
                assert run_harvest(live_engine, own, source_id).status == "succeeded"

                # A first round stores some files while S3 is up.
                round_one = run_objects(live_engine, own, limit=4)
                assert round_one.store_error is None
                assert (round_one.claimed, round_one.outcomes["stored"]) == (4, 4)
                stored_before = {r.id for r in object_rows(live_engine) if r.status == "stored"}
                assert len(stored_before) == 4

                # The next round's downloads are held back; S3 stops while they are in flight.
                files.released.clear()
                seen = len(files.requests)
                thread, reports = in_background(lambda: run_objects(live_engine, own))
                try:
                    deadline = time.monotonic() + 30
                    while len(files.requests) == seen:
                        assert time.monotonic() < deadline, "no download started"
                        time.sleep(0.02)
                    in_flight = len(files.requests) - seen
                    services_down(own)
                finally:
                    files.released.set()
                    thread.join(timeout=120)
                assert not thread.is_alive()
                (round_two,) = reports

                assert round_two.store_error is not None
                assert in_flight >= 1
                # Only files whose bytes S3 already held could be recorded without it.
                held_before = {r.sha256 for r in object_rows(live_engine) if r.id in stored_before}
                newly = [
                    r
                    for r in object_rows(live_engine)
                    if r.status == "stored" and r.id not in stored_before
                ]
                assert {r.sha256 for r in newly} <= held_before
                assert round_two.outcomes["stored"] == len(newly)
                assert round_two.postponed == 12 - 4 - len(newly)
                assert round_two.retrying == 0
                for row in object_rows(live_engine):
                    if row.id in stored_before or row.id in {r.id for r in newly}:
                        assert row.status == "stored"
                        continue
                    assert (row.status, row.attempts) == ("pending", 0), row
                    assert (row.status_reason or "").startswith("object store unavailable")

                # Metadata harvesting goes on without S3: new records are stored, indexed
                # and served.
                repository.reveal_all()
                run = run_harvest(live_engine, own, source_id, full=True)
                assert run.status == "succeeded", run.error
                assert run.records_added == len(later)
                later_ids = {resource_id_for(SLUG, r.identifier) for r in later}
                assert later_ids <= indexed_ids(own)
                with TestClient(create_app(own)) as client:
                    for record, file in zip(later, later_files, strict=True):
                        found = client.get(
                            f"/api/v1/resources/{resource_id_for(SLUG, record.identifier)}"
                        )
                        assert found.status_code == 200
                        assert [o["url"] for o in found.json()["objects"]] == [files.url(file.path)]
                    ready = client.get("/readyz")
                    assert ready.status_code == 503
                    checks = ready.json()["checks"]
                    assert checks["s3"].startswith("error")
                    assert (checks["database"], checks["meilisearch"]) == ("ok", "ok")

                # A round while S3 is down notes the new files and holds nothing against them.
                serve_files(files, later_files)
                round_three = run_objects(live_engine, own)
                assert round_three.store_error is not None
                assert round_three.claimed == 0
                waiting = [r for r in object_rows(live_engine) if r.status != "stored"]
                assert len(waiting) == 20 - 4 - len(newly)
                assert {(r.status, r.attempts) for r in waiting} == {("pending", 0)}
                assert not [r for r in object_rows(live_engine) if r.status == "failed"]

                # S3 is back, with the same data: everything is fetched, each file once.
                pending_urls = {r.url for r in waiting}
                downloads_before = len(files.requests)
                services_up(own)
                rounds = 0
                while True:
                    report = run_objects(live_engine, own)
                    assert report.store_error is None
                    if report.claimed == 0:
                        break
                    rounds += 1
                    assert rounds < 5, "rows kept coming due"
                downloaded = Counter(
                    urlsplit(r.path).path for r in files.requests[downloads_before:]
                )

        rows = object_rows(live_engine)
        assert len(rows) == 20
        assert {r.status for r in rows} == {"stored"}
        assert set(downloaded) == {urlsplit(url).path for url in pending_urls}
        assert set(downloaded.values()) == {1}, "each pending file was downloaded once"
        sha_of = {f.path: f.sha256 for f in every_file}
        assert all(row.sha256 == sha_of[urlsplit(row.url).path] for row in rows)

        distinct = {f.sha256 for f in every_file}
        assert len(distinct) == 17
        store = ObjectStore(own)
        assert sorted(bucket_keys(store)) == sorted(content_key(sha) for sha in distinct)
        for sha in distinct:  # including the files stored before S3 was restarted
            assert store.digest(sha) == (sha, SIZE + len(PDF))
        with session_scope(live_engine) as session:
            blobs = session.exec(select(Blob)).all()
            assert sorted(b.sha256 for b in blobs) == sorted(distinct)
    finally:
        services_down(own)

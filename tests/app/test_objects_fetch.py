"""The object pipeline against real SeaweedFS S3 and a local HTTP file server.

Records name files; discovery turns them into ``objects`` rows; the fetcher downloads
them under the source's policy into content-addressed S3; verification and link checks
keep them honest.  Nothing here is mocked: the bytes travel over loopback HTTP into S3.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app import jobs
from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject
from app.db import session_scope
from app.objects.discovery import discover
from app.objects.links import check_links
from app.objects.models import Blob
from app.objects.store import ObjectStore, content_key
from app.objects.verify import verify_objects
from app.settings import Settings
from app.sources import service as sources
from tests.app.memory import PeakMemory
from tests.app.object_server import ObjectServer, Reply, expected_sha256
from tests.app.records import publish as publish_record
from tests.app.test_objects_store import bucket_keys, put_data

PDF = b"%PDF-1.7\n"


@pytest.fixture
def objects_live(live: Settings) -> Settings:
    """Live services with a bucket of the test's own, retries due at once."""
    return live.model_copy(
        update={
            "s3_bucket": f"objects-{uuid.uuid4().hex[:10]}",
            "objects_retry_base_seconds": 0.0,
            "objects_store_retry_seconds": 0.0,
        }
    )


@pytest.fixture
def store(objects_live: Settings) -> ObjectStore:
    result = ObjectStore(objects_live)
    result.ensure_bucket()
    return result


@pytest.fixture
def files() -> Iterator[ObjectServer]:
    with ObjectServer() as server:
        yield server


def add_source(engine: Engine, slug: str, *, private: bool = True, cap: int | None = None) -> int:
    with session_scope(engine) as session:
        source = sources.add_source(
            session,
            slug=slug,
            name=slug,
            base_url=f"http://{slug}.example/oai",
            allow_private_network=private,
        )
        source.max_object_bytes = cap
        session.add(source)
        session.flush()
        assert source.id is not None
        return source.id


def publish(engine: Engine, source_id: int, n: int, urls: list[str], title: str = "课程") -> str:
    """Store record ``n`` of a source naming ``urls`` as its files; returns its id."""
    return publish_record(engine, source_id, n, urls, title={"zh": title}, slug=f"s{source_id}")


def rows(engine: Engine) -> dict[tuple[str, str], DigitalObject]:
    with session_scope(engine) as session:
        found = session.exec(select(DigitalObject)).all()
        return {(row.resource_id, row.url): row for row in found}


def by_url(engine: Engine) -> dict[str, DigitalObject]:
    return {url: row for (_rid, url), row in rows(engine).items()}


def fetch(engine: Engine, settings: Settings, store: ObjectStore) -> Any:
    return jobs.run_objects(engine, settings, store=store)


def test_files_are_fetched_once_and_stored_by_content(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    source = add_source(live_engine, "college")
    a = files.serve("/a.pdf", Reply(prefix=PDF, size=300_000, content_type="application/pdf"))
    # The same bytes under another name, and the same URL named by two records.
    copy = files.serve("/copy/a-again.pdf", Reply(prefix=PDF, size=300_000))
    first = publish(live_engine, source, 1, [a])
    second = publish(live_engine, source, 2, [a, copy])

    report = fetch(live_engine, objects_live, store)

    assert report.outcomes["stored"] == 3
    found = rows(live_engine)
    digest = expected_sha256(300_000, prefix=PDF)
    assert {row.sha256 for row in found.values()} == {digest}
    assert {row.status for row in found.values()} == {"stored"}
    assert found[first, a].media_type == "application/pdf"
    assert found[first, a].file_name == "a.pdf"
    assert found[second, copy].file_name == "a-again.pdf"
    assert found[first, a].size == 300_000 + len(PDF)
    # One download per distinct URL, one object in S3 for identical bytes.
    assert sum(1 for r in files.requests if r.path == "/a.pdf") == 1
    assert bucket_keys(store) == [content_key(digest)]
    assert report.reused == 1
    assert store.digest(digest) == (digest, 300_000 + len(PDF))
    with session_scope(live_engine) as session:
        blob = session.get(Blob, digest)
        assert blob is not None
        assert (blob.size, blob.media_type) == (300_000 + len(PDF), "application/pdf")

    # A second round finds nothing due and downloads nothing.
    again = fetch(live_engine, objects_live, store)
    assert again.claimed == 0
    assert sum(1 for r in files.requests if r.path == "/a.pdf") == 1


def test_a_file_keeps_the_name_its_record_gave_it(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    source = add_source(live_engine, "college")
    named = files.serve("/x1.pdf", Reply(prefix=PDF, size=1000, content_type="application/pdf"))
    unnamed = files.serve("/x2.pdf", Reply(prefix=PDF, size=2000, content_type="application/pdf"))
    publish(live_engine, source, 1, [named, unnamed])
    discover(live_engine)
    with session_scope(live_engine) as session:
        row = session.exec(select(DigitalObject).where(DigitalObject.url == named)).one()
        row.file_name = "第一讲 讲义.pdf"

    fetch(live_engine, objects_live, store)

    found = by_url(live_engine)
    assert (found[named].file_name, found[unnamed].file_name) == ("第一讲 讲义.pdf", "x2.pdf")


def test_refusals_are_recorded_with_their_reason(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    open_source = add_source(live_engine, "college", cap=100_000)
    closed_source = add_source(live_engine, "strict", private=False)
    big = files.serve("/big.mp4", Reply(prefix=b"\0\0\0\x18ftypmp42", size=200_000))
    program = files.serve("/setup.exe", Reply(prefix=b"MZ\x90\0", size=5_000))
    loopback = files.serve("/doc.pdf", Reply(prefix=PDF, size=5_000))
    publish(live_engine, open_source, 1, [big, program, "file:///etc/passwd"])
    publish(live_engine, closed_source, 2, [loopback, "http://169.254.169.254/latest/meta-data/"])

    fetch(live_engine, objects_live, store)

    found = by_url(live_engine)
    assert found[big].status == "too_large"
    assert "100000" in (found[big].status_reason or "")
    assert found[program].status == "unsupported"
    assert found["file:///etc/passwd"].status == "not_allowed"
    assert found[loopback].status == "not_allowed"
    assert "127.0.0.1" in (found[loopback].status_reason or "")
    assert found["http://169.254.169.254/latest/meta-data/"].status == "not_allowed"
    assert bucket_keys(store) == []
    assert not any(r.path == "/doc.pdf" for r in files.requests)


def test_transient_failures_are_retried_then_given_up(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    source = add_source(live_engine, "college")
    busy = files.serve("/busy.pdf", Reply(status=503, prefix=b"try later"))
    gone = files.serve("/gone.pdf", Reply(status=404, prefix=b"no"))
    publish(live_engine, source, 1, [busy, gone])
    settings = objects_live.model_copy(update={"objects_max_attempts": 3})

    fetch(live_engine, settings, store)
    found = by_url(live_engine)
    assert (found[busy].status, found[busy].attempts) == ("pending", 1)
    assert "503" in (found[busy].status_reason or "")
    assert found[gone].status == "failed"
    assert found[gone].link_status == "broken"

    fetch(live_engine, settings, store)
    fetch(live_engine, settings, store)
    found = by_url(live_engine)
    assert found[busy].status == "failed"
    assert sum(1 for r in files.requests if r.path == "/busy.pdf") == 3
    assert sum(1 for r in files.requests if r.path == "/gone.pdf") == 1


def test_retry_after_postpones_the_next_attempt(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    source = add_source(live_engine, "college")
    url = files.serve("/later.pdf", Reply(status=429, headers={"Retry-After": "3600"}))
    publish(live_engine, source, 1, [url])

    fetch(live_engine, objects_live, store)
    row = by_url(live_engine)[url]
    assert row.status == "pending"
    assert row.next_attempt_at is not None
    wait = row.next_attempt_at.replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(minutes=59) < wait <= timedelta(hours=1)
    assert fetch(live_engine, objects_live, store).claimed == 0


def test_discovery_follows_changes_and_deletions(
    objects_live: Settings, live_engine: Engine, files: ObjectServer
) -> None:
    source = add_source(live_engine, "college")
    a, b = files.url("/a.pdf"), files.url("/b.pdf")
    rid = publish(live_engine, source, 1, [a, b])
    other = publish(live_engine, source, 2, [a])
    discover(live_engine)
    assert set(rows(live_engine)) == {(rid, a), (rid, b), (other, a)}

    publish(live_engine, source, 1, [b], title="课程 第二版")
    with session_scope(live_engine) as session:
        catalogue.delete(session, other)
    result = discover(live_engine)
    assert (result.added, result.removed) == (0, 2)
    assert set(rows(live_engine)) == {(rid, b)}
    # Applying the same journal again changes nothing.
    assert discover(live_engine).removed == 0


def test_source_byte_quota_refuses_further_objects(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    source = add_source(live_engine, "college")
    first = files.serve("/one.pdf", Reply(prefix=PDF, size=50_000, seed=1))
    second = files.serve("/two.pdf", Reply(prefix=PDF, size=50_000, seed=2))
    settings = objects_live.model_copy(update={"objects_source_max_bytes": 40_000})
    publish(live_engine, source, 1, [first])
    fetch(live_engine, settings, store)
    assert by_url(live_engine)[first].status == "stored"

    publish(live_engine, source, 2, [second])
    fetch(live_engine, settings, store)
    row = by_url(live_engine)[second]
    assert row.status == "too_large"
    assert "quota" in (row.status_reason or "")


def test_verify_finds_corrupt_and_missing_copies_and_fetches_them_again(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    source = add_source(live_engine, "college")
    good = files.serve("/good.pdf", Reply(prefix=PDF, size=20_000, seed=1))
    bad = files.serve("/bad.pdf", Reply(prefix=PDF, size=20_000, seed=2))
    lost = files.serve("/lost.pdf", Reply(prefix=PDF, size=20_000, seed=3))
    publish(live_engine, source, 1, [good, bad, lost])
    fetch(live_engine, objects_live, store)
    found = by_url(live_engine)
    bad_sha, lost_sha = found[bad].sha256, found[lost].sha256
    assert bad_sha and lost_sha
    # Damage S3 behind our back: other bytes under bad's key (sent without the checksum
    # S3 would refuse them by), lost's key removed.
    garbage = b"not the file you stored " * 100
    unchecked = ObjectStore(objects_live.model_copy(update={"s3_checksums": False}))
    put_data(unchecked, bad_sha, garbage, len(garbage), "text/plain")
    store.delete(lost_sha)

    result = verify_objects(live_engine, store)

    assert (result.checked, result.ok) == (3, 1)
    assert result.corrupt == [bad_sha]
    assert result.missing == [lost_sha]
    assert result.bad
    found = by_url(live_engine)
    assert found[bad].status == found[lost].status == "pending"
    assert found[good].status == "stored"

    fetch(live_engine, objects_live, store)
    found = by_url(live_engine)
    assert {found[u].status for u in (good, bad, lost)} == {"stored"}
    assert found[bad].sha256 == bad_sha
    assert store.digest(bad_sha)[0] == bad_sha
    assert store.exists(lost_sha)
    assert not verify_objects(live_engine, store).bad


def test_link_checks_mark_dead_source_links(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    source = add_source(live_engine, "college")
    stays = files.serve("/stays.pdf", Reply(prefix=PDF, size=1_000, seed=1))
    moves = files.serve("/moves.pdf", Reply(prefix=PDF, size=1_000, seed=2))
    publish(live_engine, source, 1, [stays, moves])
    fetch(live_engine, objects_live, store)
    files.serve("/moves.pdf", Reply(status=410, prefix=b"gone"))
    # Checked links are not due again until objects_check_days have passed.
    settings = objects_live.model_copy(update={"objects_check_days": 0.0})

    report = jobs.run_sync(check_links(live_engine, settings, sample=10))

    assert report.checked == 2
    assert report.broken == [moves]
    found = by_url(live_engine)
    assert (found[stays].link_status, found[moves].link_status) == ("ok", "broken")
    # The copy we hold is still served: the row stays stored.
    assert found[moves].status == "stored"
    assert not jobs.run_sync(check_links(live_engine, objects_live, sample=10)).checked


def test_rows_are_claimed_by_one_fetcher_only(
    objects_live: Settings, live_engine: Engine, files: ObjectServer
) -> None:
    from app.objects.fetcher import claim  # noqa: PLC0415

    source = add_source(live_engine, "college")
    publish(live_engine, source, 1, [files.url(f"/{n}.pdf") for n in range(6)])
    discover(live_engine)
    first = claim(live_engine, objects_live, limit=4)
    second = claim(live_engine, objects_live, limit=10)
    assert len(first) == 4
    assert len(second) == 2
    assert not {job.url for job in first} & {job.url for job in second}
    with session_scope(live_engine) as session:
        leased = session.exec(
            select(DigitalObject).where(col(DigitalObject.next_attempt_at).is_not(None))
        ).all()
    assert len(leased) == 6


def test_a_row_read_as_due_by_two_fetchers_is_leased_to_one(
    objects_live: Settings, live_engine: Engine, files: ObjectServer
) -> None:
    from app.objects import repository  # noqa: PLC0415

    source = add_source(live_engine, "college")
    publish(live_engine, source, 1, [files.url(f"/{n}.pdf") for n in range(3)])
    discover(live_engine)
    now = datetime.now(UTC)
    with session_scope(live_engine) as session:
        # Both fetchers read the same due rows before either leases them.
        seen = [row.id for row in repository.due_objects(session, now, limit=10)]
    assert len(seen) == 3
    with session_scope(live_engine) as session:
        first = repository.lease_objects(session, seen, now, now + timedelta(minutes=5))
    with session_scope(live_engine) as session:
        second = repository.lease_objects(session, seen, now, now + timedelta(minutes=5))
    assert first == set(seen)
    assert second == set()
    # Once the lease has run out, the rows are due again.
    later = now + timedelta(minutes=6)
    with session_scope(live_engine) as session:
        assert repository.lease_objects(session, seen[:2], later, later) == set(seen[:2])


def test_a_download_longer_than_the_lease_keeps_its_row(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    """A live fetcher renews the lease of what it still works on: no other worker takes a
    file while its slow download goes on."""
    from app.objects.fetcher import claim  # noqa: PLC0415

    settings = objects_live.model_copy(update={"objects_lease_seconds": 1.0})
    source = add_source(live_engine, "college")
    slow = files.serve("/slow.pdf", Reply(prefix=PDF, size=1000, delay=3.0))
    publish(live_engine, source, 1, [slow])
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(fetch, live_engine, settings, store)
        deadline = time.monotonic() + 30
        while not any(r.path == "/slow.pdf" for r in files.requests):
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.05)
        time.sleep(2.0)  # twice the lease, while the server is still silent
        assert claim(live_engine, settings, limit=10) == [], "another fetcher took the file"
        report = running.result(timeout=60)
    assert report.outcomes["stored"] == 1
    assert sum(1 for r in files.requests if r.path == "/slow.pdf") == 1


def test_a_resource_shows_the_state_of_each_of_its_files(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from app.main import create_app  # noqa: PLC0415

    source = add_source(live_engine, "college")
    held = files.serve("/held.pdf", Reply(prefix=PDF, size=2_000, seed=1))
    dead = files.serve("/dead.pdf", Reply(status=404, prefix=b"no"))
    rid = publish(live_engine, source, 1, [held, dead, "ftp://old.example/x.pdf"])
    fetch(live_engine, objects_live, store)

    with TestClient(create_app(objects_live)) as client:
        body = client.get(f"/api/v1/resources/{rid}").json()
        shown = {item["url"]: item for item in body["files"]}
        digest = expected_sha256(2_000, seed=1, prefix=PDF)
        assert shown[held]["status"] == "stored"
        assert shown[held]["sha256"] == digest
        assert shown[held]["href"].endswith(f"/api/v1/objects/{digest}")
        assert shown[held]["size"] == 2_000 + len(PDF)
        assert shown[held]["last_verified_at"]
        assert shown[held]["source_link"] == "ok"
        assert (shown[dead]["status"], shown[dead]["source_link"]) == ("failed", "broken")
        assert "404" in shown[dead]["reason"]
        assert shown[dead]["href"] is None
        assert shown["ftp://old.example/x.pdf"]["status"] == "not_allowed"
        # The href serves the stored bytes.
        answer = client.get(shown[held]["href"], follow_redirects=False)
        assert answer.status_code == 307


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_200_mb_file_goes_into_s3_with_bounded_memory(
    objects_live: Settings, live_engine: Engine, store: ObjectStore, files: ObjectServer
) -> None:
    """Download, hash, spool and multipart upload: peak RSS grows by less than 50 MB."""
    size = 200 * 1024 * 1024
    mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom"
    url = files.serve("/lecture.mp4", Reply(prefix=mp4, size=size, content_type="video/mp4"))
    source = add_source(live_engine, "college")
    publish(live_engine, source, 1, [url])
    discover(live_engine)

    with PeakMemory() as memory:
        report = fetch(live_engine, objects_live, store)

    assert report.outcomes["stored"] == 1
    assert memory.growth_mib < 50, f"peak RSS grew by {memory.growth_mib:.1f} MiB"
    digest = expected_sha256(size, prefix=mp4)
    row = by_url(live_engine)[url]
    assert (row.sha256, row.size, row.media_type) == (digest, size + len(mp4), "video/mp4")
    assert store.head(digest).size == size + len(mp4)

"""``coursefed objects …`` as an operator runs it: a real subprocess, real S3 and HTTP.

A source is registered and harvested from a real OAI-PMH repository on loopback whose
records name files on a local HTTP file server; the commands then fetch, list, verify
and re-check those files.  The stored bytes are finally downloaded the way a learner
does: ``GET /api/v1/objects/{sha256}``, then the presigned S3 URL it redirects to.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Sequence

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue.models import DigitalObject
from app.db import session_scope
from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.objects.store import ObjectStore
from app.services.ports import free_port
from app.settings import Settings
from tests.app.environment import env_of
from tests.app.object_server import GeneratedPdf, ObjectServer, Reply
from tests.app.test_objects_store import put_data
from tests.conftest import CommandLine

pytestmark = pytest.mark.services

PDF = b"%PDF-1.7\n"
SIZE = 30_000


def File(path: str, seed: int) -> GeneratedPdf:
    return GeneratedPdf(path, seed, SIZE)


INTRO = File("/files/1/intro.pdf", seed=1)
WEEK_ONE = File("/files/2/week-1.pdf", seed=2)
WEEK_TWO = File("/files/3/week-2.pdf", seed=3)
INTRO_COPY = File("/copies/intro-again.pdf", seed=1)  # the same bytes under another name
MOVED = File("/files/5/moved.pdf", seed=5)
# Six records, five distinct links (two records name the intro), four distinct contents.
NAMED = [INTRO, WEEK_ONE, WEEK_TWO, INTRO_COPY, MOVED, INTRO]


@pytest.fixture
def objects_settings(live: Settings) -> Settings:
    """Live services with a bucket of the test's own."""
    return live.model_copy(update={"s3_bucket": f"cli-{uuid.uuid4().hex[:10]}"})


@pytest.fixture
def files() -> Iterator[ObjectServer]:
    with ObjectServer() as server:
        for file in {*NAMED}:
            reply = file.reply
            server.serve(file.path, reply)
        yield server


def ok(coursefed: CommandLine, env: dict[str, str], *args: str) -> str:
    """Run a command that must succeed (in this process, with ``env``); its stdout."""
    result = coursefed(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def naming(records: Sequence[DemoRecord], files: ObjectServer) -> list[DemoRecord]:
    """The records, each naming one of ``NAMED`` as its file."""
    return [
        dataclasses.replace(
            record,
            object_url=files.url(file.path),
            object_format="application/pdf",
            object_size=SIZE + len(PDF),
        )
        for record, file in zip(records, NAMED, strict=True)
    ]


def demo_records() -> list[DemoRecord]:
    return [r for r in generate_corpus(20) if not r.deleted][: len(NAMED)]


def objects_by_url(engine: Engine) -> dict[str, list[DigitalObject]]:
    with session_scope(engine) as session:
        found: dict[str, list[DigitalObject]] = {}
        for row in session.exec(select(DigitalObject)).all():
            found.setdefault(row.url, []).append(row)
        return found


def test_objects_fetch_status_verify_and_check_links_from_the_command_line(
    objects_settings: Settings, live_engine: Engine, files: ObjectServer, coursefed: CommandLine
) -> None:
    env = env_of(objects_settings)
    with DemoRepositoryServer(naming(demo_records(), files)) as server:
        add = ("sources", "add", server.base_url, "--slug", "college", "--allow-private-network")
        ok(coursefed, env, *add)
        assert "SUCCEEDED" in ok(coursefed, env, "harvest", "college")

    # S3 unreachable: one line on stderr, exit 1, every object still waiting.
    closed = env_of(objects_settings, S3_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    down = coursefed("objects", "fetch", env=closed)
    assert down.returncode == 1
    assert "Traceback" not in down.stderr + down.stdout
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1, down.stderr
    line = lines[0]
    assert line.startswith("coursefed: error: object store unavailable, objects stay pending:")
    assert closed["COURSEFED_S3_ENDPOINT"] in line
    rows = [row for same in objects_by_url(live_engine).values() for row in same]
    assert len(rows) == len(NAMED)
    assert {(row.status, row.attempts) for row in rows} == {("pending", 0)}
    assert files.requests == [], "nothing was downloaded for an S3 that is not there"
    assert ok(coursefed, env, "objects", "status").split() == [
        *("college", "pending", "6", "objects", "0", "bytes")
    ]

    # S3 back: every file fetched; identical bytes found held instead of stored again.
    assert ok(coursefed, env, "objects", "fetch") == (
        "6 objects due: 6 stored; 0 to retry, 0 postponed; 1 files were held already\n"
    )
    assert sorted(r.path for r in files.requests) == sorted({f.path for f in NAMED})
    stored = f"{len(NAMED) * (SIZE + len(PDF)):,}"
    assert ok(coursefed, env, "objects", "status").split() == [
        *("college", "stored", "6", "objects", stored, "bytes")
    ]
    assert ok(coursefed, env, "objects", "verify").splitlines() == ["4 objects checked: 4 ok"]

    # Other bytes under a stored object's key: verify says which, and it is fetched again.
    # (Sent without the checksum S3 would refuse them by.)
    store = ObjectStore(objects_settings.model_copy(update={"s3_checksums": False}))
    garbage = b"not the lecture notes " * 50
    put_data(store, WEEK_ONE.sha256, garbage, len(garbage), "text/plain")
    corrupt = coursefed("objects", "verify", env=env)
    assert corrupt.returncode == 1
    assert f"corrupt (deleted, fetching again): {WEEK_ONE.sha256}" in corrupt.stdout.splitlines()
    assert "3 ok" in corrupt.stdout
    assert ok(coursefed, env, "objects", "fetch").startswith("1 objects due: 1 stored;")
    assert ok(coursefed, env, "objects", "verify").splitlines() == ["4 objects checked: 4 ok"]

    # A learner downloads through the API: a redirect to a presigned URL, the exact bytes.
    with TestClient(create_app(objects_settings)) as client, httpx.Client(trust_env=False) as web:
        for file in (INTRO, WEEK_ONE):
            redirect = client.get(f"/api/v1/objects/{file.sha256}", follow_redirects=False)
            assert redirect.status_code == 307
            location = redirect.headers["location"]
            assert location.startswith(objects_settings.resolved_s3_endpoint)
            downloaded = web.get(location)
            assert downloaded.status_code == 200
            assert downloaded.content == file.content
            assert downloaded.headers["content-type"] == "application/pdf"

    # The college deletes a file: the link check marks it broken; our copy stays stored.
    files.serve(MOVED.path, Reply(status=404, prefix=b"not found", content_type="text/plain"))
    checked = ok(
        coursefed,
        env_of(objects_settings, OBJECTS_CHECK_DAYS="0"),
        *("objects", "check-links", "--sample", "10"),
    )
    assert checked.splitlines() == [
        "5 source links checked: 4 ok, 1 broken, 0 not reachable now",
        f"broken: {files.url(MOVED.path)}",
    ]
    found = objects_by_url(live_engine)
    (moved,) = found[files.url(MOVED.path)]
    assert (moved.status, moved.link_status) == ("stored", "broken")
    others = [row for same in found.values() for row in same if row.id != moved.id]
    assert {row.link_status for row in others} == {"ok"}


# The command line's SQL is the same on both databases; the test above runs on both.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_loopback_files_are_not_allowed_without_the_flag(
    objects_settings: Settings, live_engine: Engine, files: ObjectServer, coursefed: CommandLine
) -> None:
    # The repository stands on a network the deployment allows (127.0.0.2); the source is
    # not allowed private addresses, so its files on 127.0.0.1 are refused.
    env = env_of(objects_settings, OUTBOUND_ALLOW_NETWORKS="127.0.0.2/32")
    with DemoRepositoryServer(naming(demo_records(), files), host="127.0.0.2") as server:
        ok(coursefed, env, "sources", "add", server.base_url, "--slug", "strict")
        assert "SUCCEEDED" in ok(coursefed, env, "harvest", "strict")

    assert ok(coursefed, env, "objects", "fetch") == (
        "6 objects due: 6 not_allowed; 0 to retry, 0 postponed; 0 files were held already\n"
    )
    assert ok(coursefed, env, "objects", "status").split() == [
        *("strict", "not_allowed", "6", "objects", "0", "bytes")
    ]
    rows = [row for same in objects_by_url(live_engine).values() for row in same]
    assert {row.status for row in rows} == {"not_allowed"}
    assert all("127.0.0.1" in (row.status_reason or "") for row in rows), rows[0].status_reason
    assert files.requests == [], "no request reached the loopback address"
    assert ok(coursefed, env, "objects", "fetch").startswith("0 objects due: none done;")

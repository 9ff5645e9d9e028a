"""Responses gzip'd when the client asks: pages, API JSON, XML; never stored files or the
snapshot, never against the client's refusal, never buffered where bytes pass through."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from starlette.types import Message, Receive, Scope, Send

from app.catalogue import service as catalogue
from app.compression import MINIMUM_SIZE, Compression, accepts_gzip
from app.db import session_scope
from app.main import create_app
from app.settings import Settings
from metadata.profile import ResourceRecord
from tests.app.records import stored

# Compression does not depend on the database: SQLite alone.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

GZIP = {"Accept-Encoding": "gzip"}
COURSE = "college-compressed"


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    long_text = "一门关于数据结构与算法的课程，讲授线性表、树、图、排序与查找。" * 40
    record = ResourceRecord(id=COURSE, title={"zh": "数据结构"}, description={"zh": long_text})
    with session_scope(engine) as session:
        catalogue.upsert(session, stored(record, b"<r/>", oai_id="oai:c:1", source_id=None))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def raw_get(client: TestClient, path: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """Headers and the bytes exactly as sent (the test client would decode gzip)."""
    with client.stream("GET", path, headers=headers) as response:
        return dict(response.headers), b"".join(response.iter_raw())


@sqlite_only
@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        (f"/courses/{COURSE}", "text/html"),
        (f"/api/v1/resources/{COURSE}", "application/json"),
        ("/openapi.json", "application/json"),
        ("/oai?verb=ListRecords&metadataPrefix=oai_dc", "text/xml"),
        ("/api/v1/changes?since=0", "application/json"),
    ],
)
def test_pages_json_and_xml_come_gzipped_when_asked(
    client: TestClient, path: str, media_type: str
) -> None:
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    headers, sent = raw_get(client, path, GZIP)
    assert headers["content-type"].startswith(media_type)
    assert len(plain.content) >= MINIMUM_SIZE
    assert headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in headers["vary"]
    assert gzip.decompress(sent) == plain.content
    assert len(sent) < len(plain.content)
    # The edge's headers are on the compressed answer too.
    assert headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in headers


@sqlite_only
def test_a_refusal_of_gzip_is_respected(client: TestClient) -> None:
    for refusal in ("gzip;q=0", "identity", "gzip;q=0.0, identity", "br"):
        headers, sent = raw_get(client, f"/courses/{COURSE}", {"Accept-Encoding": refusal})
        assert "content-encoding" not in headers, refusal
        assert sent.startswith(b"<!doctype html>"), refusal
        assert "Accept-Encoding" in headers["vary"], "a cache keeps the two apart"


@sqlite_only
def test_small_answers_are_sent_as_they_are(client: TestClient) -> None:
    headers, sent = raw_get(client, "/healthz", GZIP)
    assert "content-encoding" not in headers
    assert len(sent) < MINIMUM_SIZE


@sqlite_only
def test_the_snapshot_is_gzip_once_not_twice(client: TestClient) -> None:
    headers, sent = raw_get(client, "/api/v1/snapshot", GZIP)
    assert headers["content-type"] == "application/gzip"
    assert "content-encoding" not in headers
    assert COURSE.encode() in gzip.decompress(sent), "one inflate gives the NDJSON"


@sqlite_only
def test_a_compressed_file_keeps_a_weak_etag_only(client: TestClient) -> None:
    path = "/docs/swagger-ui.css"
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    strong = plain.headers["etag"]
    assert not strong.startswith("W/")
    headers, sent = raw_get(client, path, GZIP)
    assert headers["content-encoding"] == "gzip"
    assert headers["etag"] == f"W/{strong}"
    assert gzip.decompress(sent) == plain.content
    revalidated = client.get(path, headers={**GZIP, "If-None-Match": headers["etag"]})
    assert revalidated.status_code == 304
    ranged = client.get(path, headers={**GZIP, "Range": "bytes=0-99"})
    assert ranged.status_code == 206
    assert "content-encoding" not in ranged.headers
    assert ranged.content == plain.content[:100]


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("GZIP, deflate", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("gzip;q=oops", False),
        ("deflate, br", False),
        ("", False),
        (None, False),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_stored_files_pass_through_chunk_by_chunk() -> None:
    """Each chunk of a download reaches the server before the app reads the next one."""
    events: list[str] = []
    chunk = b"x" * 64 * 1024

    async def download(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/pdf"), (b"etag", b'"abc"')]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for n in range(3):
            events.append(f"app sent {n}")
            await send({"type": "http.response.body", "body": chunk, "more_body": n < 2})

    async def server(message: Message) -> None:
        if message["type"] == "http.response.body":
            assert message["body"] == chunk
            events.append(f"server got {events[-1].removeprefix('app sent ')}")
        else:
            assert dict(message["headers"])[b"etag"] == b'"abc"'

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/objects/" + "a" * 64,
        "headers": [(b"accept-encoding", b"gzip")],
    }
    asyncio.run(Compression(download)(scope, receive, server))
    assert events == [f"{who} {n}" for n in range(3) for who in ("app sent", "server got")]

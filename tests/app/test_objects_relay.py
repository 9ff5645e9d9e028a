"""Proxied downloads of large files relayed by the server from S3 (``app.server``),
through real uvicorn, real SeaweedFS and SQLite/PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.objects.service import RELAY_MIN_BYTES
from app.objects.store import ObjectStore, SocketStream, content_key
from app.settings import Settings
from tests.app.test_objects_api import ADMIN, objects_settings, sha, source_id
from tests.services_plugin import serving

__all__ = ["objects_settings", "source_id"]  # fixtures shared with the API tests

pytestmark = [pytest.mark.services, pytest.mark.postgres]

LARGE = b"%PDF-1.7\n" + hashlib.shake_256(b"relayed lecture").digest(3 * 1024 * 1024 + 5)


class Served:
    """An app in proxy mode served by ``app.server``, with LARGE uploaded; every S3 socket
    it opens is kept, to see that each is closed."""

    def __init__(self, base: str, store: ObjectStore) -> None:
        self.base = base
        self.url = f"{base}/api/v1/objects/{sha(LARGE)}"
        self.store = store
        self.opened: list[SocketStream] = []
        opener = store.open_socket

        def open_socket(*args: Any, **kwargs: Any) -> SocketStream:
            stream = opener(*args, **kwargs)
            self.opened.append(stream)
            return stream

        store.open_socket = open_socket  # type: ignore[method-assign]

    def all_closed(self) -> bool:
        return all(stream.socket.fileno() == -1 for stream in self.opened)


@pytest.fixture
def served(objects_settings: Settings, source_id: int) -> Iterator[Served]:
    app = create_app(objects_settings.model_copy(update={"objects_serve": "proxy"}))
    with serving(app) as base:
        answer = httpx.post(
            f"{base}/api/v1/sources/{source_id}/objects",
            files={"file": ("lecture.pdf", LARGE, "application/pdf")},
            headers=ADMIN,
        )
        assert answer.status_code == 201, answer.text
        yield Served(base, app.state.coursefed.objects)


def test_a_large_file_is_relayed_whole_with_its_headers(served: Served) -> None:
    answer = httpx.get(served.url)
    assert answer.status_code == 200
    assert sha(answer.content) == sha(LARGE)
    assert answer.headers["content-length"] == str(len(LARGE))
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["etag"] == f'"{sha(LARGE)}"'
    assert answer.headers["content-disposition"].startswith('inline; filename="lecture.pdf"')
    assert len(served.opened) == 1  # relayed, not read through the app
    assert served.all_closed()


RANGES = [
    ("bytes=0-", 0, len(LARGE) - 1),
    ("bytes=1048576-3145727", 1048576, 3145727),
    ("bytes=-1048577", len(LARGE) - 1048577, len(LARGE) - 1),
    ("bytes=5-9", 5, 9),  # under RELAY_MIN_BYTES: read by the app
    ("bytes=100-1048675", 100, 1048675),  # exactly RELAY_MIN_BYTES
]


def test_ranges_of_a_large_file_are_exact_on_one_connection(served: Served) -> None:
    with httpx.Client() as client:
        for header, first, last in RANGES:
            answer = client.get(served.url, headers={"Range": header})
            assert answer.status_code == 206, header
            assert answer.headers["content-range"] == f"bytes {first}-{last}/{len(LARGE)}"
            assert answer.content == LARGE[first : last + 1], header
    relayed = [last - first + 1 >= RELAY_MIN_BYTES for _, first, last in RANGES]
    assert len(served.opened) == sum(relayed)
    assert served.all_closed()


def test_downloads_abandoned_midway_close_their_s3_sockets(served: Served) -> None:
    for _ in range(3):
        with httpx.stream("GET", served.url) as partial:
            assert next(partial.iter_raw(65536)) == LARGE[:65536]
    deadline = time.monotonic() + 10
    while not served.all_closed():
        assert time.monotonic() < deadline, "an S3 socket stayed open"
        time.sleep(0.05)
    assert httpx.get(served.url).content == LARGE


def test_a_head_is_answered_from_the_record(served: Served) -> None:
    answer = httpx.head(served.url)
    assert answer.status_code == 200
    assert answer.headers["content-length"] == str(len(LARGE))
    assert served.opened == []


class Stalling:
    """An S3 stand-in for one read: answers the headers of the whole file, sends 1 MiB of
    it, then closes: S3 failing mid-download."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._answer, daemon=True).start()

    def _answer(self) -> None:
        connection, _ = self.server.accept()
        with connection:
            connection.recv(65536)
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                f"Content-Length: {len(LARGE)}\r\nConnection: close\r\n\r\n"
            )
            connection.sendall(head.encode() + LARGE[: 1024 * 1024])
        self.server.close()


def test_s3_failing_mid_download_drops_the_client_connection(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """The learner must see a broken download, never a complete-looking wrong one."""
    stalling = Stalling()
    store = served.store
    store._endpoint = store._endpoint._replace(netloc=f"127.0.0.1:{stalling.port}")
    with (
        caplog.at_level(logging.WARNING, logger="app.objects.service"),
        pytest.raises(httpx.RemoteProtocolError, match="received 1048576 bytes"),
    ):
        httpx.get(served.url)
    assert "S3 stopped mid-download" in caplog.text
    assert served.all_closed()


def test_a_stored_copy_of_another_size_is_503_not_sent(served: Served) -> None:
    """S3 holding other bytes than the record says (a damaged store) is not passed on."""
    store = served.store
    store._client.put_object(Bucket=store.bucket, Key=content_key(sha(LARGE)), Body=LARGE[:-1])
    with httpx.Client() as client:
        for headers in ({}, {"Range": "bytes=0-"}, {"Range": "bytes=0-9"}):  # relayed, pooled
            answer = client.get(served.url, headers=headers)
            assert answer.status_code == 503, headers
            assert "does not match its record" in answer.json()["detail"]
    assert served.opened and served.all_closed()

"""Serving and uploading objects through the API, on real S3, SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import make_engine, session_scope
from app.main import create_app
from app.objects import repository
from app.objects.cache import BlobCache
from app.objects.store import ObjectStore, ObjectStream, content_key
from app.settings import Settings
from app.sources.service import add_source
from tests.app.test_objects_store import bucket_keys, put_data, remove_bucket
from tests.services_plugin import free_port, serving

pytestmark = [pytest.mark.services, pytest.mark.postgres]

ADMIN = {"Authorization": f"Bearer {Settings().admin_token.get_secret_value()}"}
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 100

MakeClient = Callable[..., Any]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def objects_settings(live: Settings) -> Iterator[Settings]:
    """The live services with a bucket of this test's own, removed afterwards."""
    settings = live.model_copy(update={"s3_bucket": f"objects-{uuid.uuid4().hex[:12]}"})
    ObjectStore(settings).ensure_bucket()
    yield settings
    remove_bucket(settings)


@pytest.fixture
def make_client(objects_settings: Settings) -> Iterator[MakeClient]:
    """Start the app with settings overrides (e.g. ``objects_serve="proxy"``)."""
    with ExitStack() as stack:

        def make(**overrides: Any) -> TestClient:
            app = create_app(objects_settings.model_copy(update=overrides))
            return stack.enter_context(TestClient(app))

        yield make


@pytest.fixture
def source_id(objects_settings: Settings) -> int:
    return new_source(objects_settings, "college")


def new_source(settings: Settings, slug: str, max_object_bytes: int | None = None) -> int:
    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            source = add_source(session, base_url=f"http://{slug}.example.org/oai", slug=slug)
            source.max_object_bytes = max_object_bytes
            session.add(source)
            session.flush()
            assert source.id is not None
            return source.id
    finally:
        engine.dispose()


def upload(
    client: TestClient,
    source: int | str,
    data: bytes,
    *,
    name: str = "notes.pdf",
    content_type: str = "application/pdf",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(
        f"/api/v1/sources/{source}/objects",
        files={"file": (name, data, content_type)},
        headers=ADMIN if headers is None else headers,
    )


def spool_files(settings: Settings) -> list[Path]:
    spool = settings.data_dir / "tmp"
    return sorted(spool.iterdir()) if spool.exists() else []


# --- uploads --------------------------------------------------------------------------------


def test_upload_stores_the_file_and_reports_it(
    make_client: MakeClient, objects_settings: Settings, source_id: int
) -> None:
    client = make_client()
    answer = upload(client, source_id, PDF, name="lecture 1.pdf")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body == {
        "sha256": sha(PDF),
        "size": len(PDF),
        "media_type": "application/pdf",
        "file_name": "lecture 1.pdf",
        "url": f"{objects_settings.resolved_public_url}/api/v1/objects/{sha(PDF)}",
    }
    assert answer.headers["location"] == f"/api/v1/objects/{sha(PDF)}"
    assert ObjectStore(objects_settings).digest(sha(PDF)) == (sha(PDF), len(PDF))
    engine = make_engine(objects_settings)
    with session_scope(engine) as session:
        blob = repository.get_blob(session, sha(PDF))
        assert blob is not None
        assert (blob.size, blob.uploaded_by_source_id) == (len(PDF), source_id)
    engine.dispose()
    assert spool_files(objects_settings) == []


def test_upload_by_slug(make_client: MakeClient, source_id: int) -> None:
    assert upload(make_client(), "college", PDF).status_code == 201


def test_same_file_uploaded_twice_is_stored_once(
    make_client: MakeClient, objects_settings: Settings, source_id: int
) -> None:
    client = make_client()
    store = client.app.state.coursefed.objects
    puts: list[str] = []
    put_file = store.put_file

    def counted(sha256: str, *args: Any, **kwargs: Any) -> None:
        puts.append(sha256)
        put_file(sha256, *args, **kwargs)

    store.put_file = counted
    first = upload(client, source_id, PDF, name="first.pdf")
    second = upload(client, source_id, PDF, name="second.pdf")
    assert (first.status_code, second.status_code) == (201, 201)
    assert puts == [sha(PDF)]  # the second upload found the bytes held
    assert second.json()["sha256"] == first.json()["sha256"]
    assert second.json()["file_name"] == "first.pdf"  # the name first seen
    assert len(bucket_keys(ObjectStore(objects_settings))) == 1


def test_upload_needs_the_admin_token(make_client: MakeClient, source_id: int) -> None:
    client = make_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = upload(client, source_id, PDF, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"] == "unauthorized"


def test_upload_to_an_unknown_source_is_404(make_client: MakeClient) -> None:
    answer = upload(make_client(), "no-such-source", PDF)
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_upload_over_the_source_limit_is_413(
    make_client: MakeClient, objects_settings: Settings
) -> None:
    small = new_source(objects_settings, "small", max_object_bytes=len(PDF) - 1)
    roomy = new_source(objects_settings, "roomy", max_object_bytes=len(PDF))
    client = make_client()
    refused = upload(client, small, PDF)
    assert refused.status_code == 413
    assert refused.json()["error"] == "too_large"
    assert upload(client, roomy, PDF).status_code == 201
    assert spool_files(objects_settings) == []


def test_upload_over_the_default_limit_is_413(
    make_client: MakeClient, objects_settings: Settings, source_id: int
) -> None:
    client = make_client(objects_max_bytes=100)
    answer = upload(client, source_id, PDF)
    assert answer.status_code == 413
    assert "100 bytes" in answer.json()["detail"]
    assert bucket_keys(ObjectStore(objects_settings)) == []


def test_upload_of_a_program_is_415_whatever_it_claims_to_be(
    make_client: MakeClient, objects_settings: Settings, source_id: int
) -> None:
    answer = upload(make_client(), source_id, ELF, name="video.mp4", content_type="video/mp4")
    assert answer.status_code == 415
    assert answer.json()["error"] == "unsupported_media_type"
    assert bucket_keys(ObjectStore(objects_settings)) == []
    assert spool_files(objects_settings) == []


def test_upload_media_type_comes_from_the_bytes(make_client: MakeClient, source_id: int) -> None:
    answer = upload(make_client(), source_id, PDF, name="x.bin", content_type="text/html")
    assert answer.json()["media_type"] == "application/pdf"


def test_upload_without_a_file_field_is_422(make_client: MakeClient, source_id: int) -> None:
    client = make_client()
    wrong_field = client.post(
        f"/api/v1/sources/{source_id}/objects",
        files={"document": ("a.pdf", PDF, "application/pdf")},
        headers=ADMIN,
    )
    assert wrong_field.status_code == 422
    assert "file" in wrong_field.json()["detail"]
    not_multipart = client.post(f"/api/v1/sources/{source_id}/objects", content=PDF, headers=ADMIN)
    assert not_multipart.status_code == 422


def test_upload_then_get_returns_the_same_bytes(make_client: MakeClient, source_id: int) -> None:
    client = make_client(objects_serve="proxy")
    url = upload(client, source_id, PDF).json()["url"]
    answer = client.get(url)
    assert answer.status_code == 200
    assert answer.content == PDF


# --- serving: common ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
def test_unknown_sha256_is_404_json(make_client: MakeClient, mode: str) -> None:
    client = make_client(objects_serve=mode)
    for method in ("GET", "HEAD"):
        answer = client.request(method, f"/api/v1/objects/{sha(b'nothing')}")
        assert answer.status_code == 404
    body = client.get(f"/api/v1/objects/{sha(b'nothing')}").json()
    assert body["error"] == "not_found"
    assert sha(b"nothing") in body["detail"]


def test_malformed_sha256_is_422_json(make_client: MakeClient) -> None:
    client = make_client()
    for bad in ("abc", sha(b"x").upper(), sha(b"x")[:-1] + "g", sha(b"x") + "0", "z" * 64):
        answer = client.get(f"/api/v1/objects/{bad}")
        assert answer.status_code == 422, bad
        assert answer.json()["error"] == "invalid_parameter"
        assert client.head(f"/api/v1/objects/{bad}").status_code == 422


# --- serving: redirect mode -----------------------------------------------------------------


def test_get_redirects_to_a_presigned_url_a_plain_client_can_follow(
    make_client: MakeClient, source_id: int
) -> None:
    client = make_client()
    upload(client, source_id, PDF, name="数据结构 第1讲.pdf")
    answer = client.get(f"/api/v1/objects/{sha(PDF)}", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["cache-control"] == "no-store"
    location = answer.headers["location"]
    assert "X-Amz-Expires=300" in location
    fetched = httpx.get(location)  # not through our app, no credentials
    assert fetched.status_code == 200
    assert fetched.content == PDF
    assert fetched.headers["content-type"] == "application/pdf"
    disposition = fetched.headers["content-disposition"]
    assert disposition.startswith("inline; filename=\"1.pdf\"; filename*=UTF-8''")
    assert "%E6%95%B0%E6%8D%AE%E7%BB%93%E6%9E%84%20%E7%AC%AC1%E8%AE%B2.pdf" in disposition


def test_download_asks_s3_for_an_attachment_even_for_a_pdf(
    make_client: MakeClient, source_id: int
) -> None:
    """A learner's "download" saves the file; without it a browser shows a PDF in place."""
    client = make_client()
    upload(client, source_id, PDF, name="讲义.pdf")
    answer = client.get(f"/api/v1/objects/{sha(PDF)}?download=true", follow_redirects=False)
    fetched = httpx.get(answer.headers["location"])
    assert fetched.content == PDF
    assert fetched.headers["content-disposition"].startswith('attachment; filename="download.pdf"')


def test_presigned_urls_name_the_public_endpoint(make_client: MakeClient, source_id: int) -> None:
    public = "https://files.example.edu.cn"
    client = make_client(s3_public_endpoint=public, objects_presign_seconds=60)
    upload(client, source_id, PDF)
    location = client.get(f"/api/v1/objects/{sha(PDF)}", follow_redirects=False).headers["location"]
    assert location.startswith(f"{public}/")
    assert "X-Amz-Expires=60" in location


def test_head_in_redirect_mode_answers_from_the_record(
    make_client: MakeClient, source_id: int
) -> None:
    client = make_client()
    upload(client, source_id, PDF)
    answer = client.head(f"/api/v1/objects/{sha(PDF)}")
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["content-length"] == str(len(PDF))
    assert answer.headers["etag"] == f'"{sha(PDF)}"'


# --- serving: nginx's X-Accel-Redirect (through real nginx: tests/app/test_objects_nginx.py)


def test_accel_mode_hands_nginx_a_presigned_target_and_answers_the_rest_itself(
    make_client: MakeClient, objects_settings: Settings, source_id: int
) -> None:
    client = make_client(objects_serve="accel", objects_accel_location="/internal/files/")
    upload(client, source_id, PDF)
    url = f"/api/v1/objects/{sha(PDF)}"
    handed = client.get(url)
    assert (handed.status_code, handed.content) == (200, b"")
    target = handed.headers["x-accel-redirect"]
    assert target.startswith(f"/internal/files/{objects_settings.s3_bucket}/sha256/")
    fetched = httpx.get(
        objects_settings.resolved_s3_endpoint + target.removeprefix("/internal/files")
    )
    assert (fetched.status_code, fetched.content) == (200, PDF)  # what nginx will fetch
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["cache-control"] == "public, max-age=86400"
    ranged = client.get(url, headers={"Range": "bytes=0-9"})
    assert "x-accel-redirect" in ranged.headers  # S3 answers the range
    assert client.get(url, headers={"If-None-Match": f'"{sha(PDF)}"'}).status_code == 304
    assert client.get(url, headers={"Range": f"bytes={len(PDF)}-"}).status_code == 416
    head = client.head(url)
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(PDF)))
    # A Range S3 would read otherwise than we do: the app sends the whole file itself.
    other = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (other.status_code, other.content) == (200, PDF)
    assert "x-accel-redirect" not in other.headers


# --- serving: proxy mode --------------------------------------------------------------------


@pytest.fixture
def proxy(make_client: MakeClient, source_id: int) -> TestClient:
    client = make_client(objects_serve="proxy")
    assert upload(client, source_id, PDF, name="讲义.pdf").status_code == 201
    return client


def test_proxy_sends_the_whole_file_with_its_headers(proxy: TestClient) -> None:
    answer = proxy.get(f"/api/v1/objects/{sha(PDF)}")
    assert answer.status_code == 200
    assert answer.content == PDF
    headers = answer.headers
    assert headers["content-length"] == str(len(PDF))
    assert headers["content-type"] == "application/pdf"
    assert headers["etag"] == f'"{sha(PDF)}"'
    assert headers["accept-ranges"] == "bytes"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-disposition"] == (
        "inline; filename=\"download.pdf\"; filename*=UTF-8''%E8%AE%B2%E4%B9%89.pdf"
    )


def test_proxied_download_is_an_attachment(proxy: TestClient) -> None:
    answer = proxy.get(f"/api/v1/objects/{sha(PDF)}", params={"download": "true"})
    assert answer.content == PDF
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E8%AE%B2%E4%B9%89.pdf"
    )
    refused = proxy.get(f"/api/v1/objects/{sha(PDF)}", params={"download": "maybe"})
    assert refused.status_code == 422


END = len(PDF) - 1
SATISFIABLE = [
    ("bytes=0-0", 0, 0),
    ("bytes=0-99", 0, 99),
    ("bytes=100-199", 100, 199),
    ("bytes=1000-", 1000, END),
    ("bytes=-10", END - 9, END),
    ("bytes=-100000", 0, END),  # a suffix longer than the file: all of it
    ("bytes=10-999999", 10, END),  # an end past the end: up to the end
    ("bytes = 5 - 7", 5, 7),  # whitespace is tolerated
]
# Several ranges, backwards, another unit, malformed: RFC 9110 lets us send it all.
SENT_WHOLE = ["bytes=0-1,5-6", "bytes=9-3", "items=0-5", "bytes=abc", "bytes=-"]


def test_proxy_range_returns_exactly_those_bytes(proxy: TestClient) -> None:
    url = f"/api/v1/objects/{sha(PDF)}"
    for range_header, first, last in SATISFIABLE:
        answer = proxy.get(url, headers={"Range": range_header})
        assert answer.status_code == 206, range_header
        assert answer.content == PDF[first : last + 1], range_header
        assert answer.headers["content-range"] == f"bytes {first}-{last}/{len(PDF)}"
        assert answer.headers["content-length"] == str(last - first + 1)
        assert answer.headers["content-type"] == "application/pdf"


def test_proxy_downloads_are_never_gzipped(proxy: TestClient) -> None:
    """Whatever the client accepts: the bytes, lengths and ETag are the file's own."""
    url = f"/api/v1/objects/{sha(PDF)}"
    for headers, status, body in [
        ({}, 200, PDF),
        ({"Range": "bytes=0-99"}, 206, PDF[:100]),
        ({"Range": "bytes=100-"}, 206, PDF[100:]),
    ]:
        with proxy.stream("GET", url, headers={"Accept-Encoding": "gzip", **headers}) as answer:
            sent = b"".join(answer.iter_raw())
            assert answer.status_code == status
            assert "content-encoding" not in answer.headers
            assert answer.headers["etag"] == f'"{sha(PDF)}"'
            assert answer.headers["content-length"] == str(len(body))
        assert sent == body


def test_proxy_unsatisfiable_range_is_416(proxy: TestClient) -> None:
    url = f"/api/v1/objects/{sha(PDF)}"
    for range_header in (f"bytes={len(PDF)}-", f"bytes={len(PDF) + 5}-9999", "bytes=-0"):
        answer = proxy.get(url, headers={"Range": range_header})
        assert answer.status_code == 416, range_header
        assert answer.headers["content-range"] == f"bytes */{len(PDF)}"
        assert answer.json()["error"] == "range_not_satisfiable"


def test_proxy_sends_everything_for_ranges_it_does_not_serve(proxy: TestClient) -> None:
    for range_header in SENT_WHOLE:
        answer = proxy.get(f"/api/v1/objects/{sha(PDF)}", headers={"Range": range_header})
        assert (answer.status_code, answer.content) == (200, PDF), range_header
        assert "content-range" not in answer.headers


def test_proxy_if_range_of_other_bytes_sends_everything(proxy: TestClient) -> None:
    url = f"/api/v1/objects/{sha(PDF)}"
    stale = proxy.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert (stale.status_code, stale.content) == (200, PDF)
    fresh = proxy.get(url, headers={"Range": "bytes=0-9", "If-Range": f'"{sha(PDF)}"'})
    assert (fresh.status_code, fresh.content) == (206, PDF[:10])


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
def test_if_none_match_is_304(make_client: MakeClient, source_id: int, mode: str) -> None:
    client = make_client(objects_serve=mode)
    upload(client, source_id, PDF)
    url = f"/api/v1/objects/{sha(PDF)}"
    for tag in (f'"{sha(PDF)}"', f'W/"{sha(PDF)}"', f'"other", "{sha(PDF)}"', "*"):
        answer = client.get(url, headers={"If-None-Match": tag}, follow_redirects=False)
        assert answer.status_code == 304, tag
        assert answer.content == b""
        assert answer.headers["etag"] == f'"{sha(PDF)}"'
    other = client.get(url, headers={"If-None-Match": '"other"'}, follow_redirects=False)
    assert other.status_code == (307 if mode == "redirect" else 200)


def test_proxy_head_has_the_headers_and_no_body(proxy: TestClient) -> None:
    url = f"/api/v1/objects/{sha(PDF)}"
    get = proxy.get(url)
    head = proxy.head(url)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("content-length", "content-type", "etag", "accept-ranges", "content-disposition"):
        assert head.headers[name] == get.headers[name]
    ranged = proxy.head(url, headers={"Range": "bytes=-10"})
    assert ranged.status_code == 206
    assert ranged.content == b""
    assert ranged.headers["content-range"] == f"bytes {len(PDF) - 10}-{len(PDF) - 1}/{len(PDF)}"
    assert ranged.headers["content-length"] == "10"


def test_html_is_offered_as_a_download_never_shown_in_place(
    make_client: MakeClient, source_id: int
) -> None:
    client = make_client(objects_serve="proxy")
    page = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    upload(client, source_id, page, name="page.html", content_type="text/html")
    answer = client.get(f"/api/v1/objects/{sha(page)}")
    assert answer.headers["content-disposition"].startswith('attachment; filename="page.html"')
    assert answer.headers["x-content-type-options"] == "nosniff"


LARGE = b"%PDF-1.7\n" + hashlib.shake_256(b"large lecture").digest(3 * 1024 * 1024)


class Served:
    """An app in proxy mode on uvicorn with LARGE uploaded; every S3 read it opens is kept,
    to see that each is closed."""

    def __init__(self, app: Any, base: str) -> None:
        self.app = app
        self.url = f"{base}/api/v1/objects/{sha(LARGE)}"
        self.opened: list[ObjectStream] = []
        self.use(app.state.coursefed.objects)

    def use(self, store: ObjectStore) -> None:
        opener = store.open_range

        def open_range(*args: Any, **kwargs: Any) -> ObjectStream:
            stream = opener(*args, **kwargs)
            self.opened.append(stream)
            return stream

        store.open_range = open_range  # type: ignore[method-assign]
        self.app.state.coursefed.objects = store

    def all_closed(self) -> bool:
        return all(stream.closed for stream in self.opened)


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
        yield Served(app, base)


def test_ranges_of_a_large_file_are_exact_on_one_connection(served: Served) -> None:
    size = len(LARGE)
    ranges = [(0, size - 1), (1048576, 3145727), (size - 1048577, size - 1), (5, 9)]
    with httpx.Client() as client:
        for header, (first, last) in zip(
            ["bytes=0-", "bytes=1048576-3145727", "bytes=-1048577", "bytes=5-9"],
            ranges,
            strict=True,
        ):
            answer = client.get(served.url, headers={"Range": header})
            assert answer.status_code == 206, header
            assert answer.headers["content-range"] == f"bytes {first}-{last}/{size}"
            assert answer.content == LARGE[first : last + 1], header
        whole = client.get(served.url)
        assert (whole.status_code, sha(whole.content)) == (200, sha(LARGE))
    assert len(served.opened) == 5
    assert served.all_closed()


def test_downloads_abandoned_midway_close_their_s3_reads(served: Served) -> None:
    """A learner closing the tab mid-file must neither leak the S3 connection behind the
    download nor leave its unread bytes to the next download that takes it."""
    for _ in range(3):
        with httpx.stream("GET", served.url) as partial:
            assert next(partial.iter_raw(65536)) == LARGE[:65536]
    deadline = time.monotonic() + 10
    while not served.all_closed():
        assert time.monotonic() < deadline, "an S3 read stayed open"
        time.sleep(0.05)
    for _ in range(3):
        assert httpx.get(served.url).content == LARGE
        assert httpx.get(served.url, headers={"Range": "bytes=5-9"}).content == LARGE[5:10]


class CutShort:
    """An S3 stand-in for one read: the headers of the whole file, 1 MiB of it, then the
    connection closes: S3 failing mid-download."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._answer, daemon=True).start()

    def _answer(self) -> None:
        with self.server:
            connection, _ = self.server.accept()
            with connection:
                connection.recv(65536)
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                    f"Content-Length: {len(LARGE)}\r\n\r\n"
                )
                connection.sendall(head.encode() + LARGE[: 1024 * 1024])


def test_s3_failing_mid_download_leaves_the_client_a_short_body(
    served: Served, objects_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The learner must see a broken download, never a complete-looking wrong one."""
    cut = CutShort()
    served.use(ObjectStore(objects_settings.model_copy(update={"s3_endpoint": cut.endpoint})))
    with (
        caplog.at_level(logging.WARNING, logger="app.objects.service"),
        pytest.raises(httpx.RemoteProtocolError),
    ):
        httpx.get(served.url)
    assert "S3 stopped mid-download" in caplog.text
    assert served.all_closed()


def test_a_stored_copy_of_another_size_is_503_not_sent(
    served: Served, objects_settings: Settings
) -> None:
    """S3 holding other bytes than the record says (a damaged store) is not passed on."""
    store = ObjectStore(objects_settings)
    store.delete(sha(LARGE))
    store._client.put_object(Bucket=store.bucket, Key=content_key(sha(LARGE)), Body=LARGE[:-1])
    with httpx.Client() as client:
        for headers in ({}, {"Range": "bytes=0-"}, {"Range": "bytes=0-9"}):
            answer = client.get(served.url, headers=headers)
            assert answer.status_code == 503, headers
            assert "does not match its record" in answer.json()["detail"]
    assert served.opened and served.all_closed()


# --- S3 down --------------------------------------------------------------------------------


def test_s3_unreachable_is_503_json(make_client: MakeClient, objects_settings: Settings) -> None:
    engine = make_engine(objects_settings)
    with session_scope(engine) as session:
        repository.upsert_blob(
            session, sha256=sha(PDF), size=len(PDF), media_type="application/pdf", file_name=None
        )
    engine.dispose()
    source = new_source(objects_settings, "offline")
    client = make_client(objects_serve="proxy", s3_endpoint=f"http://127.0.0.1:{free_port()}")
    answer = client.get(f"/api/v1/objects/{sha(PDF)}")
    assert answer.status_code == 503
    assert answer.json()["error"] == "service_unavailable"
    refused = upload(client, source, PDF)
    assert refused.status_code == 503
    assert refused.json()["error"] == "service_unavailable"
    assert spool_files(objects_settings) == []


def test_upload_restores_bytes_a_check_found_missing(
    make_client: MakeClient, objects_settings: Settings, source_id: int
) -> None:
    client = make_client()
    upload(client, source_id, PDF)
    ObjectStore(objects_settings).delete(sha(PDF))
    engine = make_engine(objects_settings)
    with session_scope(engine) as session:
        repository.record_verification(session, sha(PDF), "missing", datetime.now(UTC))
    assert upload(client, source_id, PDF).status_code == 201
    assert ObjectStore(objects_settings).digest(sha(PDF)) == (sha(PDF), len(PDF))
    with session_scope(engine) as session:
        blob = repository.get_blob(session, sha(PDF))
        assert blob is not None
        assert blob.verify_status == "ok"
    engine.dispose()


def test_blob_upsert_keeps_the_first_row_and_fills_a_missing_name(
    objects_settings: Settings,
) -> None:
    engine = make_engine(objects_settings)
    try:
        first, second = Session(engine), Session(engine)
        repository.upsert_blob(
            first, sha256=sha(PDF), size=len(PDF), media_type="application/pdf", file_name=None
        )
        first.commit()
        # A second writer of the same bytes: no integrity error; the first type stands.
        blob = repository.upsert_blob(
            second, sha256=sha(PDF), size=len(PDF), media_type="text/plain", file_name="b.pdf"
        )
        second.commit()
        assert (blob.media_type, blob.file_name) == ("application/pdf", "b.pdf")
        third = Session(engine)
        again = repository.upsert_blob(
            third, sha256=sha(PDF), size=len(PDF), media_type="x/y", file_name="c.pdf"
        )
        third.commit()
        assert again.file_name == "b.pdf"
        for session in (first, second, third):
            session.close()
    finally:
        engine.dispose()


# --- serving: the rows of stored files, remembered for a few seconds -----------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def delete_blob(settings: Settings, digest: str) -> None:
    """Remove a row the way a takedown would: from the database, by another process."""
    engine = make_engine(settings)
    with session_scope(engine) as session:
        blob = repository.get_blob(session, digest)
        assert blob is not None
        session.delete(blob)
    engine.dispose()


@pytest.mark.parametrize("mode", ["redirect", "proxy"])
def test_a_deleted_blob_is_not_served_once_its_cache_entry_expires(
    make_client: MakeClient, objects_settings: Settings, source_id: int, mode: str
) -> None:
    client = make_client(objects_serve=mode)
    clock = Clock()
    client.app.state.coursefed.blobs = BlobCache(30, clock=clock)
    upload(client, source_id, PDF)
    url = f"/api/v1/objects/{sha(PDF)}"
    served = 307 if mode == "redirect" else 200
    assert client.get(url, follow_redirects=False).status_code == served
    delete_blob(objects_settings, sha(PDF))
    clock.now += 29  # remembered: still served, as the setting says
    assert client.get(url, follow_redirects=False).status_code == served
    clock.now += 1
    for method in ("GET", "HEAD"):
        assert client.request(method, url, follow_redirects=False).status_code == 404


def test_without_the_cache_a_deleted_blob_is_404_at_once(
    make_client: MakeClient, objects_settings: Settings, source_id: int
) -> None:
    client = make_client(objects_blob_cache_seconds=0)
    upload(client, source_id, PDF)
    url = f"/api/v1/objects/{sha(PDF)}"
    assert client.get(url, follow_redirects=False).status_code == 307
    delete_blob(objects_settings, sha(PDF))
    assert client.get(url, follow_redirects=False).status_code == 404


def test_a_404_is_not_remembered(make_client: MakeClient, source_id: int) -> None:
    client = make_client()
    url = f"/api/v1/objects/{sha(PDF)}"
    assert client.get(url, follow_redirects=False).status_code == 404
    upload(client, source_id, PDF)
    assert client.get(url, follow_redirects=False).status_code == 307


def test_an_upload_naming_a_nameless_blob_is_served_with_the_name_at_once(
    make_client: MakeClient, objects_settings: Settings, source_id: int
) -> None:
    """Bytes first stored without a name (a link with none) gain one from an upload."""
    put_data(ObjectStore(objects_settings), sha(PDF), PDF, len(PDF), "application/pdf")
    engine = make_engine(objects_settings)
    with session_scope(engine) as session:
        repository.upsert_blob(
            session, sha256=sha(PDF), size=len(PDF), media_type="application/pdf", file_name=None
        )
    engine.dispose()
    client = make_client(objects_serve="proxy")
    url = f"/api/v1/objects/{sha(PDF)}"
    unnamed = client.get(url).headers["content-disposition"]
    assert f'filename="{sha(PDF)[:16]}.pdf"' in unnamed
    assert upload(client, source_id, PDF, name="syllabus.pdf").status_code == 201
    assert 'filename="syllabus.pdf"' in client.get(url).headers["content-disposition"]

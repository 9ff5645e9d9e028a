"""The content-addressed S3 store against a real SeaweedFS, each test in a bucket of its own."""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from pydantic import SecretStr

from app.objects.store import (
    MiB,
    ObjectNotFound,
    ObjectStore,
    ObjectStoreError,
    content_key,
)
from app.settings import Settings

pytestmark = pytest.mark.services


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bucket_keys(store: ObjectStore) -> list[str]:
    """Every key in the store's bucket, as S3 lists it."""
    pages = store._client.get_paginator("list_objects_v2").paginate(Bucket=store.bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def remove_bucket(settings: Settings) -> None:
    """Empty and remove a test's bucket: SeaweedFS gives each bucket a volume of its own,
    and a disk holds only so many (one per free GB), so a session must not keep them all."""
    client = ObjectStore(settings)._client
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=settings.s3_bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=settings.s3_bucket, Key=item["Key"])
        client.delete_bucket(Bucket=settings.s3_bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise


@pytest.fixture
def store_settings(live_services: Settings) -> Iterator[Settings]:
    settings = live_services.model_copy(update={"s3_bucket": f"store-{uuid.uuid4().hex[:12]}"})
    yield settings
    remove_bucket(settings)


@pytest.fixture
def store(store_settings: Settings) -> ObjectStore:
    created = ObjectStore(store_settings)
    created.ensure_bucket()
    return created


def count_calls(store: ObjectStore, *operations: str) -> list[str]:
    """Every S3 operation of ``operations`` the store's client sends from now on."""
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    for operation in operations:
        store._client.meta.events.register(f"before-call.s3.{operation}", record)
    return calls


def put_data(store: ObjectStore, sha256: str, data: bytes, size: int, media_type: str) -> None:
    """``put_file`` of ``data``, spooled to a temporary file as the fetcher spools."""
    with tempfile.NamedTemporaryFile() as spool:
        spool.write(data)
        spool.flush()
        store.put_file(sha256, Path(spool.name), size, media_type)


def put_bytes(store: ObjectStore, data: bytes, media_type: str = "application/pdf") -> str:
    digest = sha(data)
    put_data(store, digest, data, len(data), media_type)
    return digest


def test_content_key_fans_out_by_the_first_hex_digits() -> None:
    digest = sha(b"x")
    assert content_key(digest) == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}"
    for bad in ("", digest.upper(), digest[:63], digest + "0", "../" + digest[3:]):
        with pytest.raises(ValueError, match="not a sha256"):
            content_key(bad)


def test_put_then_exists_head_read_and_delete(store: ObjectStore) -> None:
    data = b"%PDF-1.7 lecture notes\n" * 100
    digest = sha(data)
    assert not store.exists(digest)
    put_bytes(store, data)
    assert store.exists(digest)
    info = store.head(digest)
    assert (info.size, info.media_type) == (len(data), "application/pdf")
    assert b"".join(store.open_range(digest).chunks()) == data
    assert store.digest(digest) == (digest, len(data))
    assert bucket_keys(store) == [content_key(digest)]
    store.delete(digest)
    assert not store.exists(digest)
    store.delete(digest)  # deleting what is gone is not an error
    assert bucket_keys(store) == []


def test_same_bytes_twice_are_one_key(store: ObjectStore) -> None:
    data = b"the same video twice"
    first = put_bytes(store, data, "video/mp4")
    second = put_bytes(store, data, "video/mp4")
    assert first == second
    assert bucket_keys(store) == [content_key(first)]


def test_large_file_goes_up_in_parts(store_settings: Settings, tmp_path: Path) -> None:
    # boto3 raises any part size to S3's minimum of 5 MiB: 6 MiB makes two parts.
    store = ObjectStore(store_settings, multipart_threshold=1 * MiB)
    store.ensure_bucket()
    data = os.urandom(6 * MiB)
    path = tmp_path / "lecture.mp4"
    path.write_bytes(data)
    calls = count_calls(store, "PutObject", "CreateMultipartUpload", "UploadPart")
    store.put_file(sha(data), path, len(data), "video/mp4")
    assert calls.count("UploadPart") == 2
    assert "PutObject" not in calls
    assert (store.head(sha(data)).etag or "").strip('"').endswith("-2")
    assert store.digest(sha(data)) == (sha(data), len(data))


def capture_params(store: ObjectStore, operation: str) -> list[dict[str, Any]]:
    """The parameters of every ``operation`` the store's client sends from now on."""
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append({k: v for k, v in params.items() if k != "Body"})

    store._client.meta.events.register(f"provide-client-params.s3.{operation}", record)
    return sent


def test_small_file_goes_up_in_one_put_carrying_its_sha256(store: ObjectStore) -> None:
    calls = count_calls(store, "PutObject", "CreateMultipartUpload", "HeadObject")
    sent = capture_params(store, "PutObject")
    digest = put_bytes(store, b"%PDF-1.7 short", "application/pdf")
    assert calls == ["PutObject"]  # no transfer manager, no HEAD afterwards
    assert sent[0]["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(digest)).decode()
    info = store.head(digest)
    assert (info.size, info.media_type) == (14, "application/pdf")
    assert b"".join(store.open_range(digest).chunks()) == b"%PDF-1.7 short"


def test_bytes_that_are_not_what_their_sha256_says_are_refused_by_s3(store: ObjectStore) -> None:
    """Bytes changed between hashing and S3 (a bad spool, a bug) never land under the key."""
    data = b"%PDF-1.7 what was downloaded"
    claimed = sha(b"%PDF-1.7 what was hashed")
    with pytest.raises(ObjectStoreError, match="BadDigest"):
        put_data(store, claimed, data, len(data), "application/pdf")
    assert not store.exists(claimed)


def test_stores_that_refuse_checksums_can_be_sent_none(store_settings: Settings) -> None:
    store = ObjectStore(store_settings.model_copy(update={"s3_checksums": False}))
    store.ensure_bucket()
    sent = capture_params(store, "PutObject")
    data = b"%PDF-1.7 unchecked"
    put_data(store, sha(data), data, len(data), "application/pdf")
    assert "ChecksumSHA256" not in sent[0]
    assert store.digest(sha(data)) == (sha(data), len(data))


def test_the_parts_of_a_large_file_carry_checksums_s3_checks(
    store_settings: Settings, tmp_path: Path
) -> None:
    store = ObjectStore(store_settings, multipart_threshold=1 * MiB)
    store.ensure_bucket()
    data = os.urandom(6 * MiB)
    path = tmp_path / "lecture.mp4"
    path.write_bytes(data)
    parts = capture_params(store, "UploadPart")
    store.put_file(sha(data), path, len(data), "video/mp4")
    assert [part["ChecksumAlgorithm"] for part in parts] == ["SHA256", "SHA256"]
    stored = store._client.head_object(
        Bucket=store.bucket, Key=content_key(sha(data)), ChecksumMode="ENABLED"
    )
    assert stored["ChecksumSHA256"].endswith("-2")  # S3's checksum of the two parts' ones


def test_a_put_with_the_wrong_secret_is_refused(store_settings: Settings) -> None:
    wrong = store_settings.model_copy(update={"s3_secret_key": SecretStr("not-the-secret")})
    data = b"%PDF-1.7 refused"
    with pytest.raises(ObjectStoreError, match="SignatureDoesNotMatch"):
        put_data(ObjectStore(wrong), sha(data), data, len(data), "application/pdf")


def test_truncated_upload_is_an_error_not_an_object(store: ObjectStore) -> None:
    data = b"0123456789"
    with pytest.raises(ObjectStoreError, match="10 were sent"):
        put_data(store, sha(data), data[:5], len(data), "text/plain")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(0, 0, slice(0, 1)), (10, 19, slice(10, 20)), (990, None, slice(990, None))],
)
def test_open_range_returns_exactly_those_bytes(
    store: ObjectStore, start: int, end: int | None, expected: slice
) -> None:
    data = bytes(range(256)) * 4
    digest = put_bytes(store, data)
    stream = store.open_range(digest, start, end)
    assert b"".join(stream.chunks(7)) == data[expected]
    assert (stream.start, stream.total) == (start, len(data))
    assert stream.length == len(data[expected])


def test_a_stream_closed_halfway_leaves_the_next_read_whole(store: ObjectStore) -> None:
    """Unread bytes of an abandoned read must never reach the next request."""
    data = os.urandom(3 * MiB)
    digest = put_bytes(store, data)
    for _ in range(3):
        stream = store.open_range(digest)
        assert stream.read(1000) == data[:1000]
        stream.close()
        assert stream.done
        assert store.digest(digest) == (digest, len(data))
        assert b"".join(store.open_range(digest, 5, 9).chunks()) == data[5:10]


def test_an_empty_object_reads_as_nothing(store: ObjectStore) -> None:
    digest = put_bytes(store, b"", "text/plain")
    stream = store.open_range(digest)
    assert (stream.length, stream.total, stream.done) == (0, 0, True)
    assert list(stream.chunks()) == []
    assert store.digest(digest) == (digest, 0)  # and the connection serves the next read


def test_a_missing_bucket_is_an_error_not_a_missing_object(store_settings: Settings) -> None:
    store = ObjectStore(store_settings.model_copy(update={"s3_bucket": "no-such-bucket-here"}))
    with pytest.raises(ObjectStoreError) as caught:
        store.open_range(sha(b"x"))
    assert not isinstance(caught.value, ObjectNotFound)


def test_presigned_url_serves_the_bytes_with_name_and_type(store: ObjectStore) -> None:
    data = b"%PDF-1.4 syllabus"
    digest = put_bytes(store, data, "application/pdf")
    url = store.presigned_get(
        digest, file_name="数据结构 讲义.pdf", media_type="application/pdf", expires=60
    )
    assert url.startswith(f"{store.endpoint}/{store.bucket}/{content_key(digest)}?")
    answer = httpx.get(url)  # a plain client: no credentials, not our app
    assert answer.status_code == 200
    assert answer.content == data
    assert answer.headers["content-type"] == "application/pdf"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('inline; filename="download.pdf"; ')
    assert "filename*=UTF-8''%E6%95%B0%E6%8D%AE%E7%BB%93%E6%9E%84%20%E8%AE%B2%E4%B9%89.pdf" in (
        disposition
    )


def test_presigned_url_cannot_be_stretched(store: ObjectStore) -> None:
    digest = put_bytes(store, b"soon gone")
    url = store.presigned_get(digest, file_name="a.txt", media_type="text/plain", expires=1)
    tampered = url.replace("X-Amz-Expires=1", "X-Amz-Expires=3600")
    assert httpx.get(tampered).status_code == 403


def test_presigned_urls_name_the_public_endpoint(store_settings: Settings) -> None:
    public = "https://files.example.edu.cn"
    store = ObjectStore(store_settings.model_copy(update={"s3_public_endpoint": public}))
    url = store.presigned_get(sha(b"x"), file_name=None, media_type=None, expires=300)
    assert url.startswith(f"{public}/{store.bucket}/sha256/")
    assert "X-Amz-Expires=300" in url


@pytest.mark.parametrize(
    "call",
    [
        lambda s, d: s.head(d),
        lambda s, d: s.open_range(d),
        lambda s, d: s.open_range(d, 5, 9),
        lambda s, d: s.digest(d),
    ],
    ids=["head", "open", "open_range", "digest"],
)
def test_missing_object_is_object_not_found(
    store: ObjectStore, call: Callable[[ObjectStore, str], object]
) -> None:
    with pytest.raises(ObjectNotFound):
        call(store, sha(b"never stored"))


def test_unreachable_store_raises_our_error(store_settings: Settings) -> None:
    from tests.services_plugin import free_port  # noqa: PLC0415

    closed = store_settings.model_copy(update={"s3_endpoint": f"http://127.0.0.1:{free_port()}"})
    store = ObjectStore(closed, connect_timeout=0.5)
    digest = sha(b"x")
    for call in (
        lambda: store.exists(digest),
        lambda: put_data(store, digest, b"x", 1, "text/plain"),
        lambda: store.open_range(digest),
        store.ensure_bucket,
        lambda: store.delete(digest),
    ):
        with pytest.raises(ObjectStoreError) as caught:
            call()
        assert not isinstance(caught.value, ObjectNotFound)

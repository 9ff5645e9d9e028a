"""The S3 object store behind a small interface, through boto3; its errors are translated here.

Content is stored once under its sha256 (``sha256/ab/cd/<sha256>``).  Every method raises
``ObjectNotFound`` for a key S3 does not hold and ``ObjectStoreError`` for anything else
(S3 down, bucket missing, refused credentials, a read cut short): no botocore error leaves.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.objects.http import content_disposition
from app.settings import Settings

MiB = 1024 * 1024
# Above this size uploads go up in parts, several at once.  S3 refuses parts under 5 MiB
# (but the last), and boto3 raises a smaller chunk size to that minimum by itself.
MULTIPART_THRESHOLD = 16 * MiB
MAX_CONCURRENCY = 8
# Bytes per read while proxying: each read is a hop to a worker thread.
STREAM_CHUNK = MiB

# A key never stored: S3 answering NoSuchKey for it shows S3 works, with our credentials
# and bucket (what a presigned download needs), at the cost of one request.
PROBE_KEY = "coursefed-availability-probe"

_SHA256 = re.compile(r"[0-9a-f]{64}")
# NoSuchBucket is not among them: a missing bucket is the store failing, not a missing object.
_MISSING_KEY_CODES = {"404", "NoSuchKey", "NotFound"}
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class ObjectStoreError(Exception):
    """The object store failed or could not be reached."""


class ObjectNotFound(ObjectStoreError):
    """S3 holds nothing under this object's key."""


def is_sha256(value: str) -> bool:
    """64 lowercase hexadecimal digits."""
    return _SHA256.fullmatch(value) is not None


def content_key(sha256: str) -> str:
    """``sha256/ab/cd/<sha256>``: two fan-out levels keep listings and prefixes small."""
    if not is_sha256(sha256):
        raise ValueError(f"not a sha256 in lowercase hex: {sha256!r}")
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    media_type: str | None
    etag: str | None  # S3's own; a multipart upload's ends in ``-<parts>``


class ObjectStream:
    """An open S3 GET: what a proxy needs for its headers, and the bytes, read once;
    ``close()`` before the last byte drops the connection (its unread bytes must not
    reach the next request on it)."""

    def __init__(
        self,
        body: Any,
        span: tuple[int, int, int],
        translated: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self._body = body  # botocore's StreamingBody
        self.start, last, self.total = span  # last is inclusive: start - 1 for no bytes
        self.length = last - self.start + 1
        self._left = self.length
        self._translated = translated
        self.closed = False
        if not self._left:
            self.close()

    @property
    def done(self) -> bool:
        """Every byte has been read (or the stream was closed)."""
        return self._left <= 0

    def read(self, size: int = STREAM_CHUNK) -> bytes:
        """The next at most ``size`` bytes; ``b""`` once every byte was read."""
        if self._left <= 0:
            return b""
        try:
            with self._translated():  # a read cut short is botocore's IncompleteReadError
                chunk: bytes = self._body.read(min(size, self._left))
        except ObjectStoreError:
            self.close()
            raise
        self._left -= len(chunk)
        return chunk

    def chunks(self, size: int = STREAM_CHUNK) -> Iterator[bytes]:
        """The bytes in chunks of ``size``; the stream is closed at the end."""
        try:
            while chunk := self.read(size):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._left = 0
            self._body.close()


class Availability:
    """What this process last learned of S3, trusted for ``fresh_seconds``: downloads and
    uploads record it, and a redirect to S3 consults it instead of asking S3 each time."""

    def __init__(self, fresh_seconds: float) -> None:
        self.fresh_seconds = fresh_seconds
        self.up = True
        self._at = -float("inf")
        self.probing = threading.Lock()

    def record(self, *, up: bool) -> None:
        self.up = up
        self._at = time.monotonic()

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Record whether S3 answered the calls made inside (a missing key is an answer)."""
        try:
            yield
        except ObjectStoreError as exc:
            self.record(up=isinstance(exc, ObjectNotFound))
            raise
        self.record(up=True)

    @property
    def fresh(self) -> bool:
        return time.monotonic() - self._at < self.fresh_seconds


_SESSION: boto3.session.Session | None = None
_SESSION_LOCK = threading.Lock()


def _client(**options: Any) -> Any:
    """An S3 client from one process-wide session, which parses the service model once
    for every client.  Sessions are not thread-safe; client creation is serialised."""
    global _SESSION  # noqa: PLW0603 - one lazily built session per process
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = boto3.session.Session()
        return _SESSION.client("s3", **options)


class ObjectStore:
    """One bucket of content-addressed objects, through one boto3 client per store."""

    def __init__(
        self,
        settings: Settings,
        *,
        connect_timeout: float = 3.0,
        multipart_threshold: int = MULTIPART_THRESHOLD,
    ) -> None:
        self.bucket = settings.s3_bucket
        self.endpoint = settings.resolved_s3_endpoint
        self.region = settings.s3_region
        self.checksums = settings.s3_checksums
        self.availability = Availability(settings.objects_s3_fresh_seconds)
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # Over plain HTTP botocore would hash every body again to sign it; the checksum
            # we send (or botocore computes for each part) already lets S3 check the bytes.
            s3={
                "addressing_style": "path",
                **({"payload_signing_enabled": False} if self.checksums else {}),
            },
            signature_version="s3v4",
            # Proxied downloads each hold a connection while they stream, and a multipart
            # upload holds one per part in flight: keep enough of them pooled.
            max_pool_connections=max(32, 4 * MAX_CONCURRENCY),
            tcp_keepalive=True,
            # Only the checksums S3 requires, and the ones we send: S3-compatible stores
            # differ in which of botocore's newer default ones they accept.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        credentials: dict[str, str | None] = {}
        if settings.s3_access_key:  # else boto3 finds them itself (environment, instance role)
            token = settings.s3_session_token
            credentials = {
                "aws_access_key_id": settings.s3_access_key,
                "aws_secret_access_key": settings.s3_secret_key.get_secret_value(),
                "aws_session_token": token.get_secret_value() if token else None,
            }
        options = {"config": config, "region_name": settings.s3_region, **credentials}
        self._client: Any = _client(endpoint_url=self.endpoint, **options)
        # Presigning needs no network, but the URL must name a host learners can reach.
        self.public_endpoint = settings.s3_public_endpoint or self.endpoint
        self._public: Any = (
            self._client
            if self.public_endpoint == self.endpoint
            else _client(endpoint_url=self.public_endpoint, **options)
        )
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(multipart_threshold, 5 * MiB),
            max_concurrency=MAX_CONCURRENCY,
            io_chunksize=MiB,
            preferred_transfer_client="classic",
        )

    def close(self) -> None:
        """Close the pooled connections (a store is otherwise kept for the process)."""
        self._client.close()
        self._public.close()

    @contextmanager
    def _translated(self, action: str, key: str | None = None) -> Iterator[None]:
        """botocore's and boto3's errors as ours; NoSuchKey of ``key`` as ObjectNotFound."""
        try:
            yield
        except (ClientError, BotoCoreError, Boto3Error, OSError) as exc:
            what = f"{action} {key or 'objects'} in bucket {self.bucket!r} at {self.endpoint}"
            error = exc.response.get("Error", {}) if isinstance(exc, ClientError) else {}
            if key is not None and error.get("Code") in _MISSING_KEY_CODES:
                raise ObjectNotFound(f"{what}: no such object") from exc
            raise ObjectStoreError(f"{what}: {exc}") from exc

    # --- the bucket ---------------------------------------------------------------------

    def check(self) -> None:
        """Raise ``ObjectStoreError`` unless the bucket is reachable."""
        with self.availability.watching(), self._translated("check"):
            self._client.head_bucket(Bucket=self.bucket)

    def probe(self) -> None:
        """Read ``PROBE_KEY``: ``ObjectStoreError`` unless S3 answers that it has no such
        object, which proves what a presigned download needs (S3 answers, and knows our
        bucket and credentials).  The outcome is recorded in ``availability``."""
        watched = self.availability.watching()
        with suppress(ObjectNotFound), watched, self._translated("probe", PROBE_KEY):
            self._client.get_object(Bucket=self.bucket, Key=PROBE_KEY)["Body"].close()

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (safe when two callers race to create it)."""
        with self._translated("create"):
            try:
                self._client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket"}:
                    raise
            where = {"LocationConstraint": self.region}
            extra = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": where}
            # Another caller may have created it between our check and our create.
            with suppress(self._client.exceptions.BucketAlreadyOwnedByYou):
                self._client.create_bucket(Bucket=self.bucket, **extra)

    # --- objects ------------------------------------------------------------------------

    def exists(self, sha256: str) -> bool:
        try:
            self.head(sha256)
        except ObjectNotFound:
            return False
        return True

    def head(self, sha256: str) -> ObjectInfo:
        with self._translated("head", sha256):
            found = self._client.head_object(Bucket=self.bucket, Key=content_key(sha256))
        return ObjectInfo(int(found["ContentLength"]), found.get("ContentType"), found.get("ETag"))

    def put_file(self, sha256: str, path: Path, size: int, media_type: str) -> None:
        """Store the file at ``path``, whose sha256 and size the caller computed.

        Smaller files go up in one ``PutObject`` carrying that sha256 for S3 to check
        (``s3_checksums``).  Larger ones go up in parts, several at once, read from disk
        as they are sent, each with a checksum S3 checks; their stored size is checked.
        """
        key = content_key(sha256)
        if size < self._transfer.multipart_threshold:
            digest = base64.b64encode(bytes.fromhex(sha256)).decode()  # S3's is base64, ours hex
            checksum = {"ChecksumSHA256": digest} if self.checksums else {}
            with path.open("rb") as body:
                held = os.fstat(body.fileno()).st_size
                if held != size:
                    raise ObjectStoreError(
                        f"the file for {key} holds {held} bytes, {size} were sent"
                    )
                with self._translated("store", sha256):
                    self._client.put_object(
                        Bucket=self.bucket,
                        Key=key,
                        Body=body,
                        ContentLength=size,
                        ContentType=media_type,
                        **checksum,
                    )
            return
        extra = {"ContentType": media_type}
        if self.checksums:
            extra["ChecksumAlgorithm"] = "SHA256"
        with self._translated("store", sha256):
            self._client.upload_file(
                str(path), self.bucket, key, ExtraArgs=extra, Config=self._transfer
            )
        stored = self.head(sha256).size
        if stored != size:
            raise ObjectStoreError(f"S3 holds {stored} bytes for {key}, {size} were sent")

    def presigned_get(
        self,
        sha256: str,
        *,
        file_name: str | None,
        media_type: str | None,
        expires: int,
        cache_control: str | None = None,
        internal: bool = False,
        attachment: bool = False,
    ) -> str:
        """A URL that fetches the object for ``expires`` seconds, without credentials: at
        the public endpoint, or the S3 endpoint itself if ``internal`` (for nginx's
        ``X-Accel-Redirect``).  S3 answers it with our Content-Type, Content-Disposition
        (``attachment`` if asked) and ``cache_control``; only a successful answer has them.
        """
        params = {
            "Bucket": self.bucket,
            "Key": content_key(sha256),
            "ResponseContentDisposition": content_disposition(
                file_name, media_type, sha256, attachment=attachment
            ),
        }
        if media_type:
            params["ResponseContentType"] = media_type
        if cache_control:
            params["ResponseCacheControl"] = cache_control
        client = self._client if internal else self._public
        with self._translated("sign", sha256):
            url: str = client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)
        return url

    def open_range(
        self, sha256: str, start: int | None = None, end: int | None = None
    ) -> ObjectStream:
        """Open the object's bytes ``start``..``end`` (inclusive; None: from the start, to the
        end).  The caller reads ``chunks()`` to the end or calls ``close()``."""
        extra = {} if start is None else {"Range": f"bytes={start}-{'' if end is None else end}"}
        translated = partial(self._translated, "read", sha256)
        with translated():
            found = self._client.get_object(Bucket=self.bucket, Key=content_key(sha256), **extra)
        try:
            return ObjectStream(found["Body"], _span(found, start, end), translated)
        except ObjectStoreError as exc:
            found["Body"].close()
            raise ObjectStoreError(f"read {sha256} in bucket {self.bucket!r}: {exc}") from None

    def digest(self, sha256: str, out: BinaryIO | None = None) -> tuple[str, int]:
        """Re-read the stored bytes (into ``out`` if given): their actual sha256 and size."""
        hasher = hashlib.sha256()
        size = 0
        for chunk in self.open_range(sha256).chunks():
            hasher.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
        return hasher.hexdigest(), size

    def listing(self) -> Iterator[tuple[str, int]]:
        """(sha256, size) of every content-addressed object in the bucket, as S3 lists them."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix="sha256/"
        )
        with self._translated("list"):
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if is_sha256(name) and item["Key"] == content_key(name):
                        yield name, int(item["Size"])

    def get_file(self, sha256: str, path: Path) -> tuple[str, int]:
        """Write the stored bytes to ``path`` (never half of them: through a ``.partial``
        file renamed at the end); their actual sha256 and size."""
        partial_path = path.with_name(path.name + ".partial")
        try:
            with partial_path.open("wb") as out:
                found = self.digest(sha256, out)
            partial_path.replace(path)
        finally:
            partial_path.unlink(missing_ok=True)
        return found

    def delete(self, sha256: str) -> None:
        """Remove the object; removing one that is not there is not an error."""
        with self._translated("delete", sha256):
            self._client.delete_object(Bucket=self.bucket, Key=content_key(sha256))


def _span(found: dict[str, Any], start: int | None, end: int | None) -> tuple[int, int, int]:
    """(first, last, total) of the bytes of a GetObject answer; an error unless they are
    what was asked for and the body is as long as they are."""
    length = int(found.get("ContentLength", -1))
    span = _CONTENT_RANGE.fullmatch(found.get("ContentRange") or "")
    if span:
        begin, finish, size = (int(n) for n in span.groups())
    elif start in {None, 0} and (end is None or end >= length - 1):
        # The whole object: asked for, or how S3 may answer a range that spans it.
        begin, finish, size = 0, length - 1, length
    else:
        raise ObjectStoreError("S3 answered without the range asked for")
    if length != finish - begin + 1:
        raise ObjectStoreError(f"S3 sent {length} bytes for {begin}-{finish}")
    return begin, finish, size

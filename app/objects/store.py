"""The S3 object store behind a small interface; boto3 errors are translated here.

Content is stored once under its sha256 (``sha256/ab/cd/<sha256>``): the same bytes
fetched from two sources, or uploaded twice, are one S3 object.  Every method raises
``ObjectNotFound`` for a key S3 does not hold and ``ObjectStoreError`` for anything
else that goes wrong (S3 down, bucket missing, refused credentials); no botocore or
boto3 exception leaves this module.

Reads (``open_range``, so proxied downloads and checks), presigned URLs and single-request
uploads skip boto3: they are signed by ``app.objects.presign`` and sent on a urllib3 pool
of our own, which costs a fraction of the CPU of a botocore call per request.  Everything
else (multipart uploads, heads, listings, deletes) goes through boto3.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import boto3
import urllib3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.httpsession import get_cert_path

from app.objects.http import content_disposition
from app.objects.presign import Presigner
from app.settings import Settings

MiB = 1024 * 1024
# Above this size uploads go up in parts, several at once.  S3 refuses parts under 5 MiB
# (but the last), and boto3 raises a smaller chunk size to that minimum by itself.
MULTIPART_THRESHOLD = 16 * MiB
MAX_CONCURRENCY = 8
# Bytes per read while proxying.  Each read is a hop to a worker thread: reads of 256 KiB
# held proxied 50 MiB downloads to about 70 % of the speed that reads of 1 MiB reach.
STREAM_CHUNK = MiB
KEY_PREFIX = "sha256/"
READ_TIMEOUT = 30.0
POOL_CONNECTIONS = 32
# A read's URL is used at once: a minute covers clock steps and retries.
READ_URL_SECONDS = 60
MAX_HEAD_BYTES = 64 * 1024

# A key never stored: a signed read of it that S3 answers 404 shows S3 works, with our
# credentials and bucket (what a presigned download needs), at the cost of one request.
PROBE_KEY = "coursefed-availability-probe"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_MISSING_KEY_CODES = {"404", "NoSuchKey", "NotFound"}
_ERROR_CODE = re.compile(rb"<Code>([^<]{1,100})</Code>")
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
    return f"{KEY_PREFIX}{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    media_type: str | None
    etag: str | None  # S3's own; a multipart upload's ends in ``-<parts>``


class ObjectStream:
    """An open S3 GET: what a proxy needs for its headers, and the bytes, read once.

    The connection goes back to the pool after the last byte; ``close()`` before that
    drops it (its unread bytes must not reach the next request on it).
    """

    def __init__(
        self,
        response: urllib3.BaseHTTPResponse,
        *,
        start: int,
        end: int,
        total: int,
        media_type: str | None,
        what: str,
    ) -> None:
        self._response = response
        self.start = start
        self.end = end  # inclusive; start - 1 for an empty object
        self.total = total
        self.media_type = media_type
        self._left = self.length
        self._what = what
        if not self._left:
            response.drain_conn()  # lets the connection serve the next request
            self.close()

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def done(self) -> bool:
        """Every byte has been read (or the stream was closed)."""
        return self._left <= 0

    def read(self, size: int = STREAM_CHUNK) -> bytes:
        """The next at most ``size`` bytes; ``b""`` once every byte was read."""
        if self._left <= 0:
            return b""
        try:
            chunk = self._response.read(min(size, self._left), decode_content=False)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self.close()
            raise ObjectStoreError(f"reading {self._what} from S3 failed: {exc}") from exc
        if not chunk:
            self.close()
            raise ObjectStoreError(f"S3 ended {self._what} {self._left} bytes short")
        self._left -= len(chunk)
        return chunk

    def chunks(self, size: int = STREAM_CHUNK) -> Iterator[bytes]:
        """The bytes in chunks of ``size``; the connection is released at the end."""
        try:
            while chunk := self.read(size):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if self._left > 0:
            self._left = 0
            self._response.close()  # unread bytes: the connection cannot be reused
        self._response.release_conn()


class SocketStream:
    """An S3 GET on a connection of its own: its socket, and the body bytes already read."""

    def __init__(
        self,
        sock: socket.socket,
        *,
        prefix: bytes,
        start: int,
        end: int,
        total: int,
        media_type: str | None,
    ) -> None:
        self.socket = sock
        self.prefix = prefix
        self.start = start
        self.end = end  # inclusive
        self.total = total
        self.media_type = media_type

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def unread(self) -> int:
        """Bytes still in the socket after ``prefix``."""
        return self.length - len(self.prefix)

    def close(self) -> None:
        self.socket.close()


def _read_refused(status: int, body: bytes, what: str) -> ObjectStoreError:
    """The error for an S3 answer to a read other than 200 or 206."""
    found = _ERROR_CODE.search(body)
    code = found.group(1).decode("ascii", "replace") if found else str(status)
    if code in _MISSING_KEY_CODES:  # but not NoSuchBucket
        return ObjectNotFound(f"read {what}: no such object")
    return ObjectStoreError(f"read {what}: S3 answered HTTP {status} ({code})")


def _span(
    status: int, header: Callable[[str], str | None], what: str, start: int | None, end: int | None
) -> tuple[int, int, int]:
    """(first, last, total) of the bytes S3 answered with; an error unless they are what
    was asked for and the body is as long as they are.  ``header`` looks a header up."""
    declared = header("Content-Length") or ""
    length = int(declared) if declared.isdigit() else -1
    span = _CONTENT_RANGE.fullmatch(header("Content-Range") or "")
    if status == 206 and span:
        begin, finish, size = (int(n) for n in span.groups())
    elif (
        status == 200 and length >= 0 and start in {None, 0} and (end is None or end >= length - 1)
    ):
        # The whole object: asked for, or how S3 may answer a range that spans it.
        begin, finish, size = 0, length - 1, length
    else:
        raise ObjectStoreError(
            f"read {what}: S3 answered HTTP {status} without the range asked for"
        )
    if length != finish - begin + 1:
        raise ObjectStoreError(f"read {what}: S3 sent {length} bytes for {begin}-{finish}")
    return begin, finish, size


def _read_head(sock: socket.socket) -> tuple[int, Message, bytes]:
    """Status, headers and the bytes read past them, of an HTTP/1.1 answer on ``sock``."""
    data = b""
    while (ends := data.find(b"\r\n\r\n")) < 0:
        if len(data) > MAX_HEAD_BYTES:
            raise ObjectStoreError(f"an S3 answer's headers pass {MAX_HEAD_BYTES} bytes")
        more = sock.recv(65536)
        if not more:
            raise ObjectStoreError("S3 closed the connection before answering")
        data += more
    status_line, _, head = data[:ends].partition(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or not code.isdigit():
        raise ObjectStoreError(f"S3 answered with no HTTP status line: {status_line[:80]!r}")
    headers = http.client.parse_headers(io.BytesIO(head + b"\r\n\r\n"))
    return int(code), headers, data[ends + 4 :]


class Availability:
    """What this process last learned of S3, trusted for ``fresh_seconds``.

    Every check and every S3 read or upload of a download or upload records its outcome;
    a redirect to S3 consults it instead of asking S3 each time, and probes S3 again only
    once the last word is stale (one probe at a time).
    """

    def __init__(self, fresh_seconds: float) -> None:
        self.fresh_seconds = fresh_seconds
        self.up = True
        self._at = -float("inf")
        self.probing = threading.Lock()

    def record(self, *, up: bool) -> None:
        self.up = up
        self._at = time.monotonic()

    @property
    def fresh(self) -> bool:
        return time.monotonic() - self._at < self.fresh_seconds


_SESSION: boto3.session.Session | None = None
_SESSION_LOCK = threading.Lock()


def _client(**options: Any) -> Any:
    """An S3 client from one process-wide session: its parsed service model is shared,
    so a client costs milliseconds instead of the ~0.2 s a fresh session takes.  Sessions
    are not thread-safe; client creation is serialised (the clients themselves are)."""
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
        max_concurrency: int = MAX_CONCURRENCY,
    ) -> None:
        self.bucket = settings.s3_bucket
        self.endpoint = settings.resolved_s3_endpoint
        self._endpoint = urlsplit(self.endpoint)
        self._connect_timeout = connect_timeout
        self.region = settings.s3_region
        self.availability = Availability(settings.objects_s3_fresh_seconds)
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            # Proxied downloads each hold a connection while they stream, and a multipart
            # upload holds one per part in flight: keep enough of them pooled.
            max_pool_connections=max(32, 4 * max_concurrency),
            tcp_keepalive=True,
            # Only the checksums S3 requires: S3-compatible stores differ in which of the
            # newer default ones they accept, and every object is verified by its sha256.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        secret = settings.s3_secret_key.get_secret_value()
        credentials = {
            "aws_access_key_id": settings.s3_access_key,
            "aws_secret_access_key": secret,
            "region_name": settings.s3_region,
        }
        self._client: Any = _client(endpoint_url=self.endpoint, config=config, **credentials)
        signing = {
            "bucket": self.bucket,
            "region": self.region,
            "access_key": settings.s3_access_key,
            "secret_key": secret,
        }
        self._signer = Presigner(self.endpoint, **signing)
        # Presigning needs no network, but the URL must name a host learners can reach.
        self.public_endpoint = settings.s3_public_endpoint or self.endpoint
        self._public_signer = Presigner(self.public_endpoint, **signing)
        https = {"ca_certs": get_cert_path(True)}  # the CA bundle botocore verifies S3 with
        self._http = urllib3.connection_from_url(
            self.endpoint,
            maxsize=POOL_CONNECTIONS,
            timeout=urllib3.Timeout(connect=connect_timeout, read=READ_TIMEOUT),
            # As botocore's standard mode: connection failures, a dropped pooled
            # connection and S3's transient 5xx answers are tried again, briefly.
            retries=urllib3.Retry(
                total=3,
                connect=2,
                read=1,
                status=2,
                other=0,
                redirect=0,
                status_forcelist=(500, 502, 503, 504),
                backoff_factor=0.1,
                raise_on_status=False,
            ),
            **(https if self._endpoint.scheme == "https" else {}),
        )
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=max(multipart_threshold, 5 * MiB),
            max_concurrency=max_concurrency,
            io_chunksize=MiB,
            use_threads=True,
            preferred_transfer_client="classic",
        )

    def close(self) -> None:
        """Close the pooled connections (a store is otherwise kept for the process)."""
        self._client.close()
        self._http.close()

    # --- the bucket ---------------------------------------------------------------------

    def check(self) -> None:
        """Raise ``ObjectStoreError`` unless the bucket is reachable."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            self.availability.record(up=False)
            raise ObjectStoreError(f"S3 bucket {self.bucket!r} at {self.endpoint}: {exc}") from exc
        self.availability.record(up=True)

    def probe(self) -> None:
        """One signed read of ``PROBE_KEY``: ``ObjectStoreError`` unless S3 answers it.

        Cheaper than ``check`` (no botocore, a pooled connection), and it proves what a
        presigned download needs: S3 answers, and knows our bucket and credentials.
        The outcome is recorded in ``availability``.
        """
        what = f"probe bucket {self.bucket!r} at {self.endpoint}"
        target = self._signer.target(PROBE_KEY, expires=READ_URL_SECONDS)
        try:
            response = self._http.urlopen("GET", target, preload_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            self.availability.record(up=False)
            raise ObjectStoreError(f"{what}: {exc}") from exc
        if response.status != 200:
            refused = _read_refused(response.status, response.data[:4096], what)
            if not isinstance(refused, ObjectNotFound):
                self.availability.record(up=False)
                raise refused
        self.availability.record(up=True)

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (safe when two callers race to create it)."""
        try:
            try:
                self._client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket"}:
                    raise
            extra = (
                {}
                if self.region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
            )
            try:
                self._client.create_bucket(Bucket=self.bucket, **extra)
            except ClientError as exc:
                # Another caller may have created it between our check and our create.
                if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(
                f"bucket {self.bucket!r} at {self.endpoint} could not be checked or created: {exc}"
            ) from exc

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
        return ObjectInfo(
            size=int(found["ContentLength"]),
            media_type=found.get("ContentType"),
            etag=found.get("ETag"),
        )

    def put_file(
        self, sha256: str, source: Path | str | IO[bytes], size: int, media_type: str
    ) -> None:
        """Store a file (a path or an open binary file) whose sha256 the caller computed.

        Files above the multipart threshold go up in parts, several at once, and the
        stored size is checked afterwards.  Smaller ones go up in one ``PutObject`` whose
        length is checked before sending: S3 stores exactly the Content-Length it is
        given, so a short file is an error, and nothing is stored under its key.
        """
        key = content_key(sha256)
        if size < self._transfer.multipart_threshold:
            if isinstance(source, str | Path):
                with Path(source).open("rb") as handle:
                    self._put_once(key, sha256, handle, size, media_type)
                return
            # botocore rewinds a body to offset 0 to retry: only a file read from its start.
            if source.seekable() and source.tell() == 0:
                self._put_once(key, sha256, source, size, media_type)
                return
        extra = {"ContentType": media_type}
        with self._translated("store", sha256):
            if isinstance(source, str | Path):
                self._client.upload_file(
                    str(source), self.bucket, key, ExtraArgs=extra, Config=self._transfer
                )
            else:
                self._client.upload_fileobj(
                    source, self.bucket, key, ExtraArgs=extra, Config=self._transfer
                )
        stored = self.head(sha256).size
        if stored != size:
            raise ObjectStoreError(f"S3 holds {stored} bytes for {key}, {size} were sent")

    def _put_once(
        self, key: str, sha256: str, source: IO[bytes], size: int, media_type: str
    ) -> None:
        # One signed request on our own pool: no transfer manager (a thread pool per
        # call), no HEAD afterwards, and none of botocore's per-call machinery, which
        # cost more CPU than the rest of fetching a small file.  The request is signed
        # with the content's sha256, which S3 services that check it compare the body to.
        held = source.seek(0, os.SEEK_END)
        source.seek(0)
        if held != size:
            raise ObjectStoreError(f"the file for {key} holds {held} bytes, {size} were sent")
        what = f"store {sha256} in bucket {self.bucket!r} at {self.endpoint}"
        path, headers = self._signer.put_request(
            key, sha256=sha256, size=size, media_type=media_type
        )
        # In memory: the bytes as they are; a spooled file: streamed (urllib3 rewinds it
        # to retry).
        body: bytes | IO[bytes] = source.getvalue() if isinstance(source, io.BytesIO) else source
        try:
            response = self._http.urlopen(
                "PUT", path, body=body, headers=headers, preload_content=True
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ObjectStoreError(f"{what}: {exc}") from exc
        if response.status != 200:
            found = _ERROR_CODE.search(response.data[:4096])
            code = found.group(1).decode("ascii", "replace") if found else str(response.status)
            raise ObjectStoreError(f"{what}: S3 answered HTTP {response.status} ({code})")

    def presigned_get(
        self, sha256: str, *, file_name: str | None, media_type: str | None, expires: int
    ) -> str:
        """A URL that fetches the object for ``expires`` seconds, without credentials.

        S3 answers it with our Content-Type and a Content-Disposition carrying the file's
        original name.
        """
        params = {
            "response-content-disposition": content_disposition(file_name, media_type, sha256)
        }
        if media_type:
            params["response-content-type"] = media_type
        return self._public_signer.url(content_key(sha256), expires=expires, params=params)

    def open_range(
        self, sha256: str, start: int | None = None, end: int | None = None
    ) -> ObjectStream:
        """Open the object's bytes ``start``..``end`` (inclusive; ``end`` None = to the end).

        Without ``start`` the whole object is opened.  The caller reads ``chunks()`` to
        the end or calls ``close()``.
        """
        what = f"{sha256} in bucket {self.bucket!r} at {self.endpoint}"
        headers = {}
        if start is not None:
            headers["Range"] = f"bytes={start}-{'' if end is None else end}"
        target = self._signer.target(content_key(sha256), expires=READ_URL_SECONDS)
        try:
            response = self._http.urlopen(
                "GET", target, headers=headers, preload_content=False, decode_content=False
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ObjectStoreError(f"read {what}: {exc}") from exc
        try:
            return self._stream(response, what, start, end)
        except BaseException:
            response.close()
            response.release_conn()
            raise

    def _stream(
        self, response: urllib3.BaseHTTPResponse, what: str, start: int | None, end: int | None
    ) -> ObjectStream:
        if response.status not in {200, 206}:
            raise _read_refused(response.status, response.read(4096, decode_content=False), what)
        begin, finish, size = _span(response.status, response.headers.get, what, start, end)
        return ObjectStream(
            response,
            start=begin,
            end=finish,
            total=size,
            media_type=response.headers.get("Content-Type"),
            what=what,
        )

    @property
    def can_open_socket(self) -> bool:
        """Reads can be had as a bare socket (plain HTTP: TLS bytes are not the file's)."""
        return self._endpoint.scheme == "http"

    def open_socket(
        self, sha256: str, start: int | None = None, end: int | None = None
    ) -> SocketStream:
        """As ``open_range``, on a connection of its own, read by the caller from its socket.

        For relaying large files in the kernel (``app.server``); plain HTTP endpoints only.
        The connection is not pooled: the caller reads ``length`` bytes (the first
        ``len(prefix)`` of them already read) and closes it.
        """
        if not self.can_open_socket:
            raise ObjectStoreError(f"{self.endpoint}: a TLS endpoint has no plain socket to read")
        what = f"{sha256} in bucket {self.bucket!r} at {self.endpoint}"
        target = self._signer.target(content_key(sha256), expires=READ_URL_SECONDS)
        lines = [f"GET {target} HTTP/1.1", f"Host: {self._signer.host}"]
        if start is not None:
            lines.append(f"Range: bytes={start}-{'' if end is None else end}")
        lines += ["Accept-Encoding: identity", "Connection: close", "", ""]
        address = (self._endpoint.hostname or "", self._endpoint.port or 80)
        try:
            sock = socket.create_connection(address, timeout=self._connect_timeout)
        except OSError as exc:
            raise ObjectStoreError(f"read {what}: {exc}") from exc
        try:
            sock.settimeout(READ_TIMEOUT)
            sock.sendall("\r\n".join(lines).encode("ascii"))
            status, headers, rest = _read_head(sock)
            if status not in {200, 206}:
                raise _read_refused(status, rest, what)
            begin, finish, size = _span(status, headers.get, what, start, end)
            return SocketStream(
                sock,
                prefix=rest[: finish - begin + 1],
                start=begin,
                end=finish,
                total=size,
                media_type=headers.get("Content-Type"),
            )
        except OSError as exc:
            sock.close()
            raise ObjectStoreError(f"read {what}: {exc}") from exc
        except BaseException:
            sock.close()
            raise

    def digest(self, sha256: str) -> tuple[str, int]:
        """Re-read the stored bytes: their actual sha256 and size."""
        stream = self.open_range(sha256)
        hasher = hashlib.sha256()
        size = 0
        for chunk in stream.chunks(MiB):
            hasher.update(chunk)
            size += len(chunk)
        return hasher.hexdigest(), size

    def delete(self, sha256: str) -> None:
        """Remove the object; removing one that is not there is not an error."""
        with self._translated("delete", sha256):
            self._client.delete_object(Bucket=self.bucket, Key=content_key(sha256))

    def iter_keys(self) -> Iterator[str]:
        """Every content key in the bucket, in key order, a page of 1,000 at a time."""
        paginator = self._client.get_paginator("list_objects_v2")
        with self._translated("list", None):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=KEY_PREFIX):
                for item in page.get("Contents", []):
                    yield item["Key"]

    @contextmanager
    def _translated(self, action: str, sha256: str | None) -> Iterator[None]:
        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            what = f"{action} {sha256 or 'objects'} in bucket {self.bucket!r} at {self.endpoint}"
            if code in _MISSING_KEY_CODES and sha256 is not None:
                raise ObjectNotFound(f"{what}: no such object") from exc
            raise ObjectStoreError(f"{what}: {exc}") from exc
        except (BotoCoreError, Boto3Error) as exc:
            what = f"{action} {sha256 or 'objects'} in bucket {self.bucket!r} at {self.endpoint}"
            raise ObjectStoreError(f"{what}: {exc}") from exc

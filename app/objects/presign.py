"""Presigned S3 GET URLs and signed PUTs (AWS Signature Version 4), signed here.

botocore's ``generate_presigned_url`` costs about 0.2 ms of CPU per URL (endpoint rules,
event hooks, request serialisation), and serving a file signs one URL per request: the
redirect of redirect mode, the read from S3 of proxy mode.  The one request shape we
need is simple enough to sign directly, exactly as botocore signs it (tested against
it): ``GET`` of one key, path-style addressing, only ``host`` signed, ``UNSIGNED-PAYLOAD``.
See AWS's "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)".
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import SplitResult, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES = 7 * 24 * 3600  # S3 refuses presigned URLs that live longer
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _encode(value: str) -> str:
    """RFC 3986 percent-encoding, as SigV4 asks of query names and values."""
    return quote(value, safe="-_.~")


def host_header(endpoint: SplitResult) -> str:
    """The ``Host`` a client sends to this endpoint: no port when it is the scheme's own."""
    host = endpoint.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    if endpoint.port is not None and endpoint.port != _DEFAULT_PORTS.get(endpoint.scheme):
        host = f"{host}:{endpoint.port}"
    return host


class Presigner:
    """Signs GET URLs of the objects of one bucket, path-style, at one S3 endpoint."""

    def __init__(
        self, endpoint: str, *, bucket: str, region: str, access_key: str, secret_key: str
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an http(s) S3 endpoint: {endpoint!r}")
        self.host = host_header(parts)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._bucket_path = quote(f"{parts.path.rstrip('/')}/{bucket}/", safe="/~")
        self._region = region
        self._access_key = access_key
        self._secret = f"AWS4{secret_key}".encode()
        self._signing_key: tuple[str, bytes] = ("", b"")  # (day, key): a key signs one day

    def url(
        self,
        key: str,
        *,
        expires: int,
        params: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> str:
        """A URL that GETs ``key`` for ``expires`` seconds from ``now``, without credentials.

        ``params`` are signed with it, e.g. ``response-content-type``, which S3 answers
        with in place of the stored header.
        """
        return self._origin + self.target(key, expires=expires, params=params, now=now)

    def target(
        self,
        key: str,
        *,
        expires: int,
        params: Mapping[str, str] | None = None,
        now: datetime | None = None,
    ) -> str:
        """The path and query of ``url()``: what an HTTP client of this endpoint asks for."""
        if not 1 <= expires <= MAX_EXPIRES:
            raise ValueError(f"a presigned URL lives 1 to {MAX_EXPIRES} seconds, not {expires}")
        stamp, scope = self._moment(now)
        query = {
            "X-Amz-Algorithm": ALGORITHM,
            "X-Amz-Credential": f"{self._access_key}/{scope}",
            "X-Amz-Date": stamp,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
            **(params or {}),
        }
        # By encoded name, then value: sorting "name=value" strings puts "a-b=" before "a=".
        pairs = sorted((_encode(name), _encode(value)) for name, value in query.items())
        canonical_query = "&".join(f"{name}={value}" for name, value in pairs)
        path = self._bucket_path + quote(key, safe="/~")
        canonical_request = (
            f"GET\n{path}\n{canonical_query}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        )
        signature = self._signature(stamp, scope, canonical_request)
        return f"{path}?{canonical_query}&X-Amz-Signature={signature}"

    def put_request(
        self, key: str, *, sha256: str, size: int, media_type: str, now: datetime | None = None
    ) -> tuple[str, dict[str, str]]:
        """(path, headers) of a PUT of ``key``, signed in the Authorization header.

        The payload hash is the content's sha256, which the caller computed while the
        bytes arrived, so nothing is hashed twice; an S3 that checks it (AWS S3 does)
        refuses a body that differs.  ``Host`` is left to the HTTP client, which sends
        ``self.host`` for this endpoint.
        """
        stamp, scope = self._moment(now)
        path = self._bucket_path + quote(key, safe="/~")
        headers = {
            "content-length": str(size),
            "content-type": media_type,
            "host": self.host,
            "x-amz-content-sha256": sha256,
            "x-amz-date": stamp,
        }
        names = sorted(headers)
        signed = ";".join(names)
        canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in names)
        canonical_request = f"PUT\n{path}\n\n{canonical_headers}\n{signed}\n{sha256}"
        signature = self._signature(stamp, scope, canonical_request)
        del headers["host"]
        headers["authorization"] = (
            f"{ALGORITHM} Credential={self._access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        return path, headers

    def _moment(self, now: datetime | None) -> tuple[str, str]:
        """(``X-Amz-Date`` stamp, credential scope) of a request signed at ``now``."""
        stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return stamp, f"{stamp[:8]}/{self._region}/s3/aws4_request"

    def _signature(self, stamp: str, scope: str, canonical_request: str) -> str:
        digest = hashlib.sha256(canonical_request.encode()).hexdigest()
        string_to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{digest}"
        key = self._key_for(stamp[:8])
        return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()

    def _key_for(self, day: str) -> bytes:
        cached_day, cached = self._signing_key  # one tuple: threads see a whole pair
        if cached_day == day:
            return cached
        key = self._secret
        for part in (day, self._region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        self._signing_key = (day, key)
        return key

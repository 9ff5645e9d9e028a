"""Download one object safely: checked hops, streamed, hashed, sized, sniffed.

``download`` writes the body to ``out`` while computing its sha256 and size; ``probe``
reads only the final status, for link checks.  Both go through an ``object_client``:
httpx on ``harvesters.net.PolicyTransport``, which checks every hop against the address
policy and connects to the checked address; no proxies, no cookies.  Redirects are
followed here, not by httpx, which would read a redirect's whole body into memory.  A
body compressed despite ``Accept-Encoding: identity`` is decoded here in bounded steps
(httpx's decoders expand a whole read at once), so a compression bomb stops at the size
cap without filling memory.  ``out`` holds partial bytes after an error: discard them.
"""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from typing import IO, Any, Literal, TypeVar

import httpx

from app.filenames import file_name_from_disposition, file_name_from_url
from app.objects.http import content_length
from app.objects.sniff import SNIFF_BYTES, Package, Sniffed, is_allowed, sniff
from harvesters.net import POLICY, AddressPolicy, AddressRefused, ResolutionFailed, async_client
from harvesters.oai.client import retry_after_seconds

REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "coursefed/0.1 (+object fetcher)"
# Asked of every server: any type (the bytes decide), and no compression (see _body).
REQUEST_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity", "User-Agent": USER_AGENT}
CONNECT_TIMEOUT = 10.0  # seconds for TCP and TLS handshakes

RefusalKind = Literal["not_allowed", "too_large", "unsupported"]  # as the rows' status


class ObjectDownloadError(Exception):
    """Base of every error the object downloader raises on purpose::

    ObjectDownloadError
    ├── ObjectRefused(kind, reason)   permanent: "not_allowed" | "too_large" | "unsupported"
    └── DownloadFailed(reason, retryable, retry_after, status)
    """


class ObjectRefused(ObjectDownloadError):
    """We will not store this object: a permanent verdict, never retried.  ``kind`` is
    ``"not_allowed"`` (the address policy: scheme, address, redirects), ``"too_large"`` or
    ``"unsupported"`` (a type we do not store); ``reason`` says why in words."""

    def __init__(self, kind: RefusalKind, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind: RefusalKind = kind
        self.reason = reason


class DownloadFailed(ObjectDownloadError):
    """The download did not complete; ``retryable`` says whether trying later may help:
    timeouts, connection errors and HTTP 408/429/5xx (``retry_after``: the server's
    ``Retry-After`` in seconds).  ``status`` is the HTTP status of a failed answer."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


@dataclass(frozen=True)
class Downloaded:
    """A completely downloaded object."""

    sha256: str  # hex digest of the bytes written to ``out``
    size: int
    media_type: str  # sniffed from the bytes (the declared type only refines it)
    declared_type: str | None  # the server's Content-Type, as sent
    final_url: str  # after redirects, with the host name (not the address) in it
    file_name: str | None  # from Content-Disposition, else the URL's last segment
    package: Package | None = None  # a ZIP that is an IMS ("ims") or HTML5 content package


def object_client(
    policy: AddressPolicy, *, timeout: float = 60.0, **transport_options: Any
) -> httpx.AsyncClient:
    """The client for ``download`` and ``probe``: one per round, so connections to a host
    are kept from one file to the next.  ``timeout`` bounds each wait for the server (a
    server that stops sending fails after it); ``policy`` applies to requests that carry
    none; ``transport_options`` go to ``PolicyTransport`` (``verify``, ``pool_factory``).
    """
    client = async_client(
        policy,
        timeout=httpx.Timeout(timeout, connect=CONNECT_TIMEOUT),
        headers=REQUEST_HEADERS,
        follow_redirects=False,
        **transport_options,
    )
    # No cookies: one college's server must not be handed what it set on a previous file.
    client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return client


async def download(
    url: str,
    out: IO[bytes],
    *,
    client: httpx.AsyncClient,
    policy: AddressPolicy,
    max_bytes: int,
    max_redirects: int = 5,
    chunk_size: int = 1 << 20,
    total_timeout: float | None = None,
) -> Downloaded:
    """Fetch ``url`` into ``out`` under ``policy`` and describe what arrived.

    ``total_timeout`` (seconds) bounds the whole download, so a server trickling bytes
    cannot hold a worker forever; ``chunk_size`` bounds each step of decompression.
    """

    async def receive(response: httpx.Response) -> Downloaded:
        _check_status(response)
        return await _receive(response, out, max_bytes, chunk_size)

    return await _follow(
        url, receive, client, policy, max_redirects=max_redirects, total_timeout=total_timeout
    )


async def probe(
    url: str,
    *,
    client: httpx.AsyncClient,
    policy: AddressPolicy,
    max_redirects: int = 5,
    total_timeout: float = 60.0,
) -> int:
    """The HTTP status ``url`` finally answers, under the same rules as ``download``
    (refusals and failures raise as there); the body is never read."""

    async def status(response: httpx.Response) -> int:
        return response.status_code

    return await _follow(
        url, status, client, policy, max_redirects=max_redirects, total_timeout=total_timeout
    )


T = TypeVar("T")


async def _follow(
    url: str,
    handle: Callable[[httpx.Response], Awaitable[T]],
    client: httpx.AsyncClient,
    policy: AddressPolicy,
    *,
    max_redirects: int,
    total_timeout: float | None,
) -> T:
    """GET ``url`` and each redirect under ``policy``; ``handle`` the final answer, all
    within ``total_timeout`` seconds."""
    current: httpx.URL | str = url
    came_from: httpx.URL | None = None
    try:
        async with asyncio.timeout(total_timeout):
            for _ in range(max_redirects + 1):
                response = await _send(client, current, policy, came_from)
                try:
                    if response.status_code in REDIRECTS:
                        came_from, current = response.url, _redirect_location(response)
                        continue
                    return await handle(response)
                except httpx.HTTPError as exc:
                    raise _failure(exc, response.url) from exc
                finally:
                    await response.aclose()  # an unread body is not read: the connection closes
    except TimeoutError:
        if total_timeout is None:
            raise
        reason = f"{url}: not complete after {total_timeout} s"
        raise DownloadFailed(reason, retryable=True) from None
    raise ObjectRefused("not_allowed", f"{url}: more than {max_redirects} redirects")


async def _send(
    client: httpx.AsyncClient,
    url: httpx.URL | str,
    policy: AddressPolicy,
    came_from: httpx.URL | None,
) -> httpx.Response:
    """One GET, its status and headers read; errors become the downloader's own."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ObjectRefused("not_allowed", f"not a valid URL ({exc})") from None
    try:
        if not parsed.is_absolute_url:
            # httpx would read it as a path ("file:///etc/passwd" → "/etc/passwd"): the
            # policy refuses it (no http(s) scheme, or no host) before any lookup.
            await policy.check(parsed)
        request = client.build_request("GET", parsed, extensions={POLICY: policy})
        return await client.send(request, stream=True)
    except AddressRefused as refused:
        reason = refused.reason
        if came_from is not None:
            reason = f"{came_from} redirects to {url}: {reason}"
        raise ObjectRefused("not_allowed", reason) from None
    except ResolutionFailed as exc:
        raise DownloadFailed(exc.reason, retryable=exc.retryable) from exc
    except httpx.HTTPError as exc:
        raise _failure(exc, url) from exc
    except httpx.InvalidURL:  # httpx joining a Location to the URL asked for
        reason = f"{url}: redirects to an invalid URL"
        raise DownloadFailed(reason, retryable=False) from None


def _redirect_location(response: httpx.Response) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        reason = f"{response.url}: HTTP {response.status_code} without a Location"
        raise DownloadFailed(reason, retryable=False, status=response.status_code)
    try:
        return response.url.join(location.strip())
    except httpx.InvalidURL:
        reason = f"{response.url}: HTTP {response.status_code} to an invalid URL"
        raise DownloadFailed(reason, retryable=False, status=response.status_code) from None


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status in {408, 429} or status >= 500
    retry_after = retry_after_seconds(response.headers.get("retry-after")) if retryable else None
    reason = f"{response.url}: HTTP {status} {httpx.codes.get_reason_phrase(status)}".rstrip()
    raise DownloadFailed(reason, retryable=retryable, retry_after=retry_after, status=status)


def _failure(exc: httpx.HTTPError, url: httpx.URL | str) -> DownloadFailed:
    if isinstance(exc, httpx.TimeoutException):
        return DownloadFailed(f"{url}: timed out ({type(exc).__name__})", retryable=True)
    if _certificate_error(exc):
        return DownloadFailed(f"{url}: TLS certificate refused: {exc}", retryable=False)
    if isinstance(exc, httpx.RemoteProtocolError):
        # Its message may quote what the server sent: say what happened in our words.
        reason = f"{url}: the answer is not valid HTTP/1.1, or broke off"
        return DownloadFailed(reason, retryable=True)
    # The network misbehaving is worth another try later; a request that could not
    # even be written is not.
    retryable = isinstance(exc, httpx.TransportError) and not isinstance(
        exc, httpx.LocalProtocolError | httpx.UnsupportedProtocol
    )
    detail = str(exc) or type(exc).__name__
    return DownloadFailed(f"{url}: {detail}", retryable=retryable)


def _certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ == "SSLCertVerificationError":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _receive(
    response: httpx.Response, out: IO[bytes], max_bytes: int, chunk_size: int
) -> Downloaded:
    url = response.url
    headers = response.headers
    encoding = headers.get("content-encoding", "identity").strip().lower()
    length = content_length(headers.get("content-length"))
    if length is not None and length > max_bytes and encoding in {"", "identity"}:
        reason = f"{url}: Content-Length {length} is over the limit of {max_bytes} bytes"
        raise ObjectRefused("too_large", reason)
    declared = headers.get("content-type")
    digest = hashlib.sha256()
    size = 0
    head = b""
    verdict = None
    async for chunk in _body(response, encoding, chunk_size):
        size += len(chunk)
        if size > max_bytes:
            raise ObjectRefused("too_large", f"{url}: more than {max_bytes} bytes")
        if verdict is None:
            head += chunk[: SNIFF_BYTES - len(head)]
            if len(head) >= SNIFF_BYTES:
                verdict = _judge(head, declared, url, complete=False)
        digest.update(chunk)
        out.write(chunk)
    if verdict is None:
        verdict = _judge(head, declared, url, complete=True)
    return Downloaded(
        sha256=digest.hexdigest(),
        size=size,
        media_type=verdict.media_type,
        declared_type=declared,
        final_url=str(url),
        file_name=file_name_from_disposition(headers.get("content-disposition"))
        or file_name_from_url(url),
        package=verdict.package,
    )


def _judge(head: bytes, declared: str | None, url: httpx.URL, *, complete: bool) -> Sniffed:
    found = sniff(head, declared, complete=complete)
    if not is_allowed(found.media_type):
        said = f" (declared {declared})" if declared else ""
        reason = f"{url}: {found.media_type}{said} is not a type we store"
        raise ObjectRefused("unsupported", reason)
    return found


async def _body(response: httpx.Response, encoding: str, chunk_size: int) -> AsyncIterator[bytes]:
    """The body as it arrives, decoded from gzip/deflate (``chunk_size`` bytes a step)."""
    if encoding in {"", "identity"}:
        async for chunk in response.aiter_raw():
            yield chunk
        return
    url = response.url
    if encoding not in {"gzip", "x-gzip", "deflate"}:
        raise DownloadFailed(f"{url}: unsupported Content-Encoding {encoding!r}", retryable=False)
    # gzip: header and trailer checked (wbits 16+); deflate: zlib-wrapped, as the RFC says.
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
    try:
        async for raw in response.aiter_raw():
            data = raw
            while data and not decoder.eof:
                piece = decoder.decompress(data, chunk_size)  # bounded: no zip-bomb spike
                data = decoder.unconsumed_tail
                if piece:
                    yield piece
        tail = decoder.flush()
    except zlib.error as exc:
        raise DownloadFailed(f"{url}: corrupt {encoding} body ({exc})", retryable=False) from None
    if tail:
        yield tail
    if not decoder.eof:
        raise DownloadFailed(f"{url}: truncated {encoding} body", retryable=True)

"""Download one object safely: checked URLs, manual redirects, streamed, hashed, sniffed.

``download(url, out, client=..., max_bytes=...)`` writes the body to ``out`` (the caller
spools to a temporary file) while computing its sha256 and size, and returns a
``Downloaded``.  It never holds the body in memory: chunks go straight from the socket to
the hash and the file.

* Every hop (the URL and each redirect, at most ``max_redirects``) passes
  ``app.objects.safety.check_url`` and is fetched from the address that was checked.
* ``ObjectRefused`` is a permanent verdict: ``not_allowed`` (URL policy), ``too_large``
  (``Content-Length`` or the streamed count passes ``max_bytes``), ``unsupported_type``
  (the sniffed type is not on the allow list; raised as soon as the first
  ``SNIFF_BYTES`` arrive).  ``DownloadFailed`` is everything else, with ``retryable``.
* ``Accept-Encoding: identity`` is asked for; a server that compresses anyway (gzip,
  deflate) is decoded in bounded steps, so a small compressed body cannot expand in memory.
* https requests to a host name carry ``Connection: close``: the connection was opened to
  an address for one name, and is never kept for another request.

The requests go through ``app.objects.client.ObjectClient``, an HTTP/1.1 client that
does what the downloader needs and nothing else.

``out`` receives partial bytes when an error is raised; the caller discards them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import unicodedata
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from http import HTTPStatus
from pathlib import PurePosixPath
from typing import Protocol, TypeVar
from urllib.parse import unquote, unquote_to_bytes

import httpx

from app.objects.client import (
    ConnectError,
    ConnectTimeout,
    LocalProtocolError,
    ObjectClient,
    Response,
    Timeout,
    TransportError,
)
from app.objects.safety import (
    DownloadFailed,
    ObjectDownloadError,
    ObjectRefused,
    Resolver,
    Target,
    check_url,
    system_resolver,
)
from app.objects.sniff import SNIFF_BYTES, Package, is_allowed, sniff
from harvesters.net import AddressPolicy
from harvesters.oai.client import retry_after_seconds

__all__ = [
    "DownloadFailed",
    "Downloaded",
    "ObjectDownloadError",
    "ObjectRefused",
    "download",
    "file_name_from_disposition",
    "file_name_from_url",
    "is_allowed",
    "probe",
]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_FILE_NAME = 255
USER_AGENT = "coursefed/0.1 (+object fetcher)"
# Asked of every server: any type (the bytes decide), and no compression (see _body).
REQUEST_HEADERS = {"Accept": "*/*", "Accept-Encoding": "identity", "User-Agent": USER_AGENT}


class BinarySink(Protocol):
    """Where the body goes: an open binary file, or anything with ``write(bytes)``."""

    def write(self, data: bytes, /) -> object: ...


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


async def download(
    url: str,
    out: BinarySink,
    *,
    client: ObjectClient,
    max_bytes: int,
    allow_private: bool = False,
    max_redirects: int = 5,
    chunk_size: int = 1 << 20,
    resolver: Resolver = system_resolver,
    total_timeout: float | None = None,
    policy: AddressPolicy | None = None,
) -> Downloaded:
    """Fetch ``url`` into ``out`` and describe what arrived.

    ``client`` is the caller's (shared) client; its timeouts apply to each step, and
    ``total_timeout`` (seconds) bounds the whole download, so a server trickling bytes
    cannot hold a worker forever.  Redirects are followed here: the client never does.
    ``policy`` is the deployment's address policy (its allowed networks); ``allow_private``
    the source's own setting.
    """
    try:
        async with asyncio.timeout(total_timeout):
            return await _download(
                url,
                out,
                client=client,
                max_bytes=max_bytes,
                allow_private=allow_private,
                max_redirects=max_redirects,
                chunk_size=chunk_size,
                resolver=resolver,
                policy=policy,
            )
    except TimeoutError:
        if total_timeout is None:
            raise
        reason = f"{url}: not complete after {total_timeout} s"
        raise DownloadFailed(reason, retryable=True) from None


async def _download(
    url: str,
    out: BinarySink,
    *,
    client: ObjectClient,
    max_bytes: int,
    allow_private: bool,
    max_redirects: int,
    chunk_size: int,
    resolver: Resolver,
    policy: AddressPolicy | None,
) -> Downloaded:
    async def receive(response: Response, target: Target) -> Downloaded:
        _check_status(response, target)
        return await _receive(response, out, target, max_bytes, chunk_size)

    return await _follow(
        url,
        receive,
        client=client,
        allow_private=allow_private,
        max_redirects=max_redirects,
        resolver=resolver,
        policy=policy,
    )


async def probe(
    url: str,
    *,
    client: ObjectClient,
    allow_private: bool = False,
    max_redirects: int = 5,
    resolver: Resolver = system_resolver,
    total_timeout: float = 60.0,
    policy: AddressPolicy | None = None,
) -> int:
    """The HTTP status ``url`` finally answers, under the same policy as ``download``.

    Used to re-check source links: only the status line and headers are read, never
    the body, within ``total_timeout`` seconds.  Refusals and network failures raise as
    in ``download``.
    """

    async def status(response: Response, _target: Target) -> int:
        return response.status_code

    try:
        async with asyncio.timeout(total_timeout):
            return await _follow(
                url,
                status,
                client=client,
                allow_private=allow_private,
                max_redirects=max_redirects,
                resolver=resolver,
                policy=policy,
            )
    except TimeoutError:
        raise DownloadFailed(f"{url}: no answer within {total_timeout} s", retryable=True) from None


T = TypeVar("T")


async def _follow(
    url: str,
    handle: Callable[[Response, Target], Awaitable[T]],
    *,
    client: ObjectClient,
    allow_private: bool,
    max_redirects: int,
    resolver: Resolver,
    policy: AddressPolicy | None = None,
) -> T:
    """GET ``url``, each hop checked and pinned, and hand the final answer to ``handle``."""
    current: httpx.URL | str = url
    previous: Target | None = None
    for _ in range(max_redirects + 1):
        try:
            target = await check_url(
                current, allow_private=allow_private, resolver=resolver, policy=policy
            )
        except ObjectRefused as refused:
            if previous is None:
                raise
            reason = f"{previous.url} redirects to {current}: {refused.reason}"
            raise ObjectRefused(refused.kind, reason) from None
        previous = target
        try:
            response = await _send(client, target)
            try:
                _check_tls_name(response, target)
                if response.status_code in REDIRECTS:
                    current = _redirect_location(response, target)
                    continue
                return await handle(response, target)
            finally:
                response.close()
        except TransportError as exc:
            raise _failure(exc, target) from exc
    raise ObjectRefused("not_allowed", f"{url}: more than {max_redirects} redirects")


async def _send(client: ObjectClient, target: Target) -> Response:
    """GET the target from its checked address, trying the other address family next."""
    *first, last = target.candidates()
    for pinned in first:
        with contextlib.suppress(ConnectError, ConnectTimeout):
            return await _get(client, pinned)
    return await _get(client, last)


async def _get(client: ObjectClient, target: Target) -> Response:
    # https to a host name: the connection is not kept for another request (the pool,
    # keyed by TLS name, would not hand it to another name either).
    return await client.get(target, REQUEST_HEADERS, keep_alive=not target.extensions)


def _check_tls_name(response: Response, target: Target) -> None:
    """Refuse an answer that came over TLS verified for another name (a reused connection)."""
    expected = target.extensions.get("sni_hostname")
    if expected is None:
        return
    verified = response.tls_name
    if verified != expected:
        reason = f"{target.url}: TLS connection verified for {verified!r}, not {expected!r}"
        raise DownloadFailed(reason, retryable=True)


def _redirect_location(response: Response, target: Target) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        reason = f"{target.url}: HTTP {response.status_code} without a Location"
        raise DownloadFailed(reason, retryable=False, status=response.status_code)
    try:
        return target.url.join(location.strip())
    except httpx.InvalidURL as exc:
        reason = f"{target.url}: redirect to an invalid URL {location!r} ({exc})"
        raise DownloadFailed(reason, retryable=False, status=response.status_code) from None


def _check_status(response: Response, target: Target) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status in {408, 429} or status >= 500
    retry_after = retry_after_seconds(response.headers.get("retry-after")) if retryable else None
    try:
        phrase = f" {HTTPStatus(status).phrase}"
    except ValueError:
        phrase = ""
    reason = f"{target.url}: HTTP {status}{phrase}"
    raise DownloadFailed(reason, retryable=retryable, retry_after=retry_after, status=status)


def _failure(exc: TransportError, target: Target) -> DownloadFailed:
    if isinstance(exc, Timeout):
        return DownloadFailed(f"{target.url}: timed out ({type(exc).__name__})", retryable=True)
    if _certificate_error(exc):
        return DownloadFailed(f"{target.url}: TLS certificate refused: {exc}", retryable=False)
    # The network or the server misbehaving is worth another try later; a request we
    # could not even write is not.
    retryable = not isinstance(exc, LocalProtocolError)
    detail = str(exc) or type(exc).__name__
    return DownloadFailed(f"{target.url}: {detail}", retryable=retryable)


def _certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ == "SSLCertVerificationError":
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def _receive(
    response: Response, out: BinarySink, target: Target, max_bytes: int, chunk_size: int
) -> Downloaded:
    headers = response.headers
    encoding = headers.get("content-encoding", "identity").strip().lower()
    length = _content_length(response)
    if length is not None and length > max_bytes and encoding in {"", "identity"}:
        reason = f"{target.url}: Content-Length {length} is over the limit of {max_bytes} bytes"
        raise ObjectRefused("too_large", reason)
    declared = headers.get("content-type")
    digest = hashlib.sha256()
    size = 0
    head = b""
    verdict = None
    async for chunk in _body(response, encoding, chunk_size, target):
        size += len(chunk)
        if size > max_bytes:
            raise ObjectRefused("too_large", f"{target.url}: more than {max_bytes} bytes")
        if verdict is None:
            head += chunk[: SNIFF_BYTES - len(head)]
            if len(head) >= SNIFF_BYTES:
                verdict = _judge(head, declared, target, complete=False)
        digest.update(chunk)
        out.write(chunk)
    if verdict is None:
        verdict = _judge(head, declared, target, complete=True)
    return Downloaded(
        sha256=digest.hexdigest(),
        size=size,
        media_type=verdict.media_type,
        declared_type=declared,
        final_url=str(target.url),
        file_name=file_name_from_disposition(headers.get("content-disposition"))
        or file_name_from_url(target.url),
        package=verdict.package,
    )


def _content_length(response: Response) -> int | None:
    value = response.headers.get("content-length", "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _judge(head: bytes, declared: str | None, target: Target, *, complete: bool) -> _Verdict:
    found = sniff(head, declared, complete=complete)
    if not is_allowed(found.media_type):
        said = f" (declared {declared})" if declared else ""
        reason = f"{target.url}: {found.media_type}{said} is not a type we store"
        raise ObjectRefused("unsupported_type", reason)
    return _Verdict(found.media_type, found.package)


@dataclass(frozen=True)
class _Verdict:
    media_type: str
    package: Package | None


async def _body(
    response: Response, encoding: str, chunk_size: int, target: Target
) -> AsyncIterator[bytes]:
    """The body in pieces of at most ``chunk_size``, decoded from gzip/deflate if need be."""
    if encoding in {"", "identity"}:
        async for chunk in response.aiter_raw(chunk_size):
            yield chunk
        return
    if encoding not in {"gzip", "x-gzip", "deflate"}:
        reason = f"{target.url}: unsupported Content-Encoding {encoding!r}"
        raise DownloadFailed(reason, retryable=False)
    # gzip: header and trailer checked (wbits 16+); deflate: zlib-wrapped, as the RFC says.
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
    try:
        async for raw in response.aiter_raw(chunk_size):
            data = raw
            while data and not decoder.eof:
                piece = decoder.decompress(data, chunk_size)  # bounded: no zip-bomb spike
                data = decoder.unconsumed_tail
                if piece:
                    yield piece
        tail = decoder.flush()
    except zlib.error as exc:
        reason = f"{target.url}: corrupt {encoding} body ({exc})"
        raise DownloadFailed(reason, retryable=False) from None
    if tail:
        yield tail
    if not decoder.eof:
        raise DownloadFailed(f"{target.url}: truncated {encoding} body", retryable=True)


# --- file names -----------------------------------------------------------------------------

_PARAMETER_NAME = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_PARAMETER = re.compile(rf'\s*;\s*({_PARAMETER_NAME})\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')
_ENCODED_WORD = re.compile(r"=\?[^?]+\?[bBqQ]\?[^?]*\?=")


def file_name_from_disposition(header: str | None) -> str | None:
    """The file name a ``Content-Disposition`` header gives (RFC 6266), sanitised.

    ``filename*`` (RFC 8187: ``UTF-8''%E8%AF%BE.pdf``) wins over ``filename``.  Quirks
    of real servers are read too: percent-encoded UTF-8 in ``filename`` and RFC 2047
    encoded words (``=?UTF-8?B?...?=``).
    """
    if not header:
        return None
    parameters: dict[str, str] = {}
    _, _, rest = header.partition(";")
    for match in _PARAMETER.finditer(";" + rest):
        name, value = match.group(1).lower(), match.group(2).strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        parameters.setdefault(name, value)
    extended = parameters.get("filename*")
    if extended is not None:
        name = _ext_value(extended)
        if name is not None:
            return sanitise_file_name(name)
    plain = parameters.get("filename")
    if plain is None:
        return None
    return sanitise_file_name(_plain_name(plain))


def _ext_value(value: str) -> str | None:
    """RFC 8187 ``charset'language'pct-encoded`` → text (UTF-8 and ISO-8859-1 only)."""
    charset, quote, rest = value.strip('"').partition("'")
    _, quote2, encoded = rest.partition("'")
    if not quote or not quote2 or charset.lower() not in {"utf-8", "iso-8859-1"}:
        return None
    try:
        return unquote_to_bytes(encoded).decode(charset.lower())
    except UnicodeDecodeError:
        return None


def _plain_name(value: str) -> str:
    if _ENCODED_WORD.search(value):
        try:
            return str(make_header(decode_header(value)))
        except (HeaderParseError, LookupError, UnicodeDecodeError):
            return value
    if "%" in value:
        try:
            decoded = unquote_to_bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return value
        if not decoded.isascii():  # "%E8%AF%BE.pdf": UTF-8 sent percent-encoded
            return decoded
    return value


def file_name_from_url(url: httpx.URL | str) -> str | None:
    """The last segment of the URL's path, percent-decoded and sanitised; None if empty."""
    path = url.raw_path.decode("ascii") if isinstance(url, httpx.URL) else url
    path = path.split("?", 1)[0].split("#", 1)[0]
    segment = path.rsplit("/", 1)[-1]
    return sanitise_file_name(unquote(segment, errors="replace"))


def sanitise_file_name(name: str) -> str | None:
    """A name safe to suggest for saving: no directories, controls, or leading dots."""
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp"})
    name = unicodedata.normalize("NFC", name).strip().lstrip(".").strip()
    if not name:
        return None
    if len(name) > MAX_FILE_NAME:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        name = name[: MAX_FILE_NAME - len(suffix)] + suffix
    return name

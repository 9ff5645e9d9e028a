"""Async OAI-PMH client on httpx: the six verbs, paging, retries, errors as types.

* Every request is a GET to the base URL; arguments, resumption tokens included, are
  URL-encoded by httpx (tokens such as ``726959|1001`` or ``1!53691!…`` survive).
* Every request, redirects included, obeys the outbound address policy
  (``harvesters.net``): a refused address raises ``AddressNotAllowed``, never retried.
* Timeouts, connection errors and HTTP 408/429/5xx are retried with exponential
  backoff and jitter; ``Retry-After`` (seconds or an HTTP date) is honoured, capped.
* Each answer has a total deadline besides the idle timeout, so a server trickling one
  byte at a time cannot hold a harvest: ``DeadlineExceeded``, not retried in the run.
* An OAI-PMH ``<error>`` is read whatever the HTTP status it came with (200 per the
  spec, 422 from InvenioRDM, 500 ...) and raised as its ``OAIError`` subclass; other
  HTTP errors raise ``HTTPStatusError`` once retries are exhausted.
* The list verbs follow resumption tokens until an empty or absent token; a token that
  comes back again, or a long run of empty pages, raises ``ResumptionTokenLoop``.
  ``noRecordsMatch`` there simply means an empty list.
* Bodies are read with a size cap (after gzip/deflate decoding) and parsed by the one
  hardened parser, ``harvesters.xml``.

The ``*_pages`` iterators yield one ``Page`` per response, for callers that checkpoint
(``Page.token`` is what to resume from, via ``resumption_token=``).
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Self, TypeVar

import httpx

from harvesters.net import AddressPolicy, AddressRefused, ResolutionFailed, async_client
from harvesters.oai import dates
from harvesters.oai.errors import (
    AddressNotAllowed,
    DeadlineExceeded,
    DocumentTooLarge,
    HarvestError,
    HTTPStatusError,
    NetworkError,
    NoRecordsMatch,
    NoSetHierarchy,
    ProtocolError,
    ResumptionTokenLoop,
    TimeoutError,
)
from harvesters.oai.politeness import polite
from harvesters.oai.records import (
    Identify,
    MetadataFormat,
    Page,
    RawRecord,
    SetInfo,
    SetPage,
    looks_like_oai_error,
    parse_identify,
    parse_metadata_formats,
    parse_page,
    parse_response,
    parse_set_page,
)
from harvesters.xml import DEFAULT_MAX_BYTES

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "coursefed/0.1 (+OAI-PMH harvester)"
PEER_NODE_HEADER = "X-Coursefed-Node"  # another coursefed's node id (to refuse ourselves)
DEFAULT_DEADLINE = 300.0
"""Seconds one answer may take from request to last byte, however steadily it trickles."""
RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
DateArg = str | date | datetime | None

_PageT = TypeVar("_PageT", Page, SetPage)


class OAIClient:
    """An OAI-PMH 2.0 harvester for one repository (``base_url``).

    Pass ``http`` to share a connection pool (the caller then closes it); otherwise the
    client makes its own, closed by ``aclose()`` or ``async with``.  A request is tried
    at most ``1 + max_retries`` times; waits are ``backoff_base * 2**n`` seconds (capped
    at ``max_backoff``, jittered down to half) or what ``Retry-After`` says (capped at
    ``max_retry_after``).  ``max_bytes`` caps a response body after decompression.
    ``sleep`` is injectable so tests need not wait; ``on_retry(reason, delay)`` is told
    of every retry, for harvest reports.  Requests to one host are limited to
    ``host_concurrency`` at a time, started at least ``politeness_delay`` seconds apart.
    ``timeout`` is the idle limit (connect, or between two reads); ``deadline`` bounds a
    whole answer.  The client's own connection pool obeys ``policy`` (the strict default
    when None); a shared ``http`` client brings its own.
    """

    def __init__(
        self,
        base_url: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        max_backoff: float = 120.0,
        max_retry_after: float = 600.0,
        user_agent: str = DEFAULT_USER_AGENT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_empty_pages: int = 25,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_retry: Callable[[str, float], None] | None = None,
        host_concurrency: int = 2,
        politeness_delay: float = 0.0,
        policy: AddressPolicy | None = None,
        deadline: float = DEFAULT_DEADLINE,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.deadline = deadline
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.user_agent = user_agent
        self.max_bytes = max_bytes
        self.max_empty_pages = max_empty_pages
        self._sleep = sleep
        self._on_retry = on_retry
        self.host_concurrency = host_concurrency
        self.politeness_delay = politeness_delay
        self._host = httpx.URL(base_url).host
        self._last_headers = httpx.Headers()
        self._owns_http = http is None
        self._http = http if http is not None else async_client(policy or AddressPolicy())

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- verbs -------------------------------------------------------------------------

    async def identify(self) -> Identify:
        status, body = await self._fetch({"verb": "Identify"})
        response = parse_response(
            body, max_bytes=self.max_bytes, http_status=status, expected_verb="Identify"
        )
        peer = self._last_headers.get(PEER_NODE_HEADER, "")[:64]
        return dataclasses.replace(parse_identify(response), peer_node=peer)

    async def list_metadata_formats(self, identifier: str | None = None) -> list[MetadataFormat]:
        params = {"verb": "ListMetadataFormats"}
        if identifier is not None:
            params["identifier"] = identifier
        status, body = await self._fetch(params)
        response = parse_response(
            body, max_bytes=self.max_bytes, http_status=status, expected_verb="ListMetadataFormats"
        )
        return parse_metadata_formats(response)

    async def list_sets(self) -> AsyncIterator[SetInfo]:
        """Every set; nothing at all when the repository has no sets (noSetHierarchy)."""
        async for page in self.list_set_pages():
            for item in page.sets:
                yield item

    async def list_set_pages(
        self, *, resumption_token: str | None = None
    ) -> AsyncIterator[SetPage]:
        async for page in self._paginate("ListSets", {}, resumption_token, self._set_page):
            yield page

    async def list_identifiers(
        self,
        metadata_prefix: str,
        set: str | None = None,
        from_: DateArg = None,
        until: DateArg = None,
        *,
        resumption_token: str | None = None,
    ) -> AsyncIterator[RawRecord]:
        """Headers (``RawRecord`` with ``metadata=None``) following resumption tokens."""
        pages = self.list_identifiers_pages(
            metadata_prefix, set, from_, until, resumption_token=resumption_token
        )
        async for page in pages:
            for record in page.records:
                yield record

    async def list_identifiers_pages(
        self,
        metadata_prefix: str,
        set: str | None = None,
        from_: DateArg = None,
        until: DateArg = None,
        *,
        resumption_token: str | None = None,
    ) -> AsyncIterator[Page]:
        params = _list_params(metadata_prefix, set, from_, until)
        async for page in self._paginate(
            "ListIdentifiers", params, resumption_token, self._record_page("ListIdentifiers")
        ):
            yield page

    async def list_records(
        self,
        metadata_prefix: str,
        set: str | None = None,
        from_: DateArg = None,
        until: DateArg = None,
        *,
        resumption_token: str | None = None,
    ) -> AsyncIterator[RawRecord]:
        """Records following resumption tokens; broken records come with ``error`` set."""
        pages = self.list_records_pages(
            metadata_prefix, set, from_, until, resumption_token=resumption_token
        )
        async for page in pages:
            for record in page.records:
                yield record

    async def list_records_pages(
        self,
        metadata_prefix: str,
        set: str | None = None,
        from_: DateArg = None,
        until: DateArg = None,
        *,
        resumption_token: str | None = None,
    ) -> AsyncIterator[Page]:
        """One ``Page`` per response.  ``noRecordsMatch`` gives one empty, final page
        (its ``response_date`` is still the server's clock, useful as a high-water mark).
        """
        params = _list_params(metadata_prefix, set, from_, until)
        async for page in self._paginate(
            "ListRecords", params, resumption_token, self._record_page("ListRecords")
        ):
            yield page

    async def get_record(self, identifier: str, metadata_prefix: str) -> RawRecord:
        params = {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": metadata_prefix}
        status, body = await self._fetch(params)
        page = parse_page(body, verb="GetRecord", max_bytes=self.max_bytes, http_status=status)
        if not page.records:
            raise ProtocolError("GetRecord response holds no <record>")
        return page.records[0]

    # --- paging ------------------------------------------------------------------------

    def _record_page(self, verb: str) -> Callable[[dict[str, str]], Awaitable[Page]]:
        async def fetch(params: dict[str, str]) -> Page:
            status, body = await self._fetch(params)
            try:
                return parse_page(body, verb=verb, max_bytes=self.max_bytes, http_status=status)
            except NoRecordsMatch as exc:
                return Page(
                    response_date=exc.response_date or "",
                    records=(),
                    token=None,
                    complete_list_size=0,
                    cursor=None,
                    raw_bytes=body,
                )

        return fetch

    async def _set_page(self, params: dict[str, str]) -> SetPage:
        status, body = await self._fetch(params)
        try:
            response = parse_response(
                body, max_bytes=self.max_bytes, http_status=status, expected_verb="ListSets"
            )
            return parse_set_page(response)
        except NoSetHierarchy as exc:
            return SetPage(
                response_date=exc.response_date or "",
                sets=(),
                token=None,
                complete_list_size=0,
                cursor=None,
                raw_bytes=body,
            )

    async def _paginate(
        self,
        verb: str,
        params: dict[str, str],
        resumption_token: str | None,
        fetch: Callable[[dict[str, str]], Awaitable[_PageT]],
    ) -> AsyncIterator[_PageT]:
        used: set[str] = set()
        token = resumption_token
        empty_run = 0
        while True:
            if token:
                used.add(token)
                page = await fetch({"verb": verb, "resumptionToken": token})
            else:
                page = await fetch({"verb": verb, **params})
            yield page
            if page.token is None:
                return
            if page.token in used:
                raise ResumptionTokenLoop(
                    f"{verb}: a resumption token came back that was already used",
                    token=page.token,
                )
            size = len(page.records) if isinstance(page, Page) else len(page.sets)
            empty_run = 0 if size else empty_run + 1
            if empty_run >= self.max_empty_pages:
                raise ResumptionTokenLoop(
                    f"{verb}: {empty_run} pages in a row were empty", token=page.token
                )
            token = page.token

    # --- HTTP --------------------------------------------------------------------------

    async def _fetch(self, params: dict[str, str]) -> tuple[int, bytes]:
        """GET with retries; (status, body) of a 2xx or of an OAI-PMH ``<error>`` answer."""
        attempt = 0
        while True:
            attempt += 1
            retries_left = attempt <= self.max_retries
            # Messages name the failure in our words only: an exception's text may quote
            # bytes the server sent (h11 quotes a bad status line), and reports are public.
            try:
                status, headers, body, url = await self._get(params)
            except AddressRefused as exc:
                raise AddressNotAllowed(str(exc), rule=exc.rule, url=self.base_url) from exc
            except httpx.TimeoutException as exc:
                log.info("OAI-PMH %s: %r", self.base_url, exc)
                if not retries_left:
                    raise TimeoutError(
                        f"no answer after {attempt} attempts ({type(exc).__name__})",
                        url=self.base_url,
                        attempts=attempt,
                    ) from exc
                await self._wait(self._backoff(attempt), f"timeout ({type(exc).__name__})", params)
                continue
            except ResolutionFailed as exc:
                if not retries_left or not exc.retryable:
                    raise NetworkError(exc.reason, url=self.base_url, attempts=attempt) from exc
                await self._wait(self._backoff(attempt), exc.reason, params)
                continue
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                log.info("OAI-PMH %s: %r", self.base_url, exc)
                what = type(exc).__name__
                if not retries_left:
                    raise NetworkError(
                        f"connection failed after {attempt} attempts ({what})",
                        url=self.base_url,
                        attempts=attempt,
                    ) from exc
                await self._wait(self._backoff(attempt), f"network error ({what})", params)
                continue
            except httpx.TooManyRedirects as exc:
                raise NetworkError("too many redirects", url=self.base_url) from exc
            except httpx.RequestError as exc:  # undecodable gzip, unsupported scheme ...
                log.info("OAI-PMH %s: %r", self.base_url, exc)
                raise NetworkError(
                    f"request failed ({type(exc).__name__})", url=self.base_url
                ) from exc

            if 200 <= status < 300 or _is_oai_error(body):
                self._last_headers = headers
                return status, body
            if (status in RETRY_STATUSES or status >= 500) and retries_left:
                after = retry_after_seconds(headers.get("retry-after"))
                delay = min(after, self.max_retry_after) if after is not None else None
                await self._wait(
                    delay if delay is not None else self._backoff(attempt), f"HTTP {status}", params
                )
                continue
            raise HTTPStatusError(status, url=url, attempts=attempt)

    async def _get(self, params: dict[str, str]) -> tuple[int, httpx.Headers, bytes, str]:
        slot = polite(self._host, concurrency=self.host_concurrency, delay=self.politeness_delay)
        async with slot:
            try:
                async with asyncio.timeout(self.deadline):
                    return await self._read(params)
            except builtins.TimeoutError:
                raise DeadlineExceeded(
                    f"the answer took longer than {self.deadline:g} s", url=self.base_url
                ) from None

    async def _read(self, params: dict[str, str]) -> tuple[int, httpx.Headers, bytes, str]:
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate"}
        async with (
            self._http.stream(
                "GET",
                self.base_url,
                params=params,
                headers=headers,
                timeout=self.timeout,
                follow_redirects=True,
            ) as response,
        ):
            declared = response.headers.get("content-length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
                raise DocumentTooLarge(int(declared), self.max_bytes)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():  # decompressed bytes
                size += len(chunk)
                if size > self.max_bytes:
                    raise DocumentTooLarge(size, self.max_bytes)
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks), str(response.url)

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_base * 2 ** (attempt - 1), self.max_backoff)
        # Jitter spreads retries of many harvesters; not a security use of randomness.
        return delay * random.uniform(0.5, 1.0)  # noqa: S311

    async def _wait(self, delay: float, reason: str, params: dict[str, str]) -> None:
        log.warning(
            "OAI-PMH %s %s: %s; retrying in %.1fs",
            self.base_url,
            params.get("verb"),
            reason,
            delay,
        )
        if self._on_retry is not None:
            self._on_retry(f"{params.get('verb')}: {reason}", delay)
        await self._sleep(delay)


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def format_datestamp(value: DateArg) -> str | None:
    """A from/until argument: dates as ``YYYY-MM-DD``, datetimes as UTC seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("from/until datetimes must be timezone-aware (UTC)")
        return dates.format_datestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value.strip()


def _list_params(
    metadata_prefix: str, set_spec: str | None, from_: DateArg, until: DateArg
) -> dict[str, str]:
    params = {"metadataPrefix": metadata_prefix}
    for name, value in (
        ("set", set_spec),
        ("from", format_datestamp(from_)),
        ("until", format_datestamp(until)),
    ):
        if value:
            params[name] = value
    return params


def _is_oai_error(body: bytes) -> bool:
    """Whether a non-2xx body is an OAI-PMH document carrying ``<error>``."""
    if not looks_like_oai_error(body):
        return False
    try:
        return bool(parse_response(body).errors)
    except HarvestError:
        return False


__all__ = [
    "DEFAULT_USER_AGENT",
    "RETRY_STATUSES",
    "OAIClient",
    "format_datestamp",
    "retry_after_seconds",
]

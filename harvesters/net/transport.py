"""httpx transports that obey the address policy, and the clients every outbound caller uses.

``PolicyTransport`` (async) and ``SyncPolicyTransport`` check each request's URL with an
``AddressPolicy`` and send it to the address that was checked, keeping the ``Host``
header and the TLS server name of the URL.  httpx hands every redirect hop to the
transport as a new request, so each hop is checked again: a public host redirecting to
loopback is refused like loopback itself.

Connections are pooled per host name (never shared between two names on one address, so
a TLS session verified for one name never carries a request for another).  The clients
built here read no proxy settings from the environment: a proxy would make the checked
address meaningless.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import httpx

from harvesters.net.policy import AddressPolicy, Target

MAX_POOLS = 128
"""Hosts whose connections are kept; the least recently used pool is closed beyond it."""
DEFAULT_MAX_REDIRECTS = 10


def _pinned(request: httpx.Request, target: Target) -> httpx.Request:
    return httpx.Request(
        request.method,
        target.request_url,
        headers=request.headers,  # carries the Host header of the URL asked for
        stream=request.stream,
        extensions={**request.extensions, **target.extensions},
    )


def _pool_key(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class PolicyTransport(httpx.AsyncBaseTransport):
    """An async transport that only connects to addresses ``policy`` allows."""

    def __init__(self, policy: AddressPolicy, **transport_options: Any) -> None:
        self.policy = policy
        self._options = transport_options
        self._pools: OrderedDict[tuple[str, str, int | None], httpx.AsyncHTTPTransport] = (
            OrderedDict()
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = await self.policy.check(request.url)
        pool = await self._pool(_pool_key(request.url))
        candidates = target.candidates()
        for index, candidate in enumerate(candidates):
            try:
                return await pool.handle_async_request(_pinned(request, candidate))
            except httpx.ConnectError:
                if index == len(candidates) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _pool(self, key: tuple[str, str, int | None]) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool
        pool = httpx.AsyncHTTPTransport(**self._options)
        self._pools[key] = pool
        while len(self._pools) > MAX_POOLS:
            _, oldest = self._pools.popitem(last=False)
            await oldest.aclose()
        return pool

    async def aclose(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            await pool.aclose()


class SyncPolicyTransport(httpx.BaseTransport):
    """``PolicyTransport`` for synchronous clients (the mirror)."""

    def __init__(self, policy: AddressPolicy, **transport_options: Any) -> None:
        self.policy = policy
        self._options = transport_options
        self._pools: OrderedDict[tuple[str, str, int | None], httpx.HTTPTransport] = OrderedDict()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = self.policy.check_sync(request.url)
        pool = self._pool(_pool_key(request.url))
        candidates = target.candidates()
        for index, candidate in enumerate(candidates):
            try:
                return pool.handle_request(_pinned(request, candidate))
            except httpx.ConnectError:
                if index == len(candidates) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _pool(self, key: tuple[str, str, int | None]) -> httpx.HTTPTransport:
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool
        pool = httpx.HTTPTransport(**self._options)
        self._pools[key] = pool
        while len(self._pools) > MAX_POOLS:
            _, oldest = self._pools.popitem(last=False)
            oldest.close()
        return pool

    def close(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            pool.close()


def async_client(
    policy: AddressPolicy,
    *,
    timeout: float | httpx.Timeout = 60.0,
    headers: Mapping[str, str] | None = None,
    follow_redirects: bool = True,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request and redirect obeys ``policy``."""
    return httpx.AsyncClient(
        transport=PolicyTransport(policy),
        timeout=timeout,
        headers=headers,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
    )


def sync_client(
    policy: AddressPolicy,
    *,
    timeout: float | httpx.Timeout = 60.0,
    headers: Mapping[str, str] | None = None,
    follow_redirects: bool = True,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
) -> httpx.Client:
    """An ``httpx.Client`` whose every request and redirect obeys ``policy``."""
    return httpx.Client(
        transport=SyncPolicyTransport(policy),
        timeout=timeout,
        headers=headers,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
    )

"""httpx transports that obey the address policy, and the clients every outbound caller uses.

``PolicyTransport`` (async) and ``SyncPolicyTransport`` check each request's URL with an
``AddressPolicy`` and send it to the address that was checked, keeping the ``Host``
header and the TLS server name of the URL.  httpx hands every redirect hop to the
transport as a new request, so each hop is checked again: a public host redirecting to
loopback is refused like loopback itself.

A request may carry its own policy in the ``address_policy`` extension (``POLICY``): one
client then serves callers with different policies (the file fetcher's sources, some
registered with private addresses) and keeps its connections to each host across them.

Connections are pooled per host name (never shared between two names on one address, so
a TLS session verified for one name never carries a request for another).  The clients
built here read no proxy settings from the environment: a proxy would make the checked
address meaningless.
"""

from __future__ import annotations

import functools
import ssl
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from harvesters.net.policy import AddressPolicy, Target

MAX_POOLS = 128
"""Hosts whose connections are kept; the least recently used pool is closed beyond it."""
DEFAULT_MAX_REDIRECTS = 10
POLICY = "address_policy"
"""The request extension naming the ``AddressPolicy`` of that request (and its redirects)."""


def policy_of(request: httpx.Request, default: AddressPolicy) -> AddressPolicy:
    """The policy ``request`` carries in its ``POLICY`` extension, else ``default``."""
    policy = request.extensions.get(POLICY, default)
    if not isinstance(policy, AddressPolicy):
        raise TypeError(f"the {POLICY!r} extension must be an AddressPolicy, not {policy!r}")
    return policy


def _pinned(request: httpx.Request, target: Target) -> httpx.Request:
    extensions = {k: v for k, v in request.extensions.items() if k != POLICY}
    return httpx.Request(
        request.method,
        target.request_url,
        headers=request.headers,  # carries the Host header of the URL asked for
        stream=request.stream,
        extensions={**extensions, **target.extensions},
    )


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    """The TLS context of every pool not given a ``verify`` of its own. httpx would build one
    per pool, reading the whole CA bundle each time (about 50 ms of CPU per new host)."""
    return httpx.create_ssl_context()


def _pool_options(transport_options: dict[str, Any]) -> dict[str, Any]:
    if "verify" in transport_options:
        return transport_options
    return {**transport_options, "verify": _verifying_context()}


def _pool_key(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class PolicyTransport(httpx.AsyncBaseTransport):
    """An async transport that only connects to addresses ``policy`` allows (or the policy
    a request carries in its ``POLICY`` extension).

    Each host's pool is ``pool_factory()`` (default: ``httpx.AsyncHTTPTransport`` with
    ``transport_options``, e.g. ``verify``; without one, the pools share one verifying TLS
    context); it receives requests already pinned to the checked address.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        pool_factory: Callable[[], httpx.AsyncBaseTransport] | None = None,
        **transport_options: Any,
    ) -> None:
        self.policy = policy
        options = _pool_options(transport_options)
        self._factory = pool_factory or (lambda: httpx.AsyncHTTPTransport(**options))
        self._pools: OrderedDict[tuple[str, str, int | None], httpx.AsyncBaseTransport] = (
            OrderedDict()
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = await policy_of(request, self.policy).check(request.url)
        pool = await self._pool(_pool_key(request.url))
        candidates = target.candidates()
        for index, candidate in enumerate(candidates):
            try:
                return await pool.handle_async_request(_pinned(request, candidate))
            except httpx.ConnectError:
                if index == len(candidates) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _pool(self, key: tuple[str, str, int | None]) -> httpx.AsyncBaseTransport:
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool
        pool = self._factory()
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

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        pool_factory: Callable[[], httpx.BaseTransport] | None = None,
        **transport_options: Any,
    ) -> None:
        self.policy = policy
        options = _pool_options(transport_options)
        self._factory = pool_factory or (lambda: httpx.HTTPTransport(**options))
        self._pools: OrderedDict[tuple[str, str, int | None], httpx.BaseTransport] = OrderedDict()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        target = policy_of(request, self.policy).check_sync(request.url)
        pool = self._pool(_pool_key(request.url))
        candidates = target.candidates()
        for index, candidate in enumerate(candidates):
            try:
                return pool.handle_request(_pinned(request, candidate))
            except httpx.ConnectError:
                if index == len(candidates) - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _pool(self, key: tuple[str, str, int | None]) -> httpx.BaseTransport:
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool
        pool = self._factory()
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
    **transport_options: Any,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose every request and redirect obeys ``policy`` (or the
    policy a request carries); ``transport_options`` go to ``PolicyTransport``."""
    return httpx.AsyncClient(
        transport=PolicyTransport(policy, **transport_options),
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
    **transport_options: Any,
) -> httpx.Client:
    """An ``httpx.Client`` whose every request and redirect obeys ``policy`` (or the policy
    a request carries); ``transport_options`` go to ``SyncPolicyTransport``."""
    return httpx.Client(
        transport=SyncPolicyTransport(policy, **transport_options),
        timeout=timeout,
        headers=headers,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
    )

"""Rate limits: request budgets per client address or per key, counted by the ``limits`` package.

Each kind of public read (search, OAI, the change feed, the snapshot, objects, sitemaps) and
failed authentication has a budget (``COURSEFED_RATE_LIMIT_*``, e.g. ``600/minute``) in
fixed windows that start at a caller's first request: one counter increment per request.
The counters live in this process's memory, or in Redis when ``COURSEFED_REDIS_URL`` is
set, so that every app process behind one address draws on one budget.  Should Redis stop
answering, requests are let through (and a warning logged) rather than refused.

The client is the socket peer.  ``X-Forwarded-For`` is read only when the peer is one of
``COURSEFED_TRUSTED_PROXIES``, and then the client is the nearest hop that is not itself a
trusted proxy: a header a client wrote for itself never picks its own budget.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from typing import Any, Literal

from fastapi import FastAPI, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from starlette.types import Scope

from app.errors import AppError
from app.observability.metrics import RATE_LIMIT_REFUSALS
from app.settings import Settings

log = logging.getLogger(__name__)

Kind = Literal["search", "oai", "changes", "snapshot", "objects", "sitemap", "auth_failures"]
BOOSTED: frozenset[Kind] = frozenset({"oai", "changes", "snapshot", "objects"})
"""Kinds whose budget a mirror-scoped (or admin) key has several times over."""

REDIS_TIMEOUT = 0.5  # seconds: a slow Redis must not make every request slow
WARN_EVERY = 60.0  # seconds between two warnings that Redis is unavailable

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TooManyRequests(AppError):
    status_code = 429
    error = "too_many_requests"


def proxy_networks(text: str) -> tuple[_Network, ...]:
    return tuple(
        ipaddress.ip_network(item, strict=False)
        for item in (part.strip() for part in text.split(","))
        if item
    )


def client_address(scope: Scope, trusted: tuple[_Network, ...] = ()) -> str:
    """The caller's address: the socket peer, or the first untrusted ``X-Forwarded-For``
    hop (read from the right) when the peer is a trusted proxy."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            forwarded.extend(value.decode("latin-1").split(","))
    nearest = peer
    for hop in reversed(forwarded):
        try:
            address = str(ipaddress.ip_address(hop.strip()))
        except ValueError:
            return nearest  # garbage in the chain: the last proxy we believe saw this peer
        if not _is_trusted(address, trusted):
            return address
        nearest = address
    return nearest


def _is_trusted(address: str, trusted: tuple[_Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def _scaled(item: RateLimitItem, factor: int) -> RateLimitItem:
    return type(item)(item.amount * factor, item.multiples, namespace=item.namespace)


class Limiter:
    """The budgets of one app, and the counters they are drawn from."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit
        self.trusted = proxy_networks(settings.trusted_proxies)
        self._pool: Any = None
        storage: Storage
        if settings.redis_url:
            from redis.asyncio import ConnectionPool  # noqa: PLC0415 - only with Redis

            self._pool = ConnectionPool.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
            storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                connection_pool=self._pool,
                key_prefix=f"{settings.redis_prefix}:limits",
                wrap_exceptions=True,
            )
        else:
            storage = MemoryStorage()
        self._strategy = FixedWindowRateLimiter(storage)
        self._budgets: dict[Kind, list[RateLimitItem]] = {
            "search": parse_many(settings.rate_limit_search),
            "oai": parse_many(settings.rate_limit_oai),
            "changes": parse_many(settings.rate_limit_changes),
            "snapshot": parse_many(settings.rate_limit_snapshot),
            "objects": parse_many(settings.rate_limit_objects),
            "sitemap": parse_many(settings.rate_limit_sitemap),
            "auth_failures": parse_many(settings.rate_limit_auth_failures),
        }
        factor = settings.rate_limit_mirror_factor
        self._boosted = {
            kind: [_scaled(item, factor) for item in self._budgets[kind]] for kind in BOOSTED
        }
        self._warned_at = -math.inf

    def client(self, request: Request) -> str:
        return client_address(request.scope, self.trusted)

    async def hit(self, kind: Kind, identity: str, *, boosted: bool = False) -> None:
        """Draw one request from ``identity``'s budget; ``TooManyRequests`` when spent."""
        if not self.enabled:
            return
        items = self._boosted[kind] if boosted and kind in BOOSTED else self._budgets[kind]
        for item in items:
            if not await self._call(self._strategy.hit, item, kind, identity):
                await self._refuse(item, kind, identity)

    async def check_failures(self, client: str) -> None:
        """``TooManyRequests`` if ``client`` has used up its failed authentications."""
        if not self.enabled:
            return
        for item in self._budgets["auth_failures"]:
            if not await self._call(self._strategy.test, item, "auth_failures", client):
                await self._refuse(item, "auth_failures", client)

    async def failed(self, client: str) -> None:
        """Count one failed authentication; ``TooManyRequests`` if it was one too many."""
        await self.hit("auth_failures", client)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()

    async def _call(self, method: Any, item: RateLimitItem, *identifiers: str) -> bool:
        try:
            return bool(await method(item, *identifiers))
        except StorageError as exc:
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY:
                self._warned_at = now
                log.warning("rate limits not applied: the counter store failed: %s", exc)
            return True

    async def _refuse(self, item: RateLimitItem, kind: Kind, identity: str) -> None:
        RATE_LIMIT_REFUSALS.labels(kind).inc()
        try:
            reset = (await self._strategy.get_window_stats(item, kind, identity)).reset_time
            wait = max(1, math.ceil(reset - time.time()))
        except StorageError:
            wait = item.get_expiry()
        what = "failed authentications" if kind == "auth_failures" else f"{kind} requests"
        window = item.GRANULARITY.name
        if item.multiples != 1:
            window = f"{item.multiples} {window}s"
        raise TooManyRequests(
            f"too many {what} (at most {item.amount} per {window}); try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def install(app: FastAPI, settings: Settings) -> Limiter:
    """Give ``app`` its limiter (called at start-up; close it with ``aclose`` at shutdown)."""
    limiter = Limiter(settings)
    app.state.limiter = limiter
    return limiter


def limiter_of(request: Request) -> Limiter:
    limiter: Limiter | None = getattr(request.app.state, "limiter", None)
    if limiter is None:  # an app started without its lifespan: budgets of its own
        limiter = install(request.app, request.app.state.coursefed.settings)
    return limiter

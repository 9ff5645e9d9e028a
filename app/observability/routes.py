"""``GET /metrics``: Prometheus' text format, for the networks ``COURSEFED_METRICS_ALLOW``
names (loopback by default) or a caller with ``COURSEFED_METRICS_TOKEN``; anyone else gets
a 403 JSON answer."""

from __future__ import annotations

import ipaddress
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.deps import StateDep
from app.errors import AppError
from app.observability import scrape
from app.ratelimit import client_address, proxy_networks
from app.settings import Settings

router = APIRouter(tags=["operations"])

# Headers a reverse proxy adds.  A request that carries one, from a peer not listed in
# COURSEFED_TRUSTED_PROXIES, came from someone the proxy did not name to us: a proxy on
# loopback must not open /metrics to the whole web.
FORWARDING_HEADERS = frozenset({b"forwarded", b"x-forwarded-for", b"x-real-ip"})


class MetricsRefused(AppError):
    status_code = 403
    error = "forbidden"


def may_read_metrics(request: Request, settings: Settings) -> bool:
    """Whether this caller may read ``/metrics`` (see the module)."""
    token = settings.metrics_token
    if token is not None and token.get_secret_value():
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()
        ):
            return True
    allowed = proxy_networks(settings.metrics_allow)
    if not allowed:
        return False
    trusted = proxy_networks(settings.trusted_proxies)
    peer = request.client.host if request.client else ""
    forwarded = any(name in FORWARDING_HEADERS for name, _ in request.scope["headers"])
    if forwarded and not _within(peer, trusted):
        return False
    return _within(client_address(request.scope, trusted), allowed)


Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def _within(address: str, networks: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, state: StateDep) -> Response:
    """Counters, histograms and database figures in Prometheus' text format."""
    if not may_read_metrics(request, state.settings):
        raise MetricsRefused(
            "metrics are served to the networks in COURSEFED_METRICS_ALLOW (loopback by"
            " default) or with the bearer token COURSEFED_METRICS_TOKEN"
        )
    return Response(scrape.render(state.engine), media_type=CONTENT_TYPE_LATEST)

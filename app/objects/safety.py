"""The object downloader's view of the outbound address policy, and its errors.

The policy itself (schemes, public addresses, pinning to the checked address) is
``harvesters.net.policy``, the one every outbound request obeys; ``check_url`` applies it
to a file URL and turns its refusals into the downloader's own errors::

    ObjectDownloadError
    ├── ObjectRefused(kind, reason)   permanent: "not_allowed" | "too_large" | "unsupported_type"
    └── DownloadFailed(reason, retryable, retry_after, status)
"""

from __future__ import annotations

from typing import Literal

import httpx

from harvesters.net.policy import (
    DEFAULT_PORTS,
    SCHEMES,
    AddressPolicy,
    AddressRefused,
    IPAddress,
    ResolutionFailed,
    Resolver,
    Target,
    embedded_ipv4,
    system_resolver,
    why_not_public,
)
from harvesters.net.policy import parse_address_literal as _parse_address_literal

RefusalKind = Literal["not_allowed", "too_large", "unsupported_type"]

__all__ = [
    "DEFAULT_PORTS",
    "SCHEMES",
    "DownloadFailed",
    "IPAddress",
    "ObjectDownloadError",
    "ObjectRefused",
    "Resolver",
    "Target",
    "check_url",
    "embedded_ipv4",
    "parse_address_literal",
    "system_resolver",
    "why_not_public",
]


class ObjectDownloadError(Exception):
    """Base of every error the object downloader raises on purpose."""


class ObjectRefused(ObjectDownloadError):
    """We will not store this object: a permanent verdict, never retried.

    ``kind`` is ``"not_allowed"`` (the URL policy: scheme, address, redirects),
    ``"too_large"`` or ``"unsupported_type"``; ``reason`` says why in words.
    """

    def __init__(self, kind: RefusalKind, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind: RefusalKind = kind
        self.reason = reason


class DownloadFailed(ObjectDownloadError):
    """The download did not complete; ``retryable`` says whether trying later may help.

    Timeouts, connection errors and HTTP 408/429/5xx are retryable (``retry_after`` is the
    server's ``Retry-After`` in seconds, when it sent one); 404, 410 and other 4xx are not.
    ``status`` is the HTTP status when the failure was an HTTP answer.
    """

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


def parse_address_literal(host: str) -> IPAddress | None:
    """The address a numeric host stands for (see ``harvesters.net.policy``); a host that
    looks numeric but is no valid address raises ``ObjectRefused``."""
    try:
        return _parse_address_literal(host)
    except AddressRefused as exc:
        raise ObjectRefused("not_allowed", exc.reason) from None


async def check_url(
    url: httpx.URL | str,
    *,
    allow_private: bool = False,
    resolver: Resolver = system_resolver,
    policy: AddressPolicy | None = None,
) -> Target:
    """Check ``url`` against the address policy and pin it to a checked address.

    Raises ``ObjectRefused("not_allowed", ...)`` when the policy refuses the URL, and
    ``DownloadFailed`` when the host name cannot be resolved.  ``policy`` carries the
    deployment's allowed networks; ``allow_private`` is the source's own setting.
    """
    base = policy or AddressPolicy(resolver=resolver)
    try:
        return await base.permitting(allow_private=allow_private or base.allow_private).check(url)
    except AddressRefused as exc:
        raise ObjectRefused("not_allowed", exc.reason) from None
    except ResolutionFailed as exc:
        raise DownloadFailed(exc.reason, retryable=exc.retryable) from exc

"""Which URLs the object downloader may fetch, and the one address it may connect to.

A URL is fetched only when its scheme is ``http`` or ``https`` and every address its host
resolves to is public: loopback, private (RFC 1918, ``fc00::/7``), link-local, multicast,
unspecified, reserved, shared (``100.64.0.0/10``) and other non-global addresses are
refused, IPv4 addresses embedded in IPv6 (mapped, compatible, 6to4, NAT64) are judged as
IPv4, and numeric hosts in the legacy forms ``inet_aton`` accepts (``2130706433``,
``0x7f.1``, ``017700000001``) are read as the addresses they are.  ``allow_private``
(a per-source setting) lifts the address rule, never the scheme rule.

The check returns a ``Target`` pinned to the address that was checked: the request goes to
that IP with the original ``Host`` header (and, for https, the ``sni_hostname`` extension,
so TLS still verifies the real host name), so a second DNS answer cannot swap in another
address between the check and the connection (DNS rebinding).

The errors of the downloader, shared with ``app.objects.download``::

    ObjectDownloadError
    ├── ObjectRefused(kind, reason)   permanent: "not_allowed" | "too_large" | "unsupported_type"
    └── DownloadFailed(reason, retryable, retry_after, status)
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RefusalKind = Literal["not_allowed", "too_large", "unsupported_type"]
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> addresses``: the IP addresses (as text) a host name resolves to."""

SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the low 32 bits are IPv4
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d
# What inet_aton (and so getaddrinfo) reads as an IPv4 address: 1 to 4 dot-separated
# numbers, each decimal, 0x-hex or 0-octal; the last fills the remaining bytes.
_NUMERIC_LABEL = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)")


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


@dataclass(frozen=True)
class Target:
    """One checked request target: where to connect and what to tell the server."""

    url: httpx.URL  # the URL as asked for (host name kept): redirects are joined to it
    host: str  # ASCII (IDNA) host name or address literal, as in the Host header
    address: IPAddress  # the checked address the connection goes to
    addresses: tuple[IPAddress, ...] = field(default=())  # every address the host had
    host_is_address: bool = False  # the URL named an address, not a host name

    def candidates(self) -> list[Target]:
        """This target pinned to each address worth a connection attempt, best first: the
        first answer, then the first of the other address family (a host may publish IPv6
        addresses that this machine cannot reach)."""
        others = [a for a in self.addresses if a.version != self.address.version]
        return [self] + [replace(self, address=a) for a in others[:1]]

    @property
    def request_url(self) -> httpx.URL:
        """``url`` with its host replaced by the checked address."""
        return self.url.copy_with(host=str(self.address))  # httpx brackets IPv6 itself

    @property
    def host_header(self) -> str:
        port = self.url.port
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if port is None else f"{host}:{port}"

    @property
    def extensions(self) -> dict[str, str]:
        """Request extensions: for https, verify the certificate against the host name."""
        if self.url.scheme == "https" and not self.host_is_address:
            return {"sni_hostname": self.host}
        return {}


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the event loop's ``getaddrinfo`` (TCP addresses only)."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        # AI_ADDRCONFIG: no IPv6 answers on a machine without IPv6, and vice versa.
        host,
        port,
        type=socket.SOCK_STREAM,
        proto=socket.IPPROTO_TCP,
        flags=socket.AI_ADDRCONFIG,
    )
    # sockaddr[0] is the address; for IPv6 a zone ("fe80::1%eth0") may follow.
    return [str(info[4][0]) for info in infos]


def parse_address_literal(host: str) -> IPAddress | None:
    """The address a numeric host stands for, legacy IPv4 forms included; else None.

    Raises ``ObjectRefused`` for a host that looks numeric but is no valid address
    (``256.1.1.1.1``, ``0x1ffffffff``): resolvers disagree on what such hosts mean.
    """
    text = host.strip("[]")
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise ObjectRefused("not_allowed", f"{host!r} is not a valid IPv6 address") from None
    labels = text.split(".")
    if labels and labels[-1] == "" and len(labels) > 1:  # a trailing dot: "127.0.0.1."
        labels.pop()
    if not labels or not all(_NUMERIC_LABEL.fullmatch(label) for label in labels):
        return None
    try:
        numbers = [_label_value(label) for label in labels]
        if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]):
            raise ValueError(host)
        value = numbers[-1]
        if value >= 256 ** (5 - len(numbers)):
            raise ValueError(host)
        for index, number in enumerate(numbers[:-1]):
            value += number << (8 * (3 - index))
        return ipaddress.IPv4Address(value)
    except ValueError:
        raise ObjectRefused("not_allowed", f"{host!r} is not a valid IPv4 address") from None


def _label_value(label: str) -> int:
    if label[:2] in {"0x", "0X"}:
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)  # "08" raises ValueError: not an address
    return int(label)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str | None:
    """None for a public address; else what it is ("a loopback address", ...)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = why_not_public(inner)
            return None if reason is None else f"{reason} ({inner} inside IPv6)"
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (isinstance(address, ipaddress.IPv4Address) and address in _SHARED, "a shared address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for failed, reason in checks if failed), None)


async def check_url(
    url: httpx.URL | str, *, allow_private: bool = False, resolver: Resolver = system_resolver
) -> Target:
    """Check ``url`` against the policy and pin it to a checked address.

    Raises ``ObjectRefused("not_allowed", ...)`` when the scheme or any resolved address is
    refused, and ``DownloadFailed`` when the host name cannot be resolved.
    """
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ObjectRefused("not_allowed", f"{url!r} is not a valid URL: {exc}") from None
    if not parsed.scheme:
        raise ObjectRefused("not_allowed", f"{str(parsed)!r} has no scheme (only http, https)")
    if parsed.scheme not in SCHEMES:
        reason = f"{parsed.scheme!r} URLs are not fetched (only http, https)"
        raise ObjectRefused("not_allowed", reason)
    host = parsed.raw_host.decode("ascii").rstrip(".") if parsed.raw_host else ""
    if not host:
        raise ObjectRefused("not_allowed", f"{str(parsed)!r} has no host")
    literal = parse_address_literal(host)
    if literal is not None:
        addresses: tuple[IPAddress, ...] = (literal,)
    else:
        addresses = await _resolve(host, parsed.port or DEFAULT_PORTS[parsed.scheme], resolver)
    if not allow_private:
        for address in addresses:
            problem = why_not_public(address)
            if problem is not None:
                if literal is None:
                    where = f"{host} resolves to {address},"
                elif ":" in host or str(address) == host:
                    where = f"{host} is"
                else:  # a legacy numeric form: say which address it means
                    where = f"{host} means {address},"
                raise ObjectRefused("not_allowed", f"{where} {problem}")
    return Target(
        url=parsed,
        host=host,
        address=addresses[0],
        addresses=addresses,
        host_is_address=literal is not None,
    )


async def _resolve(host: str, port: int, resolver: Resolver) -> tuple[IPAddress, ...]:
    try:
        answers = await resolver(host, port)
    except socket.gaierror as exc:
        # EAI_AGAIN is a temporary failure; "no such name" is not worth retrying soon.
        retryable = exc.errno not in {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)}
        raise DownloadFailed(f"cannot resolve {host}: {exc.strerror}", retryable=retryable) from exc
    except OSError as exc:
        raise DownloadFailed(f"cannot resolve {host}: {exc}", retryable=True) from exc
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            address = ipaddress.ip_address(answer.split("%", 1)[0])
        except ValueError:
            raise ObjectRefused(
                "not_allowed", f"{host} resolves to {answer!r}, which is not an address"
            ) from None
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise DownloadFailed(f"cannot resolve {host}: no addresses", retryable=True)
    return tuple(addresses)

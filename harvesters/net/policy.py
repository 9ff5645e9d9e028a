"""The outbound address policy: which URLs the service may request, pinned to a checked address.

Every request coursefed makes to a server it does not run (Identify at registration,
harvests, ``sources check``, link checks, the mirror, file downloads) is judged here:

* the scheme is ``http`` or ``https`` and the URL has a host;
* every address the host resolves to is public: loopback, private (RFC 1918,
  ``fc00::/7``), link-local, multicast, unspecified, reserved, shared (``100.64.0.0/10``)
  and other non-global addresses are refused; IPv4 addresses embedded in IPv6 (mapped,
  compatible, 6to4, NAT64) are judged as IPv4, and numeric hosts in the legacy forms
  ``inet_aton`` accepts (``2130706433``, ``0x7f.1``, ``017700000001``) as the addresses
  they are;
* ``allow_private`` (a source registered with ``--allow-private-network``) lifts the
  address rule, and ``allow_networks`` (``COURSEFED_OUTBOUND_ALLOW_NETWORKS``) lifts it for
  named networks; neither ever lifts the scheme rule, nor the refusal of cloud metadata
  services (``169.254.169.254`` and its kin), which no repository lives on.

A check returns a ``Target`` pinned to the address that was checked: the connection goes to
that address with the original ``Host`` header (and, for https, the TLS server name), so a
second DNS answer cannot swap in another address between the check and the connection.

Refusals raise ``AddressRefused``, whose ``rule`` names the rule that refused and whose
message names the host as it was asked for; nothing an upstream sent is ever part of it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Rule = Literal["scheme", "invalid-url", "no-host", "invalid-address", "private-address", "metadata"]
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> addresses``: the IP addresses (as text) a host name resolves to."""
SyncResolver = Callable[[str, int], Sequence[str]]

SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the low 32 bits are IPv4
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d
# Cloud instance-metadata services: refused even for sources allowed private addresses.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, Azure, GCP, Huawei Cloud, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
# What inet_aton (and so getaddrinfo) reads as an IPv4 address: 1 to 4 dot-separated
# numbers, each decimal, 0x-hex or 0-octal; the last fills the remaining bytes.
_NUMERIC_LABEL = re.compile(r"(?:0[xX][0-9a-fA-F]*|[0-9]+)")


class AddressRefused(httpx.RequestError):
    """The address policy refused a URL: permanent, never worth retrying.

    ``rule`` is the rule that refused (``scheme``, ``invalid-url``, ``no-host``,
    ``invalid-address``, ``private-address``, ``metadata``); ``reason`` says why in words.
    """

    def __init__(self, rule: Rule, reason: str) -> None:
        super().__init__(f"refused by the address policy ({rule}): {reason}")
        self.rule: Rule = rule
        self.reason = reason


class ResolutionFailed(httpx.ConnectError):
    """The host name could not be resolved; ``retryable`` says whether later may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


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


def system_resolver_sync(host: str, port: int) -> list[str]:
    """``system_resolver`` for synchronous callers."""
    infos = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_ADDRCONFIG
    )
    return [str(info[4][0]) for info in infos]


def parse_address_literal(host: str) -> IPAddress | None:
    """The address a numeric host stands for, legacy IPv4 forms included; else None.

    Raises ``AddressRefused`` for a host that looks numeric but is no valid address
    (``256.1.1.1.1``, ``0x1ffffffff``): resolvers disagree on what such hosts mean.
    """
    text = host.strip("[]")
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise AddressRefused(
                "invalid-address", f"{host!r} is not a valid IPv6 address"
            ) from None
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
        raise AddressRefused("invalid-address", f"{host!r} is not a valid IPv4 address") from None


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


def metadata_service(address: IPAddress) -> str | None:
    """ "a cloud metadata service" when ``address`` (or the IPv4 address inside it) is one."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and inner in METADATA_ADDRESSES:
            return f"a cloud metadata service ({inner} inside IPv6)"
    return "a cloud metadata service" if address in METADATA_ADDRESSES else None


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Networks from text (``10.1.0.0/16``, ``192.0.2.7``); ``ValueError`` names a bad one."""
    networks = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP network (e.g. 10.1.0.0/16)") from None
    return tuple(networks)


@dataclass(frozen=True)
class AddressPolicy:
    """Who may be asked: see the module docstring.  Immutable; ``permitting`` derives one."""

    allow_private: bool = False
    allow_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = system_resolver
    sync_resolver: SyncResolver = system_resolver_sync

    def permitting(self, *, allow_private: bool) -> AddressPolicy:
        """This policy for a source registered with (or without) private addresses."""
        return replace(self, allow_private=allow_private)

    async def check(self, url: httpx.URL | str) -> Target:
        """Check ``url`` and pin it to a checked address (``AddressRefused``,
        ``ResolutionFailed``)."""
        parsed, host, port, literal = self._parse(url)
        if literal is not None:
            return self._judge(parsed, host, (literal,), literal=True)
        try:
            answers = await self.resolver(host, port)
        except OSError as exc:
            raise _resolution_failed(host, exc) from exc
        return self._judge(parsed, host, _addresses(host, answers), literal=False)

    def check_sync(self, url: httpx.URL | str) -> Target:
        """``check`` for synchronous callers."""
        parsed, host, port, literal = self._parse(url)
        if literal is not None:
            return self._judge(parsed, host, (literal,), literal=True)
        try:
            answers = self.sync_resolver(host, port)
        except OSError as exc:
            raise _resolution_failed(host, exc) from exc
        return self._judge(parsed, host, _addresses(host, answers), literal=False)

    def _parse(self, url: httpx.URL | str) -> tuple[httpx.URL, str, int, IPAddress | None]:
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise AddressRefused("invalid-url", f"not a valid URL ({exc})") from None
        if parsed.scheme not in SCHEMES:
            what = f"{parsed.scheme!r} URLs" if parsed.scheme else "URLs without a scheme"
            raise AddressRefused("scheme", f"{what} are not requested (only http, https)")
        host = parsed.raw_host.decode("ascii").rstrip(".") if parsed.raw_host else ""
        if not host:
            raise AddressRefused("no-host", "the URL has no host")
        port = parsed.port or DEFAULT_PORTS[parsed.scheme]
        return parsed, host, port, parse_address_literal(host)

    def _judge(
        self, parsed: httpx.URL, host: str, addresses: tuple[IPAddress, ...], *, literal: bool
    ) -> Target:
        for address in addresses:
            where = _where(host, address, literal=literal)
            metadata = metadata_service(address)
            if metadata is not None:
                raise AddressRefused("metadata", f"{where} {metadata}")
            if self.allow_private or any(address in net for net in self.allow_networks):
                continue
            problem = why_not_public(address)
            if problem is not None:
                raise AddressRefused("private-address", f"{where} {problem}")
        return Target(
            url=parsed,
            host=host,
            address=addresses[0],
            addresses=addresses,
            host_is_address=literal,
        )


def _where(host: str, address: IPAddress, *, literal: bool) -> str:
    if not literal:
        return f"{host} resolves to {address},"
    if ":" in host or str(address) == host:
        return f"{host} is"
    return f"{host} means {address},"  # a legacy numeric form: say which address it means


def _resolution_failed(host: str, exc: OSError) -> ResolutionFailed:
    if isinstance(exc, socket.gaierror):
        # EAI_AGAIN is a temporary failure; "no such name" is not worth retrying soon.
        retryable = exc.errno not in {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)}
        return ResolutionFailed(f"cannot resolve {host}: {exc.strerror}", retryable=retryable)
    return ResolutionFailed(f"cannot resolve {host}: {exc}", retryable=True)


def _addresses(host: str, answers: Sequence[str]) -> tuple[IPAddress, ...]:
    addresses: list[IPAddress] = []
    for answer in answers:
        try:
            address = ipaddress.ip_address(answer.split("%", 1)[0])
        except ValueError:
            raise AddressRefused(
                "invalid-address", f"{host} resolves to {answer!r}, which is not an address"
            ) from None
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ResolutionFailed(f"cannot resolve {host}: no addresses", retryable=True)
    return tuple(addresses)

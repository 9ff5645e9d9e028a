"""The outbound address policy and its httpx transports, on their own.

The end-to-end refusals (every spelling of loopback, metadata services, redirects to
them, rebinding) are exercised through the file downloader in
tests/app/test_object_download.py; here are the policy's parsing and the transports'
own promises: requests reach the pool pinned to the checked address, a request may carry
its own policy (redirects included), and each host name has a pool of its own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Sequence

import httpx
import pytest

from harvesters.net import (
    POLICY,
    AddressPolicy,
    AddressRefused,
    PolicyTransport,
    SyncPolicyTransport,
    async_client,
    sync_client,
)
from harvesters.net.policy import parse_address_literal, why_not_public

PUBLIC = "93.184.216.34"


def resolver(answers: dict[str, Sequence[str]]) -> AddressPolicy:
    async def resolve(host: str, port: int) -> list[str]:
        return list(answers[host])

    def resolve_sync(host: str, port: int) -> list[str]:
        return list(answers[host])

    return AddressPolicy(resolver=resolve, sync_resolver=resolve_sync)


DNS = {"files.example.org": [PUBLIC], "mirror.example.org": [PUBLIC], "lan.example": ["10.0.0.5"]}


class Pools:
    """A ``pool_factory`` recording what each pool is handed; every pool answers 200, or a
    redirect for paths starting with /redirect."""

    def __init__(self) -> None:
        self.made = 0
        self.seen: list[httpx.Request] = []

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.url.path.startswith("/redirect"):
            return httpx.Response(302, headers={"Location": "http://lan.example/inside"})
        return httpx.Response(200, text="ok")

    def pool(self) -> httpx.MockTransport:
        self.made += 1
        return httpx.MockTransport(self.answer)


# --- the policy ------------------------------------------------------------------------------


def test_address_literals_in_legacy_forms_are_read_as_inet_aton_does() -> None:
    assert str(parse_address_literal("2130706433")) == "127.0.0.1"
    assert str(parse_address_literal("0x7f000001")) == "127.0.0.1"
    assert str(parse_address_literal("0177.0.0.1")) == "127.0.0.1"
    assert str(parse_address_literal("10.1")) == "10.0.0.1"
    assert str(parse_address_literal("192.168.257")) == "192.168.1.1"
    assert str(parse_address_literal("::ffff:127.0.0.1")) == "::ffff:7f00:1"
    assert parse_address_literal("example.org") is None
    assert parse_address_literal("1.2.3.example") is None
    assert parse_address_literal("cafe.example") is None


def test_public_addresses_pass_and_are_pinned() -> None:
    for text in (PUBLIC, "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:8.8.8.8"):
        assert why_not_public(ipaddress.ip_address(text)) is None, text
    target = asyncio.run(resolver(DNS).check("https://files.example.org/a.pdf"))
    assert str(target.request_url) == f"https://{PUBLIC}/a.pdf"
    assert target.host_header == "files.example.org"
    assert target.extensions == {"sni_hostname": "files.example.org"}
    v6 = resolver({"v6.example.org": ["2606:2800:220:1::1"]})
    target = asyncio.run(v6.check("http://v6.example.org:8080/a?b=1"))
    assert str(target.request_url) == "http://[2606:2800:220:1::1]:8080/a?b=1"
    assert target.host_header == "v6.example.org:8080"
    assert target.extensions == {}  # plain http: no TLS name to verify


# --- the transports --------------------------------------------------------------------------


def test_pools_get_requests_pinned_to_the_checked_address_with_the_host_name_kept() -> None:
    pools = Pools()

    async def run() -> httpx.Response:
        async with async_client(resolver(DNS), pool_factory=pools.pool) as client:
            return await client.get("https://files.example.org/a.pdf")

    response = asyncio.run(run())
    assert response.status_code == 200
    [pinned] = pools.seen
    assert str(pinned.url) == f"https://{PUBLIC}/a.pdf"
    assert pinned.headers["Host"] == "files.example.org"
    assert pinned.extensions["sni_hostname"] == "files.example.org"
    assert response.url == "https://files.example.org/a.pdf"  # the caller sees the name


def test_two_names_on_one_address_never_share_a_pool() -> None:
    # A TLS connection verified for one name must never carry a request for another.
    pools = Pools()

    async def run() -> None:
        async with async_client(resolver(DNS), pool_factory=pools.pool) as client:
            for url in ("https://files.example.org/1", "https://files.example.org/2"):
                await client.get(url)
            await client.get("https://mirror.example.org/3")

    asyncio.run(run())
    assert pools.made == 2
    assert [str(r.url) for r in pools.seen] == [f"https://{PUBLIC}/{n}" for n in (1, 2, 3)]


def test_pools_share_one_verifying_tls_context_unless_given_their_own() -> None:
    # httpx builds a context per transport, reading the CA bundle each time: tens of
    # milliseconds for every new host of a harvest, a link check or a file fetch.
    def context(pool: httpx.BaseTransport | httpx.AsyncBaseTransport) -> ssl.SSLContext:
        return pool._pool._ssl_context  # type: ignore[attr-defined]  # httpcore's pool

    policy = resolver(DNS)
    first, second = PolicyTransport(policy)._factory(), PolicyTransport(policy)._factory()
    synchronous = SyncPolicyTransport(policy)._factory()
    shared = context(first)
    assert shared is context(second) is context(synchronous)
    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname
    own = ssl.create_default_context()
    assert context(PolicyTransport(policy, verify=own)._factory()) is own


def test_a_request_carrying_its_own_policy_is_judged_by_it() -> None:
    strict = resolver(DNS)
    lifted = strict.permitting(allow_private=True)
    pools = Pools()

    async def run() -> None:
        async with async_client(strict, pool_factory=pools.pool) as client:
            with pytest.raises(AddressRefused, match=r"10\.0\.0\.5, a private address"):
                await client.get("http://lan.example/a")
            answer = await client.get("http://lan.example/a", extensions={POLICY: lifted})
            assert answer.status_code == 200
        async with async_client(lifted, pool_factory=pools.pool) as client:
            with pytest.raises(AddressRefused, match="a private address"):
                await client.get("http://lan.example/a", extensions={POLICY: strict})

    asyncio.run(run())
    assert [str(r.url) for r in pools.seen] == ["http://10.0.0.5/a"]
    assert POLICY not in pools.seen[0].extensions  # the policy stays with us


def test_a_request_policy_holds_for_every_redirect_hop() -> None:
    lifted = resolver(DNS).permitting(allow_private=True)
    pools = Pools()

    async def run() -> None:
        async with async_client(lifted, pool_factory=pools.pool) as client:
            with pytest.raises(AddressRefused, match=r"lan\.example resolves to 10\.0\.0\.5"):
                await client.get(
                    "http://files.example.org/redirect", extensions={POLICY: resolver(DNS)}
                )
            answer = await client.get("http://files.example.org/redirect")
            assert answer.url == "http://lan.example/inside"

    asyncio.run(run())
    assert [r.url.path for r in pools.seen] == ["/redirect", "/redirect", "/inside"]


def test_sync_transport_takes_a_request_policy_too() -> None:
    strict = resolver(DNS)
    pools = Pools()
    with sync_client(strict, pool_factory=pools.pool) as client:
        with pytest.raises(AddressRefused):
            client.get("http://lan.example/a")
        lifted = strict.permitting(allow_private=True)
        assert client.get("http://lan.example/a", extensions={POLICY: lifted}).status_code == 200


def test_an_extension_that_is_not_a_policy_is_a_programming_error() -> None:
    transport = PolicyTransport(resolver(DNS))
    request = httpx.Request("GET", "http://files.example.org/", extensions={POLICY: True})
    with pytest.raises(TypeError, match="must be an AddressPolicy"):
        asyncio.run(transport.handle_async_request(request))

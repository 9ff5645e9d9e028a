"""The object downloader against a real local HTTP server: streaming, hashing, sniffing,
file names, and every URL, size, type and HTTP failure it must refuse or report.

Only DNS is simulated (the policy's injectable resolver); a ``RoutedNetwork`` stands in
for the internet where a test needs a public address to reach this machine.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import socket
import ssl
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import pytest

from app.objects.download import (
    USER_AGENT,
    Downloaded,
    DownloadFailed,
    ObjectRefused,
    download,
    object_client,
    probe,
)
from app.objects.sniff import SNIFF_BYTES, is_allowed, sniff
from harvesters.net import AddressPolicy, system_resolver
from harvesters.net.policy import Resolver
from tests.app.memory import PeakMemory
from tests.app.object_server import (
    ObjectServer,
    Reply,
    RoutedNetwork,
    expected_sha256,
    generated,
)
from tests.services_plugin import free_port

PUBLIC = "93.184.216.34"  # a public address; RoutedNetwork makes it this machine
MB = 1 << 20
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ELF_HEAD = b"\x7fELF\x02\x01\x01\x00" + bytes(56)


# --- helpers --------------------------------------------------------------------------------


class FakeDNS:
    """A resolver with fixed answers; a list of lists answers differently on each call."""

    def __init__(self, answers: dict[str, list[str] | list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answer = self.answers[host]
        if answer and isinstance(answer[0], list):
            turn = self.calls.count(host) - 1
            return list(answer[min(turn, len(answer) - 1)])
        return [str(a) for a in answer]


async def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"{host} was looked up, but an address literal needs no DNS")


class HashingSink:
    """An ``out`` that keeps nothing: counts and hashes what it is given."""

    def __init__(self) -> None:
        self.size = 0
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.digest.update(data)
        return len(data)


def fetch(
    url: str,
    out: Any = None,
    *,
    network: RoutedNetwork | None = None,
    timeout: float = 5.0,
    allow_private: bool = True,
    resolver: Resolver = no_dns,
    **options: Any,
) -> Downloaded:
    """Download with a fresh client (on ``network``, if given).  The test server is on
    loopback, so private addresses are allowed unless a test passes ``allow_private=False``."""
    policy = AddressPolicy(allow_private=allow_private, resolver=resolver)
    options = {"max_bytes": 1 << 30, **options}
    routing = {"pool_factory": network.pool} if network is not None else {}

    async def run() -> Downloaded:
        async with object_client(policy, timeout=timeout, **routing) as client:
            return await download(
                url, io.BytesIO() if out is None else out, client=client, policy=policy, **options
            )

    return asyncio.run(run())


def refused(url: str, **options: Any) -> ObjectRefused:
    with pytest.raises(ObjectRefused) as caught:
        fetch(url, **options)
    return caught.value


def failed(url: str, **options: Any) -> DownloadFailed:
    with pytest.raises(DownloadFailed) as caught:
        fetch(url, **options)
    return caught.value


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes sizes after the data (bit 3)."""

    def __init__(self, target: io.BytesIO) -> None:
        self.target = target
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.position += len(data)
        return self.target.write(data)

    def tell(self) -> int:
        return self.position

    def seek(self, *args: object) -> int:
        raise OSError("not seekable")


def zip_bytes(members: Sequence[tuple[str, bytes]], *, streamed: bool = False) -> bytes:
    """A ZIP built in memory; ``mimetype`` is stored uncompressed, as EPUB and ODF require."""
    buffer = io.BytesIO()
    target: Any = _Unseekable(buffer) if streamed else buffer
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members:
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def compound_file(*streams: str, clsid: bytes = bytes(16)) -> bytes:
    """An OLE2 compound file header and a directory sector naming ``streams``."""
    entries = b""
    for name in ("Root Entry", *streams):
        raw = name.encode("utf-16-le") + b"\x00\x00"
        root_clsid = clsid if name == "Root Entry" else bytes(16)
        entry = raw.ljust(64, b"\x00") + struct.pack("<H", len(raw)) + bytes(14) + root_clsid
        entries += entry.ljust(128, b"\x00")
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + entries


@pytest.fixture(scope="module")
def server() -> Iterator[ObjectServer]:
    with ObjectServer() as running:
        yield running


# --- streaming, hashing, sizes --------------------------------------------------------------


def test_200_mb_file_streams_through_with_bounded_memory(server: ObjectServer) -> None:
    size = 200 * MB
    url = server.serve("/lecture.mp4", Reply(size=size, prefix=MP4_HEAD, content_type="video/mp4"))
    sink = HashingSink()
    with PeakMemory() as memory:
        got = fetch(url, sink)
    assert memory.growth_mib < 50, f"peak RSS grew by {memory.growth_mib:.1f} MiB"
    assert got.size == sink.size == size + len(MP4_HEAD)
    assert got.sha256 == sink.digest.hexdigest() == expected_sha256(size, prefix=MP4_HEAD)
    assert got.media_type == "video/mp4"
    assert got.file_name == "lecture.mp4"


@pytest.mark.parametrize("length", ["exact", "chunked", "close"])
def test_sha256_and_size_of_the_spooled_file(
    server: ObjectServer, tmp_path: Path, length: Literal["exact", "chunked", "close"]
) -> None:
    size = 3 * MB + 12_345  # not a multiple of any chunk size
    url = server.serve(f"/notes-{length}.pdf", Reply(size=size, prefix=PDF_HEAD, length=length))
    spool = tmp_path / "spool"
    with spool.open("wb") as out:
        got = fetch(url, out, chunk_size=256 * 1024)
    data = spool.read_bytes()
    assert got.size == len(data) == size + len(PDF_HEAD)
    assert got.sha256 == hashlib.sha256(data).hexdigest() == expected_sha256(size, prefix=PDF_HEAD)
    assert got.media_type == "application/pdf"
    assert got.declared_type == "application/octet-stream"
    assert got.final_url == url


def test_empty_generated_files_hash_like_the_server_says() -> None:
    assert b"".join(generated(0)) == b""
    assert expected_sha256(0) == hashlib.sha256(b"").hexdigest()
    assert len(b"".join(generated(3 * MB, seed=7))) == 3 * MB


def test_request_names_the_host_and_asks_for_identity_encoding(server: ObjectServer) -> None:
    url = server.serve("/plain.txt", Reply(prefix=b"hello\n", content_type="text/plain"))
    fetch(url)
    seen = server.requests[-1]
    assert seen.path == "/plain.txt"
    assert seen.headers["Host"] == f"127.0.0.1:{server.port}"
    assert seen.headers["Accept-Encoding"] == "identity"
    assert seen.headers["User-Agent"] == USER_AGENT == "coursefed/0.1 (+object fetcher)"


def test_cookies_a_server_sets_are_never_sent_back(server: ObjectServer) -> None:
    reply = Reply(prefix=PDF_HEAD, headers={"Set-Cookie": "session=abc; Path=/"})
    url = server.serve("/with-cookie.pdf", reply)
    policy = AddressPolicy(allow_private=True, resolver=no_dns)

    async def run() -> None:
        async with object_client(policy, timeout=5) as client:
            for _ in range(2):
                await download(url, io.BytesIO(), client=client, policy=policy, max_bytes=MB)

    asyncio.run(run())
    assert [("Cookie" in r.headers) for r in server.requests[-2:]] == [False, False]


def gzipped(*parts: bytes, repeat: int = 1) -> bytes:
    """gzip of the parts (the last one ``repeat`` times), compressed piece by piece."""
    encoder = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    pieces = [encoder.compress(part) for part in parts[:-1]]
    pieces += [encoder.compress(parts[-1]) for _ in range(repeat)]
    return b"".join([*pieces, encoder.flush()])


def test_gzip_sent_despite_identity_is_decoded(server: ObjectServer) -> None:
    body = PDF_HEAD + b"".join(generated(2 * MB, seed=3))
    reply = Reply(prefix=gzipped(body), headers={"Content-Encoding": "gzip"})
    got = fetch(server.serve("/zipped.pdf", reply))
    assert (got.size, got.sha256) == (len(body), hashlib.sha256(body).hexdigest())
    assert got.media_type == "application/pdf"


def test_gzip_bomb_stops_at_max_bytes_without_expanding_in_memory(server: ObjectServer) -> None:
    bomb = gzipped(PDF_HEAD, bytes(MB), repeat=96)  # 96 MB of zeros, ~100 KB on the wire
    assert len(bomb) < 128 * 1024  # one read: an unbounded decoder would expand it at once
    url = server.serve("/bomb.pdf", Reply(prefix=bomb, headers={"Content-Encoding": "gzip"}))
    out = io.BytesIO()
    with PeakMemory() as memory:
        error = refused(url, out=out, max_bytes=8 * MB)
    assert error.kind == "too_large"
    assert len(out.getvalue()) <= 8 * MB
    assert memory.growth_mib < 50


# --- file names (the rules themselves: tests/app/test_file_names.py) ------------------


def test_file_name_from_header_wins_over_url(server: ObjectServer) -> None:
    header = "attachment; filename*=UTF-8''%E8%AF%BE%E4%BB%B6.pdf"
    reply = Reply(prefix=PDF_HEAD, headers={"Content-Disposition": header})
    assert fetch(server.serve("/download.php", reply)).file_name == "课件.pdf"


def test_file_name_comes_from_the_final_url_after_redirects(server: ObjectServer) -> None:
    server.serve("/files/%E7%AC%AC%E4%B8%80%E7%AB%A0.pdf", Reply(prefix=PDF_HEAD))
    url = server.redirect("/get?id=17", "/files/%E7%AC%AC%E4%B8%80%E7%AB%A0.pdf")
    got = fetch(url)
    assert got.file_name == "第一章.pdf"
    assert got.final_url == server.url("/files/%E7%AC%AC%E4%B8%80%E7%AB%A0.pdf")


# --- the URL policy (SSRF) ------------------------------------------------------------------


def test_loopback_is_refused_unless_private_addresses_are_allowed(server: ObjectServer) -> None:
    url = server.serve("/internal.txt", Reply(prefix=b"secret\n", content_type="text/plain"))
    before = len(server.requests)
    error = refused(url, allow_private=False)
    assert error.kind == "not_allowed"
    assert error.reason == "127.0.0.1 is a loopback address"
    assert len(server.requests) == before  # refused before connecting
    assert fetch(url, allow_private=True).media_type == "text/plain"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata service"),
        ("http://2130706433/", "2130706433 means 127.0.0.1, a loopback address"),
        ("http://017700000001/", "017700000001 means 127.0.0.1, a loopback address"),
        ("http://0x7f.1/", "0x7f.1 means 127.0.0.1, a loopback address"),
        ("http://127.1/", "127.1 means 127.0.0.1, a loopback address"),
        ("http://0251.254.43518/", "means 169.254.169.254, a cloud metadata service"),
        ("http://0xa9fea9fe/", "0xa9fea9fe means 169.254.169.254, a cloud metadata service"),
        ("http://[::ffff:127.0.0.1]/", "a loopback address (127.0.0.1 inside IPv6)"),
        ("http://[::ffff:a9fe:a9fe]/", "a cloud metadata service (169.254.169.254 inside IPv6)"),
        ("http://[::1]:8080/", "::1 is a loopback address"),
        ("http://10.1.2.3/", "10.1.2.3 is a private address"),
        ("http://172.16.0.1/", "172.16.0.1 is a private address"),
        ("http://192.168.1.1/", "192.168.1.1 is a private address"),
        ("http://100.64.0.1/", "100.64.0.1 is a shared address"),
        ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
        ("http://[::]/", ":: is an unspecified address"),
        ("http://224.0.0.251/", "224.0.0.251 is a multicast address"),
        ("http://[ff02::1]/", "ff02::1 is a multicast address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://[fd12:3456::1]/", "fd12:3456::1 is a private address"),
        ("http://240.0.0.1/", "240.0.0.1 is a private address"),
        ("http://[64:ff9b::a9fe:a9fe]/", "(169.254.169.254 inside IPv6)"),
        ("http://[2002:7f00:1::]/", "a loopback address (127.0.0.1 inside IPv6)"),
        ("https://127.0.0.1./", "127.0.0.1 is a loopback address"),
    ],
)
def test_private_addresses_are_refused_whatever_their_spelling(url: str, reason: str) -> None:
    error = refused(url, allow_private=False)
    assert error.kind == "not_allowed"
    assert reason in error.reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "'file' URLs are not requested"),
        ("ftp://ftp.example.org/pub/notes.pdf", "'ftp' URLs are not requested"),
        ("gopher://example.org:70/", "'gopher' URLs are not requested"),
        ("javascript:alert(1)", "'javascript' URLs are not requested"),
        ("//example.org/notes.pdf", "without a scheme"),
        ("http:///notes.pdf", "has no host"),
        ("http://256.1.1.1/", "Invalid IPv4 address: '256.1.1.1'"),
        ("http://0x100000000/", "'0x100000000' is not a valid IPv4 address"),
        ("http://1.2.3.4.5/", "'1.2.3.4.5' is not a valid IPv4 address"),
        ("http://08.0.0.1/", "Invalid IPv4 address: '08.0.0.1'"),
        ("http://0251.0376.0251.0376/", "Invalid IPv4 address: '0251.0376.0251.0376'"),
        ("http://08.1/", "'08.1' is not a valid IPv4 address"),
    ],
)
def test_other_schemes_and_malformed_hosts_are_refused(url: str, reason: str) -> None:
    error = refused(url, allow_private=True)  # the scheme rule holds even for private sources
    assert error.kind == "not_allowed"
    assert reason in error.reason


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/", "http://100.100.100.200/", "http://[fd00:ec2::254]/"]
)
def test_cloud_metadata_services_are_refused_even_for_private_sources(url: str) -> None:
    error = refused(url, allow_private=True)
    assert "a cloud metadata service" in error.reason


def test_host_name_resolving_to_loopback_is_refused() -> None:
    dns = FakeDNS({"files.example.org": ["127.0.0.1"]})
    error = refused("http://files.example.org/notes.pdf", allow_private=False, resolver=dns)
    assert error.kind == "not_allowed"
    assert error.reason == "files.example.org resolves to 127.0.0.1, a loopback address"


def test_every_resolved_address_is_checked_not_only_the_first() -> None:
    dns = FakeDNS({"cdn.example.org": [PUBLIC, "2606:2800:220:1::1", "10.0.0.7"]})
    error = refused("https://cdn.example.org/a.mp4", allow_private=False, resolver=dns)
    assert error.reason == "cdn.example.org resolves to 10.0.0.7, a private address"


def test_host_resolving_to_ipv4_mapped_metadata_address_is_refused() -> None:
    dns = FakeDNS({"meta.example.org": ["::ffff:169.254.169.254"]})
    error = refused("http://meta.example.org/latest/", allow_private=False, resolver=dns)
    assert "169.254.169.254 inside IPv6" in error.reason


def test_localhost_through_the_real_resolver_is_refused() -> None:
    error = refused("http://localhost/", allow_private=False, resolver=system_resolver)
    assert error.reason.startswith("localhost resolves to ")
    assert "a loopback address" in error.reason


def test_public_host_redirecting_to_loopback_is_refused(server: ObjectServer) -> None:
    server.serve("/admin", Reply(prefix=b"the admin page", content_type="text/plain"))
    server.redirect("/moved", server.url("/admin"))
    dns = FakeDNS({"files.example.org": [PUBLIC]})
    network = RoutedNetwork({PUBLIC: server.port})
    error = refused(
        "http://files.example.org/moved", allow_private=False, resolver=dns, network=network
    )
    assert error.kind == "not_allowed"
    assert error.reason == (
        f"http://files.example.org/moved redirects to {server.url('/admin')}: "
        "127.0.0.1 is a loopback address"
    )
    assert [r.path for r in server.requests[-1:]] == ["/moved"]  # /admin was never asked for


def test_public_host_redirecting_to_a_name_for_the_metadata_service_is_refused(
    server: ObjectServer,
) -> None:
    server.redirect("/to-metadata", "http://metadata.example.org/latest/meta-data/")
    dns = FakeDNS({"files.example.org": [PUBLIC], "metadata.example.org": ["169.254.169.254"]})
    error = refused(
        "http://files.example.org/to-metadata",
        allow_private=False,
        resolver=dns,
        network=RoutedNetwork({PUBLIC: server.port}),
    )
    assert error.reason.endswith(
        "redirects to http://metadata.example.org/latest/meta-data/: "
        "metadata.example.org resolves to 169.254.169.254, a cloud metadata service"
    )


def test_connection_goes_to_the_checked_address_so_rebinding_cannot_follow(
    server: ObjectServer,
) -> None:
    # A rebinding DNS: public when checked, loopback for any later lookup.
    dns = FakeDNS({"files.example.org": [[PUBLIC], ["127.0.0.1"]]})
    network = RoutedNetwork({PUBLIC: server.port})
    server.serve("/pinned.pdf", Reply(prefix=PDF_HEAD, size=1000))
    got = fetch(
        "http://files.example.org/pinned.pdf",
        allow_private=False,
        resolver=dns,
        network=network,
    )
    assert dns.calls == ["files.example.org"]  # one lookup, and its answer was used
    assert network.seen_hosts == [PUBLIC]
    assert server.requests[-1].headers["Host"] == "files.example.org"
    assert got.final_url == "http://files.example.org/pinned.pdf"
    assert got.media_type == "application/pdf"


def test_unreachable_first_address_falls_back_to_the_other_family(server: ObjectServer) -> None:
    # The host publishes an IPv6 address first, but the server only listens on IPv4.
    dns = FakeDNS({"dual.example.org": ["::1", "127.0.0.1"]})
    server.serve("/dual.pdf", Reply(prefix=PDF_HEAD))
    got = fetch(f"http://dual.example.org:{server.port}/dual.pdf", resolver=dns)
    assert got.media_type == "application/pdf"
    assert server.requests[-1].headers["Host"] == f"dual.example.org:{server.port}"


def test_unresolvable_host_is_a_failure_not_a_refusal() -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def servfail(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    gone = failed("http://gone.example.org/a.pdf", resolver=nxdomain)
    assert not gone.retryable and "cannot resolve gone.example.org" in gone.reason
    assert failed("http://flaky.example.org/a.pdf", resolver=servfail).retryable


# --- https: the pinned address, the real name ------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=files.example.org", "-addext", "subjectAltName=DNS:files.example.org"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def tls_server(tls_files: tuple[Path, Path]) -> Iterator[ObjectServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*tls_files)
    with ObjectServer(ssl_context=context) as running:
        yield running


def test_https_to_a_pinned_address_verifies_the_host_name(
    tls_server: ObjectServer, tls_files: tuple[Path, Path]
) -> None:
    tls_server.serve("/notes.pdf", Reply(prefix=PDF_HEAD, size=5000))
    port = tls_server.port
    dns = FakeDNS({"files.example.org": ["127.0.0.1"], "other.example.org": ["127.0.0.1"]})
    verify = ssl.create_default_context(cafile=str(tls_files[0]))

    policy = AddressPolicy(allow_private=True, resolver=dns)

    async def run() -> tuple[Downloaded, DownloadFailed]:
        async with object_client(policy, verify=verify, timeout=5) as client:
            options: dict[str, Any] = {"client": client, "policy": policy, "max_bytes": MB}
            got = await download(
                f"https://files.example.org:{port}/notes.pdf", io.BytesIO(), **options
            )
            # Same address, same client: must not ride on the connection verified for
            # files.example.org; the certificate does not name other.example.org.
            with pytest.raises(DownloadFailed) as caught:
                await download(
                    f"https://other.example.org:{port}/notes.pdf", io.BytesIO(), **options
                )
            return got, caught.value

    got, error = asyncio.run(run())
    assert got.media_type == "application/pdf"
    assert got.final_url == f"https://files.example.org:{port}/notes.pdf"
    assert tls_server.requests[-1].headers["Host"] == f"files.example.org:{port}"
    assert not error.retryable
    assert "certificate" in error.reason


# --- size and type --------------------------------------------------------------------------


def test_too_large_by_content_length_is_refused_before_the_body(server: ObjectServer) -> None:
    url = server.serve("/huge.pdf", Reply(prefix=PDF_HEAD, size=5 * MB))
    out = io.BytesIO()
    error = refused(url, out=out, max_bytes=MB)
    assert error.kind == "too_large"
    assert f"Content-Length {5 * MB + len(PDF_HEAD)}" in error.reason
    assert out.getvalue() == b""


@pytest.mark.parametrize("length", ["chunked", "close"])
def test_too_large_without_content_length_stops_at_the_limit(
    server: ObjectServer, length: Literal["chunked", "close"]
) -> None:
    url = server.serve(
        f"/endless-{length}.pdf", Reply(prefix=PDF_HEAD, size=20 * MB, length=length)
    )
    out = io.BytesIO()
    error = refused(url, out=out, max_bytes=MB)
    assert error.kind == "too_large"
    assert "more than 1048576 bytes" in error.reason
    assert len(out.getvalue()) <= MB


def test_exactly_max_bytes_is_accepted(server: ObjectServer) -> None:
    url = server.serve(
        "/exact.pdf", Reply(prefix=PDF_HEAD, size=MB - len(PDF_HEAD), length="chunked")
    )
    assert fetch(url, max_bytes=MB).size == MB


def test_executable_is_refused_early_whatever_it_is_served_as(server: ObjectServer) -> None:
    url = server.serve("/setup.bin", Reply(prefix=ELF_HEAD, size=20 * MB))
    out = io.BytesIO()
    error = refused(url, out=out, chunk_size=256 * 1024)
    assert error.kind == "unsupported"
    assert "application/x-executable (declared application/octet-stream)" in error.reason
    assert len(out.getvalue()) < SNIFF_BYTES + 256 * 1024  # stopped after the first bytes
    exe = Reply(prefix=b"MZ\x90\x00" + bytes(60), size=1000, content_type="application/pdf")
    error = refused(server.serve("/notes.pdf.exe", exe))
    assert error.kind == "unsupported"
    assert "application/x-msdownload (declared application/pdf)" in error.reason


def test_unknown_bytes_are_an_unsupported_type(server: ObjectServer) -> None:
    error = refused(server.serve("/blob", Reply(size=100_000, content_type="video/mp4")))
    assert error.kind == "unsupported"
    assert error.reason.endswith(
        "application/octet-stream (declared video/mp4) is not a type we store"
    )


def test_declared_type_refines_but_never_overrides_the_bytes(server: ObjectServer) -> None:
    csv = Reply(prefix=b"course,credits\n\xe7\x89\xa9\xe7\x90\x86,3\n", content_type="text/csv")
    assert fetch(server.serve("/plan.csv", csv)).media_type == "text/csv"
    text_as_png = Reply(prefix=b"just words\n", content_type="image/png")
    assert fetch(server.serve("/fake.png", text_as_png)).media_type == "text/plain"
    docx = zip_bytes([("docProps/app.xml", b"<Properties/>")])
    declared = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    got = fetch(server.serve("/report.docx", Reply(prefix=docx, content_type=declared)))
    assert got.media_type == declared


def test_scorm_package_is_a_zip_that_says_it_is_a_package(server: ObjectServer) -> None:
    scorm = zip_bytes([("imsmanifest.xml", b"<manifest/>"), ("sco/index.html", b"<html>")])
    got = fetch(server.serve("/course.zip", Reply(prefix=scorm, content_type="application/zip")))
    assert (got.media_type, got.package) == ("application/zip", "ims")


# --- sniffing -------------------------------------------------------------------------------

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODP = "application/vnd.oasis.opendocument.presentation"
MSI_CLSID = bytes.fromhex("84100c0000000000c000000000000046")
OOXML_TYPES = b"<Types/>"

SNIFF_TABLE: list[tuple[str, bytes, str | None, str]] = [
    ("pdf", PDF_HEAD + b"1 0 obj", None, "application/pdf"),
    ("pdf after junk", b"\x00\x01garbage\r\n" + PDF_HEAD, None, "application/pdf"),
    ("rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl}", None, "application/rtf"),
    ("epub", zip_bytes([("mimetype", b"application/epub+zip"),
                        ("META-INF/container.xml", b"<container/>")]), None,
     "application/epub+zip"),
    ("odt", zip_bytes([("mimetype", ODT.encode()), ("content.xml", b"<doc/>")]), None, ODT),
    ("odp", zip_bytes([("mimetype", ODP.encode()), ("content.xml", b"<doc/>")]), None, ODP),
    ("docx", zip_bytes([("[Content_Types].xml", OOXML_TYPES), ("_rels/.rels", b"<r/>"),
                        ("word/document.xml", b"<w:document/>")]), None, DOCX),
    ("pptx", zip_bytes([("[Content_Types].xml", OOXML_TYPES),
                        ("ppt/presentation.xml", b"<p/>")]), None, PPTX),
    ("xlsx", zip_bytes([("[Content_Types].xml", OOXML_TYPES),
                        ("xl/workbook.xml", b"<w/>")]), None, XLSX),
    ("docx written streaming (sizes after data)",
     zip_bytes([("[Content_Types].xml", OOXML_TYPES), ("word/document.xml", b"<w/>" * 500)],
               streamed=True), None, DOCX),
    ("docx by declared type", zip_bytes([("docProps/core.xml", b"<c/>")]), DOCX, DOCX),
    ("zip", zip_bytes([("readme.txt", b"hello")]), None, "application/zip"),
    ("zip declared x-zip-compressed", zip_bytes([("a.txt", b"a")]),
     "application/x-zip-compressed", "application/zip"),
    ("empty zip", zip_bytes([]), None, "application/zip"),
    ("jar", zip_bytes([("META-INF/MANIFEST.MF", b"Main-Class: X")]), "application/zip",
     "application/java-archive"),
    ("apk", zip_bytes([("AndroidManifest.xml", b"\x03\x00"), ("classes.dex", b"dex")]),
     None, "application/vnd.android.package-archive"),
    ("doc", compound_file("WordDocument", "1Table"), None, "application/msword"),
    ("xls", compound_file("Workbook"), None, "application/vnd.ms-excel"),
    ("ppt", compound_file("PowerPoint Document"), None, "application/vnd.ms-powerpoint"),
    ("ole2 placed by declared type", compound_file(), "application/msword", "application/msword"),
    ("ole2 unplaced", compound_file(), None, "application/x-cfb"),
    ("msi declared as doc", compound_file(clsid=MSI_CLSID), "application/msword",
     "application/x-msi"),
    ("mp4", MP4_HEAD + bytes(64), None, "video/mp4"),
    ("mp4 audio declared", MP4_HEAD + bytes(64), "audio/mp4", "audio/mp4"),
    ("mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", None, "video/quicktime"),
    ("old mov without ftyp", b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat", None, "video/quicktime"),
    ("m4a", b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom", None, "audio/mp4"),
    ("3gp", b"\x00\x00\x00\x14ftyp3gp5\x00\x00\x00\x00", None, "video/3gpp"),
    ("mp4 of a brand little known", b"\x00\x00\x00\x18ftypiso6\x00\x00\x00\x00iso6dash",
     None, "video/mp4"),
    ("heif image of a brand little known", b"\x00\x00\x00\x18ftypheix\x00\x00\x00\x00mif1heix",
     None, "image/heif"),
    ("m4v", b"\x00\x00\x00\x1cftypM4V \x00\x00\x00\x01M4V M4A mp42isom", None, "video/mp4"),
    ("webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3"
             b"\x81\x08\x42\x82\x84webm\x42\x87\x81\x04", None, "video/webm"),
    ("mkv", b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska\x42\x87\x81\x04",
     None, "video/x-matroska"),
    ("mp3 with id3", b"ID3\x04\x00\x00\x00\x00\x00\x21" + bytes(33) + b"\xff\xfb\x90\x64", None,
     "audio/mpeg"),
    ("mp3 frame", b"\xff\xfb\x90\x64" + bytes(413), None, "audio/mpeg"),
    ("midi", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk", None, "audio/midi"),
    ("aiff", b"FORM\x00\x00\x10\x2eAIFFCOMM\x00\x00\x00\x12", None, "audio/aiff"),
    ("aac adts", b"\xff\xf1\x50\x80\x02\x1f\xfc" + bytes(64), None, "audio/aac"),
    ("ogg vorbis", b"OggS\x00\x02" + bytes(22) + b"\x01vorbis", None, "audio/ogg"),
    ("ogg theora", b"OggS\x00\x02" + bytes(22) + b"\x80theora", None, "video/ogg"),
    ("wav", b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00", None, "audio/wav"),
    ("avi", b"RIFF\x00\x10\x00\x00AVI LIST", None, "video/x-msvideo"),
    ("flac", b"fLaC\x00\x00\x00\x22" + bytes(34), None, "audio/flac"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, "image/png"),
    ("jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01", None, "image/jpeg"),
    ("gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00", None, "image/gif"),
    ("webp", b"RIFF\x1a\x00\x00\x00WEBPVP8 ", None, "image/webp"),
    ("tiff", b"II*\x00\x08\x00\x00\x00\x0e\x00\x00\x01\x03\x00", None, "image/tiff"),
    ("bmp", b"BM\x8a\x7b\x0c\x00\x00\x00\x00\x00\x8a\x00\x00\x00\x7c\x00", None, "image/bmp"),
    ("animated png is a png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
     + b"\x00\x00\x00\x08acTL\x00\x00\x00\x02\x00\x00\x00\x00", None, "image/png"),
    ("svg", b'<?xml version="1.0"?>\n<!-- drawn by hand -->\n<!DOCTYPE svg PUBLIC '
            b'"-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="1"/>', None, "image/svg+xml"),
    ("svg bare", b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', None, "image/svg+xml"),
    ("html", b"\xef\xbb\xbf  <!DOCTYPE html>\n<html><head><title>x</title>", None, "text/html"),
    ("html after a comment", b"<!-- saved page -->\n<html lang=zh>", None, "text/html"),
    ("html fragment", "<p>第一章</p>".encode(), None, "text/html"),
    ("xhtml", b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">',
     None, "text/html"),
    ("xml", b'<?xml version="1.0"?>\n<lom xmlns="http://ltsc.ieee.org/xsd/LOM"/>', None,
     "application/xml"),
    ("text", "第一章 导论\n课程目标:了解基本概念。\n".encode() * 20, None, "text/plain"),
    ("text mentioning %PDF-", b"Files start with %PDF- then a version.\n", None, "text/plain"),
    ("csv", b"course,credits\nphysics,3\n", "text/csv; charset=utf-8", "text/csv"),
    ("csv served as excel stays text", b"a,b\n1,2\n", "application/vnd.ms-excel", "text/plain"),
    ("script served as pdf stays text", b"#!/bin/sh\necho hi\n", "application/pdf", "text/plain"),
    ("latin-1 text is not utf-8", b"caf\xe9 cr\xe8me br\xfbl\xe9e\n", "text/plain",
     "application/octet-stream"),
    ("text with a nul", b"abc\x00def", "text/plain", "application/octet-stream"),
    ("elf", ELF_HEAD, None, "application/x-executable"),
    ("elf declared pdf", ELF_HEAD, "application/pdf", "application/x-executable"),
    ("exe", b"MZ\x90\x00\x03" + bytes(59), None, "application/x-msdownload"),
    ("exe declared as an image", b"MZ\x90\x00\x03" + bytes(59), "image/png",
     "application/x-msdownload"),
    ("mach-o declared pdf", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(24), "application/pdf",
     "application/x-mach-binary"),
    ("java class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x1d", None, "application/java-vm"),
    ("rar is named when refused", b"Rar!\x1a\x07\x01\x00" + bytes(8), None,
     "application/x-rar-compressed"),
    ("empty", b"", "text/plain", "application/x-empty"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("head", "declared", "expected"),
    [
        pytest.param(head, declared, expected, id=name)
        for name, head, declared, expected in SNIFF_TABLE
    ],
)
def test_sniff_table(head: bytes, declared: str | None, expected: str) -> None:
    assert sniff(head, declared, complete=True).media_type == expected


def test_zip_members_beyond_the_head_are_not_read() -> None:
    filler = b"".join(generated(100_000))  # incompressible: the docx marker is past the head
    archive = zip_bytes([("media/big.bin", filler), ("word/document.xml", b"<w/>")])
    assert sniff(archive[:SNIFF_BYTES]).media_type == "application/zip"
    assert sniff(archive[:SNIFF_BYTES], DOCX).media_type == DOCX  # the declared type refines


def test_packages_are_flagged() -> None:
    scorm = zip_bytes([("imsmanifest.xml", b"<manifest/>"), ("adlcp_rootv1p2.xsd", b"<x/>")])
    html5 = zip_bytes([("index.html", b"<!DOCTYPE html>"), ("js/app.js", b"1")])
    assert sniff(scorm) == sniff(scorm, "application/zip")
    assert (sniff(scorm).media_type, sniff(scorm).package) == ("application/zip", "ims")
    assert (sniff(html5).media_type, sniff(html5).package) == ("application/zip", "html5")
    assert sniff(zip_bytes([("a.txt", b"a")])).package is None


def test_text_cut_inside_a_character_by_the_head_is_still_text(server: ObjectServer) -> None:
    text = ("课" * 30_000).encode()  # 90 000 bytes: SNIFF_BYTES cuts a character in two
    head = text[:SNIFF_BYTES]
    assert sniff(head, complete=False).media_type == "text/plain"
    assert sniff(head, complete=True).media_type == "application/octet-stream"
    got = fetch(server.serve("/long.txt", Reply(prefix=text, content_type="text/plain")))
    assert (got.media_type, got.size) == ("text/plain", len(text))


@pytest.mark.parametrize(
    ("media_type", "allowed"),
    [
        ("video/mp4", True),
        ("audio/mpeg", True),
        ("image/svg+xml", True),
        ("application/pdf", True),
        ("application/epub+zip", True),
        ("application/zip", True),
        ("application/msword", True),
        ("application/vnd.ms-powerpoint", True),
        (DOCX, True),
        (XLSX, True),
        (ODT, True),
        ("text/plain", True),
        ("Text/CSV; charset=utf-8", True),
        ("text/html", True),
        ("application/octet-stream", False),
        ("application/x-executable", False),
        ("application/x-msdownload", False),
        ("application/java-archive", False),
        ("application/xml", False),
        ("text/javascript", False),
        ("application/x-cfb", False),
        ("", False),
    ],
)
def test_allow_list(media_type: str, allowed: bool) -> None:
    assert is_allowed(media_type) is allowed


# --- HTTP failures and redirects ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "retryable", "retry_after"),
    [
        (404, {}, False, None),
        (410, {}, False, None),
        (403, {}, False, None),
        (400, {}, False, None),
        (408, {}, True, None),
        (429, {"Retry-After": "7"}, True, 7.0),
        (500, {}, True, None),
        (502, {}, True, None),
        (503, {"Retry-After": "120"}, True, 120.0),
        (404, {"Retry-After": "60"}, False, None),
    ],
)
def test_http_errors_are_classified(
    server: ObjectServer,
    status: int,
    headers: dict[str, str],
    retryable: bool,
    retry_after: float | None,
) -> None:
    reply = Reply(status=status, prefix=b"error page", content_type="text/html", headers=headers)
    url = server.serve(f"/status-{status}-{len(headers)}", reply)
    error = failed(url)
    assert (error.status, error.retryable, error.retry_after) == (status, retryable, retry_after)
    assert f"HTTP {status}" in error.reason


def test_refused_connection_is_retryable() -> None:
    error = failed(f"http://127.0.0.1:{free_port()}/notes.pdf")
    assert error.retryable
    assert error.status is None


def test_slow_server_times_out_and_is_retryable(server: ObjectServer) -> None:
    url = server.serve("/slow.pdf", Reply(prefix=PDF_HEAD, delay=1.0))
    error = failed(url, timeout=0.2)
    assert error.retryable
    assert "timed out (ReadTimeout)" in error.reason


def test_total_timeout_bounds_the_whole_download(server: ObjectServer) -> None:
    url = server.serve("/slower.pdf", Reply(prefix=PDF_HEAD, delay=1.0))
    error = failed(url, total_timeout=0.2)
    assert error.retryable
    assert "not complete after 0.2 s" in error.reason


def test_body_cut_short_is_retryable(server: ObjectServer) -> None:
    url = server.serve("/cut.pdf", Reply(prefix=PDF_HEAD, size=1000, length=100_000))
    error = failed(url)
    assert error.retryable


def test_five_redirects_are_followed(server: ObjectServer) -> None:
    server.serve("/chain/end.pdf", Reply(prefix=PDF_HEAD))
    for hop in range(5):
        target = "end.pdf" if hop == 4 else f"/chain/{hop + 1}"  # relative and absolute
        server.redirect(f"/chain/{hop}", target, status=(301, 302, 303, 307, 308)[hop])
    got = fetch(server.url("/chain/0"))
    assert got.final_url == server.url("/chain/end.pdf")
    assert got.file_name == "end.pdf"


def test_sixth_redirect_is_refused(server: ObjectServer) -> None:
    for hop in range(6):
        server.redirect(f"/loop/{hop}", f"/loop/{hop + 1}")
    server.serve("/loop/6", Reply(prefix=PDF_HEAD))
    error = refused(server.url("/loop/0"))
    assert error.kind == "not_allowed"
    assert error.reason == f"{server.url('/loop/0')}: more than 5 redirects"
    assert fetch(server.url("/loop/0"), max_redirects=6).final_url == server.url("/loop/6")


def test_redirect_to_a_file_url_is_refused(server: ObjectServer) -> None:
    error = refused(server.redirect("/to-file", "file:///etc/passwd"))
    assert error.kind == "not_allowed"
    assert error.reason.startswith(f"{server.url('/to-file')} redirects to file:")
    assert error.reason.endswith("/etc/passwd: 'file' URLs are not requested (only http, https)")


def test_link_probe_follows_redirects_under_the_same_rules(server: ObjectServer) -> None:
    server.serve("/probe/here.pdf", Reply(prefix=PDF_HEAD))
    moved = server.redirect("/probe/moved", "/probe/here.pdf", status=301)
    gone = server.redirect("/probe/gone", "/probe/missing.pdf")
    inside = server.redirect("/probe/inside", "http://10.0.0.1/admin")
    dns = FakeDNS({"files.example.org": [PUBLIC]})
    network = RoutedNetwork({PUBLIC: server.port})

    async def run() -> tuple[int, int, ObjectRefused]:
        lifted = AddressPolicy(allow_private=True, resolver=no_dns)
        strict = AddressPolicy(resolver=dns)
        async with object_client(strict, timeout=5, pool_factory=network.pool) as client:
            found = await probe(moved, client=client, policy=lifted)
            missing = await probe(gone, client=client, policy=lifted)
            with pytest.raises(ObjectRefused) as caught:
                await probe(inside.replace(f"127.0.0.1:{server.port}", "files.example.org"),
                            client=client, policy=strict)  # fmt: skip
            return found, missing, caught.value

    found, missing, refusal = asyncio.run(run())
    assert (found, missing) == (200, 404)
    assert refusal.reason == (
        "http://files.example.org/probe/inside redirects to http://10.0.0.1/admin: "
        "10.0.0.1 is a private address"
    )


def test_redirect_without_location_is_a_permanent_failure(server: ObjectServer) -> None:
    error = failed(server.serve("/nowhere", Reply(status=302, content_type=None)))
    assert not error.retryable
    assert "without a Location" in error.reason


def test_the_client_never_follows_a_redirect_itself(server: ObjectServer) -> None:
    server.serve("/followed/end.pdf", Reply(prefix=PDF_HEAD))
    server.redirect("/followed/start", "/followed/end.pdf")

    policy = AddressPolicy(allow_private=True)

    async def run() -> ObjectRefused:
        async with object_client(policy) as client:
            with pytest.raises(ObjectRefused) as caught:
                await download(server.url("/followed/start"), io.BytesIO(), client=client,
                               policy=policy, max_bytes=MB, max_redirects=0)  # fmt: skip
            return caught.value

    assert "more than 0 redirects" in asyncio.run(run()).reason
    assert server.requests[-1].path == "/followed/start"  # the client did not follow on its own


# --- connections --------------------------------------------------------------------------


def test_one_connection_carries_the_files_of_one_host(server: ObjectServer) -> None:
    urls = [server.serve(f"/kept-{n}.pdf", Reply(prefix=PDF_HEAD, size=70_000)) for n in range(3)]
    policy = AddressPolicy(allow_private=True, resolver=no_dns)

    async def run() -> None:
        async with object_client(policy, timeout=5) as client:
            for url in urls:
                got = await download(url, io.BytesIO(), client=client, policy=policy, max_bytes=MB)
                assert got.size == 70_000 + len(PDF_HEAD)

    asyncio.run(run())
    seen = server.requests[-3:]
    assert [r.path for r in seen] == [f"/kept-{n}.pdf" for n in range(3)]
    assert len({r.connection for r in seen}) == 1


Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


def fetch_from_script(
    script: Script, *, timeout: float = 5.0, total_timeout: float | None = None
) -> Downloaded | DownloadFailed:
    """Download once from a raw server that runs ``script(reader, writer, connection
    number)`` for each connection."""

    async def run() -> Downloaded | DownloadFailed:
        connections = 0

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal connections
            connections += 1
            try:
                await script(reader, writer, connections)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        listening = await asyncio.start_server(handle, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/notes.pdf"
        policy = AddressPolicy(allow_private=True, resolver=no_dns)
        async with listening, object_client(policy, timeout=timeout) as client:
            try:
                return await download(url, io.BytesIO(), client=client, policy=policy,
                                      max_bytes=MB, total_timeout=total_timeout)  # fmt: skip
            except DownloadFailed as error:
                return error

    return asyncio.run(run())


PDF_REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(PDF_HEAD), PDF_HEAD)


def test_interim_answers_before_the_final_one_are_skipped() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        writer.write(PDF_REPLY)
        await writer.drain()

    got = fetch_from_script(script)
    assert isinstance(got, Downloaded)
    assert (got.media_type, got.size) == ("application/pdf", len(PDF_HEAD))


def test_an_answer_that_is_not_http_is_a_retryable_failure() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()

    error = fetch_from_script(script)
    assert isinstance(error, DownloadFailed)
    assert error.retryable
    assert error.reason.endswith("/notes.pdf: the answer is not valid HTTP/1.1, or broke off")
    assert "SSH" not in error.reason  # never the server's own bytes


def test_headers_that_never_end_are_refused_before_they_fill_memory() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for n in range(100_000):  # 2.6 MB of headers, and no end to them
            writer.write(b"X-Padding-%06d: yes\r\n" % n)
            if n % 1000 == 0:
                await writer.drain()

    with PeakMemory() as memory:
        error = fetch_from_script(script)
    assert isinstance(error, DownloadFailed)
    assert error.reason.endswith("the answer is not valid HTTP/1.1, or broke off")
    assert "Padding" not in error.reason
    assert memory.growth_mib < 20


def test_a_server_that_stops_mid_body_meets_the_idle_timeout() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + PDF_HEAD)
        await writer.drain()
        await reader.read()  # then nothing more, until the client hangs up

    error = fetch_from_script(script, timeout=0.3)
    assert isinstance(error, DownloadFailed)
    assert error.retryable
    assert error.reason.endswith("/notes.pdf: timed out (ReadTimeout)")


def test_a_trickling_server_meets_the_total_deadline() -> None:
    # A byte now and then keeps every read within the idle timeout: only the deadline ends it.
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + PDF_HEAD)
        for _ in range(100_000):
            await asyncio.sleep(0.02)
            writer.write(b"x")
            await writer.drain()

    error = fetch_from_script(script, timeout=5.0, total_timeout=0.5)
    assert isinstance(error, DownloadFailed)
    assert error.retryable
    assert error.reason.endswith("/notes.pdf: not complete after 0.5 s")

"""The conformance check colleges run on their endpoint (``coursefed sources check``).

A well-behaved repository (the demo) passes every check; each broken repository — the
fault-injecting demo, small handlers of our own, a real capture — earns exactly the
WARN or FAIL line that tells the college what to fix.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest

from app.demo.corpus import generate_corpus
from app.demo.repository import DemoRepository
from app.demo.server import DemoRepositoryServer
from app.sources.conformance import (
    Check,
    check_endpoint,
    format_checks,
    has_failures,
)
from tests.app.oai_faults import FaultyRepository
from tests.fixtures.samples import sample
from tests.outbound import PRIVATE
from tests.thirdparty.loopback import LoopbackServer, Reply, serve

CORPUS = generate_corpus(300)
NAMES = [
    "identify",
    "base-url",
    "admin-email",
    "granularity",
    "deleted-record",
    "earliest-datestamp",
    "formats",
    "sets",
    "paging",
    "deletions",
    "selective",
    "encoding",
    "dates",
    "errors",
]

Rewrite = Callable[[dict[str, str], bytes], Reply | bytes]


def check(url: str) -> dict[str, Check]:
    checks = asyncio.run(check_endpoint(url, timeout=10, policy=PRIVATE))
    assert len({c.name for c in checks}) == len(checks), "one line per aspect"
    return {c.name: c for c in checks}


def outcomes(checks: dict[str, Check]) -> dict[str, str]:
    return {name: c.outcome for name, c in checks.items()}


def not_passed(checks: dict[str, Check]) -> dict[str, str]:
    return {name: c.outcome for name, c in checks.items() if c.outcome != "pass"}


@pytest.fixture
def demo_endpoint() -> Iterator[Callable[..., str]]:
    """``start(repository=None, rewrite=None)``: a demo repository on loopback, its
    answers optionally rewritten by ``rewrite(params, body)`` (a broken college)."""
    servers: list[DemoRepositoryServer | LoopbackServer] = []

    def start(repository: DemoRepository | None = None, rewrite: Rewrite | None = None) -> str:
        repo = repository or DemoRepository(CORPUS, "", 50)
        if rewrite is None:
            server = DemoRepositoryServer(repo)
            servers.append(server)
            return server.start()

        def handler(params: dict[str, str]) -> Reply:
            answer = rewrite(params, repo.handle(params))
            return answer if isinstance(answer, Reply) else Reply(answer)

        loopback, _ = serve(handler)
        servers.append(loopback)
        repo.base_url = loopback.base_url
        return loopback.base_url

    yield start
    for server in servers:
        server.stop()


def test_the_demo_repository_passes_every_check(demo_endpoint: Callable[..., str]) -> None:
    url = demo_endpoint()
    checks = check(url)
    assert list(checks) == NAMES
    assert not_passed(checks) == {}, format_checks(checks.values())
    assert not has_failures(checks.values())
    assert "we would harvest lom" in checks["formats"].detail
    assert "followed 6 pages to the end (300 headers)" in checks["paging"].detail


def test_day_granularity_repository_with_seconds_in_its_datestamps(
    demo_endpoint: Callable[..., str],
) -> None:
    url = demo_endpoint(FaultyRepository(CORPUS, day_granularity=True))
    checks = check(url)
    assert not_passed(checks) == {"dates": "warn"}
    assert "not in the announced granularity YYYY-MM-DD" in checks["dates"].detail
    assert "refused with badArgument, as it should be" in checks["selective"].detail
    assert checks["earliest-datestamp"].outcome == "pass"


def test_format_checks_lines() -> None:
    lines = format_checks(
        [
            Check("identify", "pass", "ok"),
            Check("paging", "warn", "no empty token"),
            Check("errors", "fail", "HTTP 500"),
        ]
    )
    assert lines == ["PASS identify: ok", "WARN paging: no empty token", "FAIL errors: HTTP 500"]


def test_missing_identify_fields_fail(demo_endpoint: Callable[..., str]) -> None:
    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        if params.get("verb") == "Identify":
            body = re.sub(rb"<adminEmail>[^<]*</adminEmail>", b"", body)
            body = re.sub(rb"<deletedRecord>[^<]*</deletedRecord>", b"", body)
        return body

    checks = check(demo_endpoint(rewrite=rewrite))
    assert checks["identify"].outcome == "fail"
    assert "missing adminEmail, deletedRecord" in checks["identify"].detail
    assert "admin-email" not in checks and "deleted-record" not in checks
    assert has_failures(checks.values())


def test_identify_values_that_are_wrong(demo_endpoint: Callable[..., str]) -> None:
    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        if params.get("verb") == "Identify":
            body = re.sub(rb"<baseURL>[^<]*<", b"<baseURL>http://oai.other-host.example/oai<", body)
            body = re.sub(rb"<adminEmail>", b"<adminEmail>mailto:", body)
            body = re.sub(rb"<earliestDatestamp>[^<]*<", b"<earliestDatestamp>aaaa-bb-cc<", body)
            body = body.replace(b">persistent<", b">sometimes<")
            body = body.replace(b"YYYY-MM-DDThh:mm:ssZ", b"YYYY-MM-DDThh:mm:ss.sZ")
            body = body.replace(b"<protocolVersion>2.0<", b"<protocolVersion>1.1<")
        return body

    checks = check(demo_endpoint(rewrite=rewrite))
    # No deletions line: with no valid deletedRecord there is nothing to hold them to.
    assert outcomes(checks) == {
        **dict.fromkeys((n for n in NAMES if n != "deletions"), "pass"),
        "identify": "fail",
        "base-url": "warn",
        "admin-email": "warn",
        "granularity": "fail",
        "deleted-record": "fail",
        "earliest-datestamp": "fail",
        "dates": "warn",  # the day granularity assumed does not fit seconds datestamps
        "selective": "warn",  # ... and a day-granularity repository must refuse seconds
    }
    assert "protocolVersion is '1.1'" in checks["identify"].detail
    assert "asked at http://127.0.0.1:" in checks["base-url"].detail
    assert "drop the mailto: prefix" in checks["admin-email"].detail


def test_placeholder_earliest_datestamp_from_a_capture(demo_endpoint: Callable[..., str]) -> None:
    """Citebase's real Identify: ``mailto:`` address, ``0001-01-01``, day granularity."""
    identify = sample("perl-oai-lib-citebase/identify.xml")
    repository = FaultyRepository(CORPUS, day_granularity=True, deleted_record="transient")

    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        return identify if params.get("verb") == "Identify" else body

    checks = check(demo_endpoint(repository, rewrite))
    assert checks["admin-email"].outcome == "warn"
    assert checks["earliest-datestamp"].outcome == "warn"
    assert "placeholder" in checks["earliest-datestamp"].detail
    assert checks["base-url"].outcome == "warn", "Citebase announces its own URL"
    assert checks["granularity"].detail == "YYYY-MM-DD"


def test_errors_as_http_500_html_fail(demo_endpoint: Callable[..., str]) -> None:
    def rewrite(params: dict[str, str], body: bytes) -> Reply | bytes:
        if b"<error" in body:
            page = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
            return Reply(page, 500, (("Content-Type", "text/html"),))
        return body

    checks = check(demo_endpoint(rewrite=rewrite))
    assert checks["errors"].outcome == "fail"
    assert "HTTP 500 without an OAI-PMH body" in checks["errors"].detail
    assert [line for line in format_checks(checks.values()) if line.startswith("FAIL")] == [
        "FAIL errors: " + checks["errors"].detail
    ]


def test_bad_verb_answered_with_http_422_fails(demo_endpoint: Callable[..., str]) -> None:
    """InvenioRDM's way: the right error code, the wrong HTTP status."""

    def rewrite(params: dict[str, str], body: bytes) -> Reply | bytes:
        return Reply(body, 422) if b"<error" in body else body

    checks = check(demo_endpoint(rewrite=rewrite))
    assert checks["errors"].outcome == "fail"
    assert "badVerb came with HTTP 422" in checks["errors"].detail


def test_wrong_error_code_for_a_bad_verb_fails(demo_endpoint: Callable[..., str]) -> None:
    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        return body.replace(b'code="badVerb"', b'code="badArgument"')

    checks = check(demo_endpoint(rewrite=rewrite))
    assert checks["errors"].outcome == "fail"
    assert "got badArgument (HTTP 200), not badVerb" in checks["errors"].detail


def test_last_page_without_an_empty_token_warns(demo_endpoint: Callable[..., str]) -> None:
    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        return re.sub(rb"<resumptionToken[^>]*/>", b"", body)

    checks = check(demo_endpoint(rewrite=rewrite))
    assert not_passed(checks) == {"paging": "warn"}
    assert "the last page has no <resumptionToken/> at all" in checks["paging"].detail


def test_cursor_counting_pages_and_drifting_size_warn(demo_endpoint: Callable[..., str]) -> None:
    pages = iter(range(1, 1000))

    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        if params.get("verb") == "ListIdentifiers" and "resumptionToken" in params:
            page = next(pages)
            body = re.sub(rb'cursor="\d+"', b'cursor="%d"' % page, body)
            body = re.sub(rb'completeListSize="\d+"', b'completeListSize="%d"' % (300 + page), body)
        return body

    checks = check(demo_endpoint(rewrite=rewrite))
    assert not_passed(checks) == {"paging": "warn"}
    assert "cursor counts pages, not records (cursor=1 after 50 headers)" in checks["paging"].detail
    assert "completeListSize drifts (300 → 305)" in checks["paging"].detail


def test_refused_token_fails_paging(demo_endpoint: Callable[..., str]) -> None:
    expired = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        b"<responseDate>2026-05-01T10:00:00Z</responseDate><request>http://x/oai</request>"
        b'<error code="badResumptionToken">gone</error></OAI-PMH>'
    )

    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        refused = params.get("verb") == "ListIdentifiers" and "resumptionToken" in params
        return expired if refused else body

    checks = check(demo_endpoint(rewrite=rewrite))
    assert checks["paging"].outcome == "fail"
    assert "failed after page 1: BadResumptionToken" in checks["paging"].detail


def test_deleted_headers_although_deleted_record_no_warn(
    demo_endpoint: Callable[..., str],
) -> None:
    checks = check(demo_endpoint(FaultyRepository(CORPUS, deleted_record="no")))
    assert not_passed(checks) == {"deletions": "warn"}
    assert "deletedRecord is 'no' yet 2 deleted headers" in checks["deletions"].detail


@pytest.mark.parametrize(
    ("formats", "outcome", "words"),
    [
        (["oai_dc"], "warn", "only oai_dc: offering IEEE LOM or qualified DC"),
        (["lom"], "fail", "oai_dc is not offered (OAI-PMH 2.0 §3.4 requires it)"),
    ],
)
def test_formats(
    demo_endpoint: Callable[..., str], formats: list[str], outcome: str, words: str
) -> None:
    checks = check(demo_endpoint(FaultyRepository(CORPUS, formats=formats)))
    assert checks["formats"].outcome == outcome
    assert words in checks["formats"].detail


def test_repository_without_sets_passes(demo_endpoint: Callable[..., str]) -> None:
    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        if params.get("verb") == "ListSets":
            body = re.sub(rb"<ListSets>.*</ListSets>", b"", body, flags=re.DOTALL)
            return body.replace(b"</request>", b'</request><error code="noSetHierarchy"/>')
        return body

    checks = check(demo_endpoint(rewrite=rewrite))
    assert (checks["sets"].outcome, checks["sets"].detail) == ("pass", "no sets (noSetHierarchy)")


def test_repository_that_ignores_from_warns(demo_endpoint: Callable[..., str]) -> None:
    full = DemoRepository(CORPUS, "", 50)

    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        if "from" in params:
            return full.handle({k: v for k, v in params.items() if k != "from"})
        return body

    checks = check(demo_endpoint(full, rewrite))
    assert not_passed(checks) == {"selective": "warn"}
    assert "was ignored" in checks["selective"].detail


def test_cp1252_bytes_warn_about_encoding(demo_endpoint: Callable[..., str]) -> None:
    def rewrite(params: dict[str, str], body: bytes) -> bytes:
        if params.get("verb") == "ListRecords":
            # A legacy page: no multi-byte UTF-8 at all, é as the one byte 0xE9.
            text = body.decode("utf-8")
            return "".join(c if ord(c) < 128 else "é" for c in text).encode("cp1252")
        return body

    checks = check(demo_endpoint(rewrite=rewrite))
    assert checks["encoding"].outcome == "warn"
    assert "decoded invalid UTF-8 as cp1252" in checks["encoding"].detail


def test_not_an_oai_pmh_endpoint_fails_clearly() -> None:
    def handler(params: Mapping[str, str | Sequence[str]]) -> Reply:
        return Reply(b"<html><body>Welcome</body></html>", 200, (("Content-Type", "text/html"),))

    server, _ = serve(handler)
    try:
        checks = check(server.base_url)
    finally:
        server.stop()
    assert outcomes(checks) == {"identify": "fail", "errors": "fail"}
    assert checks["identify"].detail.startswith("no usable answer to Identify: NotOAIPMH")


def test_unreachable_endpoint_fails_without_raising() -> None:
    server, _ = serve(lambda params: Reply(b""))
    url = server.base_url
    server.stop()
    checks = check(url)
    assert outcomes(checks) == {"identify": "fail", "errors": "fail"}
    assert "NetworkError" in checks["identify"].detail

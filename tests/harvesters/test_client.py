"""The OAI-PMH client against scripted repositories (httpx.MockTransport)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import TypeVar

import httpx
import pytest

from harvesters.oai.client import DEFAULT_USER_AGENT, format_datestamp, retry_after_seconds
from harvesters.oai.errors import (
    BadArgument,
    BadResumptionToken,
    DocumentTooLarge,
    HarvestError,
    HTTPStatusError,
    IdDoesNotExist,
    NetworkError,
    NoRecordsMatch,
    NotOAIPMH,
    ResumptionTokenLoop,
    TimeoutError,
    public_description,
)
from tests.fixtures.samples import fixture
from tests.harvesters.fakes import (
    ABSENT,
    BASE_URL,
    envelope,
    error_body,
    harness,
    ok,
    records_page,
)

pytestmark = pytest.mark.anyio

T = TypeVar("T")


async def collect(iterator: AsyncIterator[T]) -> list[T]:
    return [item async for item in iterator]


class RawStream(httpx.AsyncByteStream):
    """A body handed over undecoded, so that decoding happens in the client."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data


# --- single verbs ----------------------------------------------------------------------


async def test_identify_sends_user_agent_and_accepts_compression() -> None:
    async with harness(ok(fixture("oai/identify_quirks.xml"))) as h:
        identify = await h.client.identify()
    assert identify.base_url == "http://courses.example.edu/oai"
    assert identify.raw_bytes == fixture("oai/identify_quirks.xml")
    request = h.repository.requests[0]
    assert request.headers["user-agent"] == DEFAULT_USER_AGENT
    assert "gzip" in request.headers["accept-encoding"]
    assert dict(request.url.params) == {"verb": "Identify"}


async def test_gzip_response_is_decompressed() -> None:
    body = gzip.compress(fixture("oai/identify_quirks.xml"))
    async with harness(ok(body, **{"Content-Encoding": "gzip"})) as h:
        identify = await h.client.identify()
    assert identify.repository_name == "示例学院课程资源库"


async def test_list_metadata_formats_for_one_identifier() -> None:
    body = envelope(
        "ListMetadataFormats",
        "<metadataFormat><metadataPrefix>oai_dc</metadataPrefix>"
        "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
        "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</metadataNamespace>"
        "</metadataFormat>",
    )
    async with harness(ok(body)) as h:
        formats = await h.client.list_metadata_formats("oai:x:1")
    assert [f.prefix for f in formats] == ["oai_dc"]
    assert h.repository.params(0) == {"verb": "ListMetadataFormats", "identifier": "oai:x:1"}


async def test_get_record_returns_the_record() -> None:
    async with harness(ok(fixture("oai/getrecord_no_namespaces.xml"))) as h:
        record = await h.client.get_record("oai:courses.example.edu:c/7", "oai_dc")
    assert record.identifier == "oai:courses.example.edu:c/7"
    assert h.repository.params(0)["metadataPrefix"] == "oai_dc"


async def test_id_does_not_exist_for_an_identifier_just_listed() -> None:
    # DSpace@MIT: idDoesNotExist for an identifier ListIdentifiers had just returned.
    async with harness(ok(error_body("idDoesNotExist", "gone", verb="GetRecord"))) as h:
        with pytest.raises(IdDoesNotExist):
            await h.client.get_record("oai:x:1", "oai_dc")


# --- OAI errors whatever the HTTP status ----------------------------------------------


@pytest.mark.parametrize("status", [200, 422, 500])
async def test_oai_error_is_read_whatever_the_http_status(status: int) -> None:
    # 200 per the spec; 422 + Retry-After from Zenodo and WEKO3; 500 from others.
    body = error_body("badArgument", "metadataPrefix does not exist")
    async with harness(ok(body, status, **{"Retry-After": "60"})) as h:
        with pytest.raises(BadArgument) as caught:
            await collect(h.client.list_records("XXX"))
    assert caught.value.http_status == status
    assert h.sleeps == []  # an OAI error is an answer, not a reason to retry
    assert len(h.repository.requests) == 1


async def test_bad_resumption_token_mid_harvest_is_raised() -> None:
    async with harness(
        ok(records_page(["a"], "t1")), ok(error_body("badResumptionToken", "expired"))
    ) as h:
        with pytest.raises(BadResumptionToken):
            await collect(h.client.list_records("oai_dc"))


@pytest.mark.parametrize("status", [200, 422])
async def test_no_records_match_is_an_empty_list(status: int) -> None:
    async with harness(ok(error_body("noRecordsMatch"), status)) as h:
        records = await collect(h.client.list_records("oai_dc", set="none"))
    assert records == []


async def test_no_records_match_page_keeps_the_response_date() -> None:
    async with harness(ok(error_body("noRecordsMatch", "nothing new"))) as h:
        pages = await collect(h.client.list_records_pages("oai_dc", from_="2030-01-01"))
    (page,) = pages
    assert page.records == () and page.token is None
    assert page.response_date == "2024-05-01T10:00:00Z"


async def test_html_200_answer_is_a_protocol_error() -> None:
    async with harness(ok(b"<html><body>Maintenance</body></html>")) as h:
        with pytest.raises(NotOAIPMH):
            await h.client.identify()


# --- retries ---------------------------------------------------------------------------


async def test_retry_after_on_503_is_honoured() -> None:
    # arXiv: 503 + Retry-After: 10 with an HTML body, then the real answer.
    html = b"<html><body>\n<h1>Retry after 10 seconds</h1>\n</body></html>\n"
    async with harness(
        httpx.Response(503, content=html, headers={"Retry-After": "10"}),
        ok(records_page(["a", "b"])),
    ) as h:
        records = await collect(h.client.list_records("oai_dc"))
    assert [r.identifier for r in records] == ["a", "b"]
    assert h.sleeps == [10.0]


async def test_retry_after_as_http_date_is_honoured() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    async with harness(
        httpx.Response(503, headers={"Retry-After": when}), ok(records_page(["a"]))
    ) as h:
        await collect(h.client.list_records("oai_dc"))
    (slept,) = h.sleeps
    assert 25 <= slept <= 30


async def test_retry_after_is_capped() -> None:
    async with harness(
        httpx.Response(503, headers={"Retry-After": "86400"}),
        ok(records_page(["a"])),
        max_retry_after=120.0,
    ) as h:
        await collect(h.client.list_records("oai_dc"))
    assert h.sleeps == [120.0]


async def test_429_then_success() -> None:
    async with harness(
        httpx.Response(429, headers={"Retry-After": "2"}), ok(records_page(["a"]))
    ) as h:
        records = await collect(h.client.list_records("oai_dc"))
    assert len(records) == 1
    assert h.sleeps == [2.0]


async def test_500_with_empty_body_is_retried_then_raised() -> None:
    # DSpace@MIT answered two GetRecords with HTTP 500 and no body at all.
    async with harness(*[httpx.Response(500) for _ in range(3)], max_retries=2) as h:
        with pytest.raises(HTTPStatusError) as caught:
            await h.client.get_record("oai:x:1", "oai_dc")
    assert caught.value.status_code == 500
    assert caught.value.attempts == 3
    assert len(h.sleeps) == 2


async def test_backoff_grows_exponentially_with_jitter() -> None:
    async with harness(
        *[httpx.Response(502) for _ in range(4)], ok(records_page([])), backoff_base=1.0
    ) as h:
        await collect(h.client.list_records("oai_dc"))
    assert len(h.sleeps) == 4
    for attempt, slept in enumerate(h.sleeps, start=1):
        ceiling = 2 ** (attempt - 1)
        assert ceiling / 2 <= slept <= ceiling


async def test_other_4xx_without_oai_body_is_not_retried() -> None:
    async with harness(httpx.Response(404, content=b"<html>Not Found</html>")) as h:
        with pytest.raises(HTTPStatusError) as caught:
            await h.client.identify()
    assert caught.value.status_code == 404
    assert str(caught.value) == "HTTP 404"  # the body a server sent is never repeated
    assert public_description(caught.value) == "HTTPStatusError: HTTP 404"
    assert h.sleeps == []


async def test_timeouts_are_retried_then_raise_timeout_error() -> None:
    timeout = httpx.ReadTimeout("read timed out")
    async with harness(timeout, timeout, timeout, max_retries=2) as h:
        with pytest.raises(TimeoutError) as caught:
            await h.client.identify()
    assert isinstance(caught.value, HarvestError)
    assert caught.value.attempts == 3
    assert len(h.sleeps) == 2


async def test_connection_error_then_success() -> None:
    async with harness(
        httpx.ConnectError("connection refused"), ok(fixture("oai/identify_quirks.xml"))
    ) as h:
        identify = await h.client.identify()
    assert identify.protocol_version == "2.0"
    assert len(h.sleeps) == 1


async def test_connection_errors_exhaust_retries() -> None:
    error = httpx.ConnectError("connection refused")
    async with harness(error, error, max_retries=1) as h:
        with pytest.raises(NetworkError):
            await h.client.identify()


async def test_broken_gzip_body_is_a_network_error_not_a_crash() -> None:
    broken = httpx.Response(
        200, headers={"Content-Encoding": "gzip"}, stream=RawStream(b"not gzip at all")
    )
    async with harness(broken) as h:
        with pytest.raises(NetworkError, match="request failed"):
            await h.client.identify()
    assert h.sleeps == []


async def test_oversized_response_is_refused() -> None:
    body = records_page([f"oai:x:{i}" for i in range(100)])
    async with harness(ok(body), max_bytes=1000) as h:
        with pytest.raises(DocumentTooLarge):
            await collect(h.client.list_records("oai_dc"))


async def test_oversized_gzip_bomb_is_refused_while_reading() -> None:
    body = gzip.compress(b"<a>" + b" " * 200_000 + b"</a>")
    assert len(body) < 1000
    bomb = httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=RawStream(body))
    async with harness(bomb, max_bytes=10_000) as h:
        with pytest.raises(DocumentTooLarge):
            await h.client.identify()


# --- paging ----------------------------------------------------------------------------


async def test_empty_resumption_token_ends_the_list() -> None:
    async with harness(ok(records_page(["a"], "t1")), ok(records_page(["b"], ""))) as h:
        records = await collect(h.client.list_records("oai_dc"))
    assert [r.identifier for r in records] == ["a", "b"]
    assert h.repository.params(1) == {"verb": "ListRecords", "resumptionToken": "t1"}


async def test_absent_resumption_token_ends_the_list() -> None:
    # Ex Libris Alma: the last page has no <resumptionToken> element at all.
    async with harness(
        ok(records_page(["a"], "t1", verb="ListIdentifiers")),
        ok(records_page(["b"], ABSENT, verb="ListIdentifiers")),
    ) as h:
        records = await collect(h.client.list_identifiers("marc21"))
    assert [r.identifier for r in records] == ["a", "b"]


async def test_token_repeats_stops_with_error() -> None:
    async with harness(
        ok(records_page(["a"], "t1")), ok(records_page(["b"], "t2")), ok(records_page(["b"], "t1"))
    ) as h:
        seen: list[str] = []
        with pytest.raises(ResumptionTokenLoop) as caught:
            async for record in h.client.list_records("oai_dc"):
                seen.append(record.identifier)
    assert caught.value.token == "t1"
    assert seen == ["a", "b", "b"]  # what was received is still delivered
    assert len(h.repository.requests) == 3


async def test_same_token_returned_at_once_stops_with_error() -> None:
    async with harness(ok(records_page(["a"], "t1")), ok(records_page(["a"], "t1"))) as h:
        with pytest.raises(ResumptionTokenLoop):
            await collect(h.client.list_records("oai_dc"))


async def test_endless_empty_pages_stop_with_error() -> None:
    pages = [ok(records_page([], f"t{i}")) for i in range(3)]
    async with harness(*pages, max_empty_pages=3) as h:
        with pytest.raises(ResumptionTokenLoop):
            await collect(h.client.list_records("oai_dc"))


@pytest.mark.parametrize(
    ("token", "encoded"),
    [
        ("726959|1001", "726959%7C1001"),  # arXiv
        ("1!53691!20513471!oai_dc", "1%2153691%2120513471%21oai_dc"),  # BnF Gallica
        ("2017-01-01@2017-01-03@oai_komplett", "2017-01-01%402017-01-03%40oai_komplett"),  # Alma
        ("oai_dc/2016-01-01T00:00:00Z//100", "oai_dc%2F2016-01-01T00%3A00%3A00Z%2F%2F100"),
    ],
)
async def test_tokens_with_special_characters_are_url_encoded(token: str, encoded: str) -> None:
    async with harness(ok(records_page(["a"], token)), ok(records_page(["b"]))) as h:
        await collect(h.client.list_records("oai_dc"))
    second = h.repository.requests[1]
    assert f"resumptionToken={encoded}" in second.url.query.decode()
    assert second.url.params["resumptionToken"] == token


async def test_first_request_carries_the_selective_harvest_arguments() -> None:
    async with harness(ok(records_page([]))) as h:
        await collect(
            h.client.list_records(
                "oai_dc",
                set="eng:cs",
                from_=date(2024, 1, 1),
                until=datetime(2024, 2, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))),
            )
        )
    assert h.repository.params(0) == {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "set": "eng:cs",
        "from": "2024-01-01",
        "until": "2024-02-01T00:00:00Z",
    }


async def test_pages_can_be_checkpointed_and_resumed_from_a_token() -> None:
    async with harness(ok(records_page(["a"], "t1")), ok(records_page(["b"], "t2"))) as h:
        pages = h.client.list_records_pages("oai_dc")
        first = await anext(pages)
        await pages.aclose()  # the harvest stops here, e.g. the process is restarted
    assert first.token == "t1"
    async with harness(ok(records_page(["b"], ""))) as h:
        resumed = await collect(h.client.list_records("oai_dc", resumption_token=first.token))
    assert [r.identifier for r in resumed] == ["b"]
    assert h.repository.params(0) == {"verb": "ListRecords", "resumptionToken": "t1"}


async def test_one_broken_record_does_not_stop_the_harvest() -> None:
    async with harness(ok(fixture("oai/listrecords_one_broken_record.xml"))) as h:
        records = await collect(h.client.list_records("oai_dc"))
    assert [r.error is None for r in records] == [True, False, True]


async def test_list_sets_follows_tokens() -> None:
    first = envelope(
        "ListSets",
        "<set><setSpec>eng</setSpec><setName>Engineering</setName></set>"
        '<resumptionToken cursor="0">////100</resumptionToken>',
    )
    last = envelope(
        "ListSets", "<set><setSpec>eng:cs</setSpec><setName>CS</setName></set><resumptionToken/>"
    )
    async with harness(ok(first), ok(last)) as h:
        sets = await collect(h.client.list_sets())
    assert [s.spec for s in sets] == ["eng", "eng:cs"]
    assert h.repository.params(1)["resumptionToken"] == "////100"


async def test_repository_without_sets_lists_none() -> None:
    async with harness(ok(error_body("noSetHierarchy", verb="ListSets"))) as h:
        assert await collect(h.client.list_sets()) == []


async def test_no_records_match_mid_list_is_not_an_error() -> None:
    async with harness(
        ok(records_page(["a"], "t1", verb="ListIdentifiers")),
        ok(error_body("noRecordsMatch", verb="ListIdentifiers")),
    ) as h:
        records = await collect(h.client.list_identifiers("oai_dc"))
    assert [r.identifier for r in records] == ["a"]


async def test_shared_http_client_is_left_open() -> None:
    async with harness(ok(fixture("oai/identify_quirks.xml"))) as h:
        await h.client.aclose()
        assert not h.http.is_closed


async def test_no_records_match_error_is_still_raised_by_get_record() -> None:
    async with harness(ok(error_body("noRecordsMatch", verb="GetRecord"))) as h:
        with pytest.raises(NoRecordsMatch):
            await h.client.get_record("oai:x:1", "oai_dc")


# --- helpers ---------------------------------------------------------------------------


def test_retry_after_parsing() -> None:
    now = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 1.5 ") == 1.5
    assert retry_after_seconds("Wed, 01 May 2024 10:01:00 GMT", now=now) == 60.0
    assert retry_after_seconds("Wed, 01 May 2024 09:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_datestamp_arguments() -> None:
    assert format_datestamp(date(2024, 1, 2)) == "2024-01-02"
    assert format_datestamp(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"
    assert format_datestamp(" 2024-01-02 ") == "2024-01-02"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datestamp(datetime(2024, 1, 2))  # noqa: DTZ001 - the point of the test


def test_base_url_is_kept() -> None:
    assert BASE_URL.startswith("http://")

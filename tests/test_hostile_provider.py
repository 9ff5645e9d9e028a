"""The hostile OAI-PMH provider misbehaves exactly as its docstring says, mode by mode.

Other tests rely on these attacks being real: a trickle that never lets a read time out,
a stall that never answers, tokens that never end, a page of 60 MB.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from lxml import etree

from harvesters.oai.client import OAIClient
from tests.hostile import HostileProvider
from tests.outbound import PRIVATE

OAI = {"o": "http://www.openarchives.org/OAI/2.0/"}
OAI_ID = {"i": "http://www.openarchives.org/OAI/2.0/oai-identifier"}
LIST_DC = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
SHORT = httpx.Timeout(2.0)


def _get(provider: HostileProvider, **params: str) -> httpx.Response:
    return httpx.get(provider.base_url, params=params, timeout=SHORT, follow_redirects=False)


def _identify_answers(provider: HostileProvider) -> None:
    response = _get(provider, verb="Identify")
    assert response.status_code == 200
    assert etree.fromstring(response.content).find("o:Identify", OAI) is not None


def test_normal_mode_is_a_valid_repository_with_resumption_tokens() -> None:
    async def harvest(url: str) -> list[Any]:
        async with OAIClient(url, max_retries=0, policy=PRIVATE) as client:
            assert (await client.identify()).repository_name
            formats = {f.prefix for f in await client.list_metadata_formats()}
            assert {"oai_dc", "lom"} <= formats
            return [page async for page in client.list_records_pages("lom")]

    with HostileProvider("normal", count=25, page_size=10) as provider:
        pages = asyncio.run(harvest(provider.base_url))
        assert provider.count("ListRecords") == 3
    assert [len(page.records) for page in pages] == [10, 10, 5]
    assert all(record.metadata is not None for page in pages for record in page.records)


def test_trickle_sends_a_valid_start_then_one_byte_at_a_time_forever() -> None:
    with HostileProvider("trickle", interval=0.05) as provider:
        _identify_answers(provider)  # a source can be registered; its harvest then trickles
        with httpx.stream("GET", provider.base_url, params=LIST_DC, timeout=SHORT) as response:
            assert response.status_code == 200
            chunks = response.iter_raw()
            start = next(chunks)
            assert start.startswith(b"<?xml") and start.endswith(b"<ListRecords>")
            # Each byte comes well within the read timeout, so no timeout ever fires.
            assert [next(chunks) for _ in range(5)] == [b" "] * 5
        assert provider.count("ListRecords") == 1


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_stall_accepts_and_never_answers(verb: str) -> None:
    with HostileProvider("stall") as provider:
        _identify_answers(provider)
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(
                provider.base_url,
                params={"verb": verb, "metadataPrefix": "oai_dc"},
                timeout=httpx.Timeout(2.0, read=0.3),
            )
        assert provider.count(verb) == 1


def test_stall_after_headers_never_sends_the_body() -> None:
    with HostileProvider("stall", send_headers=True, verbs="all") as provider:
        timeout = httpx.Timeout(2.0, read=0.3)
        with httpx.stream("GET", provider.base_url, params=LIST_DC, timeout=timeout) as response:
            assert response.status_code == 200
            assert response.headers["content-length"] == "4096"
            with pytest.raises(httpx.ReadTimeout):
                response.read()


@pytest.mark.parametrize("fresh", [True, False])
def test_endless_hands_out_a_new_token_on_every_page(fresh: bool) -> None:
    tokens, identifiers = [], []
    with HostileProvider("endless", page_size=4, fresh=fresh) as provider:
        params = LIST_DC
        for _ in range(30):
            document = etree.fromstring(_get(provider, **params).content)
            records = document.findall("o:ListRecords/o:record", OAI)
            assert len(records) == 4
            assert all(r.find("o:metadata", OAI) is not None for r in records)
            identifiers += [r.findtext("o:header/o:identifier", namespaces=OAI) for r in records]
            token = document.findtext("o:ListRecords/o:resumptionToken", namespaces=OAI)
            assert token
            tokens.append(token)
            params = {"verb": "ListRecords", "resumptionToken": token}
        assert provider.count("ListRecords") == 30
    assert len(set(tokens)) == 30, "never the same token twice"
    assert len(set(identifiers)) == (120 if fresh else 4)


def test_huge_page_is_many_valid_records_of_the_declared_size() -> None:
    with HostileProvider("huge", megabytes=3) as provider:
        response = _get(provider, **LIST_DC)
        size = provider.body_size
    assert 3 * 1024**2 <= size < 3 * 1024**2 + 10_000
    assert int(response.headers["content-length"]) == len(response.content)
    document = etree.fromstring(response.content)
    records = document.findall("o:ListRecords/o:record", OAI)
    assert len(records) > 1000
    identifiers = {r.findtext("o:header/o:identifier", namespaces=OAI) for r in records}
    assert len(identifiers) == len(records)
    assert document.find("o:ListRecords/o:resumptionToken", OAI) is None


def test_huge_page_is_60_mb_by_default_and_may_hide_its_length() -> None:
    with (
        HostileProvider("huge", declare_length=False) as provider,
        httpx.stream("GET", provider.base_url, params=LIST_DC, timeout=SHORT) as response,
    ):
        assert "content-length" not in response.headers
        received = sum(len(chunk) for chunk in response.iter_raw())
    assert 60 * 1024**2 <= received < 60 * 1024**2 + 20_000


@pytest.mark.parametrize(
    "location", ["http://127.0.0.2:9/oai", "http://169.254.169.254/latest/meta-data/"]
)
def test_redirect_answers_every_request_with_a_redirect(location: str) -> None:
    with HostileProvider("redirect", location=location) as provider:
        for verb in ("Identify", "ListRecords"):
            response = _get(provider, verb=verb, metadataPrefix="oai_dc")
            assert response.status_code == 302
            assert response.headers["location"] == location
        assert provider.request_count == 2


def test_self_mode_identifies_as_the_given_repository() -> None:
    ours = "http://127.0.0.1:8000/oai"
    with HostileProvider(
        "self", repository_identifier="courses.example.edu.cn", identify_base_url=ours
    ) as provider:
        document = etree.fromstring(_get(provider, verb="Identify").content)
        records = etree.fromstring(_get(provider, **LIST_DC).content)
    assert document.findtext("o:Identify/o:baseURL", namespaces=OAI) == ours
    assert document.findtext(".//i:repositoryIdentifier", namespaces=OAI_ID) == (
        "courses.example.edu.cn"
    )
    assert records.findall("o:ListRecords/o:record", OAI), "the other verbs answer normally"


def test_records_mode_serves_the_given_bytes_as_they_are() -> None:
    script = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<lom xmlns="http://ltsc.ieee.org/xsd/LOM" xmlns:h="http://www.w3.org/1999/xhtml">'
        b"<general><title><string>x</string></title></general>"
        b"<h:script>alert(1)</h:script></lom>"
    )
    with HostileProvider("records", records={"script": script}, metadata_prefix="lom") as provider:
        formats = etree.fromstring(_get(provider, verb="ListMetadataFormats").content)
        listed = _get(provider, verb="ListRecords", metadataPrefix="lom").content
        wrong = etree.fromstring(_get(provider, **LIST_DC).content)
        one = _get(
            provider,
            verb="GetRecord",
            identifier="oai:hostile.example:script",
            metadataPrefix="lom",
        )
    prefixes = formats.findall(".//o:metadataPrefix", OAI)
    assert [p.text for p in prefixes] == ["lom"], "only the served format is offered"
    assert script.split(b"?>\n", 1)[1] in listed, "the record's bytes, unchanged"
    document = etree.fromstring(listed)
    assert document.findtext(".//o:header/o:identifier", namespaces=OAI) == (
        "oai:hostile.example:script"
    )
    assert wrong.find("o:error", OAI).get("code") == "cannotDisseminateFormat"
    assert b"<h:script>alert(1)</h:script>" in one.content


def test_error_body_answers_500_with_a_recognisable_secret() -> None:
    with HostileProvider("error_body") as provider:
        for verb in ("Identify", "ListRecords"):
            response = _get(provider, verb=verb)
            assert response.status_code == 500
            assert provider.secret in response.text
    with HostileProvider("error_body", verbs=["ListRecords"], status=503) as provider:
        _identify_answers(provider)
        assert _get(provider, **LIST_DC).status_code == 503


def test_a_server_nobody_called_counted_no_request() -> None:
    with HostileProvider("redirect", location="http://169.254.169.254/") as provider:
        assert provider.request_count == 0
        assert provider.requests == []


@pytest.mark.parametrize(
    ("mode", "options"),
    [("stall", {}), ("stall", {"send_headers": True}), ("trickle", {"interval": 0.1})],
)
def test_stop_aborts_stuck_connections(mode: Any, options: dict[str, Any]) -> None:
    outcome: list[BaseException | None] = []

    def client(url: str) -> None:
        try:
            with httpx.stream("GET", url, params=LIST_DC, timeout=60) as response:
                response.read()
        except httpx.HTTPError as exc:
            outcome.append(exc)
        else:
            outcome.append(None)

    provider = HostileProvider(mode, **options)
    provider.start()
    thread = threading.Thread(target=client, args=(provider.base_url,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while provider.open_connections == 0:
        assert time.monotonic() < deadline, "the client never connected"
        time.sleep(0.01)
    provider.stop()
    thread.join(10)
    assert not thread.is_alive(), "the stuck client was not let go"
    assert outcome and isinstance(outcome[0], httpx.TransportError)
    with pytest.raises(httpx.ConnectError):
        httpx.get(provider.base_url, timeout=SHORT)


def test_unknown_modes_and_missing_options_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        HostileProvider("friendly")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="location"):
        HostileProvider("redirect")
    with pytest.raises(ValueError, match="records"):
        HostileProvider("records")

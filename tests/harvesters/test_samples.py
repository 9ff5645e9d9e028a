"""Real captured OAI-PMH responses, read in place from the shared samples folder.

Nothing here is copied into the repository: every test skips, saying where it looked,
when ``COURSEFED_SAMPLES_DIR`` (default ``../shared/oai-samples``) is absent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from lxml import etree

from harvesters.oai.errors import (
    OAI_ERROR_CLASSES,
    BadArgument,
    BadResumptionToken,
    HarvestError,
    IdDoesNotExist,
    MalformedXML,
    NotOAIPMH,
    UnknownOAIError,
)
from harvesters.oai.records import (
    parse_identify,
    parse_metadata_formats,
    parse_page,
    parse_response,
    parse_set_page,
)
from harvesters.xml import parse_xml
from tests.fixtures.samples import (
    missing_reason,
    require_samples,
    sample,
    sample_params,
    samples_dir,
)
from tests.harvesters.fakes import harness, ok

pytestmark = pytest.mark.anyio

RECORD_VERBS = ("ListRecords", "ListIdentifiers", "GetRecord")


def read_any(data: bytes) -> object:
    """Interpret a response whatever its verb; raises only ``HarvestError``s."""
    response = parse_response(data)
    response.raise_for_error()
    assert response.body is not None
    verb = etree.QName(response.body).localname
    if verb in RECORD_VERBS:
        return parse_page(data, verb=verb)
    if verb == "Identify":
        return parse_identify(response)
    if verb == "ListSets":
        return parse_set_page(response)
    if verb == "ListMetadataFormats":
        return parse_metadata_formats(response)
    raise AssertionError(f"unexpected verb {verb}")


@pytest.mark.parametrize("path", sample_params("**/*.xml") + sample_params("**/*.html"))
def test_every_sample_parses_or_fails_with_a_typed_error(path: Path) -> None:
    data = path.read_bytes()
    try:
        result = read_any(data)
    except HarvestError:
        return
    assert result is not None


def _error_samples() -> list[Any]:
    """(path, error code) of every sample holding an OAI-PMH <error>."""
    folder = samples_dir()
    if not folder.is_dir():
        return [pytest.param(None, "", marks=pytest.mark.skip(reason=missing_reason()))]
    params = []
    for path in sorted(folder.rglob("*.xml")):
        match = re.search(rb'<error\s+code="([^"]*)"', path.read_bytes())
        if match:
            code = match.group(1).decode()
            params.append(pytest.param(path, code, id=str(path.relative_to(folder))))
    return params


@pytest.mark.parametrize(("path", "code"), _error_samples())
def test_error_samples_map_to_their_class(path: Path, code: str) -> None:
    expected = OAI_ERROR_CLASSES.get(code, UnknownOAIError)
    with pytest.raises(expected) as caught:
        parse_response(path.read_bytes()).raise_for_error()
    assert caught.value.code == code


def test_non_standard_error_code_is_unknown_oai_error() -> None:
    # sickle/undefinedError.xml uses the code "undefinedError".
    with pytest.raises(UnknownOAIError) as caught:
        parse_response(sample("sickle/undefinedError.xml")).raise_for_error()
    assert caught.value.code == "undefinedError"


def test_wrong_error_code_for_unknown_prefix_is_kept_as_sent() -> None:
    # Zenodo answers an unknown metadataPrefix with badArgument, not cannotDisseminateFormat.
    data = sample(
        "oaipmh-scythe-zenodo/extracted/list_records__03_ListRecords_422_metadataPrefix-XXX.xml"
    )
    with pytest.raises(BadArgument):
        parse_response(data).raise_for_error()


@pytest.mark.parametrize(
    "relative",
    [
        "sickle/ListRecordsBroken.xml",  # the literal text "broken xml"
        "pyoai/fake3/00001.xml",  # an extra <bogus> wrapper, tags do not match
        "pyoai/fake4/00001.xml",  # undefined entity &bogus;
    ],
)
def test_broken_samples_are_malformed(relative: str) -> None:
    with pytest.raises(MalformedXML):
        parse_response(sample(relative))


@pytest.mark.parametrize(
    "relative",
    [
        "paperhive-nock/extracted/listrecords---should-list-identifiers-from-arxiv__00_export.arxiv.org_503.html",
        "lom-quebec-lom2mlr/respel-5214.lom.xml",
        "pyoai/fake1/00006.xml",
    ],
)
def test_documents_that_are_not_oai_pmh_are_refused(relative: str) -> None:
    with pytest.raises(NotOAIPMH):
        parse_response(sample(relative))


def test_every_sample_record_keeps_raw_bytes_that_parse_on_their_own() -> None:
    folder = require_samples()
    checked = 0
    for path in sorted(folder.rglob("*.xml")):
        data = path.read_bytes()
        try:
            response = parse_response(data)
            response.raise_for_error()
        except HarvestError:
            continue
        assert response.body is not None
        verb = etree.QName(response.body).localname
        if verb not in RECORD_VERBS:
            continue
        for record in parse_page(data, verb=verb).records:
            again = parse_xml(record.raw)
            identifier = again.find(".//{*}header/{*}identifier")
            if identifier is None and etree.QName(again).localname == "header":
                identifier = again.find("{*}identifier")
            if record.identifier:
                assert identifier is not None, path
                assert (identifier.text or "").strip() == record.identifier
            checked += 1
    assert checked > 2000


def test_sample_with_namespaces_only_on_root() -> None:
    # phpoaipmh/NamespacedSample.xml (BnF Gallica): dc and oai_dc declared on the root.
    page = parse_page(sample("phpoaipmh/NamespacedSample.xml"), verb="ListRecords")
    (record,) = page.records
    assert record.metadata is not None
    title = record.metadata.findtext("{http://purl.org/dc/elements/1.1/}title")
    assert title == "Le Poème. Publication mensuelle"
    assert page.token == "1!53691!20513471!2505879!100!2402263!oai_dc"
    assert b'xmlns:dc="http://purl.org/dc/elements/1.1/"' in record.raw


def test_sample_without_any_namespace() -> None:
    data = sample("invenio-oaiharvester/sample_arxiv_response_no_namespace.xml")
    (record,) = parse_page(data, verb="GetRecord").records
    assert record.identifier == "oai:arXiv.org:0804.2273"
    assert record.metadata is not None and record.metadata.tag == "arXiv"


def test_sample_deleted_header_without_identifier() -> None:
    page = parse_page(sample("sickle/ListRecords4.xml"), verb="ListRecords")
    flagged = [r for r in page.records if r.error]
    assert len(flagged) == 1 and flagged[0].deleted


def test_sample_deleted_record_still_carrying_metadata() -> None:
    data = sample(
        "oaipmh-scythe-zenodo/extracted/"
        "list_records__09_ListRecords_200_resumptionToken-.eJwlzEuOgjA.xml"
    )
    (deleted,) = [r for r in parse_page(data, verb="ListRecords").records if r.deleted]
    assert deleted.metadata is not None
    assert deleted.error is None


def test_sample_cursor_counting_pages_is_reported_as_received() -> None:
    data = sample("dspace-mit/extracted/get-identifiers__01_ListIdentifiers_200.xml")
    page = parse_page(data, verb="ListIdentifiers")
    assert page.token is None  # self-closing token carrying attributes
    assert page.cursor == 1  # a page index, not a record count
    assert page.complete_list_size == 171


def test_sample_identify_with_mailto_and_year_one() -> None:
    identify = parse_identify(parse_response(sample("perl-oai-lib-citebase/identify.xml")))
    assert identify.admin_emails == ("tdb01r@ecs.soton.ac.uk",)
    assert identify.earliest_datestamp == "0001-01-01"
    assert identify.deleted_record == "transient"


# --- replays through the client ------------------------------------------------------


def _by_token(files: dict[str | None, bytes]) -> Callable[[httpx.Request], httpx.Response]:
    def respond(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("resumptionToken")
        return ok(files[token])

    return respond


async def test_phpoaipmh_four_pages_are_followed_to_the_empty_token() -> None:
    pages = {
        None: sample("phpoaipmh/GoodResponseFourPage_1.xml"),
        "0/200/733/nsdl_dc/null/2012-07-26/null": sample("phpoaipmh/GoodResponseFourPage_2.xml"),
        "200/400/733/nsdl_dc/null/2012-07-26/null": sample("phpoaipmh/GoodResponseFourPage_3.xml"),
        "400/600/733/nsdl_dc/null/2012-07-26/null": sample("phpoaipmh/GoodResponseFourPage_4.xml"),
    }
    respond = _by_token(pages)
    async with harness(respond, respond, respond, respond) as h:
        identifiers = [r.identifier async for r in h.client.list_identifiers("nsdl_dc")]
    assert len(identifiers) == 733
    assert len(set(identifiers)) == 733


async def test_sickle_chain_with_a_broken_deleted_header() -> None:
    files = {
        None: sample("sickle/ListRecords.xml"),
        "ListRecords2.xml": sample("sickle/ListRecords2.xml"),
        "ListRecords3.xml": sample("sickle/ListRecords3.xml"),
        "ListRecords4.xml": sample("sickle/ListRecords4.xml"),
    }
    respond = _by_token(files)
    async with harness(respond, respond, respond, respond) as h:
        records = [r async for r in h.client.list_records("oai_dc")]
    assert len(records) == 8
    assert sum(1 for r in records if r.error) == 1


def _nock(relative: str) -> list[httpx.Response]:
    """Responses recorded by nock (paperhive/oai-pmh), in order, with status and headers."""
    interactions = json.loads(sample(f"paperhive-nock/fixtures/{relative}"))
    responses = []
    for item in interactions:
        raw = item["rawHeaders"]
        headers = [
            (name, value)
            for name, value in zip(raw[::2], raw[1::2], strict=True)
            if name.lower() not in {"content-length", "content-encoding", "transfer-encoding"}
        ]
        response = httpx.Response(
            item["status"], content=item["response"].encode(), headers=headers
        )
        response.extensions["recorded_query"] = dict(parse_qsl(urlsplit(item["path"]).query))
        responses.append(response)
    return responses


async def test_arxiv_503_with_retry_after_then_records() -> None:
    script = _nock("oaipmh-listrecords---should-list-identifiers-from-arxiv.json")
    assert script[0].status_code == 503
    async with harness(*script) as h:
        records = [
            r async for r in h.client.list_records("arXiv", from_="2015-01-01", until="2015-01-03")
        ]
    assert h.sleeps == [10.0]
    assert len(records) == 2
    assert h.repository.params(1) == script[1].extensions["recorded_query"]


async def test_alma_last_page_without_token_and_token_with_at_signs() -> None:
    script = _nock(
        "oaipmh-listidentifiers---should-list-identifiers-with-resumption-token-from-exlibris.json"
    )
    recorded = [r.extensions["recorded_query"] for r in script]
    async with harness(*script) as h:
        records = [
            r
            async for r in h.client.list_identifiers(
                "marc21", set="oai_komplett", from_="2017-01-01", until="2017-01-03"
            )
        ]
    assert len(records) == 110
    assert h.repository.params(0) == recorded[0]
    assert h.repository.params(1) == recorded[1]  # the same token the repository saw
    assert "%40" in h.repository.requests[1].url.query.decode()


async def test_gulbenkian_token_with_slashes_and_colons() -> None:
    script = _nock(
        "oaipmh-listidentifiers---should-list-identifiers-with-resumption-token-from-gulbenkian.json"
    )
    recorded = [r.extensions["recorded_query"] for r in script]
    async with harness(*script) as h:
        pages = [
            p
            async for p in h.client.list_identifiers_pages(
                "oai_dc", from_="2016-01-01", until="2017-01-01"
            )
        ]
    assert [len(p.records) for p in pages] == [100, 54]
    assert [p.cursor for p in pages] == [0, 1]
    assert h.repository.params(1) == recorded[1]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("get_record__00_GetRecord_422_identifier-oaizenodo.o_metadataPrefix-XXX.xml", BadArgument),
        (
            "id_does_not_exist__00_GetRecord_422_identifier-oaizenodo.o_metadataPrefix-oai_dc.xml",
            IdDoesNotExist,
        ),
        ("list_records__10_ListRecords_422_resumptionToken-XXX.xml", BadResumptionToken),
    ],
)
async def test_zenodo_errors_sent_with_http_422(name: str, expected: type[HarvestError]) -> None:
    body = sample(f"oaipmh-scythe-zenodo/extracted/{name}")
    async with harness(ok(body, 422, **{"Retry-After": "60"})) as h:
        with pytest.raises(expected):
            if "GetRecord" in name:
                await h.client.get_record("oai:zenodo.org:1", "XXX")
            else:
                await anext(h.client.list_records("oai_dc", resumption_token="XXX"))
    assert h.sleeps == []


async def test_zenodo_no_records_match_with_http_422_is_an_empty_list() -> None:
    body = sample(
        "oaipmh-scythe-zenodo/extracted/"
        "list_records__02_ListRecords_422_from-2030-01-01_metadataPrefix-oai_dc.xml"
    )
    async with harness(ok(body, 422)) as h:
        assert [r async for r in h.client.list_records("oai_dc", from_="2030-01-01")] == []


def test_samples_dir_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COURSEFED_SAMPLES_DIR", str(tmp_path / "nowhere"))
    assert samples_dir() == tmp_path / "nowhere"
    with pytest.raises(pytest.skip.Exception, match="COURSEFED_SAMPLES_DIR"):
        require_samples()

"""The demo OAI-PMH repository, spoken to over real HTTP on loopback with httpx."""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest
from lxml import etree

from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.repository import DemoRepository
from app.demo.server import DemoRepositoryServer
from app.demo.xml import render_lom, render_oai_dc
from app.oai.provider import format_datestamp

REPO_ROOT = Path(__file__).resolve().parents[2]
LOM_XSD = Path(
    os.environ.get(
        "COURSEFED_LOM_XSD", REPO_ROOT.parent / "shared" / "standards" / "lom-xsd" / "lomLoose.xsd"
    )
)
NS = {
    "oai": "http://www.openarchives.org/OAI/2.0/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "lom": "http://ltsc.ieee.org/xsd/LOM",
    "id": "http://www.openarchives.org/OAI/2.0/oai-identifier",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")

Params = dict[str, str | list[str]]


@pytest.fixture(scope="module")
def corpus() -> list[DemoRecord]:
    return generate_corpus()


@pytest.fixture(scope="module")
def ordered(corpus: list[DemoRecord]) -> list[DemoRecord]:
    return sorted(corpus, key=lambda r: (r.datestamp, r.identifier))


@pytest.fixture(scope="module")
def server(corpus: list[DemoRecord]) -> Iterator[DemoRepositoryServer]:
    with DemoRepositoryServer(corpus, page_size=100) as running:
        yield running


@pytest.fixture(scope="module")
def small_server() -> Iterator[DemoRepositoryServer]:
    """Few records and tiny pages, for paging edge cases (ListSets spans pages here)."""
    with DemoRepositoryServer(generate_corpus(300), page_size=10) as running:
        yield running


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as http:
        yield http


def oai(client: httpx.Client, url: str, params: Mapping[str, str | list[str]]) -> etree._Element:
    """GET one OAI-PMH request and return the parsed, envelope-checked response."""
    response = client.get(url, params=params)
    return _check_envelope(response, url)


def _check_envelope(response: httpx.Response, url: str) -> etree._Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{NS['oai']}}}OAI-PMH"
    assert SECONDS.fullmatch(root.findtext("oai:responseDate", namespaces=NS) or "")
    assert root.findtext("oai:request", namespaces=NS) == url
    return root


def one(parent: etree._Element, path: str) -> etree._Element:
    """The element at ``path``, which must be there."""
    found = parent.find(path, NS)
    assert found is not None, f"no {path} in {etree.tostring(parent)[:200]!r}"
    return found


def error_codes(root: etree._Element) -> list[str]:
    return [str(error.get("code")) for error in root.findall("oai:error", NS)]


def harvest(
    client: httpx.Client, url: str, verb: str, item: str, params: Mapping[str, str | list[str]]
) -> tuple[list[etree._Element], list[etree._Element]]:
    """Follow resumption tokens to the end: (items, the resumptionToken of every page)."""
    items: list[etree._Element] = []
    tokens: list[etree._Element] = []
    request: Params = {"verb": verb, **params}
    for _ in range(10_000):
        root = oai(client, url, request)
        assert not error_codes(root), etree.tostring(root)
        items.extend(root.findall(f"oai:{verb}/{item}", NS))
        token = root.find(f"oai:{verb}/oai:resumptionToken", NS)
        if token is None:
            break
        tokens.append(token)
        if not token.text:
            break
        request = {"verb": verb, "resumptionToken": token.text}
    return items, tokens


def identifiers(headers: list[etree._Element]) -> list[str]:
    return [str(h.findtext("oai:identifier", namespaces=NS)) for h in headers]


# ---------------------------------------------------------------- transport


def test_response_is_utf8_xml(server: DemoRepositoryServer, client: httpx.Client) -> None:
    response = client.get(server.base_url, params={"verb": "Identify"})
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_gzip_when_the_client_accepts_it(
    server: DemoRepositoryServer, client: httpx.Client
) -> None:
    headers = {"Accept-Encoding": "gzip"}
    params = {"verb": "ListRecords", "metadataPrefix": "lom"}
    with client.stream("GET", server.base_url, params=params, headers=headers) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert raw[:2] == b"\x1f\x8b"
    decoded = client.get(server.base_url, params=params, headers=headers)
    assert etree.fromstring(decoded.content).find("oai:ListRecords", NS) is not None


def test_no_gzip_when_the_client_does_not_ask(
    server: DemoRepositoryServer, client: httpx.Client
) -> None:
    for accept in ("identity", "gzip;q=0"):
        response = client.get(
            server.base_url, params={"verb": "Identify"}, headers={"Accept-Encoding": accept}
        )
        assert "content-encoding" not in response.headers
        assert response.content.startswith(b"<?xml")


def test_post_form_encoded_answers_like_get(
    server: DemoRepositoryServer, client: httpx.Client
) -> None:
    params = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "source:xiling-med"}
    by_get = client.get(server.base_url, params=params)
    by_post = client.post(server.base_url, data=params)
    assert by_post.status_code == 200
    get_root = _check_envelope(by_get, server.base_url)
    post_root = _check_envelope(by_post, server.base_url)
    assert etree.tostring(one(get_root, "oai:ListIdentifiers")) == etree.tostring(
        one(post_root, "oai:ListIdentifiers")
    )


def test_other_paths_are_not_found(server: DemoRepositoryServer, client: httpx.Client) -> None:
    response = client.get(server.base_url.removesuffix("/oai") + "/elsewhere")
    assert response.status_code == 404


def test_requests_are_logged_for_inspection(server: DemoRepositoryServer) -> None:
    with httpx.Client() as http:
        http.get(server.base_url, params={"verb": "Identify", "extra": "x"})
    logged = server.requests[-1]
    assert logged.method == "GET"
    assert logged.params == {"verb": ["Identify"], "extra": ["x"]}
    assert "user-agent" in {name.lower() for name in logged.headers}


def test_stop_releases_the_port() -> None:
    demo = DemoRepositoryServer(generate_corpus(10))
    url = demo.start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/oai", url)
    with httpx.Client() as http:
        assert http.get(url, params={"verb": "Identify"}).status_code == 200
    demo.stop()
    demo.stop()  # a second stop is harmless
    with httpx.Client() as http, pytest.raises(httpx.ConnectError):
        http.get(url, params={"verb": "Identify"})


def test_serves_a_ready_made_repository_and_fills_in_its_base_url(
    client: httpx.Client,
) -> None:
    repository = DemoRepository(generate_corpus(30), page_size=7)
    with DemoRepositoryServer(repository) as demo:
        assert repository.base_url == demo.base_url
        root = oai(client, demo.base_url, {"verb": "Identify"})
        assert root.findtext("oai:Identify/oai:baseURL", namespaces=NS) == demo.base_url
        headers, _ = harvest(
            client, demo.base_url, "ListIdentifiers", "oai:header", {"metadataPrefix": "oai_dc"}
        )
        assert len(headers) == 30


# ---------------------------------------------------------------- Identify, formats, sets


def test_identify_announces_what_the_spec_requires(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    root = oai(client, server.base_url, {"verb": "Identify"})
    assert one(root, "oai:request").attrib == {"verb": "Identify"}
    identify = one(root, "oai:Identify")
    text = {child.tag.split("}")[1]: child.text for child in identify}
    assert text["repositoryName"]
    assert text["baseURL"] == server.base_url
    assert text["protocolVersion"] == "2.0"
    assert "@" in str(text["adminEmail"])
    assert text["earliestDatestamp"] == format_datestamp(ordered[0].datestamp)
    assert text["deletedRecord"] == "persistent"
    assert text["granularity"] == "YYYY-MM-DDThh:mm:ssZ"
    assert text["compression"] == "gzip"
    assert identify.findtext("oai:description/id:oai-identifier/id:scheme", namespaces=NS) == "oai"
    sample = identify.findtext(
        "oai:description/id:oai-identifier/id:sampleIdentifier", namespaces=NS
    )
    assert str(sample).startswith("oai:demo.coursefed.example:")


def test_list_metadata_formats_offers_oai_dc_and_lom(
    server: DemoRepositoryServer, client: httpx.Client, corpus: list[DemoRecord]
) -> None:
    for params in (
        {"verb": "ListMetadataFormats"},
        {"verb": "ListMetadataFormats", "identifier": corpus[0].identifier},
    ):
        root = oai(client, server.base_url, params)
        formats = {
            f.findtext("oai:metadataPrefix", namespaces=NS): f.findtext(
                "oai:metadataNamespace", namespaces=NS
            )
            for f in root.findall("oai:ListMetadataFormats/oai:metadataFormat", NS)
        }
        assert formats == {"oai_dc": NS["oai_dc"], "lom": NS["lom"]}


def test_list_sets_names_every_set_in_use(
    server: DemoRepositoryServer, client: httpx.Client, corpus: list[DemoRecord]
) -> None:
    sets, tokens = harvest(client, server.base_url, "ListSets", "oai:set", {})
    assert tokens == []  # fewer sets than a page: one complete response
    names = {
        s.findtext("oai:setSpec", namespaces=NS): str(s.findtext("oai:setName", namespaces=NS))
        for s in sets
    }
    used = {spec for record in corpus for spec in record.sets}
    assert used | {"source", "subject", "level"} <= names.keys()
    assert "计算机科学与技术" in names["subject:08:0812"]
    assert "Computer Science and Technology" in names["subject:08:0812"]
    assert "工学" in names["subject:08"]
    assert all(name for name in names.values())


def test_list_sets_is_whole_in_one_response_even_with_small_pages(
    small_server: DemoRepositoryServer, client: httpx.Client
) -> None:
    sets, tokens = harvest(client, small_server.base_url, "ListSets", "oai:set", {})
    specs = [s.findtext("oai:setSpec", namespaces=NS) for s in sets]
    assert len(specs) == len(set(specs)) > 10  # more sets than the page size of 10
    assert tokens == []


# ---------------------------------------------------------------- listing and paging


def test_list_identifiers_visits_every_record_once_in_datestamp_order(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    headers, tokens = harvest(
        client, server.base_url, "ListIdentifiers", "oai:header", {"metadataPrefix": "oai_dc"}
    )
    assert identifiers(headers) == [record.identifier for record in ordered]
    assert [h.findtext("oai:datestamp", namespaces=NS) for h in headers] == [
        format_datestamp(record.datestamp) for record in ordered
    ]
    deleted = [h for h in headers if h.get("status") == "deleted"]
    assert len(deleted) == sum(record.deleted for record in ordered) > 0
    assert [int(str(t.get("cursor"))) for t in tokens] == list(range(0, len(ordered), 100))
    assert {t.get("completeListSize") for t in tokens} == {str(len(ordered))}


def test_last_page_carries_an_empty_token_with_size_and_cursor(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    _, tokens = harvest(
        client, server.base_url, "ListIdentifiers", "oai:header", {"metadataPrefix": "lom"}
    )
    last = tokens[-1]
    assert last.text is None
    assert len(last) == 0
    assert last.get("completeListSize") == str(len(ordered))
    assert last.get("cursor") == str((len(ordered) - 1) // 100 * 100)
    assert all(token.text for token in tokens[:-1])


def test_list_records_carry_metadata_except_for_deleted_records(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    records, _ = harvest(
        client, server.base_url, "ListRecords", "oai:record", {"metadataPrefix": "oai_dc"}
    )
    assert identifiers([one(r, "oai:header") for r in records]) == [
        record.identifier for record in ordered
    ]
    for element, record in zip(records, ordered, strict=True):
        metadata = element.find("oai:metadata", NS)
        if record.deleted:
            assert one(element, "oai:header").get("status") == "deleted"
            assert metadata is None
        else:
            assert metadata is not None
            assert metadata.findtext("oai_dc:dc/dc:title", namespaces=NS) == record.title


def test_lom_records_are_listed_too(
    small_server: DemoRepositoryServer, client: httpx.Client
) -> None:
    records, tokens = harvest(
        client, small_server.base_url, "ListRecords", "oai:record", {"metadataPrefix": "lom"}
    )
    assert len(records) == 300
    assert len(tokens) == 30
    live = [r for r in records if one(r, "oai:header").get("status") != "deleted"]
    assert all(r.find("oai:metadata/lom:lom", NS) is not None for r in live)


def test_reissuing_a_token_returns_the_same_page(
    server: DemoRepositoryServer, client: httpx.Client
) -> None:
    first = oai(client, server.base_url, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    token = str(first.findtext("oai:ListIdentifiers/oai:resumptionToken", namespaces=NS))
    pages = [
        oai(client, server.base_url, {"verb": "ListIdentifiers", "resumptionToken": token})
        for _ in range(2)
    ]
    once, twice = (identifiers(p.findall("oai:ListIdentifiers/oai:header", NS)) for p in pages)
    assert once == twice
    assert len(once) == 100
    assert one(pages[0], "oai:request").get("resumptionToken") == token


def test_a_list_that_fits_one_page_has_no_token(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    stamp = format_datestamp(ordered[10].datestamp)
    root = oai(
        client,
        server.base_url,
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": stamp, "until": stamp},
    )
    assert root.find("oai:ListIdentifiers/oai:resumptionToken", NS) is None
    assert ordered[10].identifier in identifiers(root.findall("oai:ListIdentifiers/oai:header", NS))


# ---------------------------------------------------------------- selective harvesting


def test_from_and_until_in_seconds_are_inclusive(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    low, high = ordered[500], ordered[1199]
    headers, _ = harvest(
        client,
        server.base_url,
        "ListIdentifiers",
        "oai:header",
        {
            "metadataPrefix": "oai_dc",
            "from": format_datestamp(low.datestamp),
            "until": format_datestamp(high.datestamp),
        },
    )
    expected = [r.identifier for r in ordered if low.datestamp <= r.datestamp <= high.datestamp]
    assert identifiers(headers) == expected
    assert identifiers(headers)[0] == low.identifier
    assert identifiers(headers)[-1] == high.identifier


def test_day_granularity_dates_are_accepted_and_inclusive(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    headers, _ = harvest(
        client,
        server.base_url,
        "ListIdentifiers",
        "oai:header",
        {"metadataPrefix": "oai_dc", "from": "2021-03-01", "until": "2021-03-31"},
    )
    expected = [
        r.identifier
        for r in ordered
        if "2021-03-01" <= r.datestamp.date().isoformat() <= "2021-03-31"
    ]
    assert identifiers(headers) == expected
    assert expected


def test_only_from_or_only_until(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    cut = ordered[2000].datestamp
    after, _ = harvest(
        client,
        server.base_url,
        "ListIdentifiers",
        "oai:header",
        {"metadataPrefix": "oai_dc", "from": format_datestamp(cut)},
    )
    before, _ = harvest(
        client,
        server.base_url,
        "ListIdentifiers",
        "oai:header",
        {"metadataPrefix": "oai_dc", "until": format_datestamp(cut - timedelta(seconds=1))},
    )
    assert identifiers(before) + identifiers(after) == [r.identifier for r in ordered]


def test_set_selects_its_descendants(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    for spec, keep in (
        ("subject:08", lambda r: r.subject_code.startswith("08")),
        ("subject:08:0812", lambda r: r.subject_code == "0812"),
        ("subject", lambda r: True),
        ("level:higher_vocational", lambda r: r.level == "higher_vocational"),
        ("source:anlan-open", lambda r: r.institution_slug == "anlan-open"),
    ):
        headers, _ = harvest(
            client,
            server.base_url,
            "ListIdentifiers",
            "oai:header",
            {"metadataPrefix": "oai_dc", "set": spec},
        )
        assert identifiers(headers) == [r.identifier for r in ordered if keep(r)], spec
        assert all(
            any(
                s.text == spec or str(s.text).startswith(spec + ":")
                for s in h.findall("oai:setSpec", NS)
            )
            for h in headers
        )


def test_set_and_dates_combine(
    server: DemoRepositoryServer, client: httpx.Client, ordered: list[DemoRecord]
) -> None:
    headers, _ = harvest(
        client,
        server.base_url,
        "ListIdentifiers",
        "oai:header",
        {"metadataPrefix": "lom", "set": "subject:08", "from": "2020-01-01", "until": "2022-12-31"},
    )
    expected = [
        r.identifier
        for r in ordered
        if r.subject_code.startswith("08") and 2020 <= r.datestamp.year <= 2022
    ]
    assert identifiers(headers) == expected


# ---------------------------------------------------------------- GetRecord


def test_get_record_in_oai_dc(
    server: DemoRepositoryServer, client: httpx.Client, corpus: list[DemoRecord]
) -> None:
    record = corpus[0]
    root = oai(
        client,
        server.base_url,
        {"verb": "GetRecord", "identifier": record.identifier, "metadataPrefix": "oai_dc"},
    )
    assert one(root, "oai:request").attrib == {
        "verb": "GetRecord",
        "identifier": record.identifier,
        "metadataPrefix": "oai_dc",
    }
    header = one(root, "oai:GetRecord/oai:record/oai:header")
    assert header.findtext("oai:identifier", namespaces=NS) == record.identifier
    assert [s.text for s in header.findall("oai:setSpec", NS)] == list(record.sets)
    dc = one(root, "oai:GetRecord/oai:record/oai:metadata/oai_dc:dc")
    assert dc.findtext("dc:title", namespaces=NS) == "计算机科学导论"


def test_get_record_in_lom(
    server: DemoRepositoryServer, client: httpx.Client, corpus: list[DemoRecord]
) -> None:
    record = corpus[1]
    root = oai(
        client,
        server.base_url,
        {"verb": "GetRecord", "identifier": record.identifier, "metadataPrefix": "lom"},
    )
    lom = one(root, "oai:GetRecord/oai:record/oai:metadata/lom:lom")
    assert lom.findtext("lom:general/lom:title/lom:string", namespaces=NS) == record.title


def test_get_deleted_record_is_a_header_without_metadata(
    server: DemoRepositoryServer, client: httpx.Client, corpus: list[DemoRecord]
) -> None:
    record = next(r for r in corpus if r.deleted)
    root = oai(
        client,
        server.base_url,
        {"verb": "GetRecord", "identifier": record.identifier, "metadataPrefix": "oai_dc"},
    )
    found = one(root, "oai:GetRecord/oai:record")
    assert one(found, "oai:header").get("status") == "deleted"
    assert found.find("oai:metadata", NS) is None


# ---------------------------------------------------------------- errors

ERROR_CASES: list[tuple[str, Params]] = [
    ("badVerb", {}),
    ("badVerb", {"verb": "ListEverything"}),
    ("badVerb", {"verb": ["Identify", "Identify"]}),
    ("badArgument", {"verb": "Identify", "set": "subject"}),
    ("badArgument", {"verb": "ListRecords"}),
    ("badArgument", {"verb": "ListIdentifiers", "metadataPrefix": ["oai_dc", "lom"]}),
    ("badArgument", {"verb": "ListRecords", "metadataPrefix": "oai_dc", "colour": "red"}),
    ("badArgument", {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": ""}),
    ("badArgument", {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-13-01"}),
    (
        "badArgument",
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01T00:00:00"},
    ),
    ("badArgument", {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "yesterday"}),
    (
        "badArgument",
        {
            "verb": "ListRecords",
            "metadataPrefix": "oai_dc",
            "from": "2022-01-02",
            "until": "2022-01-01",
        },
    ),
    (
        "badArgument",
        {
            "verb": "ListRecords",
            "metadataPrefix": "oai_dc",
            "from": "2022-01-01",
            "until": "2022-02-01T00:00:00Z",
        },
    ),
    ("badArgument", {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "not a set"}),
    ("badArgument", {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "x"}),
    ("badArgument", {"verb": "GetRecord", "metadataPrefix": "oai_dc"}),
    ("badArgument", {"verb": "GetRecord", "identifier": "oai:demo.coursefed.example:course-00001"}),
    ("badArgument", {"verb": "ListSets", "metadataPrefix": "oai_dc"}),
    ("badResumptionToken", {"verb": "ListRecords", "resumptionToken": "garbage"}),
    ("badResumptionToken", {"verb": "ListRecords", "resumptionToken": "oai_dc||||100|00000000"}),
    ("badResumptionToken", {"verb": "ListSets", "resumptionToken": "sets|5"}),
    ("cannotDisseminateFormat", {"verb": "ListRecords", "metadataPrefix": "marc21"}),
    ("cannotDisseminateFormat", {"verb": "ListIdentifiers", "metadataPrefix": "oai_lom"}),
    (
        "cannotDisseminateFormat",
        {
            "verb": "GetRecord",
            "identifier": "oai:demo.coursefed.example:course-00001",
            "metadataPrefix": "mods",
        },
    ),
    ("idDoesNotExist", {"verb": "GetRecord", "identifier": "oai:x:1", "metadataPrefix": "oai_dc"}),
    ("idDoesNotExist", {"verb": "ListMetadataFormats", "identifier": "oai:x:1"}),
    ("noRecordsMatch", {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2030-01-01"}),
    ("noRecordsMatch", {"verb": "ListIdentifiers", "metadataPrefix": "lom", "set": "subject:99"}),
    (
        "noRecordsMatch",
        {"verb": "ListIdentifiers", "metadataPrefix": "lom", "until": "2018-12-31T23:59:59Z"},
    ),
]


@pytest.mark.parametrize(("code", "params"), ERROR_CASES)
def test_errors_come_in_a_200_body(
    server: DemoRepositoryServer, client: httpx.Client, code: str, params: Params
) -> None:
    root = oai(client, server.base_url, params)
    assert error_codes(root) == [code] * len(error_codes(root))
    assert error_codes(root)
    assert all(error.text for error in root.findall("oai:error", NS))
    request = one(root, "oai:request")
    if code in {"badVerb", "badArgument"}:
        assert request.attrib == {}  # the spec: no attributes after these two errors
    else:
        assert request.get("verb") == params["verb"]
    verbs = {"Identify", "ListMetadataFormats", "ListSets", "ListIdentifiers", "ListRecords"}
    assert not [child for child in root if child.tag.split("}")[1] in verbs | {"GetRecord"}]


def test_errors_are_combined_when_several_apply(
    server: DemoRepositoryServer, client: httpx.Client
) -> None:
    root = oai(
        client,
        server.base_url,
        {"verb": "GetRecord", "identifier": "oai:x:1", "metadataPrefix": "marc21"},
    )
    assert sorted(error_codes(root)) == ["cannotDisseminateFormat", "idDoesNotExist"]


def test_a_tampered_token_is_refused(server: DemoRepositoryServer, client: httpx.Client) -> None:
    first = oai(client, server.base_url, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    token = str(first.findtext("oai:ListIdentifiers/oai:resumptionToken", namespaces=NS))
    encoded, _, signature = token.partition(".")
    payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    skipped = payload.replace(b'"c":100', b'"c":200')  # claim two pages were sent
    assert skipped != payload
    tampered = base64.urlsafe_b64encode(skipped).rstrip(b"=").decode() + "." + signature
    root = oai(client, server.base_url, {"verb": "ListIdentifiers", "resumptionToken": tampered})
    assert error_codes(root) == ["badResumptionToken"]


def test_a_token_of_another_verb_is_refused(
    small_server: DemoRepositoryServer, client: httpx.Client
) -> None:
    first = oai(
        client, small_server.base_url, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}
    )
    token = str(first.findtext("oai:ListIdentifiers/oai:resumptionToken", namespaces=NS))
    root = oai(client, small_server.base_url, {"verb": "ListSets", "resumptionToken": token})
    assert error_codes(root) == ["badResumptionToken"]


# ---------------------------------------------------------------- metadata formats


def test_oai_dc_has_the_dublin_core_elements(corpus: list[DemoRecord]) -> None:
    for record in (corpus[0], corpus[1]):
        dc = etree.fromstring(etree.tostring(render_oai_dc(record)))
        assert dc.tag == f"{{{NS['oai_dc']}}}dc"
        title = one(dc, "dc:title")
        assert title.text == record.title
        assert title.get(XML_LANG) == record.language
        values = {
            name: [str(e.text) for e in dc.findall(f"dc:{name}", NS)]
            for name in (
                "creator",
                "subject",
                "description",
                "publisher",
                "date",
                "type",
                "format",
                "identifier",
                "source",
                "language",
                "relation",
                "coverage",
                "rights",
            )
        }
        assert values["creator"] == list(record.creators)
        assert values["subject"][0].startswith(record.subject_code + " ")
        assert set(record.keywords) <= set(values["subject"])
        assert values["description"] == [record.description]
        assert values["publisher"] == [record.institution]
        assert values["date"] == [record.datestamp.date().isoformat()]
        assert record.resource_type in values["type"]
        assert record.object_format in values["format"]
        assert values["identifier"][:2] == [record.url, record.object_url]
        assert values["rights"] == [record.license]
        assert all(values[name] for name in values)


def test_dc_language_is_written_the_ways_real_repositories_write_it(
    corpus: list[DemoRecord],
) -> None:
    seen = {
        str(render_oai_dc(record).findtext("dc:language", namespaces=NS)) for record in corpus[:400]
    }
    assert {"zh", "chi", "en", "eng", "English"} <= seen


def test_oai_dc_escapes_markup_in_text(corpus: list[DemoRecord]) -> None:
    record = dataclasses.replace(corpus[0], title='A <b>bold</b> & "quoted" title')
    dc = etree.fromstring(etree.tostring(render_oai_dc(record)))
    assert dc.findtext("dc:title", namespaces=NS) == 'A <b>bold</b> & "quoted" title'


def test_lom_has_the_expected_elements(corpus: list[DemoRecord]) -> None:
    record = corpus[0]
    lom = etree.fromstring(etree.tostring(render_lom(record)))

    def text(path: str) -> list[str]:
        found = cast("list[etree._Element]", lom.xpath(path, namespaces=NS))
        return [str(element.text) for element in found]

    assert lom.tag == f"{{{NS['lom']}}}lom"
    assert text("lom:general/lom:title/lom:string") == ["计算机科学导论"]
    assert one(lom, "lom:general/lom:title/lom:string").get("language") == "zh"
    assert text("lom:general/lom:language") == ["zh"]
    assert text("lom:general/lom:identifier[lom:catalog='URI']/lom:entry") == [record.url]
    assert text("lom:general/lom:keyword/lom:string") == list(record.keywords)
    assert text("lom:general/lom:aggregationLevel/lom:value") == ["3"]
    roles = text("lom:lifeCycle/lom:contribute/lom:role/lom:value")
    assert roles[0] == "author"
    assert "publisher" in roles
    author = text("lom:lifeCycle/lom:contribute[lom:role/lom:value='author']/lom:entity")[0]
    assert author.startswith("BEGIN:VCARD") and f"FN:{record.creators[0]}" in author
    assert text("lom:technical/lom:format") == [record.object_format]
    assert text("lom:technical/lom:location") == [record.object_url]
    assert text("lom:technical/lom:size") == [str(record.object_size)]
    assert record.learning_resource_type in text(
        "lom:educational/lom:learningResourceType/lom:value"
    )
    assert text("lom:educational/lom:context/lom:value") == ["higher education"]
    assert text("lom:educational/lom:typicalLearningTime/lom:duration") == [record.learning_time]
    assert text("lom:educational/lom:language") == ["zh"]
    assert text("lom:rights/lom:cost/lom:value") == ["no"]
    assert text("lom:rights/lom:copyrightAndOtherRestrictions/lom:value") == ["yes"]
    assert text("lom:rights/lom:description/lom:string") == [record.license]
    discipline = "lom:classification[lom:purpose/lom:value='discipline']/lom:taxonPath"
    assert "学科专业目录" in text(f"{discipline}/lom:source/lom:string")
    assert text(f"{discipline}/lom:taxon/lom:id") == ["08", "0812"]
    assert "计算机科学与技术" in text(f"{discipline}/lom:taxon/lom:entry/lom:string")


@pytest.fixture(scope="module")
def lom_schema() -> etree.XMLSchema:
    if not LOM_XSD.is_file():
        pytest.skip(f"IEEE LOM schema not found at {LOM_XSD} (set COURSEFED_LOM_XSD)")
    # Parsed from its path, so the schema's relative xs:include/xs:import resolve.
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.parse(str(LOM_XSD), parser))


def test_lom_of_every_record_validates_against_lom_loose(
    lom_schema: etree.XMLSchema, corpus: list[DemoRecord]
) -> None:
    failures = []
    for record in corpus:
        if not lom_schema.validate(render_lom(record)):
            failures.append((record.identifier, str(lom_schema.error_log)))
    assert failures == []


def test_lom_served_over_http_validates(
    lom_schema: etree.XMLSchema, server: DemoRepositoryServer, client: httpx.Client
) -> None:
    root = oai(client, server.base_url, {"verb": "ListRecords", "metadataPrefix": "lom"})
    documents = root.findall("oai:ListRecords/oai:record/oai:metadata/lom:lom", NS)
    assert len(documents) > 90
    for document in documents:
        assert lom_schema.validate(etree.ElementTree(document)), lom_schema.error_log


# ---------------------------------------------------------------- a third-party harvester


def test_sickle_harvests_the_whole_repository(
    small_server: DemoRepositoryServer,
) -> None:
    sickle = pytest.importorskip("sickle")
    harvester = sickle.Sickle(small_server.base_url)
    records = list(harvester.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    assert len(records) == 300
    assert len({record.header.identifier for record in records}) == 300


# ---------------------------------------------------------------- without HTTP


def test_handle_is_pure_and_takes_plain_strings_too(corpus: list[DemoRecord]) -> None:
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    repository = DemoRepository(corpus[:20], "http://demo.invalid/oai", clock=lambda: fixed)
    as_lists = repository.handle({"verb": ["ListIdentifiers"], "metadataPrefix": ["oai_dc"]})
    as_strings = repository.handle({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert as_lists == as_strings
    root = etree.fromstring(as_lists)
    assert root.findtext("oai:responseDate", namespaces=NS) == "2026-01-02T03:04:05Z"
    assert len(root.findall("oai:ListIdentifiers/oai:header", NS)) == 20


def test_an_empty_repository_answers_no_records_and_no_sets() -> None:
    repository = DemoRepository([], "http://demo.invalid/oai")
    listing = etree.fromstring(repository.handle({"verb": "ListRecords", "metadataPrefix": "lom"}))
    assert error_codes(listing) == ["noRecordsMatch"]
    sets = etree.fromstring(repository.handle({"verb": "ListSets"}))
    assert error_codes(sets) == ["noSetHierarchy"]


def test_too_many_arguments_get_http_400(
    server: DemoRepositoryServer, client: httpx.Client
) -> None:
    params = {f"a{i}": "x" for i in range(100)}
    assert client.get(server.base_url, params=params).status_code == 400


def test_records_named_in_another_repositorys_scheme_are_refused(
    corpus: list[DemoRecord],
) -> None:
    stranger = dataclasses.replace(corpus[0], identifier="oai:college.example.edu:course-1")
    with pytest.raises(ValueError, match="must start with"):
        DemoRepository([stranger])


def test_duplicate_identifiers_are_refused(corpus: list[DemoRecord]) -> None:
    with pytest.raises(ValueError, match="unique"):
        DemoRepository([corpus[0], dataclasses.replace(corpus[0], title="again")])


def test_serving_other_records_changes_what_is_listed(corpus: list[DemoRecord]) -> None:
    repository = DemoRepository(corpus[:20], "http://demo.invalid/oai")
    repository.serve(corpus[5:30])
    root = etree.fromstring(repository.handle({"verb": "ListIdentifiers", "metadataPrefix": "lom"}))
    listed = identifiers(root.findall("oai:ListIdentifiers/oai:header", NS))
    assert sorted(listed) == sorted(r.identifier for r in corpus[5:30])

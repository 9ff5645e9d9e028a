"""Parsing OAI-PMH responses into records and pages (no HTTP here)."""

from __future__ import annotations

import pytest
from lxml import etree

from harvesters.oai.errors import (
    BadArgument,
    CannotDisseminateFormat,
    MalformedXML,
    NoRecordsMatch,
    NotOAIPMH,
    OAIError,
    ProtocolError,
    UnknownOAIError,
)
from harvesters.oai.records import (
    parse_get_record,
    parse_identify,
    parse_page,
    parse_raw_record,
    parse_response,
)
from harvesters.xml import parse_xml
from tests.fixtures.samples import fixture
from tests.harvesters.fakes import ABSENT, dc_record, envelope, error_body, records_page

DC = "{http://purl.org/dc/elements/1.1/}"


def test_namespaces_declared_only_on_root_are_carried_into_raw() -> None:
    data = fixture("oai/listrecords_namespaces_on_root.xml")
    page = parse_page(data, verb="ListRecords")
    (record,) = page.records
    assert record.identifier == "oai:courses.example.edu:c/101"
    assert record.metadata is not None
    assert record.metadata.findtext(f"{DC}title") == "Algorithmique"
    # Standalone, the raw record still knows what dc: and oai_dc: mean.
    again = parse_xml(record.raw)
    assert again.find(f".//{DC}title") is not None
    assert b'xmlns:dc="http://purl.org/dc/elements/1.1/"' in record.raw


def test_raw_record_is_the_bytes_as_received_plus_inherited_namespaces() -> None:
    data = fixture("oai/listrecords_namespaces_on_root.xml")
    (record,) = parse_page(data, verb="ListRecords").records
    start = data.index(b"<record>")
    end = data.index(b"</record>") + len(b"</record>")
    as_received = data[start:end]
    declarations = (
        b' xmlns="http://www.openarchives.org/OAI/2.0/"'
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        b' xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
    )
    assert record.raw == b"<record" + declarations + as_received[len(b"<record") :]


def test_record_without_namespaces_is_read() -> None:
    record = parse_get_record(fixture("oai/getrecord_no_namespaces.xml"))
    assert record.identifier == "oai:courses.example.edu:c/7"
    assert record.datestamp == "2024-04-01"
    assert record.metadata is not None
    assert record.metadata.findtext("title") == "Linear Algebra"
    assert record.raw.startswith(b"<record>")  # nothing to add: no namespaces in scope


def test_one_broken_record_among_good_siblings_is_flagged() -> None:
    data = fixture("oai/listrecords_one_broken_record.xml")
    with pytest.raises(MalformedXML):
        parse_xml(data)  # the page as a whole is not well-formed
    page = parse_page(data, verb="ListRecords")
    identifiers = [r.identifier for r in page.records]
    assert identifiers == [
        "oai:courses.example.edu:good-1",
        "oai:courses.example.edu:broken-2",
        "oai:courses.example.edu:good-3",
    ]
    good1, broken, good3 = page.records
    assert good1.error is None and good3.error is None
    assert good3.metadata is not None
    assert good3.metadata.findtext(f"{DC}title") == "Good three"
    assert broken.error is not None and "nbsp" in broken.error
    assert broken.metadata is None
    assert broken.datestamp == "2024-04-02"
    assert b"AT&T" in broken.raw  # kept as received, for a later look
    assert page.token is None  # the empty token was still read from the envelope
    assert any("salvaged" in r for r in page.repairs)


def test_page_broken_outside_records_is_malformed() -> None:
    data = envelope("ListRecords", dc_record("oai:x:1")).replace(b"</responseDate>", b"")
    with pytest.raises(MalformedXML):
        parse_page(data, verb="ListRecords")


def test_deleted_header_without_identifier_is_flagged() -> None:
    # sickle ListRecords4.xml: a deleted header with neither identifier nor datestamp.
    data = envelope(
        "ListRecords", '<record><header status="deleted"></header></record>' + dc_record("ok")
    )
    broken, good = parse_page(data, verb="ListRecords").records
    assert broken.deleted
    assert broken.error == "header has no identifier"
    assert good.error is None


def test_deleted_record_that_still_carries_metadata_is_deleted() -> None:
    # Zenodo: deletedRecord=no in Identify, yet a deleted header with full metadata.
    data = envelope(
        "ListRecords", dc_record("oai:x:1").replace("<header>", '<header status="deleted">')
    )
    (record,) = parse_page(data, verb="ListRecords").records
    assert record.deleted
    assert record.metadata is not None
    assert record.error is None


def test_live_record_without_metadata_is_flagged() -> None:
    data = envelope(
        "ListRecords",
        "<record><header><identifier>oai:x:1</identifier>"
        "<datestamp>2024-01-01</datestamp></header></record>",
    )
    (record,) = parse_page(data, verb="ListRecords").records
    assert record.error == "record is not deleted but has no metadata"


def test_repeated_setspec_is_kept_once() -> None:
    # pyoai fake2: a header repeating the same setSpec.
    data = envelope(
        "GetRecord",
        '<record><header status="deleted"><identifier>hdl:1765/1</identifier>'
        "<datestamp>2004-01-01</datestamp><setSpec>7:8</setSpec><setSpec>7:8</setSpec>"
        "<setSpec>com_1</setSpec></header></record>",
    )
    record = parse_get_record(data)
    assert record.set_specs == ("7:8", "com_1")
    assert record.identifier == "hdl:1765/1"  # not an oai: identifier, and that is fine


def test_empty_resumption_token_means_complete() -> None:
    page = parse_page(records_page(["a"], ""), verb="ListRecords")
    assert page.token is None


def test_absent_resumption_token_means_complete() -> None:
    page = parse_page(records_page(["a"], ABSENT), verb="ListRecords")
    assert page.token is None
    assert page.cursor is None and page.complete_list_size is None


def test_resumption_token_attributes_are_reported_as_received() -> None:
    data = fixture("oai/listrecords_namespaces_on_root.xml")
    page = parse_page(data, verb="ListRecords")
    assert page.token == "1!2|a/b@c:d"
    assert page.complete_list_size == 2
    assert page.cursor == 0
    assert page.expiration_date == "2024-05-01T11:00:00Z"
    assert page.response_date == "2024-05-01T10:00:00Z"
    assert page.raw_bytes == data


def test_list_identifiers_page_holds_headers_as_records() -> None:
    page = parse_page(
        records_page(["a", "b"], "t1", verb="ListIdentifiers"), verb="ListIdentifiers"
    )
    assert [r.identifier for r in page.records] == ["a", "b"]
    assert all(r.metadata is None and r.error is None for r in page.records)
    assert page.records[0].raw.startswith(b"<header")


def test_nested_record_inside_metadata_does_not_confuse_raw() -> None:
    # MARCXML inside oai: its <record> has the same local name as the OAI one.
    marc = (
        '<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam</leader>'
        '<datafield tag="245"><subfield code="a">Title</subfield></datafield></record>'
    )
    data = envelope(
        "ListRecords",
        "<record><header><identifier>oai:x:1</identifier><datestamp>2024-01-01</datestamp>"
        f"</header><metadata>{marc}</metadata></record>" + dc_record("oai:x:2"),
    )
    first, second = parse_page(data, verb="ListRecords").records
    assert first.raw.endswith(b"</metadata></record>")
    assert etree.QName(parse_xml(first.raw)).localname == "record"
    assert second.identifier == "oai:x:2"
    assert first.metadata is not None
    assert etree.QName(first.metadata).namespace == "http://www.loc.gov/MARC21/slim"


def test_about_containers_are_kept() -> None:
    about = (
        '<about><provenance xmlns="http://www.openarchives.org/OAI/2.0/provenance">'
        '<originDescription harvestDate="2024-01-01" altered="false"><baseURL>http://a</baseURL>'
        "</originDescription></provenance></about>"
    )
    data = envelope("GetRecord", dc_record("oai:x:1").replace("</record>", about + "</record>"))
    record = parse_get_record(data)
    (provenance,) = record.about
    assert etree.QName(provenance).localname == "provenance"


def test_identify_quirks_are_read_as_received() -> None:
    identify = parse_identify(parse_response(fixture("oai/identify_quirks.xml")))
    assert identify.repository_name == "示例学院课程资源库"
    assert identify.admin_emails == ("oai@courses.example.edu", "library@courses.example.edu")
    assert identify.earliest_datestamp == "aaaa-bb-cc"  # invalid, kept for the app to judge
    assert identify.deleted_record == "transient"
    assert identify.granularity == "YYYY-MM-DD"
    assert not identify.seconds_granularity
    assert identify.compression == ("gzip", "deflate")
    assert etree.QName(identify.descriptions[0]).localname == "oai-identifier"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("badArgument", BadArgument),
        ("cannotDisseminateFormat", CannotDisseminateFormat),
        ("noRecordsMatch", NoRecordsMatch),
        ("undefinedError", UnknownOAIError),
    ],
)
def test_oai_error_codes_map_to_classes(code: str, expected: type[OAIError]) -> None:
    with pytest.raises(expected) as caught:
        parse_page(error_body(code, "why"), verb="ListRecords")
    assert caught.value.code == code
    assert caught.value.message == "why"
    assert caught.value.response_date == "2024-05-01T10:00:00Z"


def test_several_errors_are_all_kept() -> None:
    data = error_body("badArgument", "bad from").replace(
        b"</error>", b'</error><error code="cannotDisseminateFormat"/>'
    )
    with pytest.raises(BadArgument) as caught:
        parse_response(data).raise_for_error()
    assert caught.value.errors == (
        ("badArgument", "bad from"),
        ("cannotDisseminateFormat", ""),
    )


def test_empty_error_element_still_maps() -> None:
    # Zenodo answers an unknown set with <error code="noRecordsMatch"/> and no text.
    with pytest.raises(NoRecordsMatch) as caught:
        parse_response(error_body("noRecordsMatch")).raise_for_error()
    assert caught.value.message == ""


def test_html_body_is_not_oai_pmh() -> None:
    with pytest.raises(NotOAIPMH):
        parse_response(b"<html><body><h1>Retry after 10 seconds</h1></body></html>")


def test_wrong_verb_in_response_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        parse_page(envelope("Identify", "<repositoryName>x</repositoryName>"), verb="ListRecords")


def test_stored_raw_record_can_be_read_again_without_a_harvest() -> None:
    data = fixture("oai/listrecords_namespaces_on_root.xml")
    (record,) = parse_page(data, verb="ListRecords").records
    again = parse_raw_record(record.raw)
    assert again == record  # identifier, datestamp, sets, raw, error (elements aside)
    assert again.metadata is not None
    assert again.metadata.findtext(f"{DC}title") == "Algorithmique"
    header = parse_page(records_page(["h1"], verb="ListIdentifiers"), verb="ListIdentifiers")
    assert parse_raw_record(header.records[0].raw).identifier == "h1"
    with pytest.raises(NotOAIPMH):
        parse_raw_record(b"<dc/>")

"""Large pages are read record by record: the same records as the whole-tree parse, less memory.

``parse_page(..., stream_over=0)`` forces the streaming path on small pages, so every
quirk below is checked on both paths.
"""

from __future__ import annotations

import pytest
from lxml import etree

from harvesters.oai.errors import BadResumptionToken, MalformedXML
from harvesters.oai.records import Page, parse_page
from tests.fixtures.samples import fixture
from tests.harvesters.fakes import dc_record, envelope, error_body, records_page

STREAM = 0  # every page streamed
WHOLE = 1 << 40  # never


def both(data: bytes, verb: str = "ListRecords") -> tuple[Page, Page]:
    return (
        parse_page(data, verb=verb, stream_over=WHOLE),
        parse_page(data, verb=verb, stream_over=STREAM),
    )


def same(whole: Page, streamed: Page) -> None:
    assert streamed.records == whole.records  # header, raw bytes and error of each
    for a, b in zip(whole.records, streamed.records, strict=True):
        assert (a.metadata is None) == (b.metadata is None)
        if a.metadata is not None and b.metadata is not None:
            assert etree.tostring(a.metadata) == etree.tostring(b.metadata)
        assert [etree.tostring(x) for x in a.about] == [etree.tostring(x) for x in b.about]
    assert (streamed.token, streamed.response_date) == (whole.token, whole.response_date)
    assert (streamed.cursor, streamed.complete_list_size) == (
        whole.cursor,
        whole.complete_list_size,
    )


def test_streamed_page_has_the_same_records_as_the_whole_tree() -> None:
    data = records_page([f"oai:x:{n}" for n in range(50)], "token-1")
    whole, streamed = both(data)
    same(whole, streamed)
    assert streamed.records[0]._lazy, "the streamed page's records parse their metadata on use"
    assert not whole.records[0]._lazy


def test_streamed_page_with_namespaces_only_on_the_root() -> None:
    same(*both(fixture("oai/listrecords_namespaces_on_root.xml")))


def test_streamed_page_with_deleted_records_and_list_identifiers() -> None:
    items = dc_record("oai:x:1") + dc_record("oai:x:2", deleted=True) + dc_record("oai:x:3")
    same(*both(envelope("ListRecords", items)))
    same(*both(records_page(["a", "b"], "t", verb="ListIdentifiers"), "ListIdentifiers"))


def test_streamed_page_steps_over_a_nested_record_of_another_format() -> None:
    marc = (
        '<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam</leader>'
        '<datafield tag="245"><subfield code="a">Title</subfield></datafield></record>'
    )
    data = envelope(
        "ListRecords",
        "<record><header><identifier>oai:x:1</identifier><datestamp>2024-01-01</datestamp>"
        f"</header><metadata>{marc}</metadata></record>" + dc_record("oai:x:2"),
    )
    whole, streamed = both(data)
    same(whole, streamed)
    assert [r.identifier for r in streamed.records] == ["oai:x:1", "oai:x:2"]


def test_streamed_page_keeps_oai_errors_as_errors() -> None:
    with pytest.raises(BadResumptionToken):
        parse_page(error_body("badResumptionToken", "expired"), verb="ListRecords", stream_over=0)


def test_page_needing_repair_falls_back_to_the_whole_tree() -> None:
    # A control character XML forbids: the streaming path leaves repairs to the other one.
    data = records_page(["oai:x:1"]).replace(b"A course", b"A \x06course")
    page = parse_page(data, verb="ListRecords", stream_over=STREAM)
    assert page.repairs, "repaired, as the whole-tree path does"
    assert page.records[0].metadata is not None


def test_broken_page_is_still_salvaged_when_streaming_was_asked() -> None:
    data = fixture("oai/listrecords_one_broken_record.xml")  # an undefined entity in one record
    streamed = parse_page(data, verb="ListRecords", stream_over=STREAM)
    whole = parse_page(data, verb="ListRecords", stream_over=WHOLE)
    assert streamed.records == whole.records
    assert [r.error is None for r in streamed.records] == [True, False, True]


def test_page_broken_outside_records_is_malformed_on_both_paths() -> None:
    data = records_page(["oai:x:1"]).replace(b"</ListRecords>", b"</ListRecord>")
    for limit in (STREAM, WHOLE):
        with pytest.raises(MalformedXML):
            parse_page(data, verb="ListRecords", stream_over=limit)


def test_lazy_records_do_not_keep_their_trees() -> None:
    (record,) = parse_page(records_page(["oai:x:1"]), verb="ListRecords", stream_over=0).records
    first, second = record.metadata, record.metadata
    assert first is not None and second is not None
    assert first is not second, "each access parses again; nothing is held between accesses"

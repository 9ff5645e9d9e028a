"""Mutated real documents through the parser, the OAI-PMH page reader and every metadata
reader: only the declared errors may come out.

The documents are our own fixtures (always) and the third-party captures in the shared
samples folder (skipped, visibly, when absent).  Each example takes one document and
mutates it as a broken or hostile repository would: bytes flipped, cut short, elements
repeated or dropped, a huge text, another encoding than declared, control characters
and invalid UTF-8.  ``HarvestError`` (and its XML, protocol and OAI errors) and
``UnsupportedFormat`` are the declared failures; any other exception is a bug.
Examples are derandomized and bounded, so a run is repeatable and takes seconds.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from harvesters.oai.errors import HarvestError
from harvesters.oai.records import (
    parse_identify,
    parse_metadata_formats,
    parse_page,
    parse_raw_record,
    parse_response,
    parse_set_page,
)
from harvesters.xml import parse_xml
from metadata.readers import READERS, UnsupportedFormat, read_record
from metadata.validate import quality_score, validate
from tests import properties
from tests.fixtures.samples import FIXTURES, require_samples

# A reader is also asked to read what another format's reader gets: a repository may
# send any metadata under any prefix.
PREFIXES = (None, "oai_dc", "qdc", "lom")
PAGE_VERBS = ("ListRecords", "ListIdentifiers", "GetRecord")
HUGE = 300_000
Mutation = Callable[[bytes], bytes]


def own_documents() -> list[bytes]:
    paths = sorted(p for p in FIXTURES.rglob("*.xml") if "schema" not in p.parts)
    assert len(paths) >= 15
    return [p.read_bytes() for p in paths]


def shared_documents() -> list[bytes]:
    folder = require_samples()
    paths = sorted(p for p in folder.rglob("*") if p.suffix in {".xml", ".rdf"} and p.is_file())
    assert paths, f"no XML samples under {folder}"
    return [p.read_bytes() for p in paths if p.stat().st_size <= 2_000_000]


# --- the pipeline under test ------------------------------------------------------------------


def read_everything(data: bytes) -> None:
    """What a harvest and ``coursefed normalize`` do with a document, every way round."""
    try:
        root = parse_xml(data)
    except HarvestError:
        return
    if etree.QName(root).localname != "OAI-PMH":
        read_metadata(root)
        return
    for verb in PAGE_VERBS:
        try:
            page = parse_page(data, verb=verb)
        except HarvestError:
            continue
        for record in page.records:
            if record.metadata is not None:
                read_metadata(record.metadata)
            if record.raw:
                with contextlib.suppress(HarvestError):
                    parse_raw_record(record.raw)
    for verb, reader in (
        ("Identify", parse_identify),
        ("ListMetadataFormats", parse_metadata_formats),
        ("ListSets", parse_set_page),
    ):
        try:
            response = parse_response(data, expected_verb=verb)
            response.raise_for_error()
            reader(response)
        except HarvestError:
            continue


def read_metadata(element: etree._Element) -> None:
    for prefix in PREFIXES:
        try:
            record, _issues = read_record(element, prefix)
        except UnsupportedFormat:
            continue
        validate(record)
        quality_score(record)
        record.model_dump(mode="json")


# --- mutations --------------------------------------------------------------------------------


def flip(position: int, value: int) -> Mutation:
    def apply(data: bytes) -> bytes:
        if not data:
            return data
        at = position % len(data)
        return data[:at] + bytes([value]) + data[at + 1 :]

    return apply


def cut(fraction: float) -> Mutation:
    return lambda data: data[: int(len(data) * fraction)]


def insert(position: int, junk: bytes) -> Mutation:
    def apply(data: bytes) -> bytes:
        at = position % (len(data) + 1)
        return data[:at] + junk + data[at:]

    return apply


def on_tree(change: Callable[[list[etree._Element], int], None], index: int) -> Mutation:
    """A change to one element of the document, by its position among all elements."""

    def apply(data: bytes) -> bytes:
        try:
            root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            return data  # already broken by an earlier mutation: bytes only from here
        elements = [el for el in root.iter() if isinstance(el.tag, str)]
        change(elements, index % len(elements))
        return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))

    return apply


def duplicate(elements: list[etree._Element], at: int) -> None:
    element = elements[at]
    if element.getparent() is not None:
        element.addnext(copy.deepcopy(element))


def delete(elements: list[etree._Element], at: int) -> None:
    element = elements[at]
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def huge_text(elements: list[etree._Element], at: int) -> None:
    elements[at].text = "课程 course " * (HUGE // 10)


def huge_attribute(elements: list[etree._Element], at: int) -> None:
    elements[at].set("{http://www.w3.org/XML/1998/namespace}lang", "zh-" + "x" * HUGE)


def nest(elements: list[etree._Element], at: int) -> None:
    """A deep chain of elements of the same name under one element."""
    parent = elements[at]
    for _ in range(200):
        parent = etree.SubElement(parent, elements[at].tag)
    parent.text = "deep"


def reencode(encoding: str, declare: str | None) -> Mutation:
    """The document in another encoding, declaring ``declare`` (maybe not the truth)."""

    def apply(data: bytes) -> bytes:
        text = data.decode("utf-8", "replace")
        if text.startswith("<?xml"):
            text = text[text.find("?>") + 2 :]
        head = f'<?xml version="1.0" encoding="{declare}"?>' if declare else ""
        return (head + text).encode(encoding, "replace")

    return apply


JUNK = st.sampled_from(
    [
        b"\x00",
        b"\xff\xfe",
        b"\xc3",  # a UTF-8 sequence cut short
        b"\xed\xa0\x80",  # an encoded surrogate
        b"&#0;",
        b"&#x1F;",
        b"&#xD800;",
        b"&undefined;",
        b"<",
        b"]]>",
        b"<![CDATA[",
        b"\xef\xbb\xbf",
        b"<!-- ",
        b"<?xml version='1.0'?>",
        b"</metadata>",
        b"<record>",
        b"\r\n\t ",
        "²".encode(),  # a digit to str.isdigit(), not to int()
    ]
)
ENCODINGS = st.sampled_from(
    [
        ("utf-16", "UTF-16"),
        ("utf-16", "UTF-8"),
        ("gb18030", "GB18030"),
        ("gb18030", "UTF-8"),
        ("gbk", "GB2312"),
        ("latin-1", "ISO-8859-1"),
        ("latin-1", "UTF-8"),
        ("cp1252", None),
        ("big5", "Big5"),
        ("utf-8", "x-unknown-charset"),
    ]
)
TREE_CHANGES = st.sampled_from([duplicate, delete, huge_text, huge_attribute, nest])

MUTATION: st.SearchStrategy[Mutation] = st.one_of(
    st.builds(flip, st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
    st.builds(cut, st.floats(min_value=0, max_value=1)),
    st.builds(insert, st.integers(min_value=0), JUNK),
    st.builds(on_tree, TREE_CHANGES, st.integers(min_value=0)),
    ENCODINGS.map(lambda pair: reencode(*pair)),
)


def fuzz(documents: list[bytes], examples: int) -> None:
    @given(
        document=st.sampled_from(documents),
        mutations=st.lists(MUTATION, min_size=1, max_size=4),
    )
    @settings(
        max_examples=properties.examples(examples),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def run(document: bytes, mutations: list[Mutation]) -> None:
        for mutate in mutations:
            document = mutate(document)
        read_everything(document)

    run()


def test_our_fixtures_read_intact() -> None:
    for document in own_documents():
        read_everything(document)  # the pipeline itself, before any mutation


def test_mutated_fixtures_raise_only_declared_errors() -> None:
    fuzz(own_documents(), examples=400)


def test_mutated_shared_samples_raise_only_declared_errors() -> None:
    fuzz(shared_documents(), examples=400)


@pytest.mark.parametrize("prefix", sorted(READERS))
def test_every_reader_survives_an_empty_and_a_foreign_element(prefix: str) -> None:
    for xml in (b"<x/>", b"<metadata/>", b"<lom xmlns='http://ltsc.ieee.org/xsd/LOM'/>"):
        try:
            record, _issues = read_record(etree.fromstring(xml), prefix)
        except UnsupportedFormat:
            continue
        validate(record)


def test_a_lom_size_in_superscript_digits_is_a_warning_not_a_crash() -> None:
    # "²³" passes str.isdigit() but int() refuses it: a reader crashed on it.
    document = (FIXTURES / "lom" / "ieee_chinese_course.xml").read_bytes()
    assert b"<size>104857600</size>" in document
    element = parse_xml(document.replace(b"<size>104857600</size>", "<size>²³</size>".encode()))
    record, issues = read_record(element, "lom")
    assert "invalid_size" in {issue.code for issue in issues}
    validate(record)

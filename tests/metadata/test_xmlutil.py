"""The fast paths of ``metadata.xmlutil`` and ``metadata.vcard`` say what the slow ones say."""

from __future__ import annotations

import unicodedata

import pytest
from lxml import etree

from metadata.vcard import parse_vcard
from metadata.xmlutil import clean_text, local_name, namespace, split_tag, text_of

DOCUMENT = (
    '<a xmlns="urn:x" xmlns:p="urn:p"><p:b>one<i>two</i>three</p:b><!--c--><?pi x?>'
    '<c xmlns="">leaf</c><d/></a>'
)


def test_tag_split_agrees_with_qname() -> None:
    root = etree.fromstring(DOCUMENT)
    for element in root.iter():
        if not isinstance(element.tag, str):
            assert (local_name(element), namespace(element)) == ("", None)
            continue
        qname = etree.QName(element)
        assert split_tag(element.tag) == (qname.namespace, qname.localname)
        assert (namespace(element), local_name(element)) == (qname.namespace, qname.localname)


def test_text_of_leaf_and_mixed_content() -> None:
    root = etree.fromstring(DOCUMENT)
    b, c, d = root[0], root[3], root[4]
    assert text_of(b) == "onetwothree"
    assert text_of(c) == "leaf"
    assert text_of(d) == ""


@pytest.mark.parametrize(
    "text",
    [
        "计算机 科学",  # non-ASCII, nothing to fix: the one-search path
        "Cours 1 \x96 Introduction",  # C1 only
        "zero\u200bwidth\u00ad 课程",  # invisible only
        "\x93quoted\x94\u200b",  # both
        unicodedata.normalize("NFD", "Café  crème"),  # only composition to do
    ],
)
def test_clean_text_gate_changes_nothing(text: str) -> None:
    expected = unicodedata.normalize(
        "NFC",
        "".join(
            bytes([ord(ch)]).decode("cp1252", errors="ignore") if "\x80" <= ch <= "\x9f" else ch
            for ch in text
            if ch not in "\u200b\u200c\u200d\u2060\ufeff\u00ad"
        ),
    )
    assert clean_text(text) == " ".join(expected.split())


def test_vcard_components_with_and_without_escapes() -> None:
    plain = parse_vcard("BEGIN:VCARD\nN:Raymond;Johanne;;;\nORG:Uni;Dept\nEND:VCARD")
    assert plain.structured_name == ("Raymond", "Johanne", "", "", "")
    assert plain.organization == "Uni, Dept"
    escaped = parse_vcard("BEGIN:VCARD\nFN:Smith\\, John\nORG:A\\;B;C\nEND:VCARD")
    assert escaped.formatted_name == "Smith, John"
    assert escaped.organization == "A;B, C"

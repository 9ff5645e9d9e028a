"""The hardened parser: every quirk and attack here has its own fixture."""

from __future__ import annotations

import pytest

from harvesters.oai.errors import HarvestError
from harvesters.xml import (
    DocumentTooLarge,
    MalformedXML,
    UnsafeXML,
    parse_xml,
    parse_xml_document,
    repair_xml_bytes,
)
from tests.fixtures.samples import sample

MINIMAL = b'<?xml version="1.0" encoding="UTF-8"?>\n<a><b>text</b></a>'


def test_clean_document_is_parsed_from_the_very_same_bytes() -> None:
    document = parse_xml_document(MINIMAL)
    assert document.root.findtext("b") == "text"
    assert document.data is MINIMAL
    assert document.repairs == ()


def test_xml_stylesheet_pi_before_root_is_tolerated() -> None:
    data = b'<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="oai.xsl"?>\n<a>ok</a>'
    assert parse_xml(data).text == "ok"


def test_xxe_external_entity_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b"<a>&xxe;</a>"
    )
    with pytest.raises(UnsafeXML):
        parse_xml(data)


def test_billion_laughs_is_refused() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        b' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
        b' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
        b"]>\n<lolz>&lol3;</lolz>"
    )
    with pytest.raises(UnsafeXML):
        parse_xml(data)


def test_parameter_entity_is_refused() -> None:
    data = b'<!DOCTYPE a [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]><a/>'
    with pytest.raises(UnsafeXML):
        parse_xml(data)


def test_entity_declaration_hidden_in_utf16_is_refused() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    with pytest.raises(UnsafeXML):
        parse_xml(data.encode("utf-16"))


def test_entity_declaration_behind_a_comment_is_refused() -> None:
    data = b'<!-- <a> --><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
    with pytest.raises(UnsafeXML):
        parse_xml(data)


def test_external_dtd_is_never_fetched() -> None:
    # Nothing listens on port 9: a fetch would fail; the parser must not even try.
    data = b'<!DOCTYPE a SYSTEM "http://127.0.0.1:9/a.dtd"><a>fine</a>'
    assert parse_xml(data).text == "fine"


def test_oversized_document_is_refused() -> None:
    with pytest.raises(DocumentTooLarge) as caught:
        parse_xml(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)
    assert caught.value.limit == 50


def test_control_characters_are_replaced() -> None:
    root = parse_xml(b"<a>bell\x07 and ack\x06</a>")
    assert root.text == "bell\ufffd and ack\ufffd"


def test_control_character_references_are_replaced() -> None:
    root = parse_xml(b"<a>x&#6;y&#x1F;z&#x96;</a>")
    # &#x96; is legal XML (a C1 code); the readers map it, the parser keeps it.
    assert root.text == "x\ufffdy\ufffdz\x96"


def test_invalid_utf8_bytes_become_replacement_characters() -> None:
    # A UTF-8 document with a truncated sequence (a lone lead byte), as in Citebase's
    # badbytes.xml.
    data = "<a>café \u00e9t\u00e9 </a>".encode().replace(b"</a>", b"\xc2\n</a>")
    document = parse_xml_document(data)
    assert document.root.text == "café été \ufffd\n"
    assert any("U+FFFD" in r for r in document.repairs)


def test_cp1252_document_sent_as_utf8_is_decoded_as_cp1252() -> None:
    data = b'<?xml version="1.0" encoding="UTF-8"?><a>Cr\xe8me br\xfbl\xe9e \x96 na\xefve</a>'
    document = parse_xml_document(data)
    assert document.root.text == "Crème brûlée – naïve"
    assert any("cp1252" in r for r in document.repairs)


def test_latin1_declared_document_is_reencoded() -> None:
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?><a>Universit\xe9</a>'
    assert parse_xml(data).text == "Université"


def test_utf16_document_with_bom_is_reencoded() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><a>课程</a>'.encode("utf-16")
    assert parse_xml(data).text == "课程"


def test_blank_lines_before_xml_declaration_are_removed() -> None:
    document = parse_xml_document(b"\n\n  " + MINIMAL)
    assert document.root.tag == "a"
    assert document.repairs == ("removed whitespace before the XML declaration",)


def test_utf8_byte_order_mark_is_accepted() -> None:
    assert parse_xml(b"\xef\xbb\xbf" + MINIMAL).tag == "a"


def test_undefined_entity_is_malformed() -> None:
    with pytest.raises(MalformedXML) as caught:
        parse_xml(b"<a><b>2006-02-10&bogus;</b></a>")
    assert "bogus" in str(caught.value)
    assert caught.value.line == 1


def test_plain_text_body_is_malformed() -> None:
    with pytest.raises(MalformedXML):
        parse_xml(b"broken xml")


def test_empty_document_is_malformed() -> None:
    with pytest.raises(MalformedXML):
        parse_xml(b"  \n")


def test_xml_errors_are_harvest_errors() -> None:
    for error in (UnsafeXML("x"), MalformedXML("x"), DocumentTooLarge(2, 1)):
        assert isinstance(error, HarvestError)


def test_repair_reports_nothing_for_clean_ascii_even_if_declared_latin1() -> None:
    data = b'<?xml version="1.0" encoding="ISO-8859-1"?><a/>'
    fixed, repairs = repair_xml_bytes(data)
    assert fixed is data
    assert repairs == []


def test_sample_badbytes_is_repaired_not_refused() -> None:
    # perl-oai-lib-citebase/badbytes.xml: lone 0xC2 bytes and a 0x06 in dc:description.
    document = parse_xml_document(sample("perl-oai-lib-citebase/badbytes.xml"))
    description = "".join(document.root.itertext())
    assert "\ufffd" in description
    assert "TASI99" in description


def test_sample_undefined_entity_is_malformed() -> None:
    # pyoai/fake4: an Identify with &bogus; in responseDate.
    with pytest.raises(MalformedXML):
        parse_xml(sample("pyoai/fake4/00001.xml"))

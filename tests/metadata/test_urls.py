"""The URL rule: only absolute http(s) URLs survive reading, whatever a source spells.

The hostile records are our own (``tests/fixtures/hostile``); each URL-bearing element
of DC, qualified DC and LOM holds ``javascript:``, ``data:`` or ``vbscript:`` there.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from copy import deepcopy

import pytest
from lxml import etree

from harvesters.xml import parse_xml
from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    Issue,
    License,
    Relation,
    ResourceRecord,
)
from metadata.readers.lom import read_lom
from metadata.readers.oai_dc import read_oai_dc
from metadata.readers.qdc import read_qdc
from metadata.urls import (
    URL_NOT_HTTP,
    acceptable_name,
    http_url,
    names_a_location,
    screen_urls,
    unsafe_urls,
)
from metadata.validate import missing_recommended, publishable, quality_score, validate
from metadata.writers.jsonld import write_jsonld
from tests.fixtures.hostile import (
    DC_URLS,
    LOM_CF_URLS,
    LOM_URLS,
    QDC_URLS,
    SCRIPT_SCHEMES,
    XHTML_SCRIPT,
    HostileRecord,
)

Reader = Callable[[etree._Element], tuple[CourseResource, list[Issue]]]
READERS: dict[str, Reader] = {"oai_dc": read_oai_dc, "qdc": read_qdc, "lom": read_lom}

# --- the check itself ------------------------------------------------------------------------

ACCEPTED = [
    ("https://courses.example.edu/ds101", "https://courses.example.edu/ds101"),
    ("http://courses.example.edu", "http://courses.example.edu"),
    ("HTTPS://Courses.Example.edu/DS101", "https://Courses.Example.edu/DS101"),
    ("https://例子.测试/课程?id=1&lang=zh#第1讲", "https://例子.测试/课程?id=1&lang=zh#第1讲"),
    ("https://xn--fsqu00a.xn--0zwm56d/", "https://xn--fsqu00a.xn--0zwm56d/"),
    ("http://courses.example.edu:8080/a?b=c&d=e", "http://courses.example.edu:8080/a?b=c&d=e"),
    ("http://[2001:db8::1]:8443/x", "http://[2001:db8::1]:8443/x"),
    ("http://192.0.2.7/files/lecture 1.pdf", "http://192.0.2.7/files/lecture 1.pdf"),
    ("  https://courses.example.edu/ds101\n", "https://courses.example.edu/ds101"),
    ("https://courses.example.edu/path@with-at", "https://courses.example.edu/path@with-at"),
]
REFUSED = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "\x01javascript:alert(1)",
    " \tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "javascript://%0aalert(1)",
    "&#106;avascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://files.example.edu/a.pdf",
    "rtmp://streamer.example.fr/vod/a.mp4",
    "mailto:teacher@example.edu",
    "/course/ds101",
    "course/ds101",
    "courses.example.edu/ds101",
    "//evil.example/x",
    "\\\\evil.example\\x",
    "http:",
    "http://",
    "http:///x",
    "http:evil.example",
    "https:/evil.example",
    "http:\\\\evil.example",
    "https://college.example@evil.example/",
    "https://user:secret@courses.example.edu/",
    "http://courses.example.edu\\@evil.example/",
    "http://evil.example\\.courses.example.edu/",
    "http://exa mple.edu/",
    "http://evil.example%2F@x/",
    "http://.../",
    "http://[2001:db8::1/",
    "http://courses.example.edu:99999/",
    "http://courses.example.edu:80a/",
    "http://courses.example.edu/\x00a",
    "http://courses.example.edu/\x85a",
    "https://courses.example.edu/" + "a" * 2000,
    "",
    "   ",
]


@pytest.mark.parametrize(("value", "expected"), ACCEPTED)
def test_absolute_http_urls_pass_with_a_lower_case_scheme(value: str, expected: str) -> None:
    assert http_url(value) == expected


@pytest.mark.parametrize("value", REFUSED)
def test_script_data_relative_and_malformed_urls_are_refused(value: str) -> None:
    assert http_url(value) is None


def test_values_that_are_not_strings_are_no_urls() -> None:
    assert http_url(None) is None
    assert http_url(b"https://courses.example.edu/") is None


@pytest.mark.parametrize(
    "name",
    [
        "urn:nbn:de:0001-12345",
        "doi:10.5281/zenodo.20589672",
        "oai:zenodo.org:20589672",
        "hdl:2200/20080423151356635T",
        "RePEc:dgr:eureri:2001134",
        "info:eu-repo/semantics/openAccess",
        "ISBN 978-7-04-050000-0",
        "Musytari: Neraca Manajemen, Akuntansi, dan Ekonomi",
        "MIT Experimental Music Studio recordings",
        "CS2031",
        "知识共享 署名 4.0",
        "https://courses.example.edu/ds101",
    ],
)
def test_names_that_are_no_links_stay(name: str) -> None:
    assert acceptable_name(name)


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "&#106;avascript:alert(1)",
        "&amp;#106;avascript:alert(1)",
        "java\nscript:alert(1)",
        "data:,x",
        "vbscript:msgbox(1)",
        "file:C:/secret.txt",
        "ftp://files.example.edu/a.pdf",
        "//evil.example/x",
        "http:evil.example",
        "https://college.example@evil.example/",
    ],
)
def test_a_name_field_holding_a_url_that_is_no_http_url_is_a_location(value: str) -> None:
    assert names_a_location(value)
    assert not acceptable_name(value)


# --- every reader, every URL-bearing element ----------------------------------------------------


def read_hostile(record: HostileRecord) -> tuple[CourseResource, list[Issue]]:
    return READERS[record.prefix](parse_xml(record.read_bytes()))


def dropped(issues: list[Issue]) -> list[str]:
    return [i.path or "" for i in issues if i.code == URL_NOT_HTTP]


def assert_no_script_url_in(resource: CourseResource) -> None:
    """No script or data URL anywhere in the record, however it is escaped."""
    text = html.unescape(json.dumps(resource.model_dump(mode="json"), ensure_ascii=False))
    for scheme in SCRIPT_SCHEMES:
        assert scheme not in text.casefold()
    assert list(unsafe_urls(resource)) == []


DC_ELEMENTS = [
    *(f"dc:identifier[{n}]" for n in range(1, 10)),
    *(f"{name}[{n}]" for name in ("dc:relation", "dc:source", "dc:rights") for n in (1, 2, 3)),
]
QDC_ELEMENTS = [
    *(f"dc:identifier[{n}]" for n in (1, 2, 3)),
    *(f"dcterms:license[{n}]" for n in (1, 2, 3)),
    "dcterms:isPartOf[1]",
    "dcterms:hasPart[1]",
    "dcterms:references[1]",
    "dcterms:requires[1]",
    "dcterms:conformsTo[1]",
    *(f"dcterms:source[{n}]" for n in (1, 2, 3)),
]
LOM_ELEMENTS = [
    *(f"lom/general/identifier[{n}]/entry[1]" for n in (1, 2, 3)),
    *(f"lom/technical/location[{n}]" for n in (2, 3, 4)),
    "lom/rights/description/string[1]",
    "lom/rights/cf:licenseUrl[1]",
    *(f"lom/relation[1]/resource/identifier[{n}]/entry[1]" for n in (1, 2, 3)),
    "lom/relation[2]/resource/description/string[1]",
]
LOM_CF_ELEMENTS = [
    "lom/technical/cf:landingPage[1]",
    "lom/technical/cf:objects/cf:object[1]/cf:url[1]",
    "lom/technical/cf:objects/cf:object[2]/cf:url[1]",
    "lom/rights/cf:licenseUrl[1]",
]


@pytest.mark.parametrize(
    ("record", "elements"),
    [
        (DC_URLS, DC_ELEMENTS),
        (QDC_URLS, QDC_ELEMENTS),
        (LOM_URLS, LOM_ELEMENTS),
        (LOM_CF_URLS, LOM_CF_ELEMENTS),
    ],
    ids=lambda x: x.file if isinstance(x, HostileRecord) else "",
)
def test_each_script_url_is_dropped_with_an_error_on_its_element(
    record: HostileRecord, elements: list[str]
) -> None:
    resource, issues = read_hostile(record)
    assert sorted(dropped(issues)) == sorted(elements)
    assert all(i.severity == "error" for i in issues if i.code == URL_NOT_HTTP)
    assert_no_script_url_in(resource)
    every = [*issues, *validate(resource)]
    assert publishable(every), "the record is published, without the values"


def test_the_oai_dc_reader_drops_what_the_qdc_reader_drops_in_simple_dc() -> None:
    resource, issues = read_qdc(parse_xml(DC_URLS.read_bytes()))
    assert sorted(dropped(issues)) == sorted(DC_ELEMENTS)
    assert_no_script_url_in(resource)


def test_good_urls_beside_hostile_ones_survive() -> None:
    qdc, _ = read_hostile(QDC_URLS)
    assert qdc.url == "https://course.example.edu.cn/hostile"
    assert qdc.relations == [
        Relation(kind="ispartof", target="https://course.example.edu.cn/programme")
    ]
    lom, _ = read_hostile(LOM_URLS)
    assert lom.url == "https://hostile.example.edu.cn/course/1"
    assert lom.objects == []


def test_vcard_urls_and_meta_metadata_are_not_read_at_all() -> None:
    resource, issues = read_hostile(LOM_URLS)
    assert [c.email for c in resource.contributors] == [None, None]
    assert not any("metaMetadata" in (i.path or "") for i in issues)
    assert_no_script_url_in(resource)


def test_the_xhtml_record_reads_as_plain_text() -> None:
    resource, issues = read_hostile(XHTML_SCRIPT)
    assert resource.description == {
        "en": 'Inline XHTML in a harvested record.confirm("xhtml script")'
    }
    assert issues == []


def without(record: HostileRecord, *local_names: str) -> etree._Element:
    """The record with every element of these local names removed."""
    root = deepcopy(parse_xml(record.read_bytes()))
    for element in list(root.iter()):
        if isinstance(element.tag, str) and etree.QName(element).localname in local_names:
            parent = element.getparent()
            assert parent is not None
            parent.remove(element)
    return root


@pytest.mark.parametrize(
    ("record", "elements"),
    [
        (DC_URLS, ("identifier", "relation", "source", "rights")),
        (LOM_CF_URLS, ("landingPage", "objects", "licenseUrl")),
    ],
    ids=lambda x: x.file if isinstance(x, HostileRecord) else "",
)
def test_a_record_whose_only_links_were_dropped_reads_as_one_without_them(
    record: HostileRecord, elements: tuple[str, ...]
) -> None:
    hostile, _ = read_hostile(record)
    plain, _ = READERS[record.prefix](without(record, *elements))
    assert hostile == plain
    assert hostile.url is None
    assert missing_recommended(hostile) == missing_recommended(plain)
    assert "url" in missing_recommended(hostile)
    assert quality_score(hostile) == quality_score(plain)
    assert [i.code for i in validate(hostile)] == [i.code for i in validate(plain)]


# --- simple DC and LOM records, element by element -----------------------------------------

DC_HEAD = (
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title>'
)
LOM_HEAD = (
    '<lom xmlns="http://ltsc.ieee.org/xsd/LOM" xmlns:cf="https://coursefed.org/ns/lom-extension/1.0">'
    "<general><title><string>T</string></title></general>"
)
GOOD = [
    "https://例子.测试/课程/ds101",
    "http://courses.example.edu:8080/course?id=101&lang=zh",
    "https://xn--fsqu00a.xn--0zwm56d/ds101",
]


@pytest.mark.parametrize("good", GOOD)
def test_good_urls_pass_every_dc_element(good: str) -> None:
    body = "".join(
        f"<dc:{name}>{html.escape(good)}</dc:{name}>"
        for name in ("identifier", "relation", "source", "rights")
    )
    resource, issues = read_oai_dc(etree.fromstring((DC_HEAD + body + "</oai_dc:dc>").encode()))
    assert dropped(issues) == []
    assert resource.url == good
    assert [r.target for r in resource.relations] == [good]
    assert resource.sources == [good]
    assert resource.license is not None
    assert resource.license.url == good


@pytest.mark.parametrize("good", GOOD)
def test_good_urls_pass_every_lom_element(good: str) -> None:
    url = html.escape(good)
    body = (
        f"<technical><format>text/html</format><location>{url}</location>"
        f"<location>{url}/lecture.mp4</location></technical>"
        f"<rights><description><string>CC BY 4.0 {url}</string></description></rights>"
        f"<relation><resource><identifier><entry>{url}</entry></identifier></resource></relation>"
    )
    resource, issues = read_lom(etree.fromstring((LOM_HEAD + body + "</lom>").encode()))
    assert dropped(issues) == []
    assert resource.url == good
    assert [o.url for o in resource.objects] == [f"{good}/lecture.mp4"]
    assert [r.target for r in resource.relations] == [good]
    assert resource.license is not None
    assert resource.license.url == good


def test_a_landing_page_with_credentials_is_passed_over_for_the_next_one() -> None:
    body = (
        "<dc:identifier>https://college.example@evil.example/</dc:identifier>"
        "<dc:identifier>https://courses.example.edu/ds101</dc:identifier>"
    )
    resource, issues = read_oai_dc(etree.fromstring((DC_HEAD + body + "</oai_dc:dc>").encode()))
    assert resource.url == "https://courses.example.edu/ds101"
    assert resource.identifiers == ["https://courses.example.edu/ds101"]
    assert dropped(issues) == ["dc:identifier[1]"]


# --- records stored before the rule --------------------------------------------------------


def stored_before_the_rule() -> ResourceRecord:
    """A record as an older version stored it: every URL field a script."""
    return ResourceRecord(
        id="old-1",
        title={"en": "Old"},
        url="javascript:alert('url')",
        license=License(spdx="CC-BY-4.0", url="data:text/html,x", text="CC BY 4.0"),
        objects=[
            DigitalObjectRef(url="vbscript:msgbox(1)"),
            DigitalObjectRef(url="https://courses.example.edu/a.pdf", format="application/pdf"),
        ],
        identifiers=["javascript:alert('id')", "urn:x:1"],
        relations=[Relation(kind="ispartof", target="JavaScript:alert('rel')")],
        sources=["data:,x"],
        contributors=[Contributor(name="M", role="author", email="javascript:alert('mail')")],
    )


def test_screening_a_stored_record_keeps_only_http_urls_and_names() -> None:
    clean, issues = screen_urls(stored_before_the_rule())
    assert isinstance(clean, ResourceRecord)
    assert clean.url is None
    assert clean.license == License(spdx="CC-BY-4.0", text="CC BY 4.0")
    assert [o.url for o in clean.objects] == ["https://courses.example.edu/a.pdf"]
    assert (clean.identifiers, clean.relations, clean.sources) == (["urn:x:1"], [], [])
    assert clean.contributors == [Contributor(name="M", role="author")]
    assert [i.path for i in issues] == [
        "url",
        "license.url",
        "objects[1].url",
        "identifiers[1]",
        "relations[1].target",
        "sources[1]",
        "contributors[1].email",
    ]
    assert screen_urls(clean) == (clean, [])


def test_json_ld_of_a_stored_record_writes_no_script_url() -> None:
    node = write_jsonld(stored_before_the_rule(), url="https://coursefed.example/courses/old-1")
    text = json.dumps(node).casefold()
    for scheme in SCRIPT_SCHEMES:
        assert scheme not in text
    assert node["url"] == "https://coursefed.example/courses/old-1"
    assert "sameAs" not in node
    assert node["associatedMedia"][0]["contentUrl"] == "https://courses.example.edu/a.pdf"


def test_json_ld_writes_only_http_relations_as_links() -> None:
    record = CourseResource(
        title={"en": "T"},
        relations=[
            Relation(kind="ispartof", target="https://courses.example.edu/programme"),
            Relation(kind="ispartof", target="urn:x:programme"),
        ],
    )
    assert write_jsonld(record)["isPartOf"] == [
        "https://courses.example.edu/programme",
        {"@type": "CreativeWork", "identifier": "urn:x:programme"},
    ]

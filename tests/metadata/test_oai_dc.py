"""Reading oai_dc into the profile: own fixtures per quirk, then the shared samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from harvesters.oai.errors import HarvestError
from harvesters.oai.records import parse_page, parse_response
from metadata.profile import Contributor, CourseResource, Issue, Subject
from metadata.readers import recognise_license
from metadata.readers.oai_dc import discipline_code, landing_page, read_oai_dc
from metadata.validate import validate
from metadata.xmlutil import clean_html_text
from tests.fixtures.samples import fixture, require_samples

DC_HEAD = (
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
)


def element(xml: str) -> etree._Element:
    # Test input is our own, trusted XML: the hardened parser is for harvested bytes.
    return etree.fromstring(xml.encode())


def read(body: str) -> tuple[CourseResource, list[Issue]]:
    return read_oai_dc(element(DC_HEAD + body + "</oai_dc:dc>"))


# --- the bilingual course fixture ---------------------------------------------------------


Read = tuple[CourseResource, list[Issue]]


@pytest.fixture(scope="module")
def course() -> Read:
    return read_oai_dc(etree.fromstring(fixture("dc/bilingual_course.xml")))


def test_cjk_and_english_titles_get_their_own_keys(course: Read) -> None:
    resource, _ = course
    assert resource.title == {"zh": "数据结构与算法", "en": "Data Structures and Algorithms"}


def test_double_escaped_html_description_is_cleaned(course: Read) -> None:
    resource, _ = course
    assert resource.description == {
        "zh": "本课程介绍线性表、树和图。 共 64 学时。",
        "en": "An introduction to lists, trees and graphs.",
    }


def test_discipline_code_in_subject(course: Read) -> None:
    resource, _ = course
    assert resource.subjects[0] == Subject(code="0812", label={"zh": "计算机科学与技术"})
    assert resource.keywords == ["计算机科学与技术", "数据结构", "算法"]


def test_languages_are_normalised_and_unknown_ones_kept_with_a_warning(
    course: Read,
) -> None:
    resource, issues = course
    assert resource.languages == ["zh", "Klingon"]
    (issue,) = issues
    assert (issue.severity, issue.code, issue.path) == (
        "warning",
        "unknown_language",
        "dc:language[3]",
    )


def test_people_and_institution(course: Read) -> None:
    resource, _ = course
    assert resource.contributors == [
        Contributor(name="王伟", role="author"),
        Contributor(name="李娜", role="author"),
        Contributor(name="Computer Science Teaching Group", role="contributor"),
        Contributor(name="示例职业技术学院", role="publisher"),
    ]
    assert resource.institution == "示例职业技术学院"


def test_earliest_date_is_created(course: Read) -> None:
    resource, _ = course
    assert resource.created == "2020-03"
    assert resource.dates == ["2021年9月1日"]


def test_landing_page_skips_file_links(course: Read) -> None:
    resource, _ = course
    assert resource.url == "https://courses.example.edu/course/ds101"
    assert len(resource.identifiers) == 3


def test_chinese_licence_text_is_recognised(course: Read) -> None:
    resource, _ = course
    assert resource.license is not None
    assert resource.license.spdx == "CC-BY-NC-SA-4.0"
    assert resource.license.text.startswith("知识共享")


def test_other_fields_are_kept(course: Read) -> None:
    resource, _ = course
    assert resource.resource_types == ["课程"]
    assert resource.formats == ["text/html"]
    assert [r.target for r in resource.relations] == ["https://courses.example.edu/course/ds100"]
    assert resource.coverage == ["2021 秋季学期"]
    assert resource.sources == ["示例学院精品课程"]
    assert validate(resource) == []


# --- one quirk each -------------------------------------------------------------------


def test_record_without_namespaces_is_read() -> None:
    resource, issues = read_oai_dc(
        element("<dc><title>Linear Algebra</title><language>English</language></dc>")
    )
    assert resource.title == {"en": "Linear Algebra"}
    assert resource.languages == ["en"]
    assert issues == []


def test_namespaces_declared_only_on_the_oai_root_are_understood() -> None:
    root = etree.fromstring(fixture("oai/listrecords_namespaces_on_root.xml"))
    metadata = root.find(".//{*}metadata")
    assert metadata is not None
    resource, _ = read_oai_dc(metadata)  # handed the <metadata> wrapper itself
    assert resource.title == {"fr": "Algorithmique", "en": "Algorithms"}  # xml:lang="fre"/"eng"
    assert resource.languages == ["fr"]


def test_language_written_as_eng_english_and_chi() -> None:
    resource, issues = read(
        "<dc:title>T</dc:title><dc:language>eng</dc:language>"
        "<dc:language>English</dc:language><dc:language>chi</dc:language>"
    )
    assert resource.languages == ["en", "zh"]
    assert issues == []


def test_list_of_languages_in_one_element() -> None:
    resource, issues = read("<dc:language>en; fr</dc:language>")
    assert resource.languages == ["en", "fr"]
    assert issues == []


def test_title_key_follows_the_single_dc_language() -> None:
    resource, _ = read("<dc:title>Le Poème</dc:title><dc:language>fre</dc:language>")
    assert resource.title == {"fr": "Le Poème"}


def test_chinese_title_in_a_record_said_to_be_english_is_chinese() -> None:
    resource, _ = read(
        "<dc:title>高等数学</dc:title><dc:title>Advanced Mathematics</dc:title>"
        "<dc:language>en</dc:language>"
    )
    assert resource.title == {"zh": "高等数学", "en": "Advanced Mathematics"}


def test_second_title_in_the_same_language_does_not_replace_the_first() -> None:
    resource, _ = read("<dc:title>Algorithms</dc:title><dc:title>A first course</dc:title>")
    assert resource.title == {"en": "Algorithms"}


def test_html_escaped_once_is_cleaned() -> None:
    resource, _ = read(
        "<dc:description>&lt;p&gt;Learn &lt;b&gt;fast&lt;/b&gt;&lt;br/&gt;today&lt;/p&gt;"
        "</dc:description>"
    )
    assert resource.description == {"en": "Learn fast today"}


def test_description_text_is_nfc_with_collapsed_whitespace() -> None:
    decomposed = "Cafe\u0301  au\n\tlait"
    resource, _ = read(f"<dc:description>{decomposed}</dc:description>")
    assert resource.description == {"en": "Café au lait"}


def test_c1_control_codes_are_read_as_windows_1252() -> None:
    # canal-u.fr LOM: &#x96; standing for an en dash.
    resource, _ = read("<dc:title>Cours 1 &#x96; Introduction</dc:title>")
    assert resource.title == {"en": "Cours 1 – Introduction"}


def test_maths_with_angle_brackets_is_not_taken_for_html() -> None:
    assert clean_html_text("if x&lt;y and y&gt;z") == "if x<y and y>z"


def test_subject_codes() -> None:
    assert discipline_code("0812 计算机科学与技术") == ("0812", "计算机科学与技术")
    assert discipline_code("080901 计算机科学与技术") == ("080901", "计算机科学与技术")
    assert discipline_code("计算机科学与技术（0812）") == ("0812", "计算机科学与技术")
    assert discipline_code("0812") == ("0812", "")
    assert discipline_code("510201 计算机应用技术") == ("510201", "计算机应用技术")
    # not discipline codes: years, JEL-like numbers, ranges
    for text in ("2019", "5548.6", "5001-6182", "6182"):
        assert discipline_code(text) == (None, text)


def test_bare_code_subject_has_no_label_and_no_keyword() -> None:
    resource, _ = read("<dc:subject>0812</dc:subject>")
    assert resource.subjects == [Subject(code="0812")]
    assert resource.keywords == []


def test_subjects_separated_by_semicolons() -> None:
    resource, _ = read("<dc:subject>Algebra; Geometry；代数</dc:subject>")
    assert resource.keywords == ["Algebra", "Geometry", "代数"]


def test_publisher_is_also_the_institution() -> None:
    resource, _ = read("<dc:publisher>Example University</dc:publisher>")
    assert resource.institution == "Example University"
    assert resource.contributors == [Contributor(name="Example University", role="publisher")]


def test_unparseable_dates_keep_the_first_as_created() -> None:
    resource, _ = read("<dc:date>Spring term</dc:date><dc:date>n.d.</dc:date>")
    assert resource.created == "Spring term"
    assert resource.dates == ["n.d."]


def test_rights_mixing_uris_names_and_licence_urls() -> None:
    # Zenodo: an access right, a licence name and a licence URL in three dc:rights.
    resource, _ = read(
        "<dc:rights>info:eu-repo/semantics/openAccess</dc:rights>"
        "<dc:rights>Creative Commons Attribution 4.0 International</dc:rights>"
        "<dc:rights>https://creativecommons.org/licenses/by/4.0/legalcode</dc:rights>"
    )
    assert resource.license is not None
    assert resource.license.spdx == "CC-BY-4.0"
    assert "openAccess" in resource.license.text


@pytest.mark.parametrize(
    ("text", "spdx"),
    [
        ("CC BY-SA 4.0", "CC-BY-SA-4.0"),
        ("http://creativecommons.org/licenses/by-nc-sa/4.0/", "CC-BY-NC-SA-4.0"),
        ("https://creativecommons.org/licenses/by-nd/3.0/cn/", "CC-BY-ND-3.0"),
        ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0", "CC-BY-NC-ND-4.0"),
        ("CC-BY-4.0", "CC-BY-4.0"),
        ("知识共享署名 4.0 国际许可协议", "CC-BY-4.0"),
        ("CC0 1.0", "CC0-1.0"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
        ("Apache License 2.0", "Apache-2.0"),
        ("MIT License", "MIT"),
        ("CC BY", None),  # which version? not recognisable
        ("All rights reserved", None),
        ("info:eu-repo/semantics/openAccess", None),
    ],
)
def test_licences_are_recognised(text: str, spdx: str | None) -> None:
    assert recognise_license(text) == spdx


def test_landing_page_needs_http() -> None:
    assert landing_page(["urn:nbn:1", "ftp://x/y", "https://x.org/a.PDF"]) is None
    assert landing_page(["hdl:1/2", "http://hdl.handle.net/1/2"]) == "http://hdl.handle.net/1/2"


def test_element_without_dublin_core_is_a_warning() -> None:
    _, issues = read_oai_dc(
        element('<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>1</id></arXiv>')
    )
    assert [i.code for i in issues] == ["no_dc_elements"]


def test_dcterms_elements_of_the_same_name_are_read() -> None:
    resource, _ = read_oai_dc(
        element(
            '<dc xmlns:dcterms="http://purl.org/dc/terms/"><dcterms:title>T</dcterms:title></dc>'
        )
    )
    assert resource.title == {"en": "T"}


# --- the shared samples ---------------------------------------------------------------


def _sample_dc_records(where: Path) -> list[tuple[str, etree._Element]]:
    """oai_dc metadata of every record in the sample file(s), read by our harvester."""
    found = []
    for path in sorted(where.rglob("*.xml")) if where.is_dir() else [where]:
        data = path.read_bytes()
        try:
            response = parse_response(data)
            response.raise_for_error()
            assert response.body is not None
            verb = etree.QName(response.body).localname
            if verb not in ("ListRecords", "GetRecord"):
                continue
            page = parse_page(data, verb=verb)
        except HarvestError:
            continue
        for record in page.records:
            if record.metadata is not None and etree.QName(record.metadata).localname == "dc":
                found.append((f"{path.name} {record.identifier}", record.metadata))
    return found


def test_every_oai_dc_record_in_the_samples_is_read() -> None:
    records = _sample_dc_records(require_samples())
    assert len(records) > 300
    for name, dc in records:
        resource, issues = read_oai_dc(dc)
        assert resource.title, name
        assert all(i.severity == "warning" for i in issues), name
        for text in [*resource.title.values(), *resource.description.values()]:
            assert "&lt;" not in text and "<p>" not in text, name


def test_sample_zenodo_double_escaped_description() -> None:
    folder = require_samples() / "oaipmh-scythe-zenodo" / "extracted"
    path = folder / "list_records__05_ListRecords_200_metadataPrefix-oai_dc.xml"
    assert b"&amp;lt;p&amp;gt;" in path.read_bytes()  # HTML escaped twice, as received
    records = _sample_dc_records(path)
    assert len(records) == 3
    for _, dc in records:
        resource, _ = read_oai_dc(dc)
        for text in resource.description.values():
            assert "<p>" not in text and "&lt;" not in text and "&amp;" not in text


def test_sample_bnf_record_with_namespaces_on_root() -> None:
    folder = require_samples()
    ((_, dc),) = _sample_dc_records(folder / "phpoaipmh" / "NamespacedSample.xml")
    resource, issues = read_oai_dc(dc)
    assert resource.title == {"fr": "Le Poème. Publication mensuelle"}
    assert resource.languages == ["fr"]
    assert resource.license is not None and resource.license.spdx is None
    assert resource.url == "http://gallica.bnf.fr/ark:/12148/bpt6k5440618t"
    assert issues == []


def test_sample_cjk_creator() -> None:
    folder = require_samples()
    ((_, dc),) = _sample_dc_records(folder / "sickle" / "GetRecord_utf8test.xml")
    resource, _ = read_oai_dc(dc)
    assert Contributor(name="某人", role="author") in resource.contributors


def test_sample_unknown_language_other_is_kept_with_a_warning() -> None:
    folder = require_samples()
    found = [
        read_oai_dc(dc)
        for _, dc in _sample_dc_records(folder / "pyoai" / "fake1")
        if dc.findtext("{http://purl.org/dc/elements/1.1/}language") == "other"
    ]
    assert found
    resource, issues = found[0]
    assert resource.languages == ["other"]
    assert issues[0].path == "dc:language[1]"

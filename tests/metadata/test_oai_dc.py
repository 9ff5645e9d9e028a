"""Reading oai_dc into the profile: own fixtures per quirk, then the shared samples."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from harvesters.oai.errors import HarvestError
from harvesters.oai.records import parse_page, parse_response
from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    Issue,
    License,
    Relation,
    Subject,
)
from metadata.readers import recognise_license
from metadata.readers.oai_dc import (
    VOCATIONAL_CATALOGUE,
    course_code_of,
    discipline_code,
    file_extension,
    landing_page,
    level_of,
    mime_type_of,
    read_oai_dc,
    type_of,
)
from metadata.validate import validate
from metadata.vocabularies import DISCIPLINE_CATALOGUE, EDUCATION_LEVELS, RESOURCE_TYPES
from metadata.xmlutil import clean_html_text, clean_text
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
    # The catalogue's English label is filled in, as the LOM reader does.
    assert resource.subjects[0] == Subject(
        code="0812",
        scheme=DISCIPLINE_CATALOGUE,
        label={"zh": "计算机科学与技术", "en": "Computer Science and Technology"},
    )
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
    assert (resource.resource_type, resource.resource_types) == ("web_course", ["课程"])
    assert resource.formats == ["text/html"]
    assert resource.objects == [
        DigitalObjectRef(
            url="https://courses.example.edu/files/syllabus.pdf",
            format="application/pdf",
            name="syllabus.pdf",
        )
    ]
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


def test_bare_code_subject_gets_the_catalogue_labels_but_no_keyword() -> None:
    resource, _ = read("<dc:subject>0812</dc:subject><dc:subject>080902</dc:subject>")
    assert resource.subjects == [
        Subject(
            code="0812",
            scheme=DISCIPLINE_CATALOGUE,
            label={"zh": "计算机科学与技术", "en": "Computer Science and Technology"},
        ),
        Subject(code="080902", scheme=DISCIPLINE_CATALOGUE),  # a major: no exact label
    ]
    assert resource.keywords == []


def test_vocational_major_code_has_its_own_catalogue() -> None:
    resource, _ = read("<dc:subject>510201 计算机应用技术</dc:subject>")
    assert resource.subjects == [
        Subject(code="510201", scheme=VOCATIONAL_CATALOGUE, label={"zh": "计算机应用技术"})
    ]


def test_same_code_in_two_languages_is_one_subject() -> None:
    resource, _ = read(
        '<dc:subject xml:lang="zh">0812 计算机科学与技术</dc:subject>'
        '<dc:subject xml:lang="en">0812 Computer Science</dc:subject>'
    )
    assert resource.subjects == [
        Subject(
            code="0812",
            scheme=DISCIPLINE_CATALOGUE,
            label={"zh": "计算机科学与技术", "en": "Computer Science"},
        )
    ]


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
    assert resource.license == License(
        spdx="CC-BY-4.0",
        url="https://creativecommons.org/licenses/by/4.0/legalcode",
        text="info:eu-repo/semantics/openAccess; Creative Commons Attribution 4.0 International",
    )
    assert resource.cost is False  # open access: learners do not pay


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
        ("All rights reserved", "all-rights-reserved"),
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


# --- the profile's new fields: a vocational web course with files -----------------------


@pytest.fixture(scope="module")
def files_course() -> Read:
    return read_oai_dc(etree.fromstring(fixture("dc/course_files_and_levels.xml")))


def test_education_level_found_in_subject_and_coverage(files_course: Read) -> None:
    resource, _ = files_course
    assert resource.education_level == "higher_vocational"
    assert resource.audiences == ["高职", "高等职业教育"]  # as received, first mapped wins
    assert resource.coverage == ["中国"]  # coverage that is not a level stays, unreported
    assert "高职" not in resource.keywords


def test_first_mapped_type_wins_and_unmapped_types_are_warnings(files_course: Read) -> None:
    resource, issues = files_course
    assert resource.resource_type == "web_course"
    assert resource.resource_types == ["网络课程", "InteractiveResource", "精品资源共享课"]
    assert [(i.severity, i.code, i.path) for i in issues] == [
        ("warning", "unmapped_vocabulary", "dc:type[3]")
    ]


def test_file_links_become_objects_and_the_page_stays_the_url(files_course: Read) -> None:
    resource, _ = files_course
    assert resource.url == "https://mooc.example.edu.cn/course/py101"
    assert resource.objects == [
        DigitalObjectRef(
            url="https://mooc.example.edu.cn/files/py101/lecture%2001.mp4",
            format="video/mp4",  # the declared dc:format that fits the extension
            name="lecture 01.mp4",
        ),
        DigitalObjectRef(
            url="https://mooc.example.edu.cn/files/py101/slides.pptx?download=1",
            format="application/vnd.openxmlformats-officedocument.presentationml.presentation",
            name="slides.pptx",
        ),
        DigitalObjectRef(
            url="https://mooc.example.edu.cn/files/py101/quiz.h5p",
            format="application/zip",
            name="quiz.h5p",
        ),
    ]


def test_labelled_course_code_leaves_the_identifiers(files_course: Read) -> None:
    resource, _ = files_course
    assert resource.course_code == "CS1021"
    assert not any("CS1021" in identifier for identifier in resource.identifiers)
    assert len(resource.identifiers) == 4


def test_formats_durations_and_class_hours(files_course: Read) -> None:
    resource, _ = files_course
    assert resource.formats == ["video/mp4", "text/html", "1.2 GB"]  # MIME normalised only
    assert resource.learning_time == "PT48H"
    assert resource.class_hours == 64


def test_licence_url_and_free_statement(files_course: Read) -> None:
    resource, _ = files_course
    assert resource.license == License(
        spdx="CC-BY-4.0",
        url="https://creativecommons.org/licenses/by/4.0/",
        text="知识共享署名 4.0 国际许可协议; 免费开放",
    )
    assert resource.cost is False


def test_relations_of_simple_dc_have_no_kind(files_course: Read) -> None:
    resource, _ = files_course
    assert resource.relations == [Relation(target="https://mooc.example.edu.cn/course/py100")]


def test_format_holding_a_mime_type_and_a_file_url() -> None:
    # EUR's DSpace (pyoai samples): "application/pdf https://…/ERS 2003 086 LIS.pdf".
    resource, issues = read_oai_dc(etree.fromstring(fixture("dc/format_with_file_url.xml")))
    assert resource.formats == ["229632 bytes", "application/pdf"]
    assert resource.objects == [
        DigitalObjectRef(
            url="https://repository.example.org/retrieve/12/ERS%202003%20086%20LIS.pdf",
            format="application/pdf",
            name="ERS 2003 086 LIS.pdf",
        )
    ]
    assert resource.url == "http://hdl.handle.net/0000/12"
    assert resource.resource_type == "document"  # "Working Paper"
    assert issues == []


@pytest.mark.parametrize(
    ("identifier", "code"),
    [
        ("课程代码: CS101", "CS101"),
        ("课程代码：CS101", "CS101"),
        ("课程编号 080012", "080012"),
        ("Course code: CS 101", "CS 101"),
        ("course-code:6.001", "6.001"),
        ("CS101", None),  # unlabelled: could be anything
        ("https://example.edu/course/CS101", None),
        ("urn:course:CS101", None),
    ],
)
def test_only_a_labelled_identifier_is_a_course_code(identifier: str, code: str | None) -> None:
    assert course_code_of(identifier) == code


def test_unlabelled_course_code_stays_an_identifier() -> None:
    resource, _ = read("<dc:identifier>CS101</dc:identifier>")
    assert (resource.course_code, resource.identifiers) == (None, ["CS101"])


def test_level_as_dc_type_is_not_reported_as_a_type() -> None:
    resource, issues = read("<dc:type>本科教育</dc:type><dc:type>课件</dc:type>")
    assert (resource.education_level, resource.audiences) == ("undergraduate", ["本科教育"])
    assert (resource.resource_type, resource.resource_types) == ("courseware", ["课件"])
    assert issues == []


def test_coverage_that_is_no_level_is_not_reported() -> None:
    resource, issues = read("<dc:coverage>2021 秋季学期</dc:coverage>")
    assert resource.education_level is None
    assert resource.coverage == ["2021 秋季学期"]
    assert issues == []


def test_vocabulary_values_with_a_prefix() -> None:
    # sickle's sample: "doc-type:article"; DLESE ADN: "DLESE:Undergraduate upper division".
    resource, issues = read(
        "<dc:type>doc-type:article</dc:type>"
        "<dc:coverage>DLESE:Undergraduate upper division</dc:coverage>"
    )
    assert resource.resource_type == "document"
    assert resource.education_level == "undergraduate"
    assert issues == []


@pytest.mark.parametrize(
    ("value", "code"),
    [
        # values of the shared samples (Zenodo, EUR, NSDL, BnF) and of the demo corpus
        ("info:eu-repo/semantics/lecture", "courseware"),
        ("info:eu-repo/semantics/conferencePaper", "document"),
        ("Working Paper", "document"),
        ("Technical Report", "document"),
        ("Book chapter", "document"),
        ("Preprint", "document"),
        ("Instructional Material", "courseware"),
        ("Interactive Simulation", "courseware"),
        ("printed serial", "document"),
        ("texte", "text"),
        ("video material", "video"),
        ("info:eu-repo/semantics/other", None),
    ],
)
def test_real_type_values_map_to_celts_41(value: str, code: str | None) -> None:
    assert type_of(value) == code


def test_every_vocabulary_label_maps_back_to_its_value() -> None:
    # What write_oai_dc writes for resource_type and education_level must read back.
    for code, labels in RESOURCE_TYPES.items():
        assert {type_of(label) for label in labels} == {code}
    for code, labels in EDUCATION_LEVELS.items():
        assert {level_of(label) for label in labels} == {code}


def test_mime_types_are_normalised_other_formats_kept() -> None:
    resource, _ = read(
        "<dc:format>Application/PDF</dc:format><dc:format>text/html;charset=utf-8</dc:format>"
        "<dc:format>19 pages</dc:format><dc:format>PT1H30M</dc:format>"
    )
    assert resource.formats == ["application/pdf", "text/html", "19 pages"]
    assert resource.learning_time == "PT1H30M"


def test_rights_that_are_only_a_url() -> None:
    resource, _ = read("<dc:rights>https://rightsstatements.org/page/InC-EDU/1.0/</dc:rights>")
    assert resource.license == License(
        spdx="all-rights-reserved",
        url="https://rightsstatements.org/page/InC-EDU/1.0/",
        text="https://rightsstatements.org/page/InC-EDU/1.0/",
    )


@pytest.mark.parametrize(
    ("url", "extension"),
    [
        ("https://x.org/a/b.PDF", "pdf"),
        ("https://x.org/a/b.mp4?token=1#t=10", "mp4"),
        ("https://x.org/course.html", None),  # a page, not a file
        ("https://x.org/files/", None),
        ("https://x.org", None),
        ("https://x.org/v1.2/notes", None),
        ("https://x.org/pkg.h5p", "h5p"),
    ],
)
def test_file_extensions(url: str, extension: str | None) -> None:
    assert file_extension(url) == extension


def test_mime_type_from_declared_format_or_extension() -> None:
    assert mime_type_of("wav", ["audio/x-wav"]) == "audio/x-wav"
    assert mime_type_of("wav", ["application/pdf"]) == "audio/wav"
    assert mime_type_of("mp4", []) == "video/mp4"
    assert mime_type_of("docx", ["application/msword"]) == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


def test_web_address_wrapped_over_lines_is_joined() -> None:
    # The OAI static repository example breaks a dc:identifier URL after its "?".
    resource, _ = read(
        "<dc:identifier>http://www.example.org/cgi-bin/ptext?\n   doc=P:text:1</dc:identifier>"
        "<dc:identifier>Sample id\n 27</dc:identifier>"
    )
    assert resource.url == "http://www.example.org/cgi-bin/ptext?doc=P:text:1"
    assert resource.identifiers[1] == "Sample id 27"  # not a web address: spaces as usual


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  a \t b\n", "a b"),
        ("a\x1cb", "a b"),  # str.split() and the regex \s agree on what whitespace is
        ("Caf\u00e9\u00a0au\u2003lait", "Café au lait"),
        ("Cafe\u0301", "Café"),
        ("zero\u200bwidth\u00ad", "zerowidth"),
        ("Cours 1 \x96 Introduction", "Cours 1 – Introduction"),
        ("", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


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
    assert resource.license is not None and resource.license.spdx == "CC-PDM-1.0"
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

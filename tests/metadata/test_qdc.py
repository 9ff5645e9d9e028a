"""Reading qualified Dublin Core (dcterms, NSDL nsdl_dc) into the profile: own fixtures."""

from __future__ import annotations

import pytest
from lxml import etree

from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    Issue,
    License,
    Relation,
    Subject,
)
from metadata.readers.oai_dc import read_oai_dc
from metadata.readers.qdc import QDC_TERMS, REFINEMENTS, read_qdc
from metadata.vocabularies import DISCIPLINE_CATALOGUE
from tests.fixtures.samples import fixture

Read = tuple[CourseResource, list[Issue]]

QDC_HEAD = (
    '<qdc:qualifieddc xmlns:qdc="http://dspace.org/qualifieddc/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
)


def read(body: str) -> Read:
    # Test input is our own, trusted XML: the hardened parser is for harvested bytes.
    return read_qdc(etree.fromstring((QDC_HEAD + body + "</qdc:qualifieddc>").encode()))


# --- NSDL: nsdl_dc with education levels --------------------------------------------------


@pytest.fixture(scope="module")
def nsdl() -> Read:
    return read_qdc(etree.fromstring(fixture("dc/nsdl_dc_education_level.xml")))


def test_nsdl_education_levels_and_audience(nsdl: Read) -> None:
    resource, _ = nsdl
    assert resource.education_level == "undergraduate"  # "Higher Education"
    assert resource.audiences == [
        "Higher Education",
        "Undergraduate (Lower Division)",  # NSDLEdLevel's parentheses are understood
        "High School",
        "Learner",
    ]


def test_unmapped_education_level_is_a_warning_with_its_path(nsdl: Read) -> None:
    _, issues = nsdl
    assert [(i.severity, i.code, i.path) for i in issues] == [
        ("warning", "unmapped_vocabulary", "dcterms:educationLevel[3]")
    ]
    assert "High School" in issues[0].message


def test_abstract_joins_the_description(nsdl: Read) -> None:
    resource, _ = nsdl
    assert resource.description == {
        "en": "An online course on DC and AC circuits.\n\n"
        "Twelve units with interactive simulations and quizzes."
    }


def test_created_modified_and_other_dates(nsdl: Read) -> None:
    resource, _ = nsdl
    assert (resource.created, resource.modified) == ("2008-01-15", "2011-06-30")
    assert resource.dates == ["2008-02", "2009-06-18T02:49:30Z"]


def test_extent_as_iso_duration_is_the_learning_time(nsdl: Read) -> None:
    resource, _ = nsdl
    assert resource.learning_time == "PT30H"
    assert resource.formats == ["text/html"]  # dct:IMT, lower-cased


def test_licence_term_wins_over_rights_and_free_access_means_no_cost(nsdl: Read) -> None:
    resource, _ = nsdl
    assert resource.license == License(
        spdx="CC-BY-NC-SA-3.0",  # a ported licence gets the unported id
        url="http://creativecommons.org/licenses/by-nc-sa/3.0/us/",
        text="Copyright 2008 Example University; Free access",
    )
    assert resource.cost is False


def test_relation_refinements_give_the_kind(nsdl: Read) -> None:
    resource, _ = nsdl
    assert resource.relations == [
        Relation(kind="ispartof", target="http://www.example.org/physics/"),
        Relation(kind="haspart", target="http://www.example.org/circuits/unit1/"),
        Relation(kind="requires", target="Java"),
        Relation(target="http://www.example.org/related/"),
    ]


def test_subject_schemes(nsdl: Read) -> None:
    resource, _ = nsdl
    assert resource.subjects == [
        Subject(code="621.3192", scheme="DDC"),  # a notation: a code, no label
        Subject(label={"en": "Physics"}),
        Subject(scheme="LCSH", label={"en": "Electric circuits"}),  # a heading
    ]
    assert resource.keywords == ["Physics", "Electric circuits"]


def test_nsdl_types_identifiers_and_people(nsdl: Read) -> None:
    resource, _ = nsdl
    assert resource.resource_type == "courseware"  # "Instructional Material" comes first
    assert resource.resource_types == ["Instructional Material", "InteractiveResource"]
    assert resource.url == "http://www.example.org/circuits/"
    assert resource.identifiers == [
        "http://www.example.org/circuits/",
        "hdl:2200/20090101000000000T",
    ]
    assert resource.languages == ["en"]
    assert resource.contributors == [
        Contributor(name="Jane Doe", role="author"),
        Contributor(name="Example University Physics Department", role="publisher"),
    ]


def test_lar_elements_are_ignored_without_issues(nsdl: Read) -> None:
    resource, issues = nsdl
    dumped = resource.model_dump_json()
    assert "Ready" not in dumped and "metadata terms" not in dumped
    assert all(i.code != "no_dc_elements" for i in issues)


# --- dcterms with xsi:type schemes under a qualifieddc root --------------------------------


@pytest.fixture(scope="module")
def dcterms() -> Read:
    return read_qdc(etree.fromstring(fixture("dc/qdc_dcterms_schemes.xml")))


def test_root_xml_lang_is_inherited_and_alternative_title_added(dcterms: Read) -> None:
    resource, issues = dcterms
    # the second zh alternative title does not replace the title
    assert resource.title == {"zh": "算法设计与分析", "en": "Design and Analysis of Algorithms"}
    assert resource.languages == ["zh", "en"]  # ISO639-2 chi, eng
    assert issues == []


def test_abstract_and_table_of_contents(dcterms: Read) -> None:
    resource, _ = dcterms
    assert resource.description == {
        "zh": "本课程讲授分治、动态规划和贪心算法。\n\n第1章 算法基础；第2章 分治法"
    }


def test_chinese_education_level_and_audience(dcterms: Read) -> None:
    resource, _ = dcterms
    assert resource.education_level == "undergraduate"
    assert resource.audiences == ["本科", "计算机专业学生"]


def test_dated_refinements(dcterms: Read) -> None:
    resource, _ = dcterms
    assert resource.created == "2019-09-01"
    assert resource.modified == "2023-03-01T08:00:00Z"
    assert resource.dates == ["2020-02-15"]


def test_course_code_in_dcterms_identifier_and_files(dcterms: Read) -> None:
    resource, _ = dcterms
    assert resource.course_code == "080012"
    assert resource.url == "https://course.example.edu.cn/algo"
    assert resource.objects == [
        DigitalObjectRef(
            url="https://course.example.edu.cn/algo/video/week1.mp4",
            format="video/mp4",
            name="week1.mp4",
        )
    ]


def test_extent_that_is_no_duration_stays_a_format(dcterms: Read) -> None:
    resource, _ = dcterms
    assert resource.learning_time is None
    assert resource.formats == ["video/mp4", "共16周", "在线"]


def test_licence_access_rights_and_relations(dcterms: Read) -> None:
    resource, _ = dcterms
    assert resource.license == License(
        spdx="CC-BY-NC-4.0", url="https://creativecommons.org/licenses/by-nc/4.0/", text="开放获取"
    )
    assert resource.cost is False
    assert resource.relations == [
        Relation(kind="isversionof", target="https://course.example.edu.cn/algo/2019"),
        Relation(kind="references", target="《算法导论》第3版"),
    ]


def test_subjects_type_and_coverage(dcterms: Read) -> None:
    resource, _ = dcterms
    assert resource.subjects == [
        Subject(
            code="0812",
            scheme=DISCIPLINE_CATALOGUE,
            label={"zh": "计算机科学与技术", "en": "Computer Science and Technology"},
        ),
        Subject(scheme="LCSH", label={"en": "Computer algorithms"}),
    ]
    assert (resource.resource_type, resource.resource_types) == (
        "web_course",
        ["在线课程", "InteractiveResource"],
    )
    assert resource.coverage == ["中国", "2023年春季学期"]  # spatial, temporal


def test_unknown_dcmi_terms_are_ignored(dcterms: Read) -> None:
    resource, _ = dcterms
    assert "算法设计与分析. 2019" not in resource.model_dump_json()


# --- one quirk each -------------------------------------------------------------------


def test_oai_dc_reader_reads_only_the_fifteen_elements() -> None:
    # The same collector, a smaller table: refinements are qualified DC's business.
    element = etree.fromstring(fixture("dc/qdc_dcterms_schemes.xml"))
    resource, _ = read_oai_dc(element)
    assert resource.description == {}  # only abstract and tableOfContents
    assert resource.education_level is None
    assert resource.course_code == "080012"  # dcterms:identifier is one of the 15


def test_paid_access_means_cost() -> None:
    resource, _ = read("<dcterms:accessRights>Available for purchase</dcterms:accessRights>")
    assert resource.cost is True


def test_audience_that_is_no_level_is_kept_unreported() -> None:
    resource, issues = read("<dcterms:audience>Teacher</dcterms:audience>")
    assert (resource.education_level, resource.audiences) == (None, ["Teacher"])
    assert issues == []


def test_modified_only_leaves_created_to_the_other_dates() -> None:
    resource, _ = read(
        "<dcterms:modified>2024-01-02</dcterms:modified><dc:date>2020-05-06</dc:date>"
        "<dcterms:issued>2019-01</dcterms:issued>"
    )
    assert (resource.created, resource.modified) == ("2019-01", "2024-01-02")
    assert resource.dates == ["2020-05-06"]


def test_imt_scheme_lower_cases_an_unusual_mime_type() -> None:
    resource, _ = read('<dc:format xsi:type="dcterms:IMT">Model/X3D+VRML</dc:format>')
    assert resource.formats == ["model/x3d+vrml"]


def test_every_refinement_has_a_term() -> None:
    names = {term.name for term in QDC_TERMS.values() if term.prefix == "dcterms"}
    assert names >= REFINEMENTS
    assert {"educationLevel", "abstract", "isPartOf", "extent", "license"} <= REFINEMENTS

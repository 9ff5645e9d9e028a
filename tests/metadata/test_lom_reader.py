"""Reading IEEE LOM into the profile: own fixtures per quirk, the shared samples, the demo.

Own fixtures live in ``tests/fixtures/lom/``; the third-party records are read in place
from the shared samples (``COURSEFED_SAMPLES_DIR``) and skipped, saying why, without them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from app.demo.corpus import DISCIPLINE_CATEGORIES as DEMO_CATEGORIES
from app.demo.corpus import DISCIPLINES as DEMO_DISCIPLINES
from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.xml import render_lom
from metadata.mappings import resource_type
from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    Issue,
    License,
    Relation,
    Subject,
)
from metadata.readers.lom import find_lom, read_lom
from metadata.validate import has_errors, validate
from metadata.vcard import format_vcard, parse_vcard
from tests.fixtures.samples import fixture, sample, sample_params

Read = tuple[CourseResource, list[Issue]]
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data, PARSER)


def read_fixture(name: str) -> Read:
    return read_lom(parse(fixture(f"lom/{name}")))


def read_xml(body: str, root: str = '<lom xmlns="http://ltsc.ieee.org/xsd/LOM">') -> Read:
    return read_lom(parse(f"{root}{body}</lom>".encode()))


def codes(issues: list[Issue]) -> list[tuple[str, str | None]]:
    return [(issue.code, issue.path) for issue in issues]


# --- IEEE binding, Chinese course (tests/fixtures/lom/ieee_chinese_course.xml) ----------


@pytest.fixture(scope="module")
def chinese() -> Read:
    return read_fixture("ieee_chinese_course.xml")


def test_oai_metadata_wrapper_is_unwrapped_and_zh_cn_is_zh(chinese: Read) -> None:
    resource, issues = chinese
    assert resource.title == {"zh": "Python程序设计", "en": "Python Programming"}
    assert resource.languages == ["zh"]  # zh-CN and 中文 are one language
    assert issues == []


def test_double_escaped_html_description_keeps_its_paragraphs(chinese: Read) -> None:
    resource, _ = chinese
    assert resource.description == {
        "zh": "本课程面向高职学生，介绍Python基础语法。\n\n共 64 学时，4 学分。",
        "en": "An introduction to Python for higher vocational students.",
    }


def test_keywords_split_on_full_width_semicolon_and_include_classification_keywords(
    chinese: Read,
) -> None:
    resource, _ = chinese
    assert resource.keywords == ["Python", "程序设计", "编程", "软件开发"]
    assert resource.coverage == ["中国"]


def test_course_code_under_a_chinese_catalog_is_not_an_identifier(chinese: Read) -> None:
    resource, _ = chinese
    assert resource.course_code == "CS2031"
    assert resource.identifiers == ["https://mooc.szpt.example.cn/course/10086"]


def test_discipline_taxons_get_missing_english_labels_from_the_catalogue(chinese: Read) -> None:
    resource, _ = chinese
    assert resource.subjects == [
        Subject(code="08", scheme="学科专业目录", label={"zh": "工学", "en": "Engineering"}),
        Subject(
            code="0812",
            scheme="学科专业目录",
            label={"zh": "计算机科学与技术", "en": "Computer Science and Technology"},
        ),
        Subject(label={"zh": "高中数学"}),  # purpose prerequisite: a free subject
    ]


def test_level_classification_beats_the_lom_context_crosswalk(chinese: Read) -> None:
    resource, _ = chinese
    # "higher education" alone would say undergraduate; the classification says 高职.
    assert resource.education_level == "higher_vocational"
    assert resource.audiences == ["learner", "higher education", "18-22"]


def test_celts_41_type_beats_the_first_lom_type(chinese: Read) -> None:
    resource, _ = chinese
    assert resource.resource_types == ["lecture", "网络课程"]
    assert resource.resource_type == "web_course"  # not "courseware" from "lecture"


def test_learning_time_and_class_hours_from_its_description(chinese: Read) -> None:
    resource, _ = chinese
    assert (resource.learning_time, resource.class_hours, resource.credits) == ("PT64H", 64, None)


def test_people_roles_and_institution(chinese: Read) -> None:
    resource, _ = chinese
    assert resource.contributors == [
        Contributor(
            name="李明",
            role="author",
            organization="深圳职业技术学院, 计算机工程学院",
            email="liming@szpt.example.cn",
        ),
        Contributor(name="王芳", role="author", organization="深圳职业技术学院"),  # from N
        Contributor(name="深圳职业技术学院", role="publisher", organization="深圳职业技术学院"),
        Contributor(name="李明", role="instructor"),  # 主讲教师
    ]
    assert resource.institution == "深圳职业技术学院"


def test_created_is_the_earliest_author_or_publisher_date(chinese: Read) -> None:
    resource, _ = chinese
    assert resource.created == "2021-09-01"
    assert resource.dates == ["2021-09-15"]  # 2021年9月15日, normalised
    assert resource.modified == "2023-03-01T10:00:00.0+08:00"  # 3.2: nothing else gives it


def test_landing_page_and_one_file_with_size_and_duration(chinese: Read) -> None:
    resource, _ = chinese
    assert resource.url == "https://mooc.szpt.example.cn/course/10086"
    assert resource.formats == ["text/html", "video/mp4"]
    assert resource.objects == [
        DigitalObjectRef(
            url="https://mooc.szpt.example.cn/files/10086/%E7%AC%AC1%E8%AE%B2.mp4",
            format="video/mp4",
            size=104857600,
            duration="PT45M",
            name="第1讲.mp4",
        )
    ]


def test_chinese_licence_statement_with_url_cost_and_relations(chinese: Read) -> None:
    resource, _ = chinese
    assert resource.license == License(
        spdx="CC-BY-NC-4.0",
        url="https://creativecommons.org/licenses/by-nc/4.0/",
        text="知识共享 署名-非商业性使用 4.0 国际许可协议（https://creativecommons.org/licenses/by-nc/4.0/）",
    )
    assert resource.cost is False
    assert resource.relations == [
        Relation(kind="ispartof", target="https://mooc.szpt.example.cn/program/software"),
        Relation(kind="requires", target="计算机应用基础"),  # no identifier: the description
    ]


def test_chinese_course_passes_validation(chinese: Read) -> None:
    resource, _ = chinese
    assert validate(resource) == []


# --- IMS binding (tests/fixtures/lom/ims_binding.xml) -------------------------------------


def test_ims_binding_reads_like_the_ieee_one() -> None:
    resource, issues = read_fixture("ims_binding.xml")
    assert issues == []
    assert resource == CourseResource(
        title={"en": "Data Structures", "zh": "数据结构"},
        description={"en": "Lists, trees and graphs."},
        keywords=["algorithms", "data structures"],
        subjects=[
            Subject(
                code="a3c9b9e8",
                scheme="http://purl.edustandaard.nl/begrippenkader",
                label={"nl": "Informatica"},
            )
        ],
        languages=["en"],
        education_level="undergraduate",  # second <educational>: higher education
        audiences=["learner", "18-", "higher education"],
        resource_type="text",
        resource_types=["narrative text"],
        course_code="CS201",
        learning_time="PT30H",
        institution="Open University of Example",
        contributors=[
            Contributor(
                name="Open University of Example",
                role="publisher",
                organization="Open University of Example",
            ),
            Contributor(name="Wei Zhang", role="author"),  # vCard 2.1, N only
        ],
        license=License(
            spdx="CC-BY-SA-3.0",
            url="http://creativecommons.org/licenses/by-sa/3.0/nl/",
            text="http://creativecommons.org/licenses/by-sa/3.0/nl/",
        ),
        cost=True,
        created="2018-12-01",
        dates=["2019-02-20"],
        formats=["application/pdf"],
        # One PDF and no web page: the location is the file, size and duration go with it.
        objects=[
            DigitalObjectRef(
                url="https://open.example.edu.cn/files/ds-syllabus.pdf",
                format="application/pdf",
                size=2048,
                duration="PT0H10M",
                name="ds-syllabus.pdf",
            )
        ],
        identifiers=["https://open.example.edu.cn/course/ds"],
        url="https://open.example.edu.cn/course/ds",  # from 1.1: technical has no web page
        relations=[
            Relation(kind="haspart", target="https://open.example.edu.cn/course/ds/exercises")
        ],
    )


# --- vCards (tests/fixtures/lom/vcard_quirks.xml and unit cases) -------------------------


def test_vcard_quirks_fixture_gives_one_contributor_per_usable_vcard() -> None:
    resource, issues = read_fixture("vcard_quirks.xml")
    assert resource.contributors == [
        Contributor(
            name="Marie Dupont",
            role="author",
            organization="Université Laval, Faculté des sciences et de génie",
        ),
        Contributor(name="Antoine Toma", role="author", email="toma@example.fr"),
        Contributor(name="王伟", role="author"),
        Contributor(name="张三", role="editor"),
        Contributor(name="Li Wei", role="graphical designer"),
        Contributor(name="陈静", role="content provider"),
        Contributor(name="Li Na", role="author", email="li.na@example.edu.cn"),
        Contributor(name="Réseau REPTIC", role="publisher", organization="Réseau REPTIC"),
        Contributor(name="Zhao Lei", role="contributor", organization="Dept. A; B"),
    ]
    assert resource.institution == "Réseau REPTIC"
    assert codes(issues) == [("invalid_vcard", "lom/lifeCycle/contribute[7]/entity[1]")]


@pytest.mark.parametrize(
    ("text", "name", "organization", "email"),
    [
        pytest.param(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\r\nN:Raymond;Johanne\r\nORG:Coll\\, A\r\nEND:VCARD",
            "Johanne Raymond",
            "Coll, A",
            None,
            id="crlf-empty-fn-escaped-comma",
        ),
        pytest.param(
            "BEGIN:VCARD\nFN:Chen\n  Jing\nORG:Very long organisation na\n me\nEND:VCARD",
            "Chen Jing",
            "Very long organisation name",
            None,
            id="folded-lines",
        ),
        pytest.param(
            "BEGIN:VCARD\nVERSION:2.1\nFN;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:=E7=8E=8B=\n=E4=BC=9F\nEND:VCARD",
            "王伟",
            None,
            None,
            id="v2.1-quoted-printable-soft-break",
        ),
        pytest.param(
            "BEGIN:VCARD\nVERSION:2.1\nN;CHARSET=GBK;QUOTED-PRINTABLE:=D5=C5;=C8=FD\nEND:VCARD",
            "张三",
            None,
            None,
            id="v2.1-gbk-structured-name",
        ),
        pytest.param(
            "BEGIN:VCARD\nFN:Antoine Toma;Antoine\nEND:VCARD",
            "Antoine Toma",
            None,
            None,
            id="unescaped-semicolon-in-fn",
        ),
        pytest.param(
            "BEGIN:VCARD\nFN:\nN:;;;;\nORG:DECclic\nEMAIL;TYPE=INTERNET:http\\://x.example/c\nEND:VCARD",
            "DECclic",
            "DECclic",
            None,
            id="organisation-only-and-url-as-email",
        ),
        pytest.param(
            "begin:vcard\nfn:Li Na\nitem1.EMAIL;type=INTERNET:MAILTO:li.na@example.cn\nend:vcard",
            "Li Na",
            None,
            "li.na@example.cn",
            id="lower-case-and-group",
        ),
        pytest.param("  周杰  \n", "周杰", None, None, id="bare-name"),
        pytest.param("BEGIN:WRONGTAG\nEX:Example\nEND:VCARD", None, None, None, id="no-name"),
    ],
)
def test_vcard_quirk(
    text: str, name: str | None, organization: str | None, email: str | None
) -> None:
    card = parse_vcard(text)
    assert (card.name, card.organization, card.email) == (name, organization, email)


def test_written_vcard_escapes_and_folds_and_reads_back() -> None:
    name = "王伟, PhD; \\ 计算机科学与技术学院教授兼人工智能研究院副院长（2019—2024年）"
    organization = "深圳职业技术学院; 计算机工程学院, 软件技术专业教研室" * 2
    text = format_vcard(name, organization, "wang.wei@example.edu.cn")
    assert all(len(line.encode()) <= 75 for line in text.split("\n"))
    assert "FN:王伟\\, PhD\\; \\\\" in text
    card = parse_vcard(text)
    assert (card.name, card.organization, card.email) == (
        name,
        organization,
        "wang.wei@example.edu.cn",
    )


# --- unknown values, extensions, namespaces ------------------------------------------------


def test_unknown_vocabulary_values_are_kept_and_reported() -> None:
    resource, issues = read_fixture("unknown_vocabulary.xml")
    assert resource.resource_types == ["虚拟仿真实训", "simulation"]
    assert resource.resource_type == "courseware"  # the first value that maps
    assert resource.audiences == ["研修班"]
    assert resource.education_level is None
    assert resource.languages == ["zh", "Klingon"]
    assert (resource.learning_time, resource.cost) == (None, None)
    assert resource.objects == [
        DigitalObjectRef(
            url="https://vr.example.cn/packages/lathe.zip",
            format="application/zip",
            name="lathe.zip",
        )
    ]
    assert codes(issues) == [
        ("unknown_language", "lom/general/language[2]"),
        ("invalid_size", "lom/technical/size[1]"),
        ("unmapped_vocabulary", "lom/educational/learningResourceType[1]"),
        ("unmapped_vocabulary", "lom/educational/context[1]"),
        ("invalid_duration", "lom/educational/typicalLearningTime/duration[1]"),
        ("unknown_cost", "lom/rights/cost[1]"),
    ]
    assert {issue.severity for issue in issues} == {"warning"}
    assert not has_errors(issues)


def test_national_extension_elements_are_ignored_but_class_hours_and_credits_read() -> None:
    resource, issues = read_fixture("national_extensions.xml")
    assert issues == []
    assert resource.title == {"zh": "电工电子技术"}  # not gd:title, not gd:note
    assert resource.description == {}  # not gd:description
    assert resource.license is None  # rights/gd:description is no 6.3
    assert resource.resource_types == ["lecture"]
    assert resource.subjects == [
        Subject(
            code="0808",
            scheme="学科专业目录",
            label={"zh": "电气工程", "en": "Electrical Engineering"},
        )
    ]
    assert (resource.class_hours, resource.credits) == (48, 3)


def test_lom_without_namespace_inside_an_oai_record() -> None:
    resource, issues = read_fixture("no_namespace_record.xml")
    assert issues == []
    assert resource.title == {"zh": "高等数学"}
    assert resource.keywords == ["微积分"]
    assert resource.institution == "某某大学"
    assert resource.education_level == "undergraduate"


def test_lom_under_another_namespace_with_bare_values() -> None:
    resource, issues = read_fixture("other_namespace.xml")
    assert issues == []
    assert resource.title == {"en": "Engineering Drawing"}
    assert resource.languages == ["en"]  # eng
    assert resource.contributors == [Contributor(name="Liu Yang", role="author")]
    assert resource.created == "2020-03-04"
    assert (resource.resource_types, resource.resource_type) == (["slide"], "courseware")
    assert resource.learning_time == "PT2H"


def test_not_lom_gives_an_empty_record_and_a_warning() -> None:
    element = parse(b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"/>')
    assert find_lom(element) is None
    resource, issues = read_lom(element)
    assert resource == CourseResource()
    assert codes(issues) == [("no_lom", None)]


def test_empty_lom_and_empty_elements_do_not_fail() -> None:
    resource, issues = read_xml(
        "<general><title/><keyword><string/></keyword><language/></general>"
        "<lifeCycle><contribute><role/><entity/><date/></contribute></lifeCycle>"
        "<technical><size/><duration/></technical>"
        "<educational><typicalLearningTime/><context/></educational>"
        "<rights><cost/><description/></rights><relation><resource/></relation>"
        "<classification><taxonPath><taxon><id/><entry/></taxon></taxonPath></classification>"
    )
    assert resource == CourseResource()
    assert codes(issues) == [("invalid_vcard", "lom/lifeCycle/contribute/entity[1]")]


def test_a_second_title_in_the_same_language_is_kept_when_its_script_differs() -> None:
    resource, _ = read_xml(
        '<general><title><string language="en">Data Structures</string>'
        '<string language="en">数据结构</string>'
        '<string language="en">Data Structures (2nd ed.)</string></title></general>'
    )
    assert resource.title == {"en": "Data Structures", "zh": "数据结构"}


def test_rights_description_recognised_in_french_cc_form() -> None:
    resource, _ = read_xml(
        "<rights><description><string language='fr'>Paternité - Pas d'Utilisation Commerciale"
        " - Pas de Modification 3.0 Unported (CC BY-NC-ND 3.0)</string></description></rights>"
    )
    assert resource.license is not None
    assert (resource.license.spdx, resource.license.url) == ("CC-BY-NC-ND-3.0", None)


# --- the shared samples ----------------------------------------------------------------------


LOM_SAMPLES = [
    *sample_params("lom-quebec-lom2mlr/*.xml"),
    *sample_params("lom-imsmd-kennisnet-pylom/*.xml"),
]


@pytest.mark.parametrize("path", LOM_SAMPLES)
def test_every_lom_sample_normalises(path: Path) -> None:
    resource, issues = read_lom(parse(path.read_bytes()))
    assert resource.title, "every sample has a title"
    assert all(issue.path and issue.path.startswith("lom/") for issue in issues)
    # The one error: canal-u's rtmp:// stream is no http(s) URL and is dropped.
    assert all(i.severity == "warning" or i.code == "url_not_http" for i in issues)


@pytest.mark.parametrize("path", sample_params("lom-vocabularies-licef-comete/*.rdf"))
def test_lom_vocabulary_files_are_not_records(path: Path) -> None:
    """SOURCES.md: SKOS vocabularies, no LOM record (test_lom_writer checks our values)."""
    resource, issues = read_lom(parse(path.read_bytes()))
    assert (resource, codes(issues)) == (CourseResource(), [("no_lom", None)])


def test_canal_u_record_lom_fr() -> None:
    """LOM-FR (canal-u.fr): lomfr:documentType, a C1 en dash, vCards, an rtmp stream, its page."""
    resource, issues = read_lom(parse(sample("lom-quebec-lom2mlr/canal-u.fr-67.lom.xml")))
    assert resource.title == {"fr": "01 – Illettrisme et scolarité"}  # &#x96; → en dash
    assert resource.languages == ["fr"]  # FRE
    assert resource.identifiers == ["670"]
    assert resource.keywords == ["formation continue", "histoire de vie", "éducation permanente"]
    assert resource.subjects == [  # the empty taxon of the first classification is skipped
        Subject(
            code="374", scheme="http://www.oclc.org/dewey/", label={"fr": "Formation des adultes"}
        )
    ]
    assert resource.contributors == [
        Contributor(name="Jean-Louis LE GRAND", role="author"),
        Contributor(name="Gaston PINEAU", role="author"),
        Contributor(name="Université de Nantes", role="publisher"),
        Contributor(name="Université de Nantes", role="content provider"),
    ]
    assert resource.institution == "Université de Nantes"
    assert (resource.created, resource.dates) == ("1990-07-03", [])
    assert resource.license == License(
        spdx="all-rights-reserved", text="Droits réservés à l'éditeur et aux auteurs"
    )
    assert resource.cost is False
    assert (
        resource.url
        == "http://www.canal-u.tv/video/profession_formateur/01_illettrisme_et_scolarite.670"
    )
    # The file is an rtmp:// stream: no http(s) URL, so it is dropped with an error.
    assert resource.objects == []
    assert (resource.resource_types, resource.resource_type) == (["lecture"], "courseware")
    assert resource.relations == [
        Relation(
            kind="ispartof",
            target="http://www.canal-u.tv/producteurs/profession_formateur/histoires_de_vie_en_formation/n_04_pratiques_de_terrain",
        )
    ]
    assert codes(issues) == [("url_not_http", "lom/technical/location[2]")]


def test_eureka_record_normetic_vocabularies_and_cc_licence() -> None:
    """NORMETIC (Eurêka): local vocabularies, empty FN, CR line ends, several taxon paths."""
    resource, issues = read_lom(parse(sample("lom-quebec-lom2mlr/4f708a4965ba09.14975134.lom.xml")))
    assert resource.title == {"fr": "BigBlueButton"}
    assert resource.contributors[0] == Contributor(
        name="Isabelle Delisle", role="author", organization="Cégep de Lévis-Lauzon"
    )
    assert resource.license is not None
    assert resource.license.spdx == "CC-BY-SA-3.0"
    assert resource.audiences[:3] == ["cegep", "universite premier cycle", "formation continue"]
    assert resource.education_level == "undergraduate"  # universite premier cycle
    assert resource.modified == "2012-03-05T11:07:10.0-05:00"  # 3.2 contribute date
    assert resource.url == "http://adte.ca/logilibre/bigbluebutton/"
    assert ("unmapped_vocabulary", "lom/educational/context[1]") in codes(issues)  # cegep


def test_ims_complete_record_kennisnet() -> None:
    """IMS binding (Edurep/NL-LOM test record): every element filled in."""
    resource, issues = read_lom(parse(sample("lom-imsmd-kennisnet-pylom/ims-complete.xml")))
    assert resource.title == {"en": "Bloodbath of B-R5RB"}
    assert resource.languages == ["en"]
    assert resource.keywords == ["Eve Online", "Halloween War"]
    assert resource.coverage == ["YC 116"]
    assert resource.subjects == [
        Subject(
            code=f"Category:{code}",
            scheme="https://en.wikipedia.org/wiki/Category:Articles",
            label={"en": label},
        )
        for code, label in (
            ("Games", "Games"),
            ("Space_MMORPGs", "Space MMORPGs"),
            ("Eve_Online", "Eve Online"),
        )
    ]
    assert resource.contributors == [
        Contributor(name="Wikipedia", role="publisher", organization="Wikipedia"),
        Contributor(name="3family6", role="author"),
    ]
    assert (resource.created, resource.dates) == ("2014-02-02T15:30:00Z", ["2017-06-08T03:16:00Z"])
    assert resource.license == License(text="Creative Commons Attribution-ShareAlike License")
    assert resource.url == "https://en.wikipedia.org/wiki/Bloodbath_of_B-R5RB"
    assert resource.objects == []  # the only location is the article page itself
    assert resource.learning_time == "PT0H30M"
    assert (resource.resource_type, resource.education_level) == ("text", "undergraduate")
    assert resource.audiences == ["learner", "school", "16-60", "higher education"]
    assert [r.kind for r in resource.relations] == [
        "references",
        "references",
        "isreferencedby",
        "hasformat",
    ]
    assert codes(issues) == [("unmapped_vocabulary", "lom/educational[1]/context[1]")]  # school


def test_ims_incomplete_record_skips_a_broken_vcard() -> None:
    resource, issues = read_lom(parse(sample("lom-imsmd-kennisnet-pylom/ims-incomplete.xml")))
    assert resource.keywords == ["keyword 1"]  # the empty keyword is dropped
    assert resource.contributors == [Contributor(name="Correct Vcard", role="publisher")]
    assert codes(issues) == [("invalid_vcard", "lom/lifecycle/contribute/centity[1]")]


# --- the demo repository's LOM (what our own harvester reads in the demo) ---------------------


@pytest.mark.parametrize("record", generate_corpus(8), ids=lambda r: r.local_id)
def test_demo_repository_lom_reads_back_its_record(record: DemoRecord) -> None:
    resource, issues = read_lom(render_lom(record))
    assert issues == []
    assert resource.title == {record.language: record.title}
    assert resource.course_code == record.course_code
    assert resource.url == record.url
    assert resource.education_level == record.level
    assert resource.resource_type == resource_type(record.resource_type)
    assert resource.learning_time == record.learning_time
    assert resource.institution == record.institution
    code = record.subject_code
    assert [(s.code, s.scheme, s.label) for s in resource.subjects] == [
        (code[:2], "学科专业目录", dict(zip(("zh", "en"), DEMO_CATEGORIES[code[:2]], strict=True))),
        (code, "学科专业目录", dict(zip(("zh", "en"), DEMO_DISCIPLINES[code], strict=True))),
    ]
    assert resource.objects[0].url == record.object_url
    assert resource.objects[0].size == record.object_size

"""Writing oai_dc and schema.org JSON-LD: valid output, and oai_dc that reads back."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from lxml import etree

from app.demo.corpus import DemoRecord, generate_corpus
from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    License,
    Relation,
    Subject,
)
from metadata.readers import recognise_license
from metadata.readers.oai_dc import (
    DC_ELEMENTS,
    DC_NS,
    OAI_DC_NS,
    catalogue_labels,
    catalogue_of,
    course_code_of,
    discipline_code,
    file_extension,
    read_oai_dc,
    type_of,
)
from metadata.vocabularies import DISCIPLINE_CATALOGUE, EDUCATION_LEVELS
from metadata.writers.jsonld import write_jsonld
from metadata.writers.oai_dc import OAI_DC_SCHEMA, SCHEMA_LOCATION, write_oai_dc
from metadata.xmlutil import XML_LANG
from tests.fixtures.samples import FIXTURES, fixture
from tests.properties import examples

SEPARATORS = frozenset(";；、，")  # readers split names and subject lists on these


@cache
def oai_dc_schema() -> etree.XMLSchema:
    """Our offline stand-in for oai_dc.xsd (tests/fixtures/dc/schema/)."""
    return etree.XMLSchema(etree.parse(str(FIXTURES / "dc" / "schema" / "oai_dc.xsd")))


def assert_valid_oai_dc(element: etree._Element) -> None:
    schema = oai_dc_schema()
    assert schema.validate(element), schema.error_log
    assert element.tag == f"{{{OAI_DC_NS}}}dc"
    assert element.nsmap["oai_dc"] == OAI_DC_NS and element.nsmap["dc"] == DC_NS
    assert element.get(SCHEMA_LOCATION) == f"{OAI_DC_NS} {OAI_DC_SCHEMA}"
    for child in element:
        assert etree.QName(child).namespace == DC_NS
        assert etree.QName(child).localname in DC_ELEMENTS
        assert child.text and child.text == child.text.strip()


# --- records to write ---------------------------------------------------------------------

BILINGUAL = CourseResource(
    title={"zh": "数据结构与算法", "en": "Data Structures and Algorithms"},
    description={
        "zh": "本课程介绍线性表、树和图。\n\n共 64 学时。",
        "en": "An introduction to lists, trees and graphs.",
    },
    keywords=["数据结构", "算法"],
    subjects=[
        Subject(
            code="0812",
            scheme=DISCIPLINE_CATALOGUE,
            label={"zh": "计算机科学与技术", "en": "Computer Science and Technology"},
        ),
        Subject(label={"zh": "数据结构"}),
    ],
    languages=["zh", "en"],
    education_level="undergraduate",
    audiences=["本科教育"],
    resource_type="web_course",
    resource_types=["网络课程"],
    course_code="CS201",
    learning_time="PT64H",
    class_hours=64,
    credits=4,
    institution="示例大学",
    contributors=[
        Contributor(name="王伟", role="author", email="wang@example.edu.cn"),
        Contributor(name="Emily Carter", role="instructor", organization="示例大学"),
        Contributor(name="示例大学", role="publisher"),
    ],
    license=License(
        spdx="CC-BY-NC-SA-4.0",
        url="https://creativecommons.org/licenses/by-nc-sa/4.0/",
        text="知识共享 署名-非商业性使用-相同方式共享 4.0 国际许可协议",
    ),
    cost=False,
    created="2020-03",
    modified="2023-09-01",
    dates=["2021-09-01"],
    formats=["text/html"],
    objects=[
        DigitalObjectRef(
            url="https://courses.example.edu/files/ds/week1.mp4",
            format="video/mp4",
            size=123456789,
            duration="PT45M",
            name="week1.mp4",
        )
    ],
    identifiers=["https://courses.example.edu/course/ds", "urn:example:ds"],
    url="https://courses.example.edu/course/ds",
    relations=[
        Relation(kind="ispartof", target="https://courses.example.edu/programme/cs"),
        Relation(target="https://courses.example.edu/course/ds100"),
    ],
    sources=["示例大学精品课程"],
    coverage=["中国"],
)

ENGLISH_DOCUMENT = CourseResource(
    title={"en": "Lecture notes on thermodynamics"},
    languages=["en"],
    resource_type="document",
    contributors=[Contributor(name="Doe, Jane", role="author")],
    license=License(spdx="CC-BY-4.0", text="CC BY 4.0"),
    identifiers=["https://repo.example.org/item/7", "https://repo.example.org/item/7/notes.pdf"],
    url="https://repo.example.org/item/7",
    objects=[
        DigitalObjectRef(url="https://repo.example.org/item/7/notes.pdf", format="application/pdf")
    ],
)

HAND_WRITTEN = {"bilingual web course": BILINGUAL, "english document": ENGLISH_DOCUMENT}


def demo_resource(demo: DemoRecord) -> CourseResource:
    """A profile record made straight from a generated demo course (not read from XML)."""
    licence_url = demo.license if demo.license.startswith("https://") else None
    level_label = EDUCATION_LEVELS[demo.level][0 if demo.language == "zh" else 1]
    return CourseResource(
        title={demo.language: demo.title},
        description={demo.language: demo.description},
        keywords=list(demo.keywords),
        subjects=[
            Subject(
                code=demo.subject_code,
                scheme=DISCIPLINE_CATALOGUE,
                label=catalogue_labels(demo.subject_code),
            )
        ],
        languages=[demo.language],
        education_level=demo.level,
        audiences=[level_label],
        resource_type=type_of(demo.resource_type),
        resource_types=[demo.resource_type],
        course_code=demo.course_code,
        learning_time=demo.learning_time,
        institution=demo.institution,
        contributors=[
            *(Contributor(name=name, role="author") for name in demo.creators),
            *(Contributor(name=name, role="instructional designer") for name in demo.contributors),
            Contributor(name=demo.institution, role="publisher"),
        ],
        license=License(spdx=recognise_license(demo.license), url=licence_url, text=demo.license),
        created=demo.datestamp.date().isoformat(),
        identifiers=[demo.url, demo.object_url],
        url=demo.url,
        objects=[DigitalObjectRef(url=demo.object_url, format=demo.object_format)],
    )


DEMO = [demo_resource(demo) for demo in generate_corpus(150)]


# --- round trips ---------------------------------------------------------------------------


def dc_role(role: str) -> str:
    return role if role in {"author", "publisher"} else "contributor"


def national_codes(resource: CourseResource) -> set[str]:
    """Codes of the national catalogues, in their own scheme: what oai_dc can carry."""
    return {
        s.code
        for s in resource.subjects
        if s.code
        and discipline_code(s.code) == (s.code, "")
        and s.scheme in {None, catalogue_of(s.code)}
    }


def assert_read_back(original: CourseResource, back: CourseResource) -> None:
    """What oai_dc carries comes back; see metadata.writers.oai_dc for what it cannot."""
    assert back.title == original.title
    assert back.description == original.description
    assert back.languages == original.languages
    assert national_codes(original) <= {s.code for s in back.subjects}
    expected = {(c.name, dc_role(c.role)) for c in original.contributors}
    if original.institution:
        expected.add((original.institution, "publisher"))
    assert {(c.name, c.role) for c in back.contributors} == expected
    if original.license is None:
        assert back.license is None
    else:
        assert back.license is not None
        assert back.license.text == original.license.text
        assert back.license.url == original.license.url
        # The SPDX id is not written: it is recognised again from the statement or URL.
        recognised = recognise_license(original.license.text)
        if recognised is None and original.license.url:
            recognised = recognise_license(original.license.url)
        assert back.license.spdx == recognised
    written = {*original.identifiers, *(o.url for o in original.objects)}
    if original.url:
        written.add(original.url)
    if original.course_code:  # one that does not look like a code stays an identifier
        written.add(f"course code: {original.course_code}")
    assert set(original.identifiers) <= set(back.identifiers) <= written
    if original.url and file_extension(original.url) is None:
        assert back.url == original.url


def assert_course_fields_read_back(original: CourseResource, back: CourseResource) -> None:
    """The profile's course fields simple DC carries by our conventions."""
    assert back.resource_type == original.resource_type
    assert back.education_level == original.education_level
    assert back.course_code == original.course_code
    assert back.learning_time == original.learning_time
    assert back.class_hours == original.class_hours
    assert back.created == original.created
    assert [(o.url, o.format) for o in back.objects] == [
        (o.url, o.format) for o in original.objects
    ]
    assert back.url == original.url


@pytest.mark.parametrize("name", sorted(HAND_WRITTEN))
def test_hand_written_records_read_back(name: str) -> None:
    original = HAND_WRITTEN[name]
    element = write_oai_dc(original)
    assert_valid_oai_dc(element)
    back, issues = read_oai_dc(element)
    assert issues == []
    assert_read_back(original, back)
    assert_course_fields_read_back(original, back)


def test_generated_demo_records_read_back() -> None:
    for original in DEMO:
        element = write_oai_dc(original)
        assert_valid_oai_dc(element)
        back, _ = read_oai_dc(element)
        assert_read_back(original, back)
        assert_course_fields_read_back(original, back)
        assert {s.code for s in back.subjects if s.code} == national_codes(original)


def test_what_simple_dc_cannot_carry_is_flattened() -> None:
    back, _ = read_oai_dc(write_oai_dc(BILINGUAL))
    assert back.relations == [
        Relation(target="https://courses.example.edu/programme/cs"),  # the kind is lost
        Relation(target="https://courses.example.edu/course/ds100"),
    ]
    assert Contributor(name="Emily Carter", role="contributor") in back.contributors
    assert back.credits is None
    assert back.cost is None


def test_the_oai_dc_elements_as_written() -> None:
    element = write_oai_dc(BILINGUAL)

    def values(name: str) -> list[tuple[str | None, str | None]]:
        return [(e.get(XML_LANG), e.text) for e in element.iterfind(f"{{{DC_NS}}}{name}")]

    assert values("title") == [("zh", "数据结构与算法"), ("en", "Data Structures and Algorithms")]
    assert values("description")[:2] == [  # one paragraph each
        ("zh", "本课程介绍线性表、树和图。"),
        ("zh", "共 64 学时。"),
    ]
    assert values("subject")[:2] == [
        ("zh", "0812 计算机科学与技术"),
        ("en", "0812 Computer Science and Technology"),
    ]
    assert values("creator") == [(None, "王伟")]
    assert values("publisher") == [(None, "示例大学")]
    assert values("contributor") == [(None, "Emily Carter")]
    assert values("type") == [(None, "网络课程")]  # the raw value maps: no label needed
    assert values("rights") == [
        (None, "知识共享 署名-非商业性使用-相同方式共享 4.0 国际许可协议"),
        (None, "https://creativecommons.org/licenses/by-nc-sa/4.0/"),
    ]
    assert values("identifier") == [
        (None, "https://courses.example.edu/course/ds"),
        (None, "urn:example:ds"),
        (None, "https://courses.example.edu/files/ds/week1.mp4"),
        (None, "course code: CS201"),
    ]
    assert values("format") == [(None, "text/html"), (None, "video/mp4"), (None, "PT64H"),
                                (None, "64学时")]  # fmt: skip
    assert values("date") == [(None, "2020-03"), (None, "2023-09-01"), (None, "2021-09-01")]
    assert values("coverage") == [(None, "中国"), (None, "本科教育")]
    assert values("language") == [(None, "zh"), (None, "en")]


def test_type_and_level_labels_are_written_when_no_raw_value_maps() -> None:
    record = CourseResource(
        title={"en": "T"},
        resource_type="video",
        resource_types=["Lecture capture"],
        education_level="higher_vocational",
    )
    element = write_oai_dc(record)
    types = [e.text for e in element.iterfind(f"{{{DC_NS}}}type")]
    assert types == ["Video material", "Lecture capture"]  # the label first: it wins
    coverage = [e.text for e in element.iterfind(f"{{{DC_NS}}}coverage")]
    assert coverage == ["Higher vocational education"]
    back, _ = read_oai_dc(element)
    assert (back.resource_type, back.education_level) == ("video", "higher_vocational")


def test_undetermined_language_is_written_as_und() -> None:
    record = CourseResource(title={"und": "12345"}, description={"und": "x"})
    element = write_oai_dc(record)
    assert {e.get(XML_LANG) for e in element} == {"und"}
    back, _ = read_oai_dc(element)
    assert (back.title, back.description) == (record.title, record.description)


def test_subject_label_that_would_not_read_back_is_written_apart_from_its_code() -> None:
    record = CourseResource(
        subjects=[Subject(code="0812", scheme=DISCIPLINE_CATALOGUE, label={"en": "(CS)"})]
    )
    element = write_oai_dc(record)
    assert [e.text for e in element] == ["0812", "(CS)"]
    back, _ = read_oai_dc(element)
    assert back.subjects[0].code == "0812"


def test_characters_xml_cannot_carry_are_dropped() -> None:
    element = write_oai_dc(CourseResource(title={"en": "bell\x07 and\x00 nul"}))
    assert_valid_oai_dc(element)
    assert element[0].text == "bell and nul"


def test_empty_record_is_an_empty_valid_oai_dc() -> None:
    element = write_oai_dc(CourseResource())
    assert_valid_oai_dc(element)
    assert len(element) == 0


def test_our_schema_refuses_what_oai_dc_forbids() -> None:
    # The stand-in schema must be able to fail, or the tests above prove nothing.
    bad = etree.fromstring(
        f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" '
        'xmlns:dcterms="http://purl.org/dc/terms/">'
        "<dc:title>T</dc:title><dcterms:abstract>A</dcterms:abstract></oai_dc:dc>"
    )
    assert not oai_dc_schema().validate(bad)


def test_fixture_read_write_read_is_stable() -> None:
    first, _ = read_oai_dc(etree.fromstring(fixture("dc/course_files_and_levels.xml")))
    second, _ = read_oai_dc(write_oai_dc(first))
    assert_read_back(first, second)
    assert_course_fields_read_back(first, second)
    assert second.education_level == "higher_vocational"


# --- generated records (hypothesis strategies of the profile) ------------------------------


def _readable_by_dc(record: CourseResource) -> bool:
    """False for the records simple DC cannot carry exactly (see metadata.writers.oai_dc)."""
    names = [c.name for c in record.contributors] + [record.institution or ""]
    if any(SEPARATORS & set(name) for name in names):
        return False  # "A; B" reads back as two people
    for text in record.description.values():
        paragraphs = [p.casefold() for p in text.split("\n\n")]
        if any(a in b for i, a in enumerate(paragraphs) for b in paragraphs[:i]):
            return False  # a repeated paragraph is read as a repetition and dropped
    licence = record.license
    statement_is_url = licence is not None and licence.text.startswith(("http://", "https://"))
    if licence is not None and statement_is_url and " " not in licence.text:
        # A URL as the statement is the licence URL too; with another URL beside it,
        # the reader takes the one that names a licence.
        return licence.url == licence.text
    if any(course_code_of(i) is not None for i in record.identifiers):
        return False  # "course code: X" among identifiers reads back as the course code
    folded = [i.casefold() for i in record.identifiers]
    return len(set(folded)) == len(folded)


def test_generated_records_read_back() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("tests.metadata.strategies")

    @hypothesis.settings(max_examples=examples(100), deadline=None, database=None)
    @hypothesis.given(strategies.course_resources())
    def round_trip(original: CourseResource) -> None:
        hypothesis.assume(_readable_by_dc(original))
        element = write_oai_dc(original)
        assert_valid_oai_dc(element)
        back, issues = read_oai_dc(element)
        assert all(i.severity == "warning" for i in issues)
        assert_read_back(original, back)

    round_trip()


def test_any_record_writes_valid_oai_dc() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    strategies = pytest.importorskip("tests.metadata.strategies")

    @hypothesis.settings(max_examples=examples(100), deadline=None, database=None)
    @hypothesis.given(strategies.messy_course_resources())
    def valid(record: CourseResource) -> None:
        assert_valid_oai_dc(write_oai_dc(record))
        json.dumps(write_jsonld(record))

    valid()


# --- JSON-LD -------------------------------------------------------------------------------


def values_of(node: Any) -> list[Any]:
    """Every value in a JSON tree, depth first."""
    if isinstance(node, dict):
        return [node, *(v for value in node.values() for v in values_of(value))]
    if isinstance(node, list):
        return [node, *(v for value in node for v in values_of(value))]
    return [node]


def test_course_json_ld_is_valid_json_with_the_expected_keys() -> None:
    document = json.loads(json.dumps(write_jsonld(BILINGUAL), ensure_ascii=False))
    assert document["@context"] == "https://schema.org"
    assert document["@type"] == "Course"  # a Course is a LearningResource in schema.org
    assert set(document) >= {
        "name", "description", "inLanguage", "keywords", "about", "educationalLevel",
        "learningResourceType", "timeRequired", "numberOfCredits", "courseCode", "provider",
        "author", "contributor", "license", "isAccessibleForFree", "associatedMedia",
        "dateCreated", "dateModified", "identifier", "url", "isPartOf",
    }  # fmt: skip
    assert not any(v is None or v in ("", [], {}) for v in values_of(document))


def test_course_json_ld_values() -> None:
    document = write_jsonld(BILINGUAL)
    assert document["name"] == [
        {"@value": "数据结构与算法", "@language": "zh"},
        {"@value": "Data Structures and Algorithms", "@language": "en"},
    ]
    assert document["inLanguage"] == ["zh", "en"]
    assert document["about"] == [
        {
            "@type": "DefinedTerm",
            "name": [
                {"@value": "计算机科学与技术", "@language": "zh"},
                {"@value": "Computer Science and Technology", "@language": "en"},
            ],
            "termCode": "0812",
            "inDefinedTermSet": {"@type": "DefinedTermSet", "name": DISCIPLINE_CATALOGUE},
        }
    ]
    assert document["educationalLevel"]["termCode"] == "undergraduate"
    assert document["learningResourceType"]["termCode"] == "web_course"
    assert (document["timeRequired"], document["numberOfCredits"]) == ("PT64H", 4)
    assert document["courseCode"] == "CS201"
    assert document["provider"] == {"@type": "Organization", "name": "示例大学"}
    assert document["author"] == [
        {"@type": "Person", "name": "王伟", "email": "wang@example.edu.cn"}
    ]
    assert document["contributor"] == [
        {
            "@type": "Person",
            "name": "Emily Carter",
            "affiliation": {"@type": "Organization", "name": "示例大学"},
        }
    ]
    assert document["license"] == "https://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert document["isAccessibleForFree"] is True
    assert document["associatedMedia"] == [
        {
            "@type": "VideoObject",
            "contentUrl": "https://courses.example.edu/files/ds/week1.mp4",
            "encodingFormat": "video/mp4",
            "contentSize": "123456789 bytes",
            "duration": "PT45M",
            "name": "week1.mp4",
        }
    ]
    assert document["isPartOf"] == ["https://courses.example.edu/programme/cs"]
    assert document["url"] == document["@id"] == "https://courses.example.edu/course/ds"


def test_learning_resource_json_ld() -> None:
    document = write_jsonld(ENGLISH_DOCUMENT, url="https://catalogue.example/r/7")
    assert document["@type"] == "LearningResource"
    assert document["name"] == "Lecture notes on thermodynamics"  # one language: a string
    assert document["inLanguage"] == "en"
    assert document["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"  # no URL given
    assert (document["@id"], document["url"]) == ("https://catalogue.example/r/7",) * 2
    assert document["sameAs"] == "https://repo.example.org/item/7"
    assert "courseCode" not in document and "numberOfCredits" not in document
    assert document["associatedMedia"][0]["@type"] == "MediaObject"


def test_json_ld_of_unrecognised_licence_and_course_code_of_a_non_course() -> None:
    record = CourseResource(
        title={"zh": "讲义"},
        course_code="MATH 2031",
        license=License(text="版权所有，仅供学习使用"),
        languages=["zh", "Klingon"],
        audiences=["本科", "teacher"],
        education_level="undergraduate",
    )
    document = write_jsonld(record)
    assert document["license"] == {"@type": "CreativeWork", "name": "版权所有，仅供学习使用"}
    assert document["identifier"] == [
        {"@type": "PropertyValue", "propertyID": "courseCode", "value": "MATH 2031"}
    ]
    assert document["inLanguage"] == "zh"  # values that are no BCP 47 tag are left out
    assert document["audience"] == [{"@type": "Audience", "audienceType": "teacher"}]


def test_json_ld_of_an_empty_record() -> None:
    assert write_jsonld(CourseResource()) == {
        "@context": "https://schema.org",
        "@type": "LearningResource",
    }

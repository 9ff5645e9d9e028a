"""Writing the profile as IEEE LOM: the document's shape, its validity, our extensions.

Validity is checked against the IEEE LOM binding's loose composite schema, read in place
(``COURSEFED_LOM_XSD``, default ``../shared/standards/lom-xsd/lomLoose.xsd``); the tests
that need it skip, saying why, when it is absent.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from app.demo.corpus import generate_corpus
from app.demo.xml import render_lom
from metadata.mappings import resource_type
from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    License,
    Provenance,
    ResourceRecord,
    Subject,
)
from metadata.readers.lom import CF_NS, LOM_NS, read_lom
from metadata.writers.lom import (
    LOM_CONTEXTS,
    LOM_END_USER_ROLES,
    LOM_LEARNING_RESOURCE_TYPES,
    lom_bytes,
    write_lom,
)
from tests.fixtures.samples import FIXTURES, REPO_ROOT, sample, sample_params
from tests.metadata.strategies import course_resources, messy_course_resources
from tests.properties import examples

LOM_XSD = Path(
    os.environ.get(
        "COURSEFED_LOM_XSD", REPO_ROOT.parent / "shared" / "standards" / "lom-xsd" / "lomLoose.xsd"
    )
)
NS = {"lom": LOM_NS, "cf": CF_NS}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
OWN_FIXTURES = sorted((FIXTURES / "lom").glob("*.xml"))


@pytest.fixture(scope="module")
def lom_schema() -> etree.XMLSchema:
    if not LOM_XSD.is_file():
        pytest.skip(f"IEEE LOM schema not found at {LOM_XSD} (set COURSEFED_LOM_XSD)")
    # Read in place from its path, so that its relative xs:include/xs:import resolve.
    return etree.XMLSchema(file=str(LOM_XSD))


def assert_valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    assert schema.validate(element), "\n".join(str(e) for e in schema.error_log)


def texts(element: etree._Element, path: str) -> list[str]:
    found = element.xpath(path, namespaces=NS)
    assert isinstance(found, list)
    return [e.text or "" for e in found if isinstance(e, etree._Element)]


def read(element: etree._Element) -> CourseResource:
    return read_lom(etree.fromstring(etree.tostring(element), PARSER))[0]


def course() -> CourseResource:
    return read_lom(etree.fromstring((FIXTURES / "lom/ieee_chinese_course.xml").read_bytes()))[0]


# --- the document ------------------------------------------------------------------------


def test_root_is_ieee_lom_with_its_schema_location() -> None:
    root = write_lom(course())
    assert root.tag == f"{{{LOM_NS}}}lom"
    assert root.nsmap[None] == LOM_NS
    assert root.nsmap["cf"] == CF_NS
    location = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    assert location == f"{LOM_NS} http://ltsc.ieee.org/xsd/lomv1.0/lomLoose.xsd"
    assert [etree.QName(c).localname for c in root] == [
        "general", "lifeCycle", "metaMetadata", "technical", "educational", "rights",
        "relation", "relation", "classification", "classification", "classification",
    ]  # fmt: skip


def test_lom_bytes_is_a_utf8_document_with_readable_chinese() -> None:
    data = lom_bytes(course())
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "Python程序设计".encode() in data  # not &#...; escapes


def test_a_course_that_lom_can_carry_needs_no_override() -> None:
    """Landing page, file, institution, licence URL and SPDX id all follow from LOM."""
    root = write_lom(course())
    overrides = {"landingPage", "objects", "institution", "licenseUrl", "spdx", "learningTime"}
    assert {etree.QName(e).localname for e in root.iter(f"{{{CF_NS}}}*")} & overrides == set()
    assert texts(root, "lom:educational/cf:resourceType") == ["web_course"]
    assert texts(root, "lom:educational/cf:educationLevel") == ["higher_vocational"]
    assert texts(root, "lom:educational/cf:classHours") == ["64"]
    assert texts(root, "lom:lifeCycle/cf:modified") == ["2023-03-01T10:00:00.0+08:00"]
    assert texts(root, "lom:technical/lom:location") == [
        "https://mooc.szpt.example.cn/course/10086",
        "https://mooc.szpt.example.cn/files/10086/%E7%AC%AC1%E8%AE%B2.mp4",
    ]
    assert texts(root, "lom:technical/lom:size") == ["104857600"]


def test_classifications_name_the_discipline_catalogue_and_the_level() -> None:
    root = write_lom(course())
    discipline = "lom:classification[lom:purpose/lom:value='discipline']"
    assert texts(root, f"{discipline}/lom:purpose/lom:source") == ["LOMv1.0"]
    assert texts(root, f"{discipline}/lom:taxonPath/lom:source/lom:string") == [
        "学科专业目录", "Catalogue of Disciplines and Majors"
    ] * 2  # fmt: skip
    assert texts(root, f"{discipline}/lom:taxonPath/lom:taxon/lom:id") == ["08", "0812"]
    assert texts(root, f"{discipline}/lom:taxonPath/lom:taxon/lom:entry/lom:string") == [
        "工学", "Engineering", "计算机科学与技术", "Computer Science and Technology"
    ]  # fmt: skip
    level = "lom:classification[lom:purpose/lom:value='educational level']/lom:taxonPath"
    assert texts(root, f"{level}/lom:source/lom:string") == ["教育层次", "Education levels"]
    assert texts(root, f"{level}/lom:taxon/lom:id") == ["higher_vocational"]
    assert texts(root, f"{level}/lom:taxon/lom:entry/lom:string") == [
        "高等职业教育",
        "Higher vocational education",
    ]
    free = "lom:classification[lom:purpose/lom:value='idea']/lom:taxonPath/lom:taxon"
    assert texts(root, f"{free}/lom:entry/lom:string") == ["高中数学"]
    assert texts(root, f"{free}/lom:id") == []


def test_vocabulary_values_carry_their_source() -> None:
    resource = CourseResource(
        resource_types=["lecture", "网络课程", "tutoriel"],
        audiences=["18-22", "learner", "higher education", "本科"],
    )
    root = write_lom(resource)
    types = root.findall("lom:educational/lom:learningResourceType", NS)
    assert [
        (t.findtext("lom:source", None, NS), t.findtext("lom:value", None, NS)) for t in types
    ] == [
        ("LOMv1.0", "lecture"),
        ("CELTS-41", "网络课程"),
        (None, "tutoriel"),  # a local vocabulary whose name we were not told
    ]
    assert texts(root, "lom:educational/lom:typicalAgeRange/lom:string") == ["18-22"]
    assert texts(root, "lom:educational/lom:intendedEndUserRole/lom:value") == ["learner"]
    assert texts(root, "lom:educational/lom:context/lom:value") == ["higher education", "本科"]
    assert texts(root, "lom:educational/lom:context/lom:source") == ["LOMv1.0"]


def test_people_are_vcards_and_dates_sit_on_contributions() -> None:
    resource = CourseResource(
        contributors=[
            Contributor(name="李明", role="instructor", email="liming@example.cn"),
            Contributor(name="王, 伟", role="author", organization="A; B"),
            Contributor(name="某出版社", role="publisher"),
        ],
        created="2021-09-01",
        dates=["2022-03", "2019 秋季学期"],
    )
    root = write_lom(resource)
    contributes = root.findall("lom:lifeCycle/lom:contribute", NS)
    assert [c.findtext("lom:role/lom:value", None, NS) for c in contributes] == [
        "instructor", "author", "publisher", "unknown", "unknown"
    ]  # fmt: skip
    assert [c.findtext("lom:role/lom:source", None, NS) for c in contributes] == [
        None, "LOMv1.0", "LOMv1.0", "LOMv1.0", "LOMv1.0"
    ]  # fmt: skip
    # created on the first author; other dates on contributions without entity
    assert [c.findtext("lom:date/lom:dateTime", None, NS) for c in contributes] == [
        None, "2021-09-01", None, "2022-03", None
    ]  # fmt: skip
    assert texts(root, "lom:lifeCycle/lom:contribute/lom:date/lom:description/lom:string") == [
        "2019 秋季学期"  # the binding's DateTime pattern refuses it
    ]
    assert "FN:王\\, 伟\nORG:A\\; B" in (contributes[1].findtext("lom:entity", None, NS) or "")
    assert read(root) == resource


def test_record_id_is_the_metadata_identifier_not_the_resource_identifier() -> None:
    record = ResourceRecord(
        id="r-42",
        provenance=Provenance(
            source="szpt",
            oai_identifier="oai:szpt:42",
            datestamp="2024-01-02",
            metadata_prefix="lom",
            harvested_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            raw_sha256="0" * 64,
        ),
        title={"zh": "高等数学"},
        identifiers=["https://szpt.example.cn/c/42"],
    )
    root = write_lom(record)
    assert texts(root, "lom:metaMetadata/lom:identifier/lom:catalog") == ["coursefed"]
    assert texts(root, "lom:metaMetadata/lom:identifier/lom:entry") == ["r-42"]
    assert texts(root, "lom:general/lom:identifier/lom:entry") == ["https://szpt.example.cn/c/42"]
    assert read(root) == CourseResource(**record.model_dump(exclude={"id", "provenance"}))


def test_none_is_written_explicitly_where_lom_alone_would_say_otherwise() -> None:
    resource = CourseResource(
        audiences=["本科"],  # would map to undergraduate
        resource_types=["lecture"],  # would map to courseware
        contributors=[Contributor(name="某出版社", role="publisher")],  # would be institution
        identifiers=["https://example.cn/course/1"],  # would be the landing page
        license=License(text="CC BY 4.0 https://creativecommons.org/licenses/by/4.0/"),
        subjects=[Subject(code="0812", scheme="学科专业目录", label={"zh": "计算机"})],
    )
    root = write_lom(resource)
    for path in (
        "lom:educational/cf:educationLevel",
        "lom:educational/cf:resourceType",
        "lom:lifeCycle/cf:institution",
        "lom:technical/cf:landingPage",
        "lom:rights/cf:licenseUrl",
        "lom:rights/cf:spdx",
    ):
        (element,) = root.findall(path, NS)
        assert element.text is None, path
    assert len(root.findall(".//lom:taxon/cf:exactLabels", NS)) == 1
    assert read(root) == resource


def test_values_the_binding_refuses_are_written_another_way(lom_schema: etree.XMLSchema) -> None:
    resource = CourseResource(
        title={"zh": "控制\x07字符"},
        languages=["zh", "Chinese and English"],
        learning_time="P2W",
        created="2024-01-01T12:00:00Z",  # the binding wants fractional seconds before a zone
        objects=[
            DigitalObjectRef(url="https://x.example/a.mp4", size=-1, duration="PT1.5H"),
            DigitalObjectRef(url="https://x.example/b.pdf", name="讲义.pdf"),
        ],
    )
    root = write_lom(resource)
    assert_valid(lom_schema, root)
    assert texts(root, "lom:general/lom:title/lom:string") == ["控制字符"]
    assert texts(root, "lom:general/lom:language") == ["zh"]
    assert texts(root, "lom:general/cf:language") == ["Chinese and English"]
    assert texts(root, "lom:educational/cf:learningTime") == ["P2W"]
    assert texts(root, "lom:technical/cf:objects/cf:object/cf:url") == [
        "https://x.example/a.mp4",
        "https://x.example/b.pdf",
    ]
    # What no reader could produce does not come back: the control code, the negative size.
    objects = [resource.objects[0].model_copy(update={"size": None}), resource.objects[1]]
    assert read(root) == resource.model_copy(
        update={"title": {"zh": "控制字符"}, "objects": objects}
    )


def test_empty_record_is_a_minimal_valid_lom(lom_schema: etree.XMLSchema) -> None:
    root = write_lom(CourseResource())
    assert [etree.QName(c).localname for c in root] == ["metaMetadata"]
    assert_valid(lom_schema, root)
    assert read(root) == CourseResource()


# --- validity ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", OWN_FIXTURES, ids=lambda p: p.name)
def test_own_fixture_records_written_back_validate(path: Path, lom_schema: etree.XMLSchema) -> None:
    resource, _ = read_lom(etree.fromstring(path.read_bytes(), PARSER))
    assert_valid(lom_schema, write_lom(resource))


@pytest.mark.parametrize(
    "path",
    [*sample_params("lom-quebec-lom2mlr/*.xml"), *sample_params("lom-imsmd-kennisnet-pylom/*.xml")],
)
def test_sample_records_written_back_validate(path: Path, lom_schema: etree.XMLSchema) -> None:
    resource, _ = read_lom(etree.fromstring(path.read_bytes(), PARSER))
    assert_valid(lom_schema, write_lom(resource))


def test_demo_records_written_back_validate(lom_schema: etree.XMLSchema) -> None:
    for record in generate_corpus(30):
        resource, _ = read_lom(render_lom(record))
        assert_valid(lom_schema, write_lom(resource))


@settings(
    max_examples=examples(200),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(resource=st.one_of(course_resources(), messy_course_resources()))
def test_every_written_document_validates(
    lom_schema: etree.XMLSchema, resource: CourseResource
) -> None:
    assert_valid(lom_schema, write_lom(resource))


# --- our LOMv1.0 values against the IEEE vocabularies (SKOS copies in the samples) ----------


SKOS = "http://www.w3.org/2004/02/skos/core#"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def skos_labels(relative: str) -> set[str]:
    """English preferred labels of the concepts of one LOMv1.0 vocabulary file."""
    root = etree.fromstring(sample(f"lom-vocabularies-licef-comete/{relative}"), PARSER)
    return {
        (label.text or "").casefold()  # 5.5 spells them "Teacher", "Learner" ...
        for concept in root.iter(f"{{{SKOS}}}Concept")
        for label in concept.iter(f"{{{SKOS}}}prefLabel")
        if label.get(XML_LANG) == "en"
    }


@pytest.mark.parametrize(
    ("relative", "ours"),
    [
        pytest.param("lom5.2.rdf", LOM_LEARNING_RESOURCE_TYPES, id="5.2-learningResourceType"),
        pytest.param("lom5.5.rdf", LOM_END_USER_ROLES, id="5.5-intendedEndUserRole"),
        pytest.param("lom5.6.rdf", LOM_CONTEXTS, id="5.6-context"),
    ],
)
def test_our_lomv1_values_are_the_ieee_vocabulary(relative: str, ours: frozenset[str]) -> None:
    assert skos_labels(relative) == ours


def test_every_lomv1_learning_resource_type_maps_to_a_celts_41_type() -> None:
    labels = skos_labels("lom5.2.rdf")
    assert {label: resource_type(label) for label in labels if resource_type(label) is None} == {}

"""``read_lom(write_lom(r)) == r``: the LOM writer and reader carry every profile field.

For records in the profile's normal form (``tests/metadata/strategies.py`` says what that
is; every reader's output is in it), ``id`` and ``provenance`` aside: the OAI envelope
carries those.  For any record at all, one write and read brings it to normal form, and a
second changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from lxml import etree

from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    License,
    Relation,
    ResourceRecord,
    Subject,
)
from metadata.readers.lom import read_lom
from metadata.writers.lom import lom_bytes
from tests.fixtures.samples import FIXTURES, sample_params
from tests.metadata.strategies import (
    course_resources,
    messy_course_resources,
    resource_records,
)
from tests.properties import examples

PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
PROPERTY = settings(
    max_examples=examples(200),
    deadline=None,
    database=None,  # nothing written into the repository; failures print their blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def round_trip(record: CourseResource) -> CourseResource:
    """Write as a LOM document (bytes, as served) and read it back."""
    return read_lom(etree.fromstring(lom_bytes(record), PARSER))[0]


def description_of(record: CourseResource) -> CourseResource:
    """The descriptive part of a stored record: what LOM must carry."""
    return CourseResource(**record.model_dump(exclude={"id", "provenance"}))


def fields_that_differ(left: CourseResource, right: CourseResource) -> dict[str, object]:
    return {
        name: (getattr(left, name), getattr(right, name))
        for name in CourseResource.model_fields
        if getattr(left, name) != getattr(right, name)
    }


# --- examples a reviewer can read ------------------------------------------------------------

BILINGUAL = CourseResource(
    title={"zh": "数据结构与算法", "en": "Data Structures and Algorithms"},
    description={"zh": "线性表、树和图。\n\n共 64 学时。", "en": "Lists, trees & graphs: x<y."},
    keywords=["算法", "Theatre, Film and Television"],
    subjects=[
        Subject(code="0812", scheme="学科专业目录", label={"zh": "计算机科学与技术", "en": "CS"}),
        Subject(code="510201", scheme="职业教育专业目录", label={"zh": "计算机应用技术"}),
        Subject(label={"en": "graphs"}),
    ],
    languages=["zh", "en"],
    education_level="higher_vocational",
    audiences=["高职", "learner", "18-22"],
    resource_type="web_course",
    resource_types=["lecture", "网络课程"],
    course_code="CS2031",
    learning_time="PT64H",
    class_hours=64,
    credits=3.5,
    institution="深圳职业技术学院",
    contributors=[
        Contributor(name=f"教师{i}", role="author", organization="深圳职业技术学院")
        for i in range(12)
    ]
    + [Contributor(name="深圳职业技术学院", role="publisher", organization="深圳职业技术学院")],
    license=License(spdx="CC-BY-NC-4.0", text="知识共享 署名-非商业性使用 4.0 国际许可协议"),
    cost=False,
    created="2021-09-01",
    modified="2023-03-01T10:00:00.0+08:00",
    dates=["2022-02-20"],
    formats=["text/html", "video/mp4", "application/pdf"],
    objects=[
        DigitalObjectRef(url="https://x.example.cn/v/1.mp4", format="video/mp4", duration="PT45M"),
        DigitalObjectRef(url="https://x.example.cn/d/1.pdf", format="application/pdf", size=2048),
    ],
    identifiers=["https://x.example.cn/course/1", "oai:x.example.cn:1"],
    url="https://x.example.cn/course/1",
    relations=[Relation(kind="ispartof", target="https://x.example.cn/program/7")],
    sources=["《数据结构》（清华大学出版社）"],
    coverage=["中国"],
)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(CourseResource(), id="empty"),
        pytest.param(BILINGUAL, id="bilingual-many-contributors-two-files"),
        pytest.param(
            CourseResource(title={}, description={}, objects=[DigitalObjectRef(url="https://a/b")]),
            id="empty-maps-one-bare-file",
        ),
        pytest.param(
            CourseResource(
                title={"und": "?"},
                languages=["zxx", "Klingon"],
                learning_time="P2W",
                created="Spring 2019",
                dates=["2024-01-01T12:00:00Z"],
                license=License(
                    spdx=None, url="https://example.org/terms", text="All rights reserved"
                ),
            ),
            id="values-lom-patterns-refuse",
        ),
    ],
)
def test_example_round_trips(record: CourseResource) -> None:
    assert fields_that_differ(round_trip(record), record) == {}


# --- properties ------------------------------------------------------------------------------


@PROPERTY
@given(record=resource_records())
@example(record=ResourceRecord(id="x", **BILINGUAL.model_dump()))
def test_every_normal_form_record_round_trips(record: ResourceRecord) -> None:
    assert fields_that_differ(round_trip(record), description_of(record)) == {}


@PROPERTY
@given(record=course_resources())
def test_writing_is_deterministic(record: CourseResource) -> None:
    assert lom_bytes(record) == lom_bytes(record.model_copy(deep=True))


@settings(PROPERTY, max_examples=examples(100))
@given(record=messy_course_resources())
def test_any_record_reaches_normal_form_in_one_round_trip(record: CourseResource) -> None:
    once = round_trip(record)
    assert fields_that_differ(round_trip(once), once) == {}


# --- real records: what the reader makes of them is in normal form ---------------------------


@pytest.mark.parametrize(
    "path",
    [
        *(pytest.param(p, id=f"own/{p.name}") for p in sorted((FIXTURES / "lom").glob("*.xml"))),
        *sample_params("lom-quebec-lom2mlr/*.xml"),
        *sample_params("lom-imsmd-kennisnet-pylom/*.xml"),
    ],
)
def test_what_the_reader_makes_of_a_record_round_trips(path: Path) -> None:
    resource, _ = read_lom(etree.fromstring(path.read_bytes(), PARSER))
    assert fields_that_differ(round_trip(resource), resource) == {}

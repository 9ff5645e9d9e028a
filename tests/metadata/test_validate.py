"""Validation issues and the quality score."""

from __future__ import annotations

from metadata.profile import Contributor, CourseResource, License, Subject
from metadata.validate import RECOMMENDED, has_errors, quality_score, validate


def codes(resource: CourseResource) -> list[str]:
    return [issue.code for issue in validate(resource)]


def complete() -> CourseResource:
    return CourseResource(
        title={"zh": "数据结构", "en": "Data Structures"},
        description={"zh": "线性表、树和图。"},
        keywords=["算法"],
        subjects=[Subject(code="0812", label={"zh": "计算机科学与技术"})],
        languages=["zh"],
        resource_types=["课程"],
        institution="示例职业技术学院",
        contributors=[Contributor(name="王伟", role="author")],
        license=License(spdx="CC-BY-4.0", text="CC BY 4.0"),
        created="2021-09-01",
        url="https://courses.example.edu/course/ds101",
    )


def test_complete_record_has_no_issues_and_full_score() -> None:
    assert validate(complete()) == []
    assert quality_score(complete()) == 1.0


def test_empty_record_is_an_error_with_zero_score() -> None:
    resource = CourseResource()
    assert codes(resource) == [
        "missing_title",
        "missing_language",
        "missing_description",
        "missing_license",
    ]
    assert has_errors(validate(resource))
    assert quality_score(resource) == 0.0


def test_blank_title_is_missing() -> None:
    resource = complete().model_copy(update={"title": {"en": "  "}})
    (issue,) = validate(resource)
    assert (issue.severity, issue.code, issue.path) == ("error", "missing_title", "title")


def test_unrecognised_licence_is_a_warning() -> None:
    resource = complete().model_copy(update={"license": License(text="All rights reserved")})
    (issue,) = validate(resource)
    assert (issue.severity, issue.code) == ("warning", "unknown_license")
    assert not has_errors([issue])


def test_score_is_the_share_of_recommended_fields() -> None:
    resource = CourseResource(title={"en": "T"}, languages=["en"])
    assert quality_score(resource) == round(2 / len(RECOMMENDED), 3)

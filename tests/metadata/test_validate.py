"""Validation issues and the quality score."""

from __future__ import annotations

import pytest

from metadata.profile import (
    Contributor,
    CourseResource,
    DigitalObjectRef,
    Issue,
    License,
    Relation,
    Subject,
)
from metadata.validate import (
    RECOMMENDED,
    has_errors,
    missing_recommended,
    publishable,
    quality_score,
    validate,
)


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
        resource_type="web_course",
        education_level="higher_vocational",
        learning_time="PT32H",
        objects=[DigitalObjectRef(url="https://courses.example.edu/ds101.mp4", format="video/mp4")],
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


def test_values_outside_the_controlled_vocabularies_are_errors() -> None:
    resource = complete().model_copy(update={"education_level": "kindergarten"})
    (issue,) = validate(resource)
    assert (issue.severity, issue.code, issue.path) == (
        "error",
        "invalid_vocabulary",
        "education_level",
    )
    resource = complete().model_copy(update={"resource_type": "lecture"})
    assert [i.path for i in validate(resource)] == ["resource_type"]


@pytest.mark.parametrize("duration", ["PT32H", "P1W", "PT1H30M", "P3DT4H", "PT0.5S"])
def test_iso_durations_are_accepted(duration: str) -> None:
    assert validate(complete().model_copy(update={"learning_time": duration})) == []


@pytest.mark.parametrize("duration", ["32 hours", "P", "PT", "1H", "32学时"])
def test_other_learning_times_are_warnings(duration: str) -> None:
    resource = complete().model_copy(update={"learning_time": duration})
    assert [i.code for i in validate(resource)] == ["invalid_duration"]


def test_a_record_that_skipped_the_readers_with_javascript_links_is_not_published() -> None:
    """A record built by hand or copied from a mirror's upstream still holds bad URLs."""
    resource = complete().model_copy(
        update={
            "url": "javascript:alert(1)",
            "objects": [DigitalObjectRef(url="file:///etc/passwd")],
            "relations": [Relation(kind="ispartof", target="data:text/html,<script>")],
        }
    )
    issues = validate(resource)
    assert [(i.severity, i.code, i.path) for i in issues] == [
        ("error", "invalid_url", "url"),
        ("error", "invalid_url", "objects[1].url"),
        ("error", "invalid_url", "relations[1].target"),
    ]
    assert not publishable(issues)


def test_an_error_on_a_dropped_url_keeps_the_record_public() -> None:
    dropped = Issue(severity="error", code="url_not_http", message="dropped", path="dc:source[1]")
    other = Issue(severity="error", code="missing_title", message="no title", path="title")
    assert publishable([dropped])
    assert has_errors([dropped]), "coursefed normalize still asks the college to fix it"
    assert not publishable([dropped, other])


def test_a_landing_page_that_is_no_http_url_counts_as_missing() -> None:
    """Stored before the URL rule: the score treats it as the reader now would."""
    resource = complete().model_copy(
        update={"url": "javascript:alert(1)", "objects": [DigitalObjectRef(url="data:,x")]}
    )
    assert missing_recommended(resource) == ["url", "objects"]


def test_missing_recommended_fields_name_what_to_improve() -> None:
    resource = complete().model_copy(update={"learning_time": None, "objects": []})
    assert missing_recommended(resource) == ["learning_time", "objects"]
    assert quality_score(resource) == round(1 - 2 / len(RECOMMENDED), 3)

"""Validation of a profile record: issues (error or warning, with a path) and a quality score.

Errors keep a record out of the public catalogue (``publishable``), except errors on a
value the reader dropped; warnings are shown to the source's maintainers.  Each check is
a small function in ``CHECKS`` and each recommended field a line in ``RECOMMENDED``:
deepening validation means adding lines, not rewriting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from metadata.profile import CourseResource, Issue
from metadata.urls import URL_NOT_HTTP, http_url, unsafe_urls
from metadata.vocabularies import EDUCATION_LEVELS, RESOURCE_TYPES

Check = Callable[[CourseResource], Iterable[Issue]]


def _has_text(values: dict[str, str]) -> bool:
    return any(text.strip() for text in values.values())


def check_title(resource: CourseResource) -> Iterable[Issue]:
    if not _has_text(resource.title):
        yield Issue(severity="error", code="missing_title", message="no title", path="title")


def check_language(resource: CourseResource) -> Iterable[Issue]:
    if not resource.languages:
        yield Issue(
            severity="warning",
            code="missing_language",
            message="the language of the resource is not given",
            path="languages",
        )


def check_description(resource: CourseResource) -> Iterable[Issue]:
    if not _has_text(resource.description):
        yield Issue(
            severity="warning",
            code="missing_description",
            message="no description",
            path="description",
        )


def check_license(resource: CourseResource) -> Iterable[Issue]:
    if resource.license is None:
        yield Issue(
            severity="warning",
            code="missing_license",
            message="no licence or rights statement",
            path="license",
        )
    elif resource.license.spdx is None:
        yield Issue(
            severity="warning",
            code="unknown_license",
            message=f"licence not recognised: {resource.license.text[:200]!r}",
            path="license",
        )


_DURATION = re.compile(
    r"^P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?"
    r"(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$"
)


def check_vocabularies(resource: CourseResource) -> Iterable[Issue]:
    """Controlled fields hold controlled values (readers map; other writers may not)."""
    for path, value, vocabulary in (
        ("education_level", resource.education_level, EDUCATION_LEVELS),
        ("resource_type", resource.resource_type, RESOURCE_TYPES),
    ):
        if value is not None and value not in vocabulary:
            yield Issue(
                severity="error",
                code="invalid_vocabulary",
                message=f"{value!r} is not a value of the profile's {path} vocabulary",
                path=path,
            )


def check_learning_time(resource: CourseResource) -> Iterable[Issue]:
    if resource.learning_time is not None and not _DURATION.match(resource.learning_time):
        yield Issue(
            severity="warning",
            code="invalid_duration",
            message=f"learning time {resource.learning_time!r} is not an ISO 8601 duration",
            path="learning_time",
        )


def check_urls(resource: CourseResource) -> Iterable[Issue]:
    """URLs that break the rule of ``metadata.urls`` and are still in the record.

    Readers drop such values (``url_not_http``); a record that skipped them (built by
    hand, copied from a mirror's upstream) must not be published with one.
    """
    for path, value in unsafe_urls(resource):
        yield Issue(
            severity="error",
            code="invalid_url",
            message=f"{value[:200]!r} is not an absolute http(s) URL",
            path=path,
        )


CHECKS: tuple[Check, ...] = (
    check_title,
    check_language,
    check_description,
    check_license,
    check_vocabularies,
    check_learning_time,
    check_urls,
)
"""Every check, in the order their issues are reported."""

RECOMMENDED: tuple[tuple[str, Callable[[CourseResource], bool]], ...] = (
    ("title", lambda r: _has_text(r.title)),
    ("description", lambda r: _has_text(r.description)),
    ("languages", lambda r: bool(r.languages)),
    ("subjects or keywords", lambda r: bool(r.subjects or r.keywords)),
    ("license", lambda r: r.license is not None and r.license.spdx is not None),
    ("contributors", lambda r: bool(r.contributors)),
    ("institution", lambda r: bool(r.institution)),
    ("url", lambda r: http_url(r.url) is not None),
    ("created", lambda r: bool(r.created)),
    ("resource_type", lambda r: r.resource_type is not None),
    ("education_level", lambda r: r.education_level is not None),
    ("learning_time", lambda r: bool(r.learning_time)),
    ("objects", lambda r: any(http_url(o.url) for o in r.objects)),
)
"""Recommended fields and how to tell each is present; the quality score counts them."""


def validate(resource: CourseResource) -> list[Issue]:
    """All issues of a record: ``error`` ones keep it out of the public catalogue."""
    return [issue for check in CHECKS for issue in check(resource)]


def missing_recommended(resource: CourseResource) -> list[str]:
    """The recommended fields a record lacks: what a college can improve."""
    return [name for name, is_present in RECOMMENDED if not is_present(resource)]


def quality_score(resource: CourseResource) -> float:
    """Share of the ``RECOMMENDED`` fields present, in [0, 1]."""
    present = sum(1 for _, is_present in RECOMMENDED if is_present(resource))
    return round(present / len(RECOMMENDED), 3)


DROPPED_VALUE_ERRORS = frozenset({URL_NOT_HTTP})
"""Errors on a value the reader dropped: the college must fix them, but the record as
stored no longer holds the value, so it is published without it."""


def has_errors(issues: Iterable[Issue]) -> bool:
    """Any error: what ``coursefed normalize`` tells a college to fix."""
    return any(issue.severity == "error" for issue in issues)


def publishable(issues: Iterable[Issue]) -> bool:
    """No error but those on dropped values (``DROPPED_VALUE_ERRORS``): the record is public."""
    return not any(
        issue.severity == "error" and issue.code not in DROPPED_VALUE_ERRORS for issue in issues
    )

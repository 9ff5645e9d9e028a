"""What a course page makes of a record, before any markup: parts of titles, kinds of
files, the states a learner sees, our own course addresses."""

from __future__ import annotations

import pytest

from app.catalogue.models import DigitalObject
from app.web.course_page import course_file, file_kind, own_course_id, title_part

BASE = "https://courses.example.org"


@pytest.mark.parametrize(
    ("title", "part"),
    [
        ("高等数学（上）", ("高等数学", 1)),
        ("高等数学（下）", ("高等数学", 3)),
        ("高等数学(中)", ("高等数学", 2)),
        ("大学英语（二）", ("大学英语", 2)),
        ("大学物理（第1部分）", ("大学物理", 1)),
        ("工程制图上册", ("工程制图", 1)),
        ("Calculus I", ("Calculus", 1)),
        ("Calculus II", ("Calculus", 2)),
        ("Physics Part 2", ("Physics", 2)),
        ("Linear Algebra (II)", ("Linear Algebra", 2)),
        ("高等数学Ⅱ", None),  # a numeral glued to the title names no part
        ("数据结构与算法", None),
        ("Introduction to Data Science", None),
        ("计算机科学导论（2024秋）", None),
        ("上", None),
    ],
)
def test_a_title_naming_a_part_gives_its_stem_and_number(
    title: str, part: tuple[str, int] | None
) -> None:
    assert title_part(title) == part


@pytest.mark.parametrize(
    ("media_type", "name", "kind"),
    [
        ("video/mp4", None, "video"),
        ("audio/mpeg", None, "audio"),
        ("application/pdf", None, "pdf"),
        (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            None,
            "slides",
        ),
        ("application/msword", None, "document"),
        ("text/csv", None, "spreadsheet"),
        ("application/epub+zip", None, "ebook"),
        ("image/png", None, "image"),
        ("application/octet-stream", None, "file"),
        (None, "第三章.pptx", "slides"),  # nothing declared: the name's extension tells
        (None, "lecture.mp4", "video"),
        (None, "readme", "file"),
        ("Application/PDF; charset=binary", None, "pdf"),
    ],
)
def test_a_file_is_named_by_its_kind(media_type: str | None, name: str | None, kind: str) -> None:
    assert file_kind(media_type, name) == kind


def row(**values: object) -> DigitalObject:
    defaults: dict[str, object] = {"resource_id": "c", "url": "https://files.example.edu/a.pdf"}
    return DigitalObject(**{**defaults, **values})


SHA = "ab" * 32


def test_a_stored_pdf_is_viewed_and_downloaded_from_our_copy() -> None:
    shown = course_file(
        row(status="stored", sha256=SHA, media_type="application/pdf", size=1200, declared_size=9),
        base_url=BASE,
        resource_id="c",
    )
    assert (shown.state, shown.kind, shown.size) == ("stored", "pdf", 1200)
    assert shown.href == f"{BASE}/api/v1/objects/{SHA}"
    assert shown.view == f"/courses/c/view/{SHA}"
    assert shown.player is None


def test_only_media_the_browser_plays_and_we_hold_get_a_player() -> None:
    def player(status: str, media_type: str) -> str | None:
        held = {"sha256": SHA, "media_type": media_type} if status == "stored" else {}
        return course_file(
            row(status=status, declared_format=media_type, **held), base_url=BASE, resource_id="c"
        ).player

    assert player("stored", "video/mp4") == "video"
    assert player("stored", "audio/mpeg") == "audio"
    assert player("stored", "video/x-msvideo") is None, "no browser plays AVI"
    assert player("pending", "video/mp4") is None, "nothing to play before we hold it"


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("pending", "preparing"),
        ("failed", "elsewhere"),
        ("too_large", "elsewhere"),
        ("not_allowed", "elsewhere"),
        ("unsupported", "elsewhere"),
    ],
)
def test_internal_states_become_what_a_learner_can_do(status: str, state: str) -> None:
    shown = course_file(
        row(status=status, declared_format="video/mp4", declared_size=5_000_000),
        base_url=BASE,
        resource_id="c",
    )
    assert shown.state == state
    assert (shown.href, shown.view, shown.player) == (None, None, None)
    assert (shown.kind, shown.size) == ("video", 5_000_000), "what the record declared"


def test_a_file_link_is_offered_only_when_it_is_http() -> None:
    shown = course_file(
        row(url="javascript:alert(1)", status="pending"), base_url=BASE, resource_id="c"
    )
    assert shown.source is None


@pytest.mark.parametrize(
    ("target", "course_id"),
    [
        (f"{BASE}/courses/abc-1", "abc-1"),
        (f"{BASE}/courses/abc-1/", "abc-1"),
        ("/courses/abc-1", "abc-1"),
        ("https://elsewhere.example.org/courses/abc-1", None),
        (f"{BASE}/courses/abc-1/view/x", None),
        ("oai:college:abc-1", None),
    ],
)
def test_our_own_course_addresses_name_their_course(target: str, course_id: str | None) -> None:
    assert own_course_id(target, BASE) == course_id

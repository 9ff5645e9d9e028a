"""The pure parts of publication: months, spreadsheet-safe cells, text XML can hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from app.publication import atom
from app.publication.selection import Month, Selection
from app.publication.writers import spreadsheet_safe
from app.search.query import InvalidFilter


def test_a_month_runs_from_its_first_instant_to_the_next_months_in_utc() -> None:
    december = Month.parse("2026-12")
    assert (december.start, december.end) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    beijing = timezone(timedelta(hours=8))
    # 07:30 on 1 December in Beijing is still November in UTC.
    assert Month.of(datetime(2026, 12, 1, 7, 30, tzinfo=beijing)) == Month(2026, 11)
    assert str(Month(2026, 1)) == "2026-01"
    assert Month(2026, 11) < Month(2026, 12) < Month(2027, 1)


@pytest.mark.parametrize("text", ["2026-00", "2026-13", "2026-1", "1999-12", "2026/11", ""])
def test_a_month_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(InvalidFilter) as refused:
        Selection.of(filters={}, month=text or "x")
    assert refused.value.parameter == "month"


def test_filters_are_checked_by_the_search_apis_rules() -> None:
    chosen = Selection.of(filters={"subject": ["0812", "0812", ""], "level": []})
    assert chosen.filters == {"subject": ("0812",)}
    with pytest.raises(InvalidFilter) as refused:
        Selection.of(filters={"subject": [str(n).zfill(4) for n in range(21)]})
    assert refused.value.parameter == "subject"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+86 10 1234", "'+86 10 1234"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("数据 = 信息", "数据 = 信息"),
        ("https://example.edu.cn/a?b=c", "https://example.edu.cn/a?b=c"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_starts_with_an_apostrophe(cell: str, shown: str) -> None:
    assert spreadsheet_safe(cell) == shown


def test_a_feed_of_any_text_is_well_formed_and_links_only_to_the_web() -> None:
    moment = datetime(2026, 11, 5, tzinfo=UTC)
    feed = atom.Feed(
        id=atom.tag_uri("https://courses.example.edu.cn:8443/x", moment, "feeds/a"),
        title="新课程\x00\x1f\ufffe",
        lang="zh-CN",
        self_url="https://courses.example.edu.cn/feeds/courses.atom",
        updated=moment,
        author="coursefed",
        author_uri="javascript:alert(1)",
        entries=[
            atom.Entry(
                id="tag:courses.example.edu.cn,2026-11-05:courses/a",
                title=atom.Text("Title \x08", "en"),
                link="javascript:alert(1)",
                updated=moment,
                published=moment,
                related="ftp://example.org/x",
            )
        ],
    )
    root = etree.fromstring(atom.render(feed))
    assert root.findtext(f"{{{atom.ATOM}}}id") == "tag:courses.example.edu.cn,2026-11-05:feeds/a"
    assert root.findtext(f"{{{atom.ATOM}}}title") == "新课程"
    hrefs = [link.get("href") for link in root.iter(f"{{{atom.ATOM}}}link")]
    assert hrefs == ["https://courses.example.edu.cn/feeds/courses.atom"]
    assert root.find(f"{{{atom.ATOM}}}author/{{{atom.ATOM}}}uri") is None
    (title,) = root.iterfind(f"{{{atom.ATOM}}}entry/{{{atom.ATOM}}}title")
    assert (title.text, title.get("{http://www.w3.org/XML/1998/namespace}lang")) == ("Title ", "en")

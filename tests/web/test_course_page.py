"""A course's own page: every fact as words in the page's language, links to filtered
searches, files to play, view and download, the licence, parts, provenance and related
courses; its JSON-LD; missing, removed and hostile courses."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import html
from playwright.sync_api import Browser
from sqlalchemy.engine import Engine
from sqlmodel import select

from app import jobs
from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject
from app.compression import passed_through
from app.db import session_scope
from app.demo.corpus import HOST, generate_corpus
from app.demo.repository import DemoRepository
from app.demo.server import DemoRepositoryServer
from app.institutions import service as institutions
from app.main import create_app
from app.objects.discovery import discover
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import (
    Contributor,
    DigitalObjectRef,
    License,
    Provenance,
    Relation,
    ResourceRecord,
    Subject,
)
from tests.app.records import stored
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS, screenshots_dir
from tests.services_plugin import free_port, serving

pytestmark = [pytest.mark.services]

SLUG = "jianglan"
SOURCE_NAME = "江澜大学开放课程平台"
HARVESTED = datetime(2026, 3, 5, 8, 30, tzinfo=UTC)
CC = "https://creativecommons.org/licenses/by-nc-sa/4.0/"


def oai(local: str) -> str:
    return f"oai:jianglan.example.edu.cn:{local}"


def rid(local: str) -> str:
    return catalogue.resource_id_for(SLUG, oai(local))


@dataclass(frozen=True)
class College:
    """A source of hand-made courses, indexed, with the files of one fetched into S3."""

    client: TestClient
    settings: Settings
    engine: Engine
    base_url: str  # the source's OAI-PMH endpoint
    files: str  # where its files are served

    def page(self, local: str, lang: str = "zh") -> html.HtmlElement:
        response = self.client.get(f"/courses/{rid(local)}", params={"lang": lang})
        assert response.status_code == 200, response.text
        return html.fromstring(response.text)

    def school(self, name: str) -> str:
        """The id the institution authority gave a school's name."""
        with session_scope(self.engine) as session:
            found = institutions.resolve(session, name)
        assert found is not None
        return found

    def row(self, name: str) -> DigitalObject:
        with session_scope(self.engine) as session:
            statement = select(DigitalObject).where(
                DigitalObject.url == f"{self.files}/files/1/{name}"
            )
            found = session.exec(statement).one()
            session.expunge(found)
            return found


def course(local: str, title: dict[str, str], **fields: object) -> ResourceRecord:
    """A course of the college, with the provenance a harvest gives it."""
    raw = f"<record>{local}</record>".encode()
    defaults: dict[str, object] = {
        "institution": "江澜大学",
        "languages": ["zh"],
        "url": f"https://jianglan.example.edu.cn/courses/{local}",
        "identifiers": [f"https://jianglan.example.edu.cn/courses/{local}"],
        "provenance": Provenance(
            source=SLUG,
            oai_identifier=oai(local),
            datestamp="2026-03-05T08:30:00Z",
            metadata_prefix="oai_dc",
            harvested_at=HARVESTED,
            raw_sha256=hashlib.sha256(raw).hexdigest(),
        ),
    }
    return ResourceRecord(id=rid(local), title=title, **{**defaults, **fields})


def records(files: str) -> list[ResourceRecord]:
    """高等数学 in parts (上 lists its whole, the whole lists 上 and a 习题课, 下 names no
    relation), courses of the same subject or school, and one of neither."""
    return [
        course(
            "calc-1",
            {"zh": "高等数学（上）", "en": "Advanced Mathematics I"},
            description={"zh": "函数、极限与连续，导数与微分，" * 12},
            keywords=["极限", "导数"],
            subjects=[
                Subject(code="07", label={"zh": "理学", "en": "Science"}),
                Subject(code="0701", label={"zh": "数学", "en": "Mathematics"}),
            ],
            education_level="undergraduate",
            resource_type="video",
            learning_time="PT54H",
            class_hours=48,
            credits=3,
            course_code="JL-MATH-101",
            cost=False,
            created="2024-03-01",
            modified="2025-09-15T10:00:00Z",
            contributors=[
                Contributor(name="周娜", role="instructor"),
                Contributor(name="王伟", role="author"),
                Contributor(name="江澜大学", role="publisher"),
            ],
            license=License(spdx="CC-BY-NC-SA-4.0", url=CC, text="CC BY-NC-SA 4.0"),
            objects=[
                DigitalObjectRef(url=f"{files}/files/1/{name}")
                for name in ("lecture.mp4", "slides.pdf", "notes.pptx", "handout.docx", "talk.mp3")
            ],
            relations=[
                Relation(kind="ispartof", target=oai("calc")),
                # A landing page of another source's course: found through the index.
                Relation(kind="references", target="https://beichen.example.edu.cn/la"),
                Relation(kind="requires", target="https://elsewhere.example.org/algebra"),
                Relation(kind="isversionof", target="高等数学 2019 版"),
                # Its own landing page: not a relation to show.
                Relation(kind="hasformat", target="https://jianglan.example.edu.cn/courses/calc-1"),
            ],
        ),
        course(
            "calc-3",
            {"zh": "高等数学（下）"},
            license=License(
                spdx="all-rights-reserved", text="© 2024 江澜大学 版权所有，未经许可不得转载"
            ),
            subjects=[Subject(code="0701", label={"zh": "数学"})],
        ),
        course(
            "calc",
            {"zh": "高等数学"},
            relations=[
                Relation(kind="haspart", target=oai("calc-1")),
                Relation(kind="haspart", target=oai("exercises")),
            ],
        ),
        course("exercises", {"zh": "微积分习题课"}),
        course(
            "physics",
            {"zh": "大学物理"},
            subjects=[Subject(code="0702", label={"zh": "物理学"})],
            license=License(url="https://jianglan.example.edu.cn/terms", text="仅供个人学习使用"),
        ),
        course(
            "linear",
            {"en": "Linear Algebra"},
            institution="北辰理工学院",
            languages=["en"],
            url="https://beichen.example.edu.cn/la",
            identifiers=[],
            subjects=[Subject(code="0701", label={"en": "Mathematics"})],
        ),
        course("music", {"zh": "音乐鉴赏"}, institution="东湖财经大学"),
    ]


@pytest.fixture
def college(live: Settings, live_engine: Engine) -> Iterator[College]:
    with DemoRepositoryServer(DemoRepository([]), serve_files=True) as repository:
        files = repository.base_url.rsplit("/", 1)[0]
        with session_scope(live_engine) as session:
            source = sources.add_source(
                session,
                slug=SLUG,
                name=SOURCE_NAME,
                base_url=repository.base_url,
                allow_private_network=True,
            )
            source_id = source.id
        for record in records(files):
            assert record.provenance is not None
            identifier = record.provenance.oai_identifier
            raw = f"<record>{identifier}</record>".encode()
            with session_scope(live_engine) as session:
                catalogue.upsert(
                    session, stored(record, raw, oai_id=identifier, source_id=source_id)
                )
        report = jobs.run_objects(live_engine, live)
        assert report.outcomes["stored"] == 2, report
        jobs.sync_search(live_engine, live)
        with session_scope(live_engine) as session:
            rows = {
                row.url.rsplit("/", 1)[1]: row for row in session.exec(select(DigitalObject)).all()
            }
            # What the fetcher leaves in the other states, set here without waiting for it.
            rows["notes.pptx"].status, rows["notes.pptx"].link_status = "pending", None
            rows["talk.mp3"].status = "stored"
            rows["talk.mp3"].sha256 = rows["lecture.mp4"].sha256
            rows["talk.mp3"].media_type = "audio/mpeg"
            rows["talk.mp3"].size = 3_500_000
            assert rows["handout.docx"].status == "failed"
            assert rows["handout.docx"].link_status == "broken"
            session.add_all(rows.values())
        with TestClient(create_app(live)) as client:
            yield College(client, live, live_engine, repository.base_url, files)


def text(element: html.HtmlElement | list[html.HtmlElement]) -> str:
    """An element's text as a reader sees it, spaces collapsed."""
    if isinstance(element, list):
        (element,) = element
    return " ".join(element.text_content().split())


def fact(page: html.HtmlElement, key: str) -> str:
    return text(page.xpath(f"//*[@id='{key}']"))


def search_links(page: html.HtmlElement, where: str) -> list[tuple[str, dict[str, list[str]]]]:
    """(link text, query) of the links to searches under an element."""
    links = page.xpath(f"//*[@id='{where}']/descendant-or-self::a")
    assert links, f"no links under #{where}"
    found = []
    for link in links:
        parts = urlsplit(link.get("href"))
        assert parts.path == "/search", link.get("href")
        found.append((text(link), parse_qs(parts.query)))
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_fact_is_words_in_chinese_and_links_to_its_search(college: College) -> None:
    page = college.page("calc-1", "zh")
    title = page.xpath("//h1")[0]
    assert (text(title), title.get("lang")) == ("高等数学（上）", None)
    (other,) = page.xpath("//*[contains(@class, 'other-title')]")
    assert (text(other), other.get("lang")) == ("Advanced Mathematics I", "en")
    school = college.school("江澜大学")
    assert search_links(page, "institution") == [("江澜大学", {"institution": [school]})]
    assert page.xpath("//*[@id='teachers']//a/@lang") == [], "names in the page's language"
    assert search_links(page, "teachers") == [
        ("周娜", {"teacher": ["周娜"]}),
        ("王伟", {"teacher": ["王伟"]}),
    ]
    assert search_links(page, "subjects") == [
        ("理学", {"subject": ["07"]}),
        ("数学", {"subject": ["0701"]}),
    ]
    assert search_links(page, "level") == [("本科教育", {"level": ["undergraduate"]})]
    assert search_links(page, "languages") == [("中文", {"language": ["zh"]})]
    assert search_links(page, "keywords")[0] == ("极限", {"q": ["极限"]})
    assert fact(page, "type") == "视频类素材"
    assert fact(page, "learning-time") == "54小时"
    assert (fact(page, "class-hours"), fact(page, "credits")) == ("48", "3")
    assert fact(page, "course-code") == "JL-MATH-101"
    assert fact(page, "cost") == "免费"
    assert fact(page, "created") == "2024年3月1日"
    assert fact(page, "modified") == "2025年9月15日"
    shown = text(page.xpath("//main")[0])
    for raw in ("PT54H", "undergraduate", "video", "2024-03-01", "instructor"):
        assert raw not in shown, f"{raw!r} is shown as it is stored"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_fact_is_words_in_english(college: College) -> None:
    page = college.page("calc-1", "en")
    title = page.xpath("//h1")[0]
    assert (text(title), title.get("lang")) == ("Advanced Mathematics I", None)
    (other,) = page.xpath("//*[contains(@class, 'other-title')]")
    assert (text(other), other.get("lang")) == ("高等数学（上）", "zh")
    (school,) = page.xpath("//*[@id='institution']")
    assert (text(school), school.get("lang")) == ("江澜大学", "zh"), "no English name known"
    assert fact(page, "level") == "Undergraduate education"
    assert fact(page, "type") == "Video material"
    assert fact(page, "languages") == "Chinese"
    assert fact(page, "subjects") == "Science Mathematics"
    assert fact(page, "learning-time") == "54 hours"
    assert fact(page, "cost") == "Free"
    assert fact(page, "created") == "March 1, 2024"
    assert fact(page, "modified") == "September 15, 2025"
    assert "Taught by" in fact(page, "teachers")
    names = page.xpath("//*[@id='teachers']//a")
    assert [(text(a), a.get("lang")) for a in names] == [("周娜", "zh"), ("王伟", "zh")]
    assert "主讲" not in text(page.xpath("//main")[0])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_title_only_in_the_other_language_carries_its_lang(college: College) -> None:
    page = college.page("linear", "zh")
    title = page.xpath("//h1")[0]
    assert (text(title), title.get("lang")) == ("Linear Algebra", "en")
    assert not page.xpath("//*[contains(@class, 'other-title')]")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_meta_description_is_the_description_cut_short(college: College) -> None:
    page = college.page("calc-1")
    (description,) = page.xpath("//meta[@name='description']/@content")
    assert description.startswith("函数、极限与连续")
    assert description.endswith("…")
    assert len(description) == 160
    assert college.page("music").xpath("//meta[@name='description']/@content") != [""]


def licence_of(page: html.HtmlElement) -> tuple[str, str, str | None, str]:
    """(the section's class, its mark and name, where the name links, its meaning)."""
    (section,) = page.xpath("//*[@id='licence']")
    links = section.xpath(".//a[@rel='license']/@href")
    meanings = section.xpath(".//*[contains(@class, 'meaning')]")
    return (
        section.get("class"),
        text(section.xpath(".//*[@class='licence-badge']")),
        links[0] if links else None,
        text(meanings) if meanings else "",
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_licence_is_a_badge_with_its_name_meaning_and_deed(college: College) -> None:
    assert licence_of(college.page("calc-1")) == (
        "licence licence-open",
        "开放许可 知识共享 署名-非商业性使用-相同方式共享 4.0 国际（CC BY-NC-SA 4.0）",
        CC,
        "可分享和改编，须署名，不得用于商业目的，改编作品须以相同许可发布。",
    )
    assert licence_of(college.page("calc-1", "en")) == (
        "licence licence-open",
        "Open licence Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International"
        " (CC BY-NC-SA 4.0)",
        CC,
        "Share and adapt it, crediting the author, non-commercially; "
        "adaptations carry the same licence.",
    )
    assert not college.page("calc-1").xpath("//*[@id='licence']//*[contains(@class, 'statement')]")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_all_rights_reserved_is_marked_as_needing_permission(college: College) -> None:
    page = college.page("calc-3")
    assert licence_of(page) == (
        "licence licence-closed",
        "非开放许可 版权所有",
        None,
        "保留所有权利：复制、改编或再发布须经权利人许可。",
    )
    (statement,) = page.xpath("//*[@id='licence']//*[contains(@class, 'statement')]")
    assert text(statement) == "来源原文： © 2024 江澜大学 版权所有，未经许可不得转载"
    english = licence_of(college.page("calc-3", "en"))
    assert english[1] == "Not an open licence All rights reserved"
    assert (
        english[3] == "Copying, adapting or republishing it needs the rights holder's permission."
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_licence_we_do_not_know_is_shown_as_stated(college: College) -> None:
    assert licence_of(college.page("physics")) == (
        "licence licence-unknown",
        "仅供个人学习使用",
        "https://jianglan.example.edu.cn/terms",
        "",
    )
    assert not college.page("music").xpath("//*[@id='licence']"), "none stated, none shown"


def files_by_name(page: html.HtmlElement) -> dict[str, html.HtmlElement]:
    return {
        text(item.xpath(".//*[@class='name']")): item
        for item in page.xpath("//*[@id='files']//li[contains(@class, 'file')]")
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_files_are_played_viewed_and_downloaded_from_our_copy(college: College) -> None:
    page = college.page("calc-1")
    files = files_by_name(page)
    assert list(files) == ["lecture.mp4", "slides.pdf", "notes.pptx", "handout.docx", "talk.mp3"]
    base = college.settings.resolved_public_url
    video_row, pdf_row = college.row("lecture.mp4"), college.row("slides.pdf")

    (video,) = files["lecture.mp4"].xpath(".//video")
    assert video.get("src") == f"{base}/api/v1/objects/{video_row.sha256}"
    assert video.get("controls") is not None
    assert video.get("preload") == "metadata"
    (audio,) = files["talk.mp3"].xpath(".//audio")
    assert audio.get("controls") is not None
    (view,) = files["slides.pdf"].xpath(".//object")
    assert view.get("data") == f"/courses/{rid('calc-1')}/view/{pdf_row.sha256}"
    assert view.get("type") == "application/pdf"
    fallback = view.xpath(".//a/@href")
    assert fallback == [f"{base}/api/v1/objects/{pdf_row.sha256}"], "a link when no viewer"
    assert len(page.xpath("//video | //audio | //object")) == 3, "media only for what we hold"

    def downloads(item: html.HtmlElement) -> list[str]:
        return item.xpath(".//a[@download]/@href")

    assert downloads(files["slides.pdf"]) == [
        f"{base}/api/v1/objects/{pdf_row.sha256}?download=true"
    ]
    assert downloads(files["notes.pptx"]) == downloads(files["handout.docx"]) == []
    kinds = {
        name: text(item.xpath(".//*[contains(@class, 'kind')]")) for name, item in files.items()
    }
    assert kinds["lecture.mp4"].startswith("视频 · ")
    assert kinds["lecture.mp4"].endswith("B")
    assert kinds["slides.pdf"].startswith("PDF · ")
    assert kinds["notes.pptx"] == "演示文稿"
    assert kinds["handout.docx"] == "文档"
    assert kinds["talk.mp3"] == "音频 · 3.5 MB"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_files_we_do_not_hold_say_so_in_words(college: College) -> None:
    for lang, preparing, elsewhere, broken in (
        ("zh", "文件准备中", "本站未保存此文件", "原始链接已失效"),
        ("en", "File being prepared", "No copy is kept here", "The original link no longer works"),
    ):
        files = files_by_name(college.page("calc-1", lang))
        pending, failed = files["notes.pptx"], files["handout.docx"]
        assert preparing in text(pending)
        assert elsewhere in text(failed)
        assert broken in text(failed)
        assert broken not in text(pending)
        for item in (pending, failed):
            words = text(item)
            assert not any(state in words for state in ("pending", "failed", "broken", "404"))
            (source,) = item.xpath(".//a[@rel='nofollow']/@href")
            assert source.startswith(college.files)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_pdf_view_serves_our_copy_inline_to_our_own_pages_only(college: College) -> None:
    pdf, video = college.row("slides.pdf"), college.row("lecture.mp4")
    view = f"/courses/{rid('calc-1')}/view/{pdf.sha256}"
    answer = college.client.get(view)
    assert college.settings.objects_serve == "redirect"
    assert answer.status_code == 200, "streamed by us: a redirect would leave our origin"
    assert answer.content.startswith(b"%PDF-")
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline")
    assert answer.headers["x-frame-options"] == "SAMEORIGIN"
    assert answer.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'self'"
    assert answer.headers["x-content-type-options"] == "nosniff"
    ranged = college.client.get(view, headers={"Range": "bytes=0-4"})
    assert (ranged.status_code, ranged.content) == (206, b"%PDF-")
    assert passed_through(view), "the bytes as stored, never gzip'd, so ranges name them"

    page = college.client.get(f"/courses/{rid('calc-1')}")
    policy = page.headers["content-security-policy"]
    assert "object-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy, "the page itself is never framed"
    for wrong in (
        f"/courses/{rid('calc-1')}/view/{video.sha256}",  # not a PDF
        f"/courses/{rid('calc-3')}/view/{pdf.sha256}",  # not this course's
        f"/courses/{rid('calc-1')}/view/not-a-sha256",
        f"/courses/no-such-course/view/{pdf.sha256}",
    ):
        refused = college.client.get(wrong)
        assert refused.status_code == 404, wrong
        assert refused.headers["content-type"].startswith("text/html")


def links_under(page: html.HtmlElement, where: str) -> list[tuple[str, str | None]]:
    """(text, href) of each item of a list of courses; href None for text alone."""
    items = page.xpath(f"//*[@id='{where}']//li")
    return [(text(item), (item.xpath(".//a/@href") or [None])[0]) for item in items]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_parts_and_relations_link_to_the_courses_we_hold(college: College) -> None:
    page = college.page("calc-1")
    groups = {text(dt): links_under_dd(dt) for dt in page.xpath("//*[@id='parts']//dt")}
    assert groups == {
        "所属课程": [("高等数学", f"/courses/{rid('calc')}")],
        # The whole's other part first (no number), then 下 found by its title.
        "其他部分": [
            ("微积分习题课", f"/courses/{rid('exercises')}"),
            ("高等数学（下）", f"/courses/{rid('calc-3')}"),
        ],
        "参考": [("Linear Algebra", f"/courses/{rid('linear')}")],
        "先修要求": [
            ("https://elsewhere.example.org/algebra", "https://elsewhere.example.org/algebra")
        ],
        "版本来源": [("高等数学 2019 版", None)],
    }
    (english,) = page.xpath(f"//*[@id='parts']//a[@href='/courses/{rid('linear')}']")
    assert english.get("lang") == "en"
    (outside,) = page.xpath("//*[@id='parts']//a[starts-with(@href, 'https:')]")
    assert outside.get("rel") == "nofollow"

    # 下 names no relation: its other parts are found by their titles alone.
    other = college.page("calc-3")
    assert [dt.text_content() for dt in other.xpath("//*[@id='parts']//dt")] == ["其他部分"]
    assert links_under(other, "parts") == [("高等数学（上）", f"/courses/{rid('calc-1')}")]
    # The whole lists its parts.
    whole = college.page("calc", "en")
    assert links_under(whole, "parts") == [
        ("Advanced Mathematics I", f"/courses/{rid('calc-1')}"),
        ("微积分习题课", f"/courses/{rid('exercises')}"),
    ]
    assert not college.page("music").xpath("//*[@id='parts']")


def links_under_dd(dt: html.HtmlElement) -> list[tuple[str, str | None]]:
    (dd,) = dt.xpath("following-sibling::dd[1]")
    return [(text(item), (item.xpath(".//a/@href") or [None])[0]) for item in dd.xpath(".//li")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_related_courses_share_the_subject_or_the_institution(college: College) -> None:
    related = links_under(college.page("calc-1"), "related")
    ids = [href.rsplit("/", 1)[1] for _, href in related if href]
    assert rid("calc-1") not in ids
    assert rid("physics") in ids, "same institution"
    assert rid("music") not in ids, "neither subject nor institution"
    assert not {rid("calc"), rid("calc-3"), rid("linear"), rid("exercises")} & set(ids), (
        "courses named as parts or relations are not repeated"
    )
    assert 0 < len(ids) <= 4
    # Another school's course of the same subject.
    others = links_under(college.page("linear"), "related")
    assert {rid("calc-1"), rid("calc-3")} <= {href.rsplit("/", 1)[1] for _, href in others if href}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_provenance_names_the_source_and_when_we_collected_it(college: College) -> None:
    for lang, words in (
        ("zh", f"于 2026年3月5日 采集自 {SOURCE_NAME}。"),
        ("en", f"Collected from {SOURCE_NAME} on March 5, 2026."),
    ):
        page = college.page("calc-1", lang)
        assert words in text(page.xpath("//*[@id='provenance']")[0])
    page = college.page("calc-1")
    assert page.xpath("//*[@id='raw-record']/@href") == [f"/api/v1/resources/{rid('calc-1')}/raw"]
    (get_record,) = page.xpath("//*[@id='source-record']/@href")
    parts = urlsplit(get_record)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == college.base_url
    assert parse_qs(parts.query) == {
        "verb": ["GetRecord"],
        "metadataPrefix": ["oai_dc"],
        "identifier": [oai("calc-1")],
    }
    assert page.xpath("//*[@id='landing-page']/@href") == [
        "https://jianglan.example.edu.cn/courses/calc-1"
    ]
    assert college.client.get(f"/api/v1/resources/{rid('calc-1')}/raw").content == (
        f"<record>{oai('calc-1')}</record>".encode()
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_page_answers_without_search(college: College) -> None:
    down = college.settings.model_copy(update={"meili_url": "http://127.0.0.1:9"})
    with TestClient(create_app(down)) as client:
        answer = client.get(f"/courses/{rid('calc-1')}")
    assert answer.status_code == 200
    page = html.fromstring(answer.text)
    assert not page.xpath("//*[@id='related']")
    groups = [text(dt) for dt in page.xpath("//*[@id='parts']//dt")]
    assert groups == ["所属课程", "其他部分", "参考", "先修要求", "版本来源"]
    assert links_under_dd(page.xpath("//*[@id='parts']//dt")[1]) == [
        ("微积分习题课", f"/courses/{rid('exercises')}")
    ], "the whole's parts come from the database; 下, found by search, is left out"
    assert links_under_dd(page.xpath("//*[@id='parts']//dt")[2]) == [
        ("https://beichen.example.edu.cn/la", "https://beichen.example.edu.cn/la")
    ], "found through the index only: shown as the link the record gives"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_teacher_link_finds_the_teachers_courses(college: College) -> None:
    answer = college.client.get("/api/v1/search", params={"teacher": "王伟"})
    assert answer.status_code == 200
    assert [hit["id"] for hit in answer.json()["hits"]] == [rid("calc-1")]
    assert answer.json()["hits"][0]["teachers"] == [
        "周娜",
        "王伟",
    ]
    assert "teacher" not in answer.json()["facets"], "names are not counted"
    tricky = college.client.get("/api/v1/search", params={"teacher": '周娜" OR id EXISTS'})
    assert (tricky.status_code, tricky.json()["total"]) == (200, 0)
    bad = college.client.get("/api/v1/search", params={"teacher": "a\\b"})
    assert bad.status_code == 422

    # The results page the course page links to: the teacher's courses, with a chip.
    page = college.client.get("/search", params={"teacher": "王伟"})
    assert page.status_code == 200
    tree = html.fromstring(page.text)
    cards = tree.xpath("//li[@class='hit']//*[@class='card-title']/a/@href")
    assert cards == [f"/courses/{rid('calc-1')}"]
    (chip,) = tree.xpath("//a[@class='chip']")
    assert text(chip).startswith("教师: 王伟")
    assert chip.get("href") == "/search"


# --- the demo corpus in a browser ---------------------------------------------------------


@pytest.fixture
def site(live: Settings, live_engine: Engine) -> Iterator[tuple[str, Settings]]:
    """40 demo courses harvested with their files fetched into S3, served by uvicorn."""
    port = free_port()
    files = f"http://127.0.0.1:{port}"
    records = [
        dataclasses.replace(r, object_url=r.object_url.replace(HOST, files, 1))
        for r in generate_corpus(40)
    ]
    with DemoRepositoryServer(DemoRepository(records), port=port, serve_files=True) as repository:
        with session_scope(live_engine) as session:
            source = sources.add_source(
                session, slug="demo", base_url=repository.base_url, allow_private_network=True
            )
            source_id = source.id
        assert source_id is not None
        assert jobs.run_harvest(live_engine, live, source_id).status == "succeeded"
        assert jobs.run_objects(live_engine, live).outcomes["stored"] > 30
        jobs.sync_search(live_engine, live)
    app_port = free_port()
    settings = live.model_copy(update={"public_url": f"http://127.0.0.1:{app_port}"})
    with serving(create_app(settings), app_port) as url:
        yield url, settings


def jsonld_of(page: str) -> dict[str, object]:
    scripts = html.fromstring(page).xpath("//script[@type='application/ld+json']/text()")
    assert len(scripts) == 1
    node = json.loads(scripts[0])
    assert isinstance(node, dict)
    return node


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_result_leads_to_the_course_and_its_file(
    site: tuple[str, Settings],
    browser: Browser,
) -> None:
    url, _settings = site
    page = browser.new_page()
    page.goto(url + "/?q=计算机科学导论")
    page.locator("#results h2 a").first.click()
    page.wait_for_selector("#course")
    assert "计算机科学导论" in page.locator("#title").inner_text()
    link = page.locator("#files a[download]").first
    href = link.get_attribute("href") or ""
    assert "/api/v1/objects/" in href
    answer = httpx.get(href, follow_redirects=True)
    assert answer.status_code == 200
    assert answer.content[:5] in {b"%PDF-", b"\0\0\0\x1c"} or answer.content[4:8] == b"ftyp"
    node = jsonld_of(page.content())
    assert node["@id"] == page.url
    assert "计算机科学导论" in json.dumps(node, ensure_ascii=False)
    page.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_missing_removed_and_hostile_courses(
    site: tuple[str, Settings], live_engine: Engine
) -> None:
    url, _settings = site
    missing = httpx.get(f"{url}/courses/no-such-course", params={"lang": "en"})
    assert missing.status_code == 404
    assert "There is no such course" in missing.text
    assert "没有这门课程" in httpx.get(f"{url}/courses/no-such-course").text

    hostile = "</script><script>alert(1)</script> & <!-- 课程"
    raw = b"<record>hostile</record>"
    # A declared name that reads "notes_exe.pdf" on screen, through a right-to-left override.
    files = "https://files.example.org/x"
    spoofed = DigitalObjectRef(url=f"{files}/notes.exe", name="notes_\u202efdp.exe")
    encoded = DigitalObjectRef(url=f"{files}/%E8%AF%BE%E4%BB%B6.pdf")
    record = ResourceRecord(
        id="local-hostile",
        title={"zh": hostile},
        description={"en": hostile},
        objects=[spoofed, encoded],
    )
    with session_scope(live_engine) as session:
        catalogue.upsert(session, stored(record, raw, oai_id="oai:local:hostile", source_id=None))
    discover(live_engine)
    page = httpx.get(f"{url}/courses/local-hostile")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert jsonld_of(page.text)["name"] == hostile, "the JSON-LD survives the escaping intact"
    tree = html.fromstring(page.text)
    assert tree.xpath("string(//*[@id='title'])").strip() == hostile
    names = [text(name) for name in tree.xpath("//*[@id='files']//*[@class='name']")]
    assert names == ["notes_fdp.exe", "课件.pdf"], "names shown as a download would save them"

    with session_scope(live_engine) as session:
        catalogue.delete(session, "local-hostile")
    removed = httpx.get(f"{url}/courses/local-hostile", params={"lang": "en"})
    assert removed.status_code == 410
    assert "This course was removed" in removed.text


SCREENSHOTS = screenshots_dir()


def course_with(engine: Engine, media_type: str) -> str:
    """A demo course whose stored file is of ``media_type``."""
    with session_scope(engine) as session:
        statement = select(DigitalObject.resource_id).where(
            DigitalObject.status == "stored", DigitalObject.media_type == media_type
        )
        return str(session.exec(statement).first())


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("width", "locale"), [(1366, "zh-CN"), (360, "zh-CN"), (1366, "en-GB"), (360, "en-GB")]
)
def test_a_video_plays_and_a_pdf_shows_on_the_page(
    site: tuple[str, Settings], live_engine: Engine, browser: Browser, width: int, locale: str
) -> None:
    url, _settings = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    shot = f"{width}-{locale[:2]}"
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)

    page.goto(f"{url}/courses/{course_with(live_engine, 'video/mp4')}")
    assert page.locator("html").get_attribute("lang") == {"zh": "zh-CN", "en": "en"}[locale[:2]]
    video = page.locator("#files video")
    assert video.is_visible()
    assert video.evaluate("v => v.controls && v.preload") == "metadata"
    box = video.bounding_box()
    assert box is not None
    assert box["width"] <= width, "the player fits the screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scroll"
    page.screenshot(path=SCREENSHOTS / f"course-video-{shot}.png", full_page=True)

    with page.expect_response(lambda r: "/view/" in r.url) as viewed:
        page.goto(f"{url}/courses/{course_with(live_engine, 'application/pdf')}")
    assert viewed.value.status == 200
    assert viewed.value.header_value("content-type") == "application/pdf"
    assert page.locator("#files object.pdf-view").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.wait_for_timeout(1500)  # the viewer draws the page
    page.screenshot(path=SCREENSHOTS / f"course-pdf-{shot}.png", full_page=True)
    assert refused == [], "the policy let the page load what it shows"
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_browser_without_a_pdf_viewer_gets_the_link_not_an_empty_box(
    site: tuple[str, Settings], live_engine: Engine, browser: Browser, tmp_path: Path
) -> None:
    """As on most phones: Chromium told to open PDFs elsewhere has no viewer for pages."""
    url, _settings = site
    preferences = tmp_path / "profile" / "Default" / "Preferences"
    preferences.parent.mkdir(parents=True)
    preferences.write_text(json.dumps({"plugins": {"always_open_pdf_externally": True}}))
    context = browser.browser_type.launch_persistent_context(
        preferences.parent.parent,
        executable_path=str(CHROMIUM),
        args=CHROMIUM_FLAGS,
        viewport={"width": 360, "height": 800},
        locale="zh-CN",
        accept_downloads=True,
    )
    page = context.new_page()
    fetched: list[str] = []
    page.on("download", lambda d: fetched.append(d.url))
    page.on("request", lambda r: fetched.append(r.url) if "/view/" in r.url else None)
    page.goto(f"{url}/courses/{course_with(live_engine, 'application/pdf')}")
    assert page.evaluate("navigator.pdfViewerEnabled") is False
    link = page.locator("#files object .pdf-fallback a")
    assert link.is_visible()
    assert "/api/v1/objects/" in (link.get_attribute("href") or "")
    box = page.locator("#files object").bounding_box()
    assert box is not None
    assert box["height"] < 150, "the link alone, not a PDF-sized empty box"
    assert fetched == [], "nothing downloaded or fetched for a view the browser cannot show"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "course-pdf-no-viewer-360-zh.png", full_page=True)
    context.close()

"""Pinyin: a learner without a Chinese keyboard finds 高等数学 by ``gaodengshuxue`` or
``gdsx``, and 计算机 courses by ``jisuanji``, in real Meilisearch; pinyin matches come after
courses matching in their own words."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pypinyin import Style, lazy_pinyin
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.jobs import sync_search
from app.search.documents import pinyin_forms
from app.settings import Settings
from app.sources import service as sources
from tests.app.records import store_record

COURSES = [
    ({"zh": "高等数学（上）"}, "极限、导数与积分。"),
    ({"zh": "计算机科学导论"}, "计算机系统与程序设计。"),
    ({"zh": "大学计算机基础", "en": "Fundamentals of Computing"}, "办公软件与网络。"),
    ({"zh": "线性代数"}, "矩阵与向量空间。"),
    ({"en": "Jisuanji Reading Group"}, "Chinese computing texts read in class."),
]


def _store(engine: Engine) -> None:
    with session_scope(engine) as session:
        source = sources.add_source(session, slug="college", base_url="http://example.org/oai")
        source_id = source.id
    for n, (title, description) in enumerate(COURSES):
        language = next(iter(title))
        store_record(
            engine,
            source_id,
            n,
            title=title,
            description={language: description},
            languages=[language],
        )


def _titles(client: TestClient, q: str) -> list[str]:
    response = client.get("/api/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["hits"]]


def test_a_title_is_spelled_in_pinyin_and_initials_from_each_syllable() -> None:
    assert pinyin_forms("高等数学（上）") == [
        "gaodengshuxue",
        "dengshuxue",
        "shuxue",
        "gdsx",
        "dsx",
    ]
    assert "jisuanjijichu" in pinyin_forms("大学计算机基础")
    assert "jsjjc" in pinyin_forms("大学计算机基础")
    assert pinyin_forms("Linear Algebra") == []
    assert pinyin_forms("高") == [], "one syllable would match too much"


@pytest.mark.parametrize("title", ["中心城市", "长城与重庆", "银行行长", "音乐乐器", "绿色化学"])
def test_initials_are_what_pypinyin_spells_as_first_letters(title: str) -> None:
    """zh, ch and sh give one letter; a character read two ways keeps this title's reading."""
    initials = "".join(lazy_pinyin(title, style=Style.FIRST_LETTER))
    assert initials in pinyin_forms(title)
    assert "".join(lazy_pinyin(title)) in pinyin_forms(title)


@pytest.fixture
def indexed(live_engine: Engine, live: Settings) -> None:
    _store(live_engine)
    sync_search(live_engine, live)


@pytest.mark.usefixtures("indexed")
@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("gaodengshuxue", "高等数学（上）"),
        ("gdsx", "高等数学（上）"),
        ("xianxingdaishu", "线性代数"),
        ("xxds", "线性代数"),
        ("jisuanjikexue", "计算机科学导论"),
    ],
)
def test_pinyin_and_initials_find_their_course_first(
    client: TestClient, query: str, title: str
) -> None:
    assert _titles(client, query)[0] == title


@pytest.mark.usefixtures("indexed")
def test_jisuanji_finds_every_computing_course(client: TestClient) -> None:
    titles = _titles(client, "jisuanji")
    assert {"计算机科学导论", "大学计算机基础"} <= set(titles)


@pytest.mark.usefixtures("indexed")
def test_a_course_matching_in_its_own_words_outranks_a_pinyin_match(
    client: TestClient,
) -> None:
    assert _titles(client, "jisuanji")[0] == "Jisuanji Reading Group"
    assert _titles(client, "计算机")[0] == "计算机科学导论"

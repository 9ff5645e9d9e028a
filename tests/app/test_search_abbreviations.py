"""Abbreviations learners type (高数, 线代, 马原) find their courses first in real
Meilisearch, and an admin's synonyms file adds more."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.jobs import sync_search
from app.search.gateway import SearchIndex
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import Contributor
from tests.app.records import store_record

# (title, teacher, description): three courses taught by someone surnamed 高 whose text
# holds a word starting with 数; before abbreviations were written out, they stood first.
COURSES = [
    ("数据库系统原理", "高博文", "关系数据模型与数据库设计。"),
    ("数字图像处理", "高晓", "图像增强与复原。"),
    ("英语听说", "高思涛", "数字化环境中的英语听说训练。"),
    ("高等数学（上）", "李四", "极限、导数与积分。"),
    ("线性代数", "王五", "矩阵与向量空间。"),
    ("现代汉语", "高线", "语音、词汇与语法。"),
    ("马克思主义基本原理", "赵六", "辩证唯物主义与历史唯物主义。"),
    ("思想道德与法治", "钱七", "理想信念与法治素养。"),
    ("思想道德修养与法律基础", "孙八", "2018 年版教材。"),
    ("工程制图", "周九", "投影与三视图。"),
    # 生化, 物化 and AI导论: before they were written out, nothing was found.
    ("生物化学", "吴十", "蛋白质、酶与代谢。"),
    ("物理化学", "郑一", "热力学与动力学。"),
    ("人工智能导论", "冯二", "搜索、知识表示与机器学习。"),
    ("化学导论", "陈三", "物质的组成与变化。"),
    ("生物学导论", "褚四", "细胞与生命活动。"),
]


def _store(engine: Engine) -> None:
    with session_scope(engine) as session:
        source = sources.add_source(session, slug="college", base_url="http://example.org/oai")
        source_id = source.id
    for n, (title, teacher, description) in enumerate(COURSES):
        store_record(
            engine,
            source_id,
            n,
            title={"zh": title},
            description={"zh": description},
            languages=["zh"],
            contributors=[Contributor(name=teacher, role="teacher")],
            institution="示范大学",
        )


def _titles(client: TestClient, q: str) -> list[str]:
    response = client.get("/api/v1/search", params={"q": q})
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["hits"]]


@pytest.fixture
def indexed(live_engine: Engine, live: Settings) -> None:
    _store(live_engine)
    sync_search(live_engine, live)


@pytest.mark.usefixtures("indexed")
def test_gao_shu_finds_advanced_mathematics_before_teachers_surnamed_gao(
    client: TestClient,
) -> None:
    assert _titles(client, "高数")[0] == "高等数学（上）"
    assert _titles(client, "高数上")[0] == "高等数学（上）"
    assert _titles(client, "高数（上）")[0] == "高等数学（上）"


@pytest.mark.usefixtures("indexed")
@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("线代", "线性代数"),
        ("马原", "马克思主义基本原理"),
        ("高等数学", "高等数学（上）"),
        ("生化", "生物化学"),
        ("物化", "物理化学"),
        ("AI导论", "人工智能导论"),
        ("ai导论", "人工智能导论"),
    ],
)
def test_abbreviations_find_their_course_first(client: TestClient, query: str, title: str) -> None:
    assert _titles(client, query)[0] == title


@pytest.mark.usefixtures("indexed")
def test_si_xiu_finds_the_course_under_its_new_and_its_old_name(client: TestClient) -> None:
    titles = _titles(client, "思修")
    assert titles[:2] == ["思想道德与法治", "思想道德修养与法律基础"]


@pytest.mark.usefixtures("indexed")
def test_the_results_page_writes_abbreviations_out_too(client: TestClient) -> None:
    page = client.get("/search", params={"q": "线代"})
    assert page.status_code == 200
    assert "线性代数" in page.text
    assert 'value="线代"' in page.text, "the search box keeps what the learner typed"


def test_an_admins_synonyms_file_is_added_and_its_changes_reach_the_index(
    live_engine: Engine, live: Settings, tmp_path: Path
) -> None:
    extra = tmp_path / "synonyms.txt"
    extra.write_text("# our own words\n工图, 画法几何 => 工程制图\n", encoding="utf-8")
    settings = live.model_copy(update={"search_synonyms_file": extra})
    _store(live_engine)
    sync_search(live_engine, settings)
    with SearchIndex.from_settings(settings) as index:
        answer = index.search(settings.meili_index, {"q": "画法几何"})
        assert [hit["title"] for hit in answer["hits"]] == ["工程制图"]
        assert index.client.index(settings.meili_index).get_synonyms()["工图"] == ["工程制图"]

    extra.write_text("工图 => 工程制图\n", encoding="utf-8")
    sync_search(live_engine, settings)
    with SearchIndex.from_settings(settings) as index:
        synonyms = index.client.index(settings.meili_index).get_synonyms()
        assert "画法几何" not in synonyms, "a rule removed from the file leaves the index"
        assert synonyms["高数"] == ["高等数学"], "the built-in rules stay"


def test_a_bad_synonyms_file_stops_start_up_naming_its_line(tmp_path: Path) -> None:
    extra = tmp_path / "synonyms.txt"
    extra.write_text("高数 => 高等数学\n工图 => => 工程制图\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"synonyms.txt, line 2: one '=>' per rule"):
        Settings(search_synonyms_file=extra)
    with pytest.raises(ValidationError, match=r"synonyms file .*missing.txt: No such file"):
        Settings(search_synonyms_file=tmp_path / "missing.txt")
    extra.write_bytes("高数 => 高等数学".encode("gb18030"))
    with pytest.raises(ValidationError, match="not UTF-8 text"):
        Settings(search_synonyms_file=extra)


@pytest.mark.usefixtures("indexed")
def test_a_feed_of_an_abbreviation_follows_its_courses_only(client: TestClient) -> None:
    feed = client.get("/feeds/courses.atom", params={"q": "高数"})
    assert feed.status_code == 200, feed.text
    assert "高等数学（上）" in feed.text
    assert "数据库系统原理" not in feed.text, "a teacher surnamed 高 is no reason to follow"

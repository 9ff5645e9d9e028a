"""The home and results pages, and error pages, rendered by the app against real Meilisearch.

One catalogue per module: 160 demo courses harvested once, plus a few records of our own
(an English title, markup in a title).  Page counts are checked against the search API,
which reads the same index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import html
from pypinyin import lazy_pinyin
from sqlalchemy.engine import Engine

from app import jobs
from app.catalogue import service as catalogue
from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import Contributor, ResourceRecord, Subject
from tests.app.records import stored
from tests.conftest import make_settings, sqlite_search_node

pytestmark = [pytest.mark.services]

MARKUP_TITLE = "<script>alert(1)</script> 数据治理 & <b>实践</b>"
ENGLISH_ONLY = "Quantum Widgets for Beginners"


@pytest.fixture(scope="module")
def catalogue_settings(
    live_services: Settings, migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, Engine]]:
    folder = tmp_path_factory.mktemp("pages")
    settings = sqlite_search_node(live_services, migrated_sqlite, folder)
    engine = make_engine(settings)
    with DemoRepositoryServer(generate_corpus(160)) as repository:
        with session_scope(engine) as session:
            source = sources.add_source(
                session, slug="demo", base_url=repository.base_url, allow_private_network=True
            )
            source_id = source.id
        assert source_id is not None
        assert jobs.run_harvest(engine, settings, source_id).status == "succeeded"
    own = [
        ResourceRecord(
            id="own-markup",
            title={"zh": MARKUP_TITLE},
            description={"zh": "关于数据治理的课程。"},
            languages=["zh"],
            subjects=[Subject(code="0812")],
            contributors=[Contributor(name="王老师", role="instructor")],
        ),
        ResourceRecord(
            id="own-english",
            title={"en": ENGLISH_ONLY},
            description={"en": "An introduction to quantum widgets."},
            languages=["en"],
            education_level="undergraduate",
            contributors=[
                Contributor(name="Ada Widget", role="author"),
                Contributor(name="Big College", role="publisher"),
            ],
        ),
    ]
    with session_scope(engine) as session:
        for record in own:
            catalogue.upsert(
                session, stored(record, b"<x/>", oai_id=f"oai:own:{record.id}", source_id=None)
            )
        catalogue.upsert(
            session,
            stored(
                ResourceRecord(id="own-removed", title={"zh": "已删除的课程"}),
                b"<x/>",
                oai_id="oai:own:removed",
                source_id=None,
            ),
        )
    with session_scope(engine) as session:
        catalogue.delete(session, "own-removed")
    jobs.sync_search(engine, settings)
    yield settings, engine
    engine.dispose()


@pytest.fixture(scope="module")
def site(catalogue_settings: tuple[Settings, Engine]) -> Iterator[TestClient]:
    with TestClient(create_app(catalogue_settings[0]), follow_redirects=False) as client:
        yield client


def tree(client: TestClient, url: str, status: int = 200, **kwargs: Any) -> Any:
    """The page at ``url`` as a tree, asked without a language cookie from earlier pages."""
    client.cookies.clear()
    response = client.get(url, **kwargs)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return html.fromstring(response.text)


def text(node: Any) -> str:
    return " ".join(node.text_content().split())


def api(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def facet_counts(page: Any, group: str, chosen: tuple[str, ...] = ()) -> dict[str, int]:
    """Value → count of the values of a facet group not chosen yet, read from the links
    (each adds its value to the ``chosen`` ones)."""
    counts = {}
    for link in page.xpath(f"//section[@aria-labelledby='facet-{group}']//a"):
        if link.get("aria-current"):
            continue
        added = set(re.findall(rf"[?&]{group}=([^&]*)", link.get("href"))) - set(chosen)
        count = link.xpath("string(.//span[@class='count'])").replace(",", "")
        (value,) = added
        counts[value] = int(count)
    return counts


# --- home -----------------------------------------------------------------------------------


def test_the_home_page_shows_the_catalogue_and_its_disciplines_and_levels(
    site: TestClient,
) -> None:
    everything = api(site, per_page=1)
    page = tree(site, "/?lang=en")
    size = text(page.get_element_by_id("catalogue-size"))
    assert f"{everything['total']} open courses" in size
    tiles = {link.get("href"): text(link) for link in page.xpath("//ul[@id='disciplines']//a")}
    categories = {
        v["value"]: v["count"] for v in everything["facets"]["subject"] if len(v["value"]) == 2
    }
    assert len(tiles) == len(categories)
    for code, count in categories.items():
        assert f"{count} course" in tiles[f"/search?subject={code}"]
    assert "Engineering" in " ".join(tiles.values())
    levels = {link.get("href"): text(link) for link in page.xpath("//ul[@id='levels']//a")}
    for value in everything["facets"]["level"]:
        assert f"{value['count']} course" in levels[f"/search?level={value['value']}"]
    assert "Undergraduate education" in " ".join(levels.values())
    assert page.xpath("//ul[@id='newest-courses']/li")
    assert page.xpath("//a[@href='/institutions']")


def test_the_home_page_is_chinese_by_default(site: TestClient) -> None:
    page = tree(site, "/")
    assert page.get("lang") == "zh-CN"
    assert "门开放课程" in text(page.get_element_by_id("catalogue-size"))
    assert "工学" in text(page.get_element_by_id("disciplines"))


def test_search_parameters_on_the_home_page_move_to_the_results_page(site: TestClient) -> None:
    response = site.get("/?q=数据&subject=08")
    assert response.status_code == 301
    assert response.headers["location"] == "/search?q=%E6%95%B0%E6%8D%AE&subject=08"
    assert site.get("/?lang=en").status_code == 200


# --- results --------------------------------------------------------------------------------


def test_an_empty_query_lists_every_course_newest_first(site: TestClient) -> None:
    everything = api(site, per_page=20, sort="newest")
    page = tree(site, "/search?lang=en")
    assert f"{everything['total']} courses" in text(page.get_element_by_id("summary"))
    links = page.xpath("//ol[@id='results']/li//a[starts-with(@href, '/courses/')][1]/@href")
    assert links == [f"/courses/{hit['id']}" for hit in everything["hits"]]
    (current,) = page.xpath("//nav[@class='sorts']//a[@aria-current]")
    assert text(current) == "Newest"


def test_facets_show_every_group_with_the_counts_of_the_search(site: TestClient) -> None:
    answer = api(site, q="数据")
    page = tree(site, "/search?q=数据&lang=en")
    groups = page.xpath("//section[starts-with(@aria-labelledby, 'facet-')]/h2")
    names = [text(h) for h in groups]
    assert names[:2] == ["Discipline", "Level"]
    assert {"Type", "Language", "Institution", "Licence"} <= set(names)
    for group in ("level", "type", "language"):
        expected = {v["value"]: v["count"] for v in answer["facets"][group]}
        assert facet_counts(page, group) == expected
    languages = [text(n) for n in page.xpath("//section[@aria-labelledby='facet-language']//a")]
    assert any(name.startswith("Chinese") for name in languages)


def test_a_chosen_facet_still_counts_its_other_values(site: TestClient) -> None:
    """Levels are ORed: choosing one leaves the others to add, with their own counts."""
    level = api(site, q="数据")["facets"]["level"][0]["value"]
    page = tree(site, f"/search?q=数据&level={level}")
    others = facet_counts(page, "level", chosen=(level,))
    unfiltered = {v["value"]: v["count"] for v in api(site, q="数据")["facets"]["level"]}
    assert others == {k: v for k, v in unfiltered.items() if k != level}
    # Adding another level ORs it: the link holds both.
    other = next(iter(others))
    links = page.xpath(f"//section[@aria-labelledby='facet-level']//a[contains(@href, '{other}')]")
    assert f"level={level}&level={other}" in links[0].get("href")
    # Other groups are counted within the chosen level.
    within = {v["value"]: v["count"] for v in api(site, q="数据", level=level)["facets"]["type"]}
    assert facet_counts(page, "type") == within


def test_subjects_are_a_tree_of_categories_and_their_disciplines(site: TestClient) -> None:
    page = tree(site, "/search?subject=08&lang=en")
    (engineering,) = page.xpath(
        "//section[@aria-labelledby='facet-subject']/ul/li[a[@aria-current]]"
    )
    assert "Engineering" in text(engineering.xpath("a")[0])
    children = engineering.xpath("ul/li/a")
    assert children, "the chosen category shows its disciplines"
    assert all(re.search(r"subject=08\d\d", a.get("href")) for a in children)
    assert all("subject=08&" not in a.get("href") for a in children), "a discipline replaces it"
    computing = api(site, subject="0812")["total"]
    listed = [a for a in children if "subject=0812" in a.get("href")]
    assert listed and f"{computing}" in text(listed[0])
    # Choosing a discipline keeps its category open and shows the discipline's courses only.
    page = tree(site, "/search?subject=0812&lang=en")
    assert f"{computing} course" in text(page.get_element_by_id("summary"))
    assert page.xpath("//section[@aria-labelledby='facet-subject']//a[@aria-current]")


def test_chips_remove_one_filter_and_clear_all_keeps_the_query(site: TestClient) -> None:
    page = tree(site, "/search?q=数据&subject=08&level=undergraduate&lang=en")
    chips = {text(a): a.get("href") for a in page.xpath("//a[@class='chip']")}
    assert len(chips) == 2
    subject_chip = next(label for label in chips if label.startswith("Discipline"))
    assert "Engineering" in subject_chip
    assert chips[subject_chip] == "/search?q=%E6%95%B0%E6%8D%AE&level=undergraduate&lang=en"
    level_chip = next(label for label in chips if label.startswith("Level"))
    assert "Undergraduate education" in level_chip
    assert chips[level_chip] == "/search?q=%E6%95%B0%E6%8D%AE&subject=08&lang=en"
    (clear,) = page.xpath("//a[@class='clear']")
    assert clear.get("href") == "/search?q=%E6%95%B0%E6%8D%AE&lang=en"
    # A new query from the search box keeps the filters.
    hidden = page.xpath("//header//form[@role='search']//input[@type='hidden']")
    assert {(i.get("name"), i.get("value")) for i in hidden} == {
        ("subject", "08"),
        ("level", "undergraduate"),
    }


def test_sort_by_title_orders_the_results_and_is_marked_current(site: TestClient) -> None:
    page = tree(site, "/search?q=数据&sort=title&lang=en")
    expected = [hit["id"] for hit in api(site, q="数据", sort="title")["hits"]]
    shown = page.xpath("//ol[@id='results']/li//h2/a/@href")
    assert shown == [f"/courses/{i}" for i in expected]
    sorts = {text(a): a for a in page.xpath("//nav[@class='sorts']//a")}
    assert list(sorts) == ["Relevance", "Newest", "Title"]
    assert sorts["Title"].get("aria-current") == "true"
    assert sorts["Newest"].get("href") == "/search?q=%E6%95%B0%E6%8D%AE&sort=newest&lang=en"


def test_results_are_numbered_across_pages(site: TestClient) -> None:
    total = api(site)["total"]
    last = -(-total // 20)
    assert last >= 3
    page = tree(site, "/search?page=2")
    (results,) = page.xpath("//ol[@id='results']")
    assert results.get("start") == "21"
    assert len(results.xpath("li")) == 20
    assert f"第 2 / {last} 页" in text(page.get_element_by_id("summary"))
    nav = page.xpath("//nav[@class='pagination']")[0]
    (current,) = nav.xpath(".//a[@aria-current='page']")
    assert text(current) == "2"
    assert nav.xpath(".//a[@rel='prev']/@href") == ["/search"]
    assert nav.xpath(".//a[@rel='next']/@href") == ["/search?page=3"]
    assert f"/search?page={last}" in nav.xpath(".//a/@href")
    english = tree(site, "/search?page=2&lang=en")
    assert f"Page 2 of {last}" in text(english.get_element_by_id("summary"))
    # The second page continues where the first stopped.
    first = api(site, sort="newest", per_page=40)["hits"]
    shown = results.xpath("li//h2/a/@href")
    assert shown == [f"/courses/{hit['id']}" for hit in first[20:40]]


def test_a_page_past_the_last_offers_the_last_one(site: TestClient) -> None:
    page = tree(site, "/search?q=数据&page=400")
    empty = page.get_element_by_id("empty")
    assert empty.xpath(".//a/@href")[0].startswith("/search?q=")


def test_matches_in_titles_are_marked_and_the_rest_escaped(site: TestClient) -> None:
    site.cookies.clear()
    response = site.get("/search", params={"q": "数据治理"})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "<b>实践" not in response.text
    page = html.fromstring(response.text)
    (title,) = page.xpath("//h2/a[@href='/courses/own-markup']")
    assert title.xpath(".//mark"), "the query is marked in the title"
    assert text(title) == MARKUP_TITLE
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>" in response.text


def test_result_cards_show_words_teachers_and_files(site: TestClient) -> None:
    page = tree(site, "/search?q=quantum widgets")
    (card,) = page.xpath("//article[.//a[@href='/courses/own-english']]")
    facts = text(card.xpath(".//p[@class='facts']")[0])
    assert "本科教育" in facts
    assert "英语" in facts
    teachers = text(card.xpath(".//p[@class='teachers']")[0])
    assert "Ada Widget" in teachers
    assert "Big College" not in teachers, "a publisher is no teacher"
    assert "Big College" in facts, "it is the course's institution"
    # The English title on a Chinese page says so.
    assert card.xpath(".//h2/a")[0].get("lang") == "en"
    demo = tree(site, "/search?q=计算机")
    assert demo.xpath("//p[@class='facts']/span[@class='files-mark']")
    assert demo.xpath("//p[@class='subjects']/a[starts-with(@href, '/search?subject=')]")


def test_a_search_without_results_helps(site: TestClient) -> None:
    page = tree(site, "/search?q=zzqxv%20wwkkj&level=senior&lang=en")
    empty = page.get_element_by_id("empty")
    words = text(empty)
    assert "No courses found" in words
    assert "spelling" in words
    fewer = empty.xpath(".//a[starts-with(@href, '/search?q=')]/@href")
    assert "/search?q=zzqxv&level=senior&lang=en" in fewer
    assert "/search?q=zzqxv+wwkkj&lang=en" in fewer, "the same words without the filters"
    browse = empty.xpath(".//ul[@class='browse-list']//a/@href")
    assert "/search?subject=08" in browse


# --- languages ------------------------------------------------------------------------------


def test_results_in_english_name_values_in_english(site: TestClient) -> None:
    page = tree(site, "/search?q=数据", headers={"accept-language": "en"})
    assert page.get("lang") == "en"
    facets = text(page.get_element_by_id("filters"))
    assert "Undergraduate education" in facets
    assert "本科教育" not in facets
    chinese_titles = page.xpath("//ol[@id='results']//h2/a[@lang='zh']")
    english_titles = page.xpath("//ol[@id='results']//h2/a[not(@lang)]")
    assert chinese_titles or english_titles
    for title in english_titles:
        assert not re.search(r"[\u4e00-\u9fff]", text(title)), "unmarked titles are English"


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=9999", "page"),
        ("sort=price", "sort"),
        ("level=nonsense", "level"),
        ("subject=abc", "subject"),
        ("lang=fr", "lang"),
    ],
)
def test_a_bad_parameter_is_an_html_422_naming_it(
    site: TestClient, query: str, parameter: str
) -> None:
    page = tree(site, f"/search?q=数据&{query}", status=422)
    error = page.get_element_by_id("error")
    assert error.xpath(".//ul[@class='problems']//code")[0].text == parameter
    retry = error.xpath(".//ul[@class='ways']//a/@href")[0]
    assert retry == "/search?q=%E6%95%B0%E6%8D%AE", "a way out without the bad parameter"
    api_answer = site.get(f"/api/v1/search?{query}")
    assert api_answer.status_code == 422
    assert api_answer.json()["error"] == "invalid_parameter"


def test_unknown_pages_are_html_and_unknown_api_paths_json(site: TestClient) -> None:
    page = tree(site, "/no/such/page", status=404)
    assert page.get_element_by_id("error").get("data-status") == "404"
    assert page.xpath("//header//form[@role='search']"), "a way on: the search box"
    assert page.xpath("//main//a[@href='/']")
    api_answer = site.get("/api/v1/no-such-thing")
    assert api_answer.status_code == 404
    assert api_answer.json()["error"] == "not_found"
    assert site.get("/api/v1/search?page=0").json()["error"] == "invalid_parameter"


def test_a_removed_course_is_an_html_410(site: TestClient) -> None:
    page = tree(site, "/courses/own-removed?lang=en", status=410)
    assert "This course was removed" in text(page)
    assert site.get("/api/v1/resources/own-removed").json()["error"] == "gone"
    page = tree(site, "/courses/never-was", status=404)
    assert "没有这门课程" in text(page)


def test_oai_keeps_its_own_errors(site: TestClient) -> None:
    response = site.get("/oai?verb=Nonsense")
    assert response.status_code == 200
    assert b"badVerb" in response.content


def test_when_search_is_down_the_results_page_is_an_html_503(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as offline:
        response = offline.get("/search?q=数据")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["retry-after"] == "30"
        assert html.fromstring(response.text).get_element_by_id("error") is not None
        assert "127.0.0.1:9" not in response.text, "no address of the service that is down"
        api_answer = offline.get("/api/v1/search?q=数据")
        assert api_answer.status_code == 503
        assert api_answer.json()["error"] == "service_unavailable"
        # The home page still offers its search box, and says browsing is unavailable.
        home = offline.get("/")
        assert home.status_code == 200
        assert html.fromstring(home.text).xpath("//p[@class='notice']")


# --- institutions and licences ----------------------------------------------------------


def test_the_institution_facet_has_one_value_per_school_named_in_the_page_language(
    site: TestClient,
) -> None:
    answer = api(site, q="数据")
    page = tree(site, "/search?q=数据&lang=en")
    expected = {v["value"]: v["count"] for v in answer["facets"]["institution"]}
    assert facet_counts(page, "institution") == expected
    names = {v["value"]: v["label"]["en"] for v in answer["facets"]["institution"]}
    shown = page.xpath("//section[@aria-labelledby='facet-institution']//a")
    for link in shown:
        (value,) = re.findall(r"institution=([^&]*)", link.get("href"))
        assert text(link.xpath(".//span[@class='name']")[0]) == names[value]


def test_licences_are_named_and_the_open_switch_keeps_open_ones(site: TestClient) -> None:
    answer = api(site, q="数据")
    page = tree(site, "/search?q=数据&lang=en")
    labels = {v["value"]: v["label"]["en"] for v in answer["facets"]["license"]}
    for link in page.xpath("//section[@aria-labelledby='facet-license']/ul//a"):
        (value,) = re.findall(r"license=([^&]*)", link.get("href"))
        assert text(link.xpath(".//span[@class='name']")[0]) == labels[value]
    switch = page.get_element_by_id("open-switch")
    opened = {v["value"]: v["count"] for v in answer["facets"]["open"]}["true"]
    assert text(switch) == f"Open licences only {opened}"
    assert switch.get("href") == "/search?q=%E6%95%B0%E6%8D%AE&open=true&lang=en"

    page = tree(site, switch.get("href"))
    assert f"{api(site, q='数据', open='true')['total']} course" in text(
        page.get_element_by_id("summary")
    )
    switch = page.get_element_by_id("open-switch")
    assert switch.get("aria-current") == "true"
    assert text(switch).startswith(f"Open licences only {opened}"), "still counted without it"
    chips = {text(a): a.get("href") for a in page.xpath("//a[@class='chip']")}
    assert chips == {"Open licences only × (remove)": "/search?q=%E6%95%B0%E6%8D%AE&lang=en"}


def test_the_institutions_page_lists_every_school_once_in_name_order(site: TestClient) -> None:
    schools = site.get("/api/v1/institutions").json()["institutions"]
    assert schools
    page = tree(site, "/institutions")
    links = page.xpath("//ul[starts-with(@id, 'schools')]/li/a")
    assert sorted(a.get("href") for a in links) == sorted(
        f"/institutions/{school['id']}" for school in schools
    )
    shown = [text(a) for a in links]
    assert shown == sorted(shown, key=lambda name: " ".join(lazy_pinyin(name)).casefold())
    counts = {f"/institutions/{s['id']}": s["count"] for s in schools}
    for item in page.xpath("//ul[starts-with(@id, 'schools')]/li"):
        href = item.xpath("a/@href")[0]
        assert f"{counts[href]} 门课程" in text(item)
    by_count = tree(site, "/institutions?sort=courses&lang=en")
    hrefs = by_count.xpath("//ul[@id='schools']/li/a/@href")
    assert [counts[h] for h in hrefs] == sorted(counts.values(), reverse=True)


def test_an_institution_page_names_the_school_and_leads_to_its_courses(
    site: TestClient,
) -> None:
    school = site.get("/api/v1/institutions").json()["institutions"][0]
    page = tree(site, f"/institutions/{school['id']}?lang=en")
    (heading,) = page.xpath("//h1")
    assert text(heading) == school["label"]["en"]
    if school["name_zh"]:
        (other,) = page.xpath("//p[@class='other-name']")
        assert (text(other), other.get("lang")) == (school["name_zh"], "zh")
    total = api(site, institution=school["id"])["total"]
    assert f"{total} open course" in text(page.get_element_by_id("institution-size"))
    everything = f"/search?institution={school['id']}&lang=en"
    assert everything in page.xpath("//a/@href")
    tiles = page.xpath("//ul[@id='school-disciplines-list']//a/@href")
    pattern = rf"/search\?subject=\d\d&institution={school['id']}&lang=en"
    assert tiles
    assert all(re.fullmatch(pattern, h) for h in tiles)
    courses = page.xpath("//ul[@id='school-courses']//h3/a/@href")
    newest = api(site, institution=school["id"], sort="newest", per_page=len(courses))["hits"]
    assert courses == [f"/courses/{hit['id']}" for hit in newest]


def test_an_unknown_institution_is_an_html_404(site: TestClient) -> None:
    page = tree(site, "/institutions/no-such-school?lang=en", status=404)
    assert "There is no such institution" in text(page)
    assert site.get("/api/v1/institutions/no-such-school").json()["error"] == "not_found"

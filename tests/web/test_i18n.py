"""One language at a time: the catalogues, the language a request gets, value words.

These run without Meilisearch: the pages tried here do not search.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from lxml import html

from app.main import create_app
from app.web import i18n
from app.web.templating import templates
from tests.conftest import REPO_ROOT, make_settings

# --- the catalogues -----------------------------------------------------------------------


def extracted_messages() -> set[str]:
    """Every msgid the templates use, found as `make messages` finds them (babel.cfg)."""
    with (REPO_ROOT / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        REPO_ROOT, method_map, options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(lang: str) -> dict[str, Message]:
    path = i18n.LOCALE_DIR / i18n.CATALOGUES[lang] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=i18n.LOCALES[lang])
    problems = [f"{message.id}: {errors}" for message, errors in catalog.check()]
    assert not problems, problems
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id and not m.fuzzy
    }


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_each_catalogue_holds_exactly_the_messages_the_templates_use(lang: str) -> None:
    used = extracted_messages()
    assert len(used) > 30
    held = set(catalogue(lang))
    assert used - held == set(), "run `make messages` and translate the new entries"
    assert held - used == set(), "run `make messages`: these messages are no longer used"


def test_every_message_has_a_chinese_translation() -> None:
    def translated(message: Message) -> bool:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return all(strings)

    untranslated = [msgid for msgid, message in catalogue("zh").items() if not translated(message)]
    assert untranslated == []


def test_messages_are_compiled_from_the_catalogues_at_import() -> None:
    assert i18n.gettext("zh", "Search courses") == "搜索课程"
    assert i18n.gettext("en", "Search courses") == "Search courses"
    assert i18n.ngettext("en", "%(total)s course", "%(total)s courses", 1) == "%(total)s course"
    assert i18n.ngettext("en", "%(total)s course", "%(total)s courses", 2) == "%(total)s courses"
    assert i18n.ngettext("zh", "%(total)s course", "%(total)s courses", 2) == "%(total)s 门课程"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_a_pages_bound_gettext_renders_as_the_environments_newstyle_gettext(lang: str) -> None:
    """Pages get gettext bound to their language; what they render must not change."""
    template = templates.env.from_string(
        '{{ _("Search courses") }}|{{ _("Courses for “%(query)s”", query=q) }}|'
        "{% trans count=n, total=n %}{{ total }} course{% pluralize %}{{ total }} courses"
        '{% endtrans %}|{% trans %}100%% open{% endtrans %}|{{ _("Page %(page)s", page=2) }}'
    )
    values = {"lang": lang, "q": "<b>&x</b>", "n": 3}
    expected = template.render(values)
    assert template.render({**values, **i18n.bound_gettext(lang)}) == expected
    assert "&lt;b&gt;&amp;x&lt;/b&gt;" in expected  # variables escaped, the text is markup


# --- which language -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("", "zh"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.5,zh-TW;q=0.8", "zh"),  # weights, not order, decide
        ("fr-FR,fr;q=0.9,en;q=0.7", "en"),  # the first language we have
        ("fr,de", "zh"),  # none of ours: the default
        ("en;q=0,zh;q=0.1", "zh"),  # q=0 means "not this"
        ("*", "zh"),
        ("en;q=abc, zh", "zh"),  # a broken weight drops its range only
        ("<script>,en", "en"),
    ],
)
def test_accept_language_is_negotiated_by_weight(header: str, lang: str) -> None:
    assert i18n.negotiated_language(header) == lang


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[TestClient]:
    """The app with Meilisearch and S3 at a closed port: pages that do not search."""
    with TestClient(create_app(make_settings(tmp_path))) as client:
        yield client


def page_lang(client: TestClient, url: str, headers: dict[str, str] | None = None) -> str:
    response = client.get(url, headers=headers)
    lang = html.fromstring(response.text).get("lang")
    assert response.headers["content-language"] == lang
    return str(lang)


def test_the_default_page_is_chinese(offline: TestClient) -> None:
    assert page_lang(offline, "/nowhere") == "zh-CN"


def test_accept_language_chooses_english(offline: TestClient) -> None:
    assert page_lang(offline, "/nowhere", headers={"accept-language": "en-GB,en;q=0.8"}) == "en"
    assert "set-cookie" not in offline.get("/nowhere", headers={"accept-language": "en"}).headers


def test_the_lang_parameter_wins_and_is_remembered_in_a_cookie(offline: TestClient) -> None:
    english = {"accept-language": "en"}
    response = offline.get("/nowhere?lang=zh", headers=english)
    assert html.fromstring(response.text).get("lang") == "zh-CN"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lang=zh;")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    # The cookie now outranks the header, until another ?lang= changes it.
    assert page_lang(offline, "/nowhere", headers=english) == "zh-CN"
    assert page_lang(offline, "/nowhere?lang=en") == "en"
    assert page_lang(offline, "/nowhere") == "en"


def test_an_unknown_lang_value_is_refused_on_a_page(offline: TestClient) -> None:
    response = offline.get("/?lang=fr")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "set-cookie" not in response.headers


def test_pages_say_they_vary_by_language(offline: TestClient) -> None:
    vary = offline.get("/").headers["vary"]
    assert "Accept-Language" in vary
    assert "Cookie" in vary


def test_the_switch_links_to_the_other_language_keeping_the_other_parameters(
    offline: TestClient,
) -> None:
    tree = html.fromstring(offline.get("/nowhere?q=数据&lang=zh&page=2").text)
    (switch,) = tree.xpath("//header//a[@hreflang='en']")
    assert switch.get("href") == "/nowhere?q=%E6%95%B0%E6%8D%AE&page=2&lang=en"
    assert switch.get("lang") == "en"
    assert switch.text_content().strip() == "English"
    tree = html.fromstring(offline.get("/nowhere?lang=en").text)
    (switch,) = tree.xpath("//header//a[@hreflang='zh-CN']")
    assert switch.get("href") == "/nowhere?lang=zh"
    assert switch.text_content().strip() == "中文"


def test_canonical_and_hreflang_links_name_both_languages(offline: TestClient) -> None:
    tree = html.fromstring(offline.get("/nowhere?lang=en&q=x").text)
    base = "http://127.0.0.1:8000"
    assert tree.xpath("//link[@rel='canonical']/@href") == [f"{base}/nowhere?q=x&lang=en"]
    alternates = {
        link.get("hreflang"): link.get("href") for link in tree.xpath("//link[@rel='alternate']")
    }
    assert alternates == {
        "zh-CN": f"{base}/nowhere?q=x",
        "en": f"{base}/nowhere?q=x&lang=en",
        "x-default": f"{base}/nowhere?q=x",
    }


def test_the_page_is_translated_not_bilingual(offline: TestClient) -> None:
    chinese = offline.get("/nowhere").text
    english = offline.get("/nowhere?lang=en").text
    assert "搜索课程" in chinese
    assert "Search courses" not in chinese
    assert "Search courses" in english
    assert "搜索课程" not in english


# --- value words --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [("zh", "中文", "Chinese"), ("en", "英语", "English"), ("fr", "法语", "French")],
)
def test_language_names_come_from_babel(code: str, zh: str, en: str) -> None:
    assert i18n.language_name(code, "zh") == zh
    assert i18n.language_name(code, "en") == en


def test_a_regional_language_tag_is_named_and_an_unknown_one_kept() -> None:
    assert i18n.language_name("en-GB", "en") == "British English"
    assert i18n.language_name("zh-Hans", "zh") == "简体中文"
    assert i18n.language_name("xx", "en") == "xx"


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        ("PT54H", "54小时", "54 hours"),
        ("PT1H30M", "1小时30分钟", "1 hour, 30 minutes"),
        ("P2W", "2周", "2 weeks"),
        ("P1DT2H", "1天2小时", "1 day, 2 hours"),
        ("PT0.5H", "0.5小时", "0.5 hours"),
        ("about 3 hours", "about 3 hours", "about 3 hours"),  # not a duration: shown as given
    ],
)
def test_durations_are_words(value: str, zh: str, en: str) -> None:
    assert i18n.duration(value, "zh") == zh
    assert i18n.duration(value, "en") == en


def test_dates_sizes_numbers_and_vocabulary_values_are_words() -> None:
    assert i18n.date_words(date(2025, 3, 1), "zh") == "2025年3月1日"
    assert i18n.date_words("2025-03-01T08:00:00Z", "en") == "March 1, 2025"
    assert i18n.date_words("2025-03", "zh") == "2025年3月"
    assert i18n.date_words("2025", "en") == "2025"
    assert i18n.file_size(1_234_567, "en") == "1.2 MB"
    assert i18n.file_size(512, "zh") == "512 B"
    assert i18n.number(12345, "en") == "12,345"
    assert i18n.percent(0.8234, "zh") == "82.3%"
    assert i18n.percent(1, "en") == "100%"
    assert i18n.percent(None, "en") == ""
    moment = datetime(2026, 3, 1, 8, 5, tzinfo=UTC)
    assert i18n.moment(moment, "zh") == "2026年3月1日 08:05 UTC"
    assert i18n.moment(moment.astimezone(timezone(timedelta(hours=8))), "en") == (
        "Mar 1, 2026 08:05 UTC"
    )
    assert i18n.level_name("undergraduate", "zh") == "本科教育"
    assert i18n.type_name("video", "en") == "Video material"
    assert i18n.discipline_name("08", "zh") == "工学"
    assert i18n.discipline_name("0812", "en") == "Computer Science and Technology"
    assert i18n.discipline_name("081201", "zh") == "计算机科学与技术"


def test_text_in_the_other_language_carries_its_own_lang() -> None:
    title = i18n.pick({"en": "Data Mining"}, "zh")
    assert (title.text, title.lang) == ("Data Mining", "en")
    assert str(i18n.lang_attribute(title.lang, "zh")) == ' lang="en"'
    assert str(i18n.lang_attribute("zh", "zh")) == ""
    assert i18n.pick({"zh": "数据挖掘", "en": "Data Mining"}, "en").text == "Data Mining"
    assert i18n.pick({"fr": "Algorithmique"}, "zh").lang == "fr"


def test_the_catalogues_and_templates_ship_in_the_wheel() -> None:
    """Installed from a wheel, the pages need the .po files (compiled at import) and every
    template: each matches a package-data pattern of pyproject.toml."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as config:
        patterns = tomllib.load(config)["tool"]["setuptools"]["package-data"]["app"]
    app_dir = REPO_ROOT / "app"
    shipped = [*app_dir.glob("web/locale/**/*.po"), *app_dir.glob("web/templates/*")]
    assert len(shipped) > 5
    for path in shipped:
        relative = path.relative_to(app_dir).as_posix()
        assert any(fnmatch(relative, pattern) for pattern in patterns), relative


def test_licences_are_named_and_explained_in_the_page_language() -> None:
    assert i18n.licence_name("CC-BY-4.0", "en").startswith("Creative Commons Attribution 4.0")
    assert "CC BY 4.0" in i18n.licence_name("CC-BY-4.0", "zh")
    assert i18n.licence_name("all-rights-reserved", "zh") == "版权所有"
    assert i18n.licence_meaning("CC-BY-4.0", "zh")
    assert i18n.licence_meaning("CC-BY-4.0", "en") != i18n.licence_meaning("CC-BY-4.0", "zh")
    assert (i18n.licence_name("made-up", "en"), i18n.licence_meaning("made-up", "en")) == (
        "made-up",
        "",
    )

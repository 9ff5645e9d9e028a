"""A result card's snippet carries the language its record states, not a guess."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.search.documents import to_document
from app.search.service import _hit
from app.web.results import card
from metadata.profile import ResourceRecord


def raw_hit(descriptions: list[str], languages: list[str] | None) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": "cf-1", "title": "线性代数", "title_zh": "线性代数"}
    raw["_formatted"] = {"descriptions": descriptions}
    if languages is not None:
        raw["description_languages"] = languages
    return raw


def test_the_snippet_where_the_query_was_found_keeps_its_records_language() -> None:
    snippets = ["线性代数是基础课。", "An \x02introduction\x03 to matrices."]
    hit = _hit(raw_hit(snippets, ["zh", "en"]))
    assert hit.description_language == "en"
    assert "<mark>introduction</mark>" in hit.description


def test_a_german_snippet_is_marked_german_as_stated_not_as_guessed() -> None:
    # Word counts would take it for English; the record says it is German.
    hit = _hit(raw_hit(["Lineare Algebra für Ingenieure"], ["de"]))
    assert card(hit, "zh").snippet.lang == "de"
    assert card(hit, "en").snippet.lang == "de"
    english = _hit(raw_hit(["Linear algebra for engineers"], ["en"]))
    assert card(english, "en").snippet.lang == ""  # the page's own language needs no mark


def test_an_unstated_or_unindexed_language_is_guessed_from_the_words() -> None:
    english = "This course introduces the management of organisations and their people."
    for languages in (["und"], None):  # not stated, or indexed before languages were kept
        hit = _hit(raw_hit([english], languages))
        assert card(hit, "zh").snippet.lang == "en"


def test_documents_list_each_descriptions_language_in_order() -> None:
    record = ResourceRecord(
        id="cf-2",
        title={"zh": "线性代数"},
        description={"zh": "中文简介", "en": "In English", "und": ""},
    )
    document = to_document(record, source="s", updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert document["descriptions"] == ["中文简介", "In English"]
    assert document["description_languages"] == ["zh", "en"]


def test_a_hits_links_are_http_urls_or_none_each_time_they_come_back() -> None:
    raw = raw_hit(["线性代数是基础课。"], ["zh"])
    raw["url"] = "javascript:alert(1)"
    raw["provenances"] = [
        {"id": "cf-1", "source": "s", "url": " HTTPS://example.edu.cn/linear "},
        {"id": "cf-3", "source": "s", "url": ["not", "a", "string"]},
    ]
    for _ in range(2):  # the second time from what the first remembered
        hit = _hit(raw)
        assert hit.url is None
        assert [p.url for p in hit.provenances] == ["https://example.edu.cn/linear", None]

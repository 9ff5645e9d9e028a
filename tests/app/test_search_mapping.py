"""What search documents carry for the statistics (the month a course was added, its
categories and disciplines), facets that keep their most frequent values past the cap, and
an index of an older mapping rebuilt by the next sync."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.engine import Engine

from app.catalogue import repository
from app.db import session_scope
from app.jobs import sync_search
from app.search import indexer, service
from app.search.documents import DOCUMENT_VERSION, added_month, to_document
from app.search.gateway import SearchIndex
from app.search.index_settings import MAX_VALUES_PER_FACET, index_settings
from app.search.indexer import MAPPING_CURSOR, documents_for
from app.settings import Settings
from metadata.profile import ResourceRecord, Subject
from tests.app.records import store_course


def test_a_document_names_the_month_its_course_was_first_stored_in_utc() -> None:
    record = ResourceRecord(id="r1", title={"zh": "课程"}, subjects=[Subject(code="081201")])
    beijing = timezone(timedelta(hours=8))
    document = to_document(
        record,
        source="college",
        updated_at=datetime(2026, 5, 1, tzinfo=UTC),
        added=datetime(2026, 3, 1, 2, 0, tzinfo=beijing),  # still February in UTC
    )
    assert document["added_month"] == "2026-02"
    assert document["subject_codes"] == ["08", "0812", "081201"]
    assert document["discipline_codes"] == ["08", "0812"]
    naive = datetime(2026, 12, 31, 23, 59)  # noqa: DTZ001 - as SQLite gives stored times back
    assert added_month(naive) == "2026-12", "naive times are UTC"
    assert added_month(None) is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_courses_are_indexed_with_the_month_they_were_first_harvested(
    live: Settings, live_engine: Engine
) -> None:
    store_course(live_engine, 1, "示范大学")
    store_course(live_engine, 1, "示范大学", revision=1)  # an update keeps the first month
    sync_search(live_engine, live)
    with SearchIndex.from_settings(live) as index:
        (document,) = index.iter_documents(live.meili_index, ["id", "added_month"])
    assert document["added_month"] == datetime.now(UTC).strftime("%Y-%m")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_index_made_by_an_older_mapping_is_rebuilt_by_the_next_sync(
    live: Settings, live_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        store_course(live_engine, n, "示范大学")
    sync_search(live_engine, live)
    uid = live.meili_index
    with SearchIndex.from_settings(live) as index:
        # The documents of an older mapping: without the new field, and marked so.
        with session_scope(live_engine) as session:
            rows = repository.live_resources_after(session, "", 100)
            old = documents_for(session, rows, {})
            repository.set_cursor(session, MAPPING_CURSOR, DOCUMENT_VERSION - 1)
        for document in old:
            del document["added_month"]
        index.wait_for_task(index.add_documents(uid, old))
        assert not any(d.get("added_month") for d in index.iter_documents(uid, ["added_month"]))

        sync_search(live_engine, live)

        documents = list(index.iter_documents(uid, ["id", "added_month"]))
        assert len(documents) == 3
        assert all(d.get("added_month") for d in documents)
    with session_scope(live_engine) as session:
        assert repository.get_cursor(session, MAPPING_CURSOR) == DOCUMENT_VERSION

    def rebuilt(*_args: object, **_kwargs: object) -> int:
        raise AssertionError("an index of this mapping is not rebuilt again")

    monkeypatch.setattr(indexer, "reindex", rebuilt)
    sync_search(live_engine, live)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_facet_with_more_values_than_the_cap_keeps_the_most_frequent(
    live: Settings,
) -> None:
    """Sorted by name, Meilisearch kept the first 200 codes: many 6-digit codes under
    category 01 pushed category 14 out of the subject facet."""
    uid = f"test-{uuid.uuid4().hex[:12]}"
    many = MAX_VALUES_PER_FACET + 40
    documents = [
        {"id": f"a{n}", "subject_codes": ["01", "0101", f"01{n:04d}"], "has_objects": False}
        for n in range(many)
    ] + [{"id": f"b{n}", "subject_codes": ["14", "1401"], "has_objects": True} for n in range(5)]
    with SearchIndex.from_settings(live) as index:
        index.ensure_index(uid, index_settings())
        try:
            index.wait_for_task(index.add_documents(uid, documents))
            answer = service.search(index, uid, q="", page=1, per_page=1)
        finally:
            index.delete_index(uid)
    counts = {value.value: value.count for value in answer.facets["subject"]}
    assert len(counts) == MAX_VALUES_PER_FACET
    assert counts["01"] == many
    assert counts["14"] == 5
    assert counts["1401"] == 5

"""The store and its journal, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue import repository
from app.catalogue import service as catalogue
from app.catalogue.models import JournalEntry, Resource
from app.db import session_scope
from app.sources import service as sources
from metadata.profile import Issue, Provenance, ResourceRecord
from tests.app.records import stored


def _item(source_id: int, oai_id: str, title: str, raw: bytes) -> catalogue.StoredRecord:
    rid = catalogue.resource_id_for("college", oai_id)
    record = ResourceRecord(
        id=rid,
        title={"zh": title},
        provenance=Provenance(
            source="college",
            oai_identifier=oai_id,
            datestamp="2026-01-01T00:00:00Z",
            metadata_prefix="oai_dc",
            harvested_at=datetime.now(UTC),
            raw_sha256="0" * 64,
        ),
    )
    return stored(record, raw, oai_id=oai_id, source_id=source_id)


def _source(engine: Engine) -> int:
    with session_scope(engine) as session:
        source = sources.add_source(session, slug="college", base_url="http://example.org/oai")
        assert source.id is not None
        return source.id


def test_upsert_unchanged_and_delete_write_the_journal(engine: Engine) -> None:
    source_id = _source(engine)
    item = _item(source_id, "oai:college:1", "计算机科学导论", b"<record>1</record>")
    with session_scope(engine) as session:
        assert catalogue.upsert(session, item) is catalogue.Outcome.CREATED
    with session_scope(engine) as session:
        assert catalogue.upsert(session, item) is catalogue.Outcome.UNCHANGED
    changed = _item(source_id, "oai:college:1", "计算机科学导论（第二版）", b"<record>2</record>")
    with session_scope(engine) as session:
        assert catalogue.upsert(session, changed) is catalogue.Outcome.UPDATED
    with session_scope(engine) as session:
        assert catalogue.delete(session, item.record.id) is catalogue.Outcome.DELETED
        assert catalogue.delete(session, item.record.id) is catalogue.Outcome.ALREADY_ABSENT
    with session_scope(engine) as session:
        ops = [(e.op, e.resource_id) for e in repository.journal_since(session, 0, 100)]
        row = session.get(Resource, item.record.id)
        assert row is not None
        assert row.deleted, "a deletion leaves a tombstone, not a hole"
        assert row.record["title"] == {"zh": "计算机科学导论（第二版）"}
        assert row.raw_xml == b"<record>2</record>"
    rid = item.record.id
    assert ops == [("upsert", rid), ("upsert", rid), ("delete", rid)]


def test_failed_transaction_leaves_no_journal_entry(engine: Engine) -> None:
    source_id = _source(engine)
    item = _item(source_id, "oai:college:2", "数据结构", b"<record/>")
    try:
        with session_scope(engine) as session:
            catalogue.upsert(session, item)
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with session_scope(engine) as session:
        assert session.get(Resource, item.record.id) is None
        assert repository.last_serial(session) == 0


def test_serials_strictly_increase_and_are_never_reused(engine: Engine) -> None:
    source_id = _source(engine)
    for n in range(5):
        with session_scope(engine) as session:
            catalogue.upsert(session, _item(source_id, f"oai:college:{n}", f"课程{n}", b"%d" % n))
    with session_scope(engine) as session:
        newest = session.exec(select(JournalEntry).order_by(JournalEntry.serial.desc())).first()  # type: ignore[union-attr]
        assert newest is not None
        session.delete(newest)
    with session_scope(engine) as session:
        catalogue.upsert(session, _item(source_id, "oai:college:9", "新课程", b"9"))
    with session_scope(engine) as session:
        serials = [e.serial for e in repository.journal_since(session, 0, 100)]
    assert serials == [1, 2, 3, 4, 6], "serial 5 was deleted and must not be handed out again"


def test_errors_keep_a_record_out_of_the_public_catalogue(engine: Engine) -> None:
    source_id = _source(engine)
    item = _item(source_id, "oai:college:3", "", b"<record>no title</record>")
    bad = catalogue.StoredRecord(
        **{**item.__dict__, "issues": [Issue(severity="error", code="missing_title", message="x")]}
    )
    with session_scope(engine) as session:
        catalogue.upsert(session, bad)
    with session_scope(engine) as session:
        row = session.get(Resource, item.record.id)
        assert row is not None
        assert row.publishable is False
        assert row.issues[0]["code"] == "missing_title"


def test_cursor_round_trip(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert repository.get_cursor(session, "search") == 0
        repository.set_cursor(session, "search", 42)
    with session_scope(engine) as session:
        assert repository.get_cursor(session, "search") == 42

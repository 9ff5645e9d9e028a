"""A source's records by issue code: the issue index always equals what the stored records'
``issues`` say, through creations, edits, deletions and returns, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.catalogue import service as catalogue
from app.catalogue.models import Resource
from app.db import session_scope
from app.sources import service as sources
from metadata.profile import Issue, Provenance, ResourceRecord
from tests.app.records import stored

CODES = {
    "missing_title": "error",
    "missing_license": "warning",
    "missing_description": "warning",
    "invalid_vocabulary": "error",
    "url_not_http": "error",
}


def _source(engine: Engine, slug: str) -> int:
    with session_scope(engine) as session:
        source = sources.add_source(session, slug=slug, base_url=f"http://{slug}.example/oai")
        assert source.id is not None
        return source.id


def _issues(codes: list[str]) -> list[Issue]:
    found = [
        Issue(severity=CODES[code], code=code, message=f"{code} here", path=code.split("_")[-1])
        for code in codes
    ]
    if "url_not_http" in codes:  # a code twice in one record, at two paths
        found.append(
            Issue(severity="error", code="url_not_http", message="again", path="objects[2].url")
        )
    return found


def _record(slug: str, n: int, revision: int = 0) -> tuple[ResourceRecord, bytes, str]:
    oai_id = f"oai:{slug}:{n}"
    raw = f"<record n='{n}' r='{revision}' slug='{slug}'/>".encode()
    record = ResourceRecord(
        id=catalogue.resource_id_for(slug, oai_id),
        title={"zh": f"课程{n}", "en": f"Course {n}"},
        provenance=Provenance(
            source=slug,
            oai_identifier=oai_id,
            datestamp="2026-01-01T00:00:00Z",
            metadata_prefix="oai_dc",
            harvested_at=datetime.now(UTC),
            raw_sha256="0" * 64,
        ),
    )
    return record, raw, oai_id


def _write(
    engine: Engine,
    source_id: int,
    slug: str,
    changes: list[tuple[int, list[str] | None]],
    revision: int,
) -> None:
    """One batch, as a harvest page writes: ``None`` deletes the record."""
    ids = [catalogue.resource_id_for(slug, f"oai:{slug}:{n}") for n, _ in changes]
    with session_scope(engine) as session:
        batch = catalogue.Batch(session, ids)
        for n, codes in changes:
            record, raw, oai_id = _record(slug, n, revision)
            if codes is None:
                batch.delete(record.id)
            else:
                issues = _issues(codes)
                batch.upsert(stored(record, raw, oai_id=oai_id, source_id=source_id, issues=issues))
        batch.flush()


def _scan(session: Session, source_id: int, code: str) -> list[str]:
    """What the list must equal: live records of the source whose stored issues carry
    ``code``, in id order, found by reading every record."""
    rows = session.exec(
        select(Resource)
        .where(Resource.source_id == source_id, col(Resource.deleted).is_(False))
        .order_by(col(Resource.id))
    ).all()
    return [r.id for r in rows if any(i.get("code") == code for i in r.issues)]


def _listed(session: Session, source_id: int, code: str, per_page: int) -> list[str]:
    """Every page of the list, one after the other."""
    ids: list[str] = []
    offset = 0
    while True:
        page = catalogue.records_with_issue(session, source_id, code, offset=offset, limit=per_page)
        ids += [r.id for r in page.records]
        offset += per_page
        if offset >= page.total:
            assert len(ids) == page.total
            return ids


def _assert_index_matches(engine: Engine, source_id: int) -> None:
    with session_scope(engine) as session:
        counts = {c.code: c for c in catalogue.issue_counts(session, source_id)}
        for code, severity in CODES.items():
            expected = _scan(session, source_id, code)
            assert _listed(session, source_id, code, per_page=7) == expected, code
            if expected:
                assert counts[code].records == len(expected)
                assert counts[code].severity == severity
            else:
                assert code not in counts


def test_the_issue_list_equals_the_records_whose_issues_carry_the_code(engine: Engine) -> None:
    college, other = _source(engine, "college"), _source(engine, "other")
    rng = random.Random(16)  # noqa: S311 - a reproducible mix of codes, not a secret

    def some_codes() -> list[str]:
        return [code for code in CODES if rng.random() < 0.3]

    _write(engine, college, "college", [(n, some_codes()) for n in range(80)], revision=0)
    _write(engine, other, "other", [(n, list(CODES)) for n in range(10)], revision=0)
    _assert_index_matches(engine, college)

    # Edits change a record's codes; deletions take it out; some records return.
    edits: list[tuple[int, list[str] | None]] = [(n, some_codes()) for n in range(0, 80, 3)]
    edits += [(n, None) for n in range(1, 80, 7)]
    _write(engine, college, "college", edits, revision=1)
    _assert_index_matches(engine, college)
    returns: list[tuple[int, list[str] | None]] = [(n, ["missing_title"]) for n in (1, 8, 15)]
    _write(engine, college, "college", returns, revision=2)
    _assert_index_matches(engine, college)
    _assert_index_matches(engine, other)


def test_a_record_deleted_and_stored_again_in_one_batch_keeps_its_last_codes(
    engine: Engine,
) -> None:
    college = _source(engine, "college")
    _write(engine, college, "college", [(1, ["missing_title"])], revision=0)
    _write(
        engine,
        college,
        "college",
        [(1, None), (1, ["missing_license"]), (2, ["missing_license"]), (2, None)],
        revision=1,
    )
    with session_scope(engine) as session:
        counts = {c.code: c.records for c in catalogue.issue_counts(session, college)}
    assert counts == {"missing_license": 1}
    _assert_index_matches(engine, college)


def test_a_listed_record_shows_its_title_and_only_the_issues_of_that_code(
    engine: Engine,
) -> None:
    college = _source(engine, "college")
    _write(engine, college, "college", [(1, ["url_not_http", "missing_license"])], revision=0)
    with session_scope(engine) as session:
        page = catalogue.records_with_issue(session, college, "url_not_http", offset=0, limit=10)
        beyond = catalogue.records_with_issue(session, college, "url_not_http", offset=10, limit=10)
        unknown = catalogue.records_with_issue(session, college, "no_such_code", offset=0, limit=5)
    assert page.total == 1
    (listed,) = page.records
    assert listed.oai_identifier == "oai:college:1"
    assert listed.title == {"zh": "课程1", "en": "Course 1"}
    assert [(i["path"], i["message"]) for i in listed.issues] == [
        ("http", "url_not_http here"),
        ("objects[2].url", "again"),
    ]
    assert beyond.total == 1 and beyond.records == []
    assert unknown.total == 0 and unknown.records == []


def test_quality_of_a_source_counts_live_records_in_tenths(engine: Engine) -> None:
    college = _source(engine, "college")
    _write(engine, college, "college", [(n, []) for n in range(4)], revision=0)
    _write(engine, college, "college", [(4, ["missing_title"]), (3, None)], revision=1)
    with session_scope(engine) as session:
        quality = catalogue.source_quality(session, college)
        scores = [
            r.quality
            for r in session.exec(
                select(Resource).where(
                    Resource.source_id == college, col(Resource.deleted).is_(False)
                )
            )
        ]
        everyone = catalogue.quality_of_sources(session)[college]
    assert quality.live_records == 4 and quality.published_records == 3
    assert quality.published_share == 0.75
    assert quality.mean_quality is not None
    assert abs(quality.mean_quality - sum(scores) / 4) < 1e-9
    assert sum(quality.histogram) == 4 and len(quality.histogram) == 10
    assert quality.histogram[catalogue.quality_bucket(scores[0])] == 4
    assert (everyone.live_records, everyone.published_records) == (4, 3)
    assert everyone.mean_quality is not None
    assert abs(everyone.mean_quality - quality.mean_quality) < 1e-9


def test_quality_buckets_are_tenths_with_one_in_the_last() -> None:
    assert [catalogue.quality_bucket(q) for q in (0.0, 0.099, 0.1, 0.5, 0.923, 1.0)] == [
        0,
        0,
        1,
        5,
        9,
        9,
    ]

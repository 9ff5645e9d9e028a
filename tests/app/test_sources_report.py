"""The harvest report reads sources and the catalogue through their repositories; the lease is
a compare-and-swap.  On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from app.catalogue import service as catalogue
from app.db import session_scope
from app.sources import repository
from app.sources import service as sources
from app.sources.models import HarvestRun
from app.sources.report import LISTED, run_report
from metadata.profile import Issue, Provenance, ResourceRecord
from tests.app.records import stored

MISSING_TITLE = Issue(severity="error", code="missing_title", message="no title", path="title")


def _store(
    engine: Engine,
    source_id: int,
    slug: str,
    n: int,
    *,
    issues: list[Issue] | None = None,
    description: str | None = None,
) -> str:
    oai_id = f"oai:{slug}:{n}"
    rid = catalogue.resource_id_for(slug, oai_id)
    record = ResourceRecord(
        id=rid,
        title={"en": f"Course {n}"},
        description={"en": description} if description else {},
        subjects=[{"code": "0812", "label": {"zh": "计算机类"}}] if description else [],
        provenance=Provenance(
            source=slug,
            oai_identifier=oai_id,
            datestamp="2026-01-01T00:00:00Z",
            metadata_prefix="oai_dc",
            harvested_at=datetime.now(UTC),
            raw_sha256="0" * 64,
        ),
    )
    raw = f"<record n='{n}' slug='{slug}'/>".encode()
    with session_scope(engine) as session:
        catalogue.upsert(
            session, stored(record, raw, oai_id=oai_id, source_id=source_id, issues=issues)
        )
    return rid


def _source(engine: Engine, slug: str) -> int:
    with session_scope(engine) as session:
        source = sources.add_source(session, slug=slug, base_url=f"http://{slug}.example/oai")
        assert source.id is not None
        return source.id


def test_report_lists_only_this_sources_live_records_held_back_by_errors(engine: Engine) -> None:
    college, other = _source(engine, "college"), _source(engine, "other")
    _store(engine, college, "college", 1)
    held_back = _store(engine, college, "college", 2, issues=[MISSING_TITLE])
    withdrawn = _store(engine, college, "college", 3, issues=[MISSING_TITLE], description="rich")
    _store(engine, other, "other", 1, issues=[MISSING_TITLE])
    with session_scope(engine) as session:
        catalogue.delete(session, withdrawn)
    with session_scope(engine) as session:
        run = HarvestRun(source_id=college, status="partial")
        repository.save(session, run)
        report = run_report(session, run)
    assert report["source"] == "college"
    assert [r["id"] for r in report["records_with_errors"]] == [held_back]
    assert report["records_with_errors"][0]["issues"] == [MISSING_TITLE.model_dump(mode="json")]


def test_report_counts_live_records_and_their_mean_quality_without_tombstones(
    engine: Engine,
) -> None:
    college = _source(engine, "college")
    plain = _store(engine, college, "college", 1)
    rich = _store(engine, college, "college", 2, description="a rich record")
    gone = _store(engine, college, "college", 3, description="a rich record, withdrawn")
    with session_scope(engine) as session:
        catalogue.delete(session, gone)
    with session_scope(engine) as session:
        qualities = [
            resource.quality
            for rid in (plain, rich)
            if (resource := catalogue.get_resource(session, rid)) is not None
        ]
        run = HarvestRun(source_id=college)
        repository.save(session, run)
        report = run_report(session, run)
    assert qualities[0] != qualities[1], "the two records must differ for the mean to mean much"
    assert report["catalogue"] == {
        "live_records": 2,
        "mean_quality": round(sum(qualities) / 2, 3),
    }


def test_report_of_a_source_with_nothing_live_has_no_mean_quality(engine: Engine) -> None:
    college = _source(engine, "college")
    with session_scope(engine) as session:
        run = HarvestRun(source_id=college, status="failed")
        repository.save(session, run)
        report = run_report(session, run)
    assert report["catalogue"] == {"live_records": 0, "mean_quality": None}
    assert report["failed_records"] == [] and report["records_with_errors"] == []


def test_a_run_with_many_unreadable_records_lists_the_first_ones_in_order(
    engine: Engine,
) -> None:
    college = _source(engine, "college")
    with session_scope(engine) as session:
        run = HarvestRun(source_id=college, status="partial")
        repository.save(session, run)
        assert run.id is not None
        for n in range(LISTED + 25):
            repository.add_failed_record(
                session,
                run_id=run.id,
                source_id=college,
                identifier=f"oai:college:{n}",
                datestamp=None,
                reason="not well-formed",
                raw=b"<record",
            )
    with session_scope(engine) as session:
        latest = sources.last_run(session, college)
        assert latest is not None
        report = run_report(session, latest)
    listed = [f["identifier"] for f in report["failed_records"]]
    assert listed == [f"oai:college:{n}" for n in range(LISTED)]


def test_two_workers_that_saw_the_same_free_lease_cannot_both_take_it(engine: Engine) -> None:
    college = _source(engine, "college")
    until = datetime.now(UTC) + timedelta(minutes=10)
    with session_scope(engine) as session:
        assert repository.take_lease(session, college, held_by=None, owner="a:1", until=until)
    with session_scope(engine) as session:
        # Worker b read the lease as free before a took it: its swap must fail.
        assert not repository.take_lease(session, college, held_by=None, owner="b:2", until=until)
        assert not repository.extend_lease(session, college, owner="b:2", until=until)
        repository.release_lease(session, college, owner="b:2")
    with session_scope(engine) as session:
        source = repository.get_source(session, college)
        assert source is not None and source.lease_owner == "a:1", "b released what it never held"
        assert repository.extend_lease(session, college, owner="a:1", until=until)
        repository.release_lease(session, college, owner="a:1")
    with session_scope(engine) as session:
        source = repository.get_source(session, college)
        assert source is not None and source.lease_owner is None and source.lease_until is None

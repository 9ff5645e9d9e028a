"""A college sees its repository's health: every run kept and paged, the catalogue each run
left, issues by code with the records carrying each, the latest conformance check, quality
and files — through ``app.sources.health`` and the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app import cli
from app.catalogue.models import DigitalObject, Resource
from app.db import session_scope
from app.demo.corpus import DemoRecord, generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.objects.discovery import discover
from app.settings import Settings
from app.sources import health
from app.sources import service as sources
from app.sources.harvest import HarvestOptions, harvest
from app.sources.models import HarvestRun
from tests.app.oai_faults import FaultyRepository

FAST = HarvestOptions(overlap_seconds=300, timeout=10, max_retries=1, backoff_base=0.01)
CORPUS = [r for r in generate_corpus(40) if not r.deleted]
UNREADABLE = CORPUS[5].identifier
BAD_LICENCE = "ask the library"  # no licence anyone can recognise
UNTITLED = 3  # of the records given a bad licence, these lose their title too
FIRST = len(CORPUS) - 1  # records the first harvest stored: all but the unreadable one
LIVE = FIRST - 2  # after the second harvest: two were withdrawn


@dataclasses.dataclass
class Harvested:
    """A source harvested twice: the second harvest brought bad licences and lost titles,
    and two records were withdrawn."""

    source_id: int
    base_url: str
    first: HarvestRun
    second: HarvestRun
    repository: FaultyRepository


def _harvest(engine: Engine, source_id: int) -> HarvestRun:
    return asyncio.run(harvest(engine, source_id, options=FAST))


def _worse(record: DemoRecord, n: int, now: datetime) -> DemoRecord:
    return dataclasses.replace(
        record,
        license=BAD_LICENCE,
        title="" if n < UNTITLED else record.title,
        datestamp=now,
    )


@pytest.fixture
def harvested(engine: Engine) -> Iterator[Harvested]:
    repository = FaultyRepository(CORPUS, broken=[UNREADABLE], page_size=15)
    with DemoRepositoryServer(repository) as server:
        with session_scope(engine) as session:
            source = sources.add_source(
                session, base_url=server.base_url, slug="college", allow_private_network=True
            )
            assert source.id is not None
            source_id = source.id
        first = _harvest(engine, source_id)
        now = datetime.now(UTC).replace(microsecond=0)
        changed = [_worse(r, n, now) for n, r in enumerate(CORPUS[10:18])]
        withdrawn = [dataclasses.replace(r, deleted=True, datestamp=now) for r in CORPUS[20:22]]
        repository.serve([*CORPUS[:10], *changed, *CORPUS[18:20], *withdrawn, *CORPUS[22:]])
        second = _harvest(engine, source_id)
        yield Harvested(source_id, server.base_url, first, second, repository)


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _live(engine: Engine, source_id: int) -> list[Resource]:
    with session_scope(engine) as session:
        statement = (
            select(Resource)
            .where(Resource.source_id == source_id, col(Resource.deleted).is_(False))
            .order_by(col(Resource.id))
        )
        return list(session.exec(statement).all())


def _with_code(resources: list[Resource], code: str) -> list[str]:
    return [r.id for r in resources if any(i.get("code") == code for i in r.issues)]


# --- runs --------------------------------------------------------------------------------------


def test_each_run_keeps_the_catalogue_it_left(engine: Engine, harvested: Harvested) -> None:
    first, second = harvested.first, harvested.second
    assert (first.status, first.records_added, first.records_failed) == ("partial", FIRST, 1)
    assert (second.records_updated, second.records_deleted) == (8, 2)
    live = _live(engine, harvested.source_id)
    assert second.live_records == len(live) == LIVE
    assert second.published_records == sum(r.publishable for r in live) == LIVE - UNTITLED
    assert second.mean_quality == round(sum(r.quality for r in live) / len(live), 4)
    assert first.live_records == FIRST and first.published_records == FIRST
    assert first.mean_quality is not None and second.mean_quality < first.mean_quality


def test_runs_are_kept_and_paged_newest_first(api: TestClient, harvested: Harvested) -> None:
    whole = api.get("/api/v1/sources/college/runs")
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 20)
    assert [run["id"] for run in body["runs"]] == [harvested.second.id, harvested.first.id]
    newest = body["runs"][0]
    assert newest["kind"] == "harvest" and newest["status"] == "succeeded"
    assert newest["records"]["updated"] == 8 and newest["records"]["deleted"] == 2
    assert newest["metadata_prefix"] == harvested.second.metadata_prefix
    assert newest["duration_seconds"] >= 0 and newest["finished_at"] is not None
    assert newest["issue_counts"]["unknown_license"] == 8
    assert newest["catalogue_after"] == {
        "live_records": LIVE,
        "published_records": LIVE - UNTITLED,
        "published_share": round((LIVE - UNTITLED) / LIVE, 4),
        "mean_quality": harvested.second.mean_quality,
    }
    assert newest["links"]["report"] == f"/api/v1/sources/college/runs/{harvested.second.id}"
    report = api.get(newest["links"]["report"]).json()
    assert (
        report["run"] == harvested.second.id
        and report["catalogue_after"] == (newest["catalogue_after"])
    )
    # The same run by id or slug, one per page.
    pages = [
        api.get(f"/api/v1/sources/{harvested.source_id}/runs?per_page=1&page={n}").json()
        for n in (1, 2, 3)
    ]
    assert [[r["id"] for r in p["runs"]] for p in pages] == [
        [harvested.second.id],
        [harvested.first.id],
        [],
    ]
    assert all(p["total"] == 2 for p in pages)


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "per_page=0", "per_page=101", "page=abc", "per_page=1.5", "size=3"],
)
def test_bad_paging_of_runs_is_a_422_in_json(api: TestClient, engine: Engine, query: str) -> None:
    with session_scope(engine) as session:
        sources.add_source(session, base_url="http://college.example/oai", slug="college")
    response = api.get(f"/api/v1/sources/college/runs?{query}")
    assert response.status_code == 422
    assert response.json()["error"]


def test_unknown_sources_and_runs_are_404_in_json(api: TestClient, engine: Engine) -> None:
    with session_scope(engine) as session:
        sources.add_source(session, base_url="http://college.example/oai", slug="college")
    for path in (
        "/api/v1/sources/nowhere/runs",
        "/api/v1/sources/nowhere/issues",
        "/api/v1/sources/nowhere/health",
        "/api/v1/sources/nowhere/conformance",
        "/api/v1/sources/99999999999999999999/runs",
        "/api/v1/sources/college/runs/7",
        "/api/v1/sources/college/conformance",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found", path
    assert api.get("/api/v1/sources/college/runs/x").status_code == 422
    assert api.get("/api/v1/sources/college/runs/0").status_code == 422
    assert api.get("/api/v1/sources/college/runs").json() == {
        "total": 0,
        "page": 1,
        "per_page": 20,
        "runs": [],
    }


# --- issues -------------------------------------------------------------------------------------


def test_issue_counts_equal_the_records_carrying_each_code(
    api: TestClient, engine: Engine, harvested: Harvested
) -> None:
    live = _live(engine, harvested.source_id)
    expected = Counter(code for r in live for code in {i["code"] for i in r.issues})
    body = api.get("/api/v1/sources/college/issues").json()
    assert body["source"] == "college" and body["live_records"] == LIVE
    assert {i["code"]: i["records"] for i in body["issues"]} == dict(expected)
    by_code = {i["code"]: i for i in body["issues"]}
    assert by_code["unknown_license"]["records"] == 8
    assert by_code["unknown_license"]["severity"] == "warning"
    assert by_code["unknown_license"]["meaning_zh"] == "许可无法识别"
    assert by_code["missing_title"]["severity"] == "error"
    assert by_code["missing_title"]["records"] == UNTITLED
    assert by_code["missing_title"]["records_url"] == (
        "/api/v1/sources/college/issues?code=missing_title"
    )


def test_the_issue_list_of_a_source_equals_the_records_whose_validation_carries_the_code(
    api: TestClient, engine: Engine, harvested: Harvested
) -> None:
    live = _live(engine, harvested.source_id)
    for code in ("unknown_license", "missing_title", "unmapped_vocabulary"):
        listed: list[dict[str, Any]] = []
        page = 1
        while True:
            body = api.get(f"/api/v1/sources/college/issues?code={code}&per_page=3&page={page}")
            assert body.status_code == 200, body.text
            answer = body.json()
            if not answer["records"]:
                break
            listed += answer["records"]
            page += 1
        assert [r["id"] for r in listed] == _with_code(live, code), code
        assert answer["total"] == len(listed) and answer["issue"]["records"] == len(listed)
    untitled = api.get("/api/v1/sources/college/issues?code=missing_title").json()["records"]
    first = untitled[0]
    assert first["published"] is False and first["severity"] == "error"
    assert first["links"]["course"] is None, "an unpublished record has no course page"
    assert first["links"]["raw"] == f"/api/v1/resources/{first['id']}/raw"
    assert api.get(first["links"]["raw"]).status_code == 200
    assert first["occurrences"][0]["path"] == "title"
    licences = api.get("/api/v1/sources/college/issues?code=unknown_license").json()["records"]
    published = next(r for r in licences if r["published"])
    assert published["links"]["course"] == f"/courses/{published['id']}"
    assert BAD_LICENCE in published["occurrences"][0]["message"]
    assert published["title"], "the record's title by language"


@pytest.mark.parametrize(
    "query",
    ["code=", "code=a%20b", f"code={'x' * 101}", "code=x&page=0", "code=x&per_page=500", "q=x"],
)
def test_bad_issue_parameters_are_a_422_in_json(
    api: TestClient, engine: Engine, query: str
) -> None:
    with session_scope(engine) as session:
        sources.add_source(session, base_url="http://college.example/oai", slug="college")
    response = api.get(f"/api/v1/sources/college/issues?{query}")
    assert response.status_code == 422
    assert response.json()["error"]


def test_a_code_no_record_carries_lists_nothing(api: TestClient, engine: Engine) -> None:
    with session_scope(engine) as session:
        sources.add_source(session, base_url="http://college.example/oai", slug="college")
    body = api.get("/api/v1/sources/college/issues?code=missing_title").json()
    assert (body["total"], body["records"]) == (0, [])
    assert body["issue"]["severity"] == "error" and body["issue"]["meaning_en"] == "no title"


# --- health ------------------------------------------------------------------------------------


def test_health_of_a_harvested_source(
    api: TestClient, engine: Engine, harvested: Harvested
) -> None:
    live = _live(engine, harvested.source_id)
    discover(engine)  # the files the published records name become rows
    with session_scope(engine) as session:
        rows = session.exec(
            select(DigitalObject)
            .where(DigitalObject.source_id == harvested.source_id)
            .order_by(col(DigitalObject.id))
        ).all()
        assert len(rows) >= 4
        ids = [row.id for row in rows]
        session.execute(
            update(DigitalObject)
            .where(col(DigitalObject.id).in_(ids[:2]))
            .values(status="stored", size=1000, link_status="ok")
        )
        session.execute(
            update(DigitalObject)
            .where(col(DigitalObject.id) == ids[2])
            .values(status="failed", link_status="broken")
        )
        session.execute(
            update(DigitalObject).where(col(DigitalObject.id) == ids[3]).values(status="too_large")
        )
    with session_scope(engine) as session:
        source = sources.get_source(session, harvested.source_id)
        assert source is not None
        found = health.source_health(session, source)
        listed = health.overview(session)

    assert [p.run_id for p in found.runs] == [harvested.first.id, harvested.second.id]
    assert [(p.added, p.updated, p.deleted, p.failed) for p in found.runs] == [
        (FIRST, 0, 0, 1),
        (0, 8, 2, 0),
    ]
    assert [p.mean_quality for p in found.runs] == [
        harvested.first.mean_quality,
        harvested.second.mean_quality,
    ]
    quality = found.quality
    assert quality.live_records == len(live) == LIVE
    assert quality.published_records == LIVE - UNTITLED
    assert quality.published_share == round((LIVE - UNTITLED) / LIVE, 4)
    assert quality.mean_quality == round(sum(r.quality for r in live) / len(live), 4)
    assert [b.records for b in quality.histogram] == [
        sum(1 for r in live if min(int(r.quality * 10 + 1e-9), 9) == n) for n in range(10)
    ]
    assert (quality.histogram[0].lower, quality.histogram[-1].upper) == (0.0, 1.0)

    overview = found.source
    assert overview.last_run_status == "succeeded"
    assert overview.last_success_at == harvested.second.finished_at
    assert overview.trend is not None and harvested.first.mean_quality is not None
    assert harvested.second.mean_quality is not None
    assert overview.trend == round(harvested.second.mean_quality - harvested.first.mean_quality, 4)
    assert overview.trend < 0
    assert overview.issue_counts["unknown_license"] == 8
    assert listed == [overview], "the list of sources says the same"

    assert found.files.total == len(ids)
    assert (found.files.stored, found.files.stored_bytes) == (2, 2000)
    assert (found.files.failed, found.files.refused, found.files.broken_links) == (1, 1, 1)
    assert found.files.pending == len(ids) - 4
    assert found.conformance is None

    served = api.get("/api/v1/sources/college/health")
    assert served.status_code == 200, served.text
    assert served.json() == TypeAdapter(health.SourceHealth).dump_python(found, mode="json")


def test_overview_of_sources_never_harvested(engine: Engine) -> None:
    with session_scope(engine) as session:
        sources.add_source(session, base_url="http://b.example/oai", slug="b-college")
        sources.add_source(session, base_url="http://a.example/oai", slug="a-college")
        listed = health.overview(session)
    assert [s.slug for s in listed] == ["a-college", "b-college"]
    first = listed[0]
    assert (first.last_run_status, first.last_success_at, first.trend) == (None, None, None)
    assert (first.live_records, first.mean_quality, first.published_share) == (0, None, None)
    assert first.issue_counts == {}


# --- conformance -------------------------------------------------------------------------------


@pytest.fixture
def coursefed(settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Any:
    """Run ``coursefed ARGS`` in this process against the test database: (code, out, err)."""
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(cli.gc, "freeze", lambda: None)

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_a_registered_sources_check_is_kept_and_served(
    api: TestClient, engine: Engine, coursefed: Any
) -> None:
    repository = FaultyRepository(CORPUS, page_size=15)
    with DemoRepositoryServer(repository) as server:
        with session_scope(engine) as session:
            sources.add_source(
                session, base_url=server.base_url, slug="college", allow_private_network=True
            )
            sources.add_source(session, base_url="http://other.example/oai", slug="other")
        assert api.get("/api/v1/sources/college/conformance").status_code == 404
        # By slug: the source's own network permission lets the check reach loopback.
        code, out, err = coursefed("sources", "check", "college")
        assert code == 0, out + err
        printed = out.splitlines()
        assert printed[-1] == "kept as the latest check of source college"
        body = api.get("/api/v1/sources/college/conformance").json()
        assert body["lines"] == printed[:-1]
        assert body["base_url"] == server.base_url
        assert body["passed"] == len(body["checks"]) and body["warned"] == body["failed"] == 0
        assert body["checks"][0]["name"] == "identify"
        first_time = body["checked_at"]

        # By base URL (as a college types it): the registered source's result is replaced.
        repository.deleted_record = "sometimes"
        code, out, _ = coursefed(
            "sources", "check", server.base_url + "/", "--allow-private-network"
        )
        assert code == 1
        again = api.get("/api/v1/sources/1/conformance").json()
        assert again["checked_at"] > first_time
        assert again["failed"] >= 1 and any(line.startswith("FAIL ") for line in again["lines"])
        health_view = api.get("/api/v1/sources/college/health").json()["conformance"]
        assert health_view == again
    assert api.get("/api/v1/sources/other/conformance").status_code == 404


def test_a_check_of_an_unregistered_endpoint_keeps_nothing(engine: Engine, coursefed: Any) -> None:
    with DemoRepositoryServer(FaultyRepository(CORPUS)) as server:
        code, out, _ = coursefed("sources", "check", server.base_url, "--allow-private-network")
    assert code == 0 and "kept as" not in out
    code, _, err = coursefed("sources", "check", "no-such-source")
    assert code == 1 and "no source 'no-such-source'" in err


def test_a_check_without_a_database_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    elsewhere = Settings(data_dir=tmp_path / "college", scheduler=False)
    monkeypatch.setattr(cli, "get_settings", lambda: elsewhere)
    monkeypatch.setattr(cli.gc, "freeze", lambda: None)
    with DemoRepositoryServer(FaultyRepository(CORPUS)) as server:
        code = cli.main(["sources", "check", server.base_url, "--allow-private-network"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("PASS identify")
    assert not (tmp_path / "college").exists()

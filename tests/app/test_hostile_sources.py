"""Hostile OAI-PMH providers against registration, harvests and the mirror: attack → outcome.

The providers listen on 127.0.0.1, which these tests' address policy treats as a public
host (``COURSEFED_OUTBOUND_ALLOW_NETWORKS=127.0.0.1/32``); 127.0.0.2 and every other
loopback, private and link-local address stand for what lies inside our network and must
never be reached.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue import service as catalogue
from app.catalogue.models import Resource
from app.db import make_engine, session_scope
from app.keys.service import create_key
from app.main import create_app
from app.mirror.client import Mirror, MirrorError
from app.settings import Settings
from app.sources import service as sources
from app.sources.conformance import check_endpoint
from app.sources.harvest import HarvestOptions, harvest
from app.sources.models import HarvestRun
from app.sources.report import run_report
from metadata.profile import DigitalObjectRef, ResourceRecord
from tests.app.memory import PeakMemory
from tests.app.records import stored as as_harvested
from tests.conftest import migrated
from tests.fixtures.hostile import DC_URLS, LOM_URLS, SCRIPT_SCHEMES, HostileRecord
from tests.fixtures.samples import fixture
from tests.hostile import HostileProvider
from tests.outbound import PRIVATE
from tests.services_plugin import serving

PUBLIC = "127.0.0.1/32"


@pytest.fixture
def guarded(settings: Settings) -> Settings:
    """Settings whose address policy treats 127.0.0.1 (and only it) as the internet."""
    return settings.model_copy(update={"outbound_allow_networks": PUBLIC})


@pytest.fixture
def api(guarded: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(guarded)) as client:
        yield client


def admin(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.admin_token.get_secret_value()}"}


def options(settings: Settings, **changes: float) -> HarvestOptions:
    base = HarvestOptions.from_settings(settings)
    fast = {"max_retries": 0, "backoff_base": 0.01, "timeout": 5.0, **changes}
    return HarvestOptions(**{**base.__dict__, **fast})


def add_source(engine: Engine, url: str, slug: str = "college") -> int:
    with session_scope(engine) as session:
        source_id = sources.add_source(session, base_url=url, slug=slug).id
    assert source_id is not None
    return source_id


def run(engine: Engine, source_id: int, opts: HarvestOptions) -> HarvestRun:
    return asyncio.run(harvest(engine, source_id, options=opts))


# --- registration: what the service may call ----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://127.0.0.2:{port}/oai", "127.0.0.2 is a loopback address"),
        ("http://[::1]:{port}/oai", "::1 is a loopback address"),
        ("http://2130706434:{port}/oai", "means 127.0.0.2, a loopback address"),
        ("http://10.20.30.40/oai", "10.20.30.40 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata service"),
        ("http://[::ffff:169.254.169.254]/", "a cloud metadata service"),
        ("file:///etc/passwd", "must start with http:// or https://"),
    ],
)
def test_registering_an_internal_address_is_refused_before_any_request(
    api: TestClient, guarded: Settings, url: str, rule: str
) -> None:
    with HostileProvider("normal", host="127.0.0.2") as inside:
        target = url.format(port=inside.base_url.rsplit(":", 1)[1].split("/")[0])
        response = api.post("/api/v1/sources", json={"base_url": target}, headers=admin(guarded))
        assert inside.request_count == 0, "refused before connecting"
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert rule in detail
    assert api.get("/api/v1/sources").json() == [], "nothing was saved"


def test_allow_private_network_never_opens_the_metadata_service(
    api: TestClient, guarded: Settings
) -> None:
    body = {"base_url": "http://169.254.169.254/oai", "allow_private_network": True}
    response = api.post("/api/v1/sources", json=body, headers=admin(guarded))
    assert response.status_code == 422
    assert "refused by the address policy (metadata)" in response.json()["detail"]


def test_a_public_endpoint_redirecting_inward_is_refused_at_the_hop(
    api: TestClient, guarded: Settings
) -> None:
    with (
        HostileProvider("normal", host="127.0.0.2") as inside,
        HostileProvider("redirect", location=f"{inside.base_url}?verb=Identify") as outside,
    ):
        response = api.post(
            "/api/v1/sources", json={"base_url": outside.base_url}, headers=admin(guarded)
        )
        assert outside.request_count == 1
        assert inside.request_count == 0, "the redirect target was never contacted"
    assert response.status_code == 422
    assert "refused by the address policy (private-address)" in response.json()["detail"]
    assert "127.0.0.2 is a loopback address" in response.json()["detail"]


def test_an_upstream_error_page_is_never_echoed_by_registration(
    api: TestClient, guarded: Settings
) -> None:
    with HostileProvider("error_body") as provider:
        response = api.post(
            "/api/v1/sources", json={"base_url": provider.base_url}, headers=admin(guarded)
        )
    assert response.status_code == 422
    assert provider.secret not in response.text
    assert "HTTPStatusError: HTTP 500" in response.json()["detail"]


def test_sources_check_obeys_the_address_policy(guarded: Settings) -> None:
    with HostileProvider("normal", host="127.0.0.2") as inside:
        checks = asyncio.run(check_endpoint(inside.base_url, policy=guarded.address_policy()))
        assert inside.request_count == 0
    identify = next(c for c in checks if c.name == "identify")
    assert identify.outcome == "fail"
    assert "refused by the address policy (private-address)" in identify.detail


# --- harvests: bounded, and nothing of the upstream in public reports ---------------------------


def test_an_error_page_during_a_harvest_stays_out_of_the_public_report(
    guarded: Settings, engine: Engine
) -> None:
    with HostileProvider("error_body", verbs={"ListRecords"}) as provider:
        finished = run(engine, add_source(engine, provider.base_url), options(guarded))
    assert finished.status == "failed"
    with session_scope(engine) as session:
        report = run_report(session, finished)
    assert provider.secret not in json.dumps(report)
    assert report["error"] == "HTTPStatusError: HTTP 500"


def test_a_source_redirecting_inward_mid_harvest_fails_with_the_rule(
    guarded: Settings, engine: Engine
) -> None:
    with (
        HostileProvider("normal", host="127.0.0.2") as inside,
        HostileProvider(
            "redirect", location=f"{inside.base_url}?verb=ListRecords", verbs={"ListRecords"}
        ) as outside,
    ):
        finished = run(engine, add_source(engine, outside.base_url), options(guarded))
        assert inside.request_count == 0
    assert finished.status == "failed"
    assert finished.error is not None
    assert finished.error.startswith("AddressNotAllowed: refused by the address policy")


def test_a_trickling_source_meets_the_answer_deadline(guarded: Settings, engine: Engine) -> None:
    with HostileProvider("trickle", interval=0.2) as provider:
        finished = run(engine, add_source(engine, provider.base_url), options(guarded, deadline=2))
        assert provider.count("ListRecords") == 1, "a trickle is not asked again within the run"
    assert finished.status == "failed"
    assert finished.error == "DeadlineExceeded: the answer took longer than 2 s"


def test_a_stalled_source_meets_the_idle_timeout(guarded: Settings, engine: Engine) -> None:
    with HostileProvider("stall", send_headers=True) as provider:
        opts = options(guarded, timeout=1.0, deadline=30)
        finished = run(engine, add_source(engine, provider.base_url), opts)
    assert finished.status == "failed"
    assert finished.error is not None and finished.error.startswith("TimeoutError: ")


def test_endless_tokens_stop_at_the_page_cap_and_the_next_run_continues(
    guarded: Settings, engine: Engine
) -> None:
    opts = options(guarded, max_pages=4)
    with HostileProvider("endless", page_size=5) as provider:
        source_id = add_source(engine, provider.base_url)
        first = run(engine, source_id, opts)
        second = run(engine, source_id, opts)
        tokens = [r.params.get("resumptionToken", [""])[0] for r in provider.requests]
    assert (first.status, first.pages, first.records_added) == ("partial", 4, 20)
    assert first.error is not None and "COURSEFED_HARVEST_MAX_PAGES" in first.error
    assert (second.status, second.pages, second.records_added) == ("partial", 4, 20)
    assert "continue" in [event["kind"] for event in second.events]
    listed = [t for t in tokens if t]
    assert listed == [f"endless-{n}-lom" for n in range(1, 8)], "each page asked once, in order"


def test_endless_slow_pages_stop_at_the_wall_clock(guarded: Settings, engine: Engine) -> None:
    opts = options(guarded, max_seconds=1.5)
    with HostileProvider("endless", page_size=2, page_delay=0.4) as provider:
        finished = run(engine, add_source(engine, provider.base_url), opts)
    assert finished.status == "partial"
    assert finished.error is not None and "COURSEFED_HARVEST_MAX_SECONDS" in finished.error
    assert finished.pages >= 1


def test_a_60_mb_page_is_harvested_within_three_times_its_size(
    guarded: Settings, engine: Engine
) -> None:
    with HostileProvider("huge", megabytes=60) as provider:
        source_id = add_source(engine, provider.base_url)
        with PeakMemory() as memory:
            finished = run(engine, source_id, options(guarded, deadline=600))
        size_mib = provider.body_size / 2**20
    assert finished.status == "succeeded", finished.error
    assert finished.records_added > 30_000
    assert memory.growth_mib <= 3 * size_mib, f"{memory.growth_mib:.0f} MiB for {size_mib:.0f}"


# --- ourselves ------------------------------------------------------------------------------------


def test_registering_our_own_oai_endpoint_is_refused(guarded: Settings) -> None:
    app = create_app(guarded)
    with TestClient(app) as client, serving(app) as base:
        body = {"base_url": f"{base}/oai", "allow_private_network": True}
        response = client.post("/api/v1/sources", json=body, headers=admin(guarded))
        assert response.status_code == 422
        assert "is this coursefed itself" in response.json()["detail"]
        assert client.get("/api/v1/sources").json() == []


def test_a_provider_claiming_our_base_url_is_refused(api: TestClient, guarded: Settings) -> None:
    ours = f"{guarded.resolved_public_url}/oai"
    with HostileProvider("self", identify_base_url=ours) as provider:
        response = api.post(
            "/api/v1/sources", json={"base_url": provider.base_url}, headers=admin(guarded)
        )
    assert response.status_code == 422
    assert f"its baseURL {ours} is this repository's own" in response.json()["detail"]


def test_a_source_answering_with_our_repository_identifier_is_not_harvested(
    guarded: Settings, engine: Engine
) -> None:
    named = guarded.model_copy(update={"oai_repository_identifier": "courses.example.edu.cn"})
    with HostileProvider("self", repository_identifier="courses.example.edu.cn") as provider:
        finished = run(engine, add_source(engine, provider.base_url), options(named))
        assert provider.count("ListRecords") == 0
    assert finished.status == "failed"
    assert finished.error is not None and finished.error.startswith("SelfHarvest: ")
    with HostileProvider("self", repository_identifier="coursefed") as other:
        # "coursefed", everyone's default identifier, does not make a node ourselves.
        again = run(engine, add_source(engine, other.base_url, "other"), options(guarded))
    assert again.status == "succeeded", again.error


def test_a_node_never_mirrors_itself(guarded: Settings, engine: Engine) -> None:
    app = create_app(guarded)
    with TestClient(app), serving(app) as base:
        mirror = Mirror(engine, base, policy=guarded.address_policy(), allow_private=True)
        try:
            with pytest.raises(MirrorError, match="is this coursefed itself"):
                mirror.sync()
        finally:
            mirror.close()


def test_a_mirror_with_a_mirror_key_earns_the_upstream_budget(
    guarded: Settings, engine: Engine, tmp_path: Path
) -> None:
    """An upstream allowing an address 2 change pages a minute serves a keyed mirror more."""
    upstream = guarded.model_copy(update={"rate_limit_changes": "2/minute"})
    below = Settings(data_dir=tmp_path / "mirror", scheduler=False)
    migrated(below)
    downstream = make_engine(below)
    with session_scope(engine) as session:
        _row, key = create_key(session, ["mirror"], name="centre")
    app = create_app(upstream)
    with TestClient(app), serving(app) as base:
        anonymous = Mirror(downstream, base, policy=PRIVATE, allow_private=True, page_size=1)
        try:
            anonymous._get("/api/v1/changes", params={"since": 0, "limit": 1})
            anonymous._get("/api/v1/changes", params={"since": 0, "limit": 1})
            with pytest.raises(MirrorError, match="HTTP 429"):
                anonymous._json(anonymous._get("/api/v1/changes", params={"since": 0}))
        finally:
            anonymous.close()
        keyed = Mirror(
            downstream, base, policy=PRIVATE, allow_private=True, page_size=1, api_key=key
        )
        try:
            answers = [keyed._get("/api/v1/changes", params={"since": 0}) for _ in range(5)]
        finally:
            keyed.close()
    downstream.dispose()
    assert [a.status_code for a in answers] == [200] * 5


def test_an_upstream_record_with_script_urls_is_mirrored_without_them(engine: Engine) -> None:
    """An older or careless upstream still serves a javascript: landing page and file."""
    record = ResourceRecord(
        id="college-1",
        title={"zh": "高等数学", "en": "Advanced Mathematics"},
        url="javascript:alert(document.cookie)",
        objects=[
            DigitalObjectRef(url="vbscript:msgbox(1)", format="application/pdf"),
            DigitalObjectRef(url="https://files.example.edu.cn/math.pdf", format="application/pdf"),
        ],
    )
    line = {"id": record.id, "record": record.model_dump(mode="json"), "objects": []}
    snapshot = gzip.compress((json.dumps({"serial": 1}) + "\n" + json.dumps(line) + "\n").encode())
    feed = {"entries": [], "last_serial": 1, "latest_serial": 1, "more": False}

    def upstream(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/snapshot":
            return httpx.Response(200, content=snapshot)
        return httpx.Response(200, json=feed)

    client = httpx.Client(transport=httpx.MockTransport(upstream))
    mirror = Mirror(engine, "https://upstream.example.edu.cn", http=client)
    try:
        mirror.sync()
    finally:
        mirror.close()
    with session_scope(engine) as session:
        stored = session.get(Resource, "college-1")
        assert stored is not None
        assert stored.publishable, "published without the values"
        assert stored.record.get("url") is None
        assert [o["url"] for o in stored.record["objects"]] == [
            "https://files.example.edu.cn/math.pdf"
        ]
        dropped = [i for i in stored.issues if i["code"] == "url_not_http"]
        assert {i["path"] for i in dropped} == {"url", "objects[1].url"}


@pytest.mark.parametrize("hostile", [DC_URLS, LOM_URLS], ids=lambda h: h.prefix)
def test_script_urls_are_dropped_in_a_harvest_and_listed_in_its_report(
    guarded: Settings, engine: Engine, hostile: HostileRecord
) -> None:
    served = HostileProvider(
        "records", records={"hostile": hostile.read_bytes()}, metadata_prefix=hostile.prefix
    )
    with served as provider:
        finished = run(engine, add_source(engine, provider.base_url), options(guarded))
    assert finished.status == "succeeded", finished.error
    assert finished.records_added == 1
    dropped = [e["detail"] for e in finished.events if e["kind"] == "dropped"]
    assert dropped, "the report says which values were dropped"
    assert all(d.startswith("oai:hostile.example:hostile: ") for d in dropped)
    assert all(d.endswith("(url_not_http)") for d in dropped)
    with session_scope(engine) as session:
        report = json.dumps(run_report(session, finished))
        (stored,) = session.exec(select(Resource)).all()
        assert stored.publishable, "published without the dropped values"
        record = json.dumps(stored.record).lower()
    assert report.count('"kind": "dropped"') == len(dropped)
    for scheme in SCRIPT_SCHEMES:
        assert scheme not in report.lower(), "where, not what: the values stay out"
        assert scheme not in record


def test_repaired_bytes_are_listed_in_the_report(guarded: Settings, engine: Engine) -> None:
    good = fixture("dc/bilingual_course.xml")
    record = good.replace(b"</dc:title>", b"\x06</dc:title>", 1)
    assert record != good
    with HostileProvider("records", records={"bytes": record}) as provider:
        finished = run(engine, add_source(engine, provider.base_url), options(guarded))
    assert finished.status == "succeeded", finished.error
    repairs = [e["detail"] for e in finished.events if e["kind"] == "repair"]
    assert repairs == ["replaced 1 character(s) XML forbids with U+FFFD"]


@pytest.mark.parametrize("prefix", ["oai_dc", "lom", "coursefed"])
def test_our_oai_endpoint_never_disseminates_a_script_url_stored_before_the_rule(
    api: TestClient, engine: Engine, prefix: str
) -> None:
    record = ResourceRecord(
        id="college-old",
        title={"en": "Stored before the URL rule"},
        url="javascript:alert(1)",
        identifiers=["vbscript:msgbox(1)", "urn:isbn:9787040396638"],
        objects=[DigitalObjectRef(url="data:text/html,<script>alert(1)</script>")],
    )
    with session_scope(engine) as session:  # written as an older version stored it
        old = as_harvested(record, b"<old/>", oai_id="oai:c:old", source_id=None)
        catalogue.upsert(session, old)
    body = api.get("/oai", params={"verb": "ListRecords", "metadataPrefix": prefix}).text
    assert "Stored before the URL rule" in body
    assert "urn:isbn:9787040396638" in body, "names that are not links are kept"
    for scheme in SCRIPT_SCHEMES:
        assert scheme not in body

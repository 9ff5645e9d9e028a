"""Each deviation real repositories show (standards.md, "Deviations a harvester must
survive"), met by the whole harvest engine: what it stores, and how its run reports it.

Every quirk is driven twice where a real capture of it exists: once by replaying the
capture from ``../shared/oai-samples`` (read in place; the variant skips, saying why,
when the samples are absent) and once by a small fixture of our own that always runs.
The client-level behaviour of each quirk is tested in ``tests/harvesters``; here the
point is the stored catalogue and the run report (status, counts, events, error).
A repository is a ``Replay`` on loopback: rows of request arguments → replies.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.catalogue.models import JournalEntry, Resource
from app.catalogue.service import resource_id_for
from app.db import session_scope
from app.sources.harvest import HarvestOptions, claim, harvest
from app.sources.models import FailedRecord, HarvestRun, Source
from app.sources.reconcile import reconcile
from harvesters.oai.records import parse_raw_record
from tests.fixtures.samples import sample
from tests.thirdparty.courses import FAST, Stored, add_source, run_harvest, stored
from tests.thirdparty.loopback import OAIApp, Replay, Reply, request_echo, serve

SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAY = "YYYY-MM-DD"
NOW = "2026-05-01T10:00:00Z"
ABSENT = object()  # no <resumptionToken> element at all
STYLESHEET = '<?xml-stylesheet type="text/xsl" href="/static/oai2.xsl"?>'
ZENODO = "oaipmh-scythe-zenodo/extracted/"
ZENODO_CHAIN = (
    ZENODO + "list_records__05_ListRecords_200_metadataPrefix-oai_dc.xml",
    ZENODO + "list_records__09_ListRecords_200_resumptionToken-.eJwlzEuOgjA.xml",
    ZENODO + "list_records__08_ListRecords_200_resumptionToken-.eJwlzEuOgjA.xml",
)
ZENODO_LIVE = {
    f"oai:zenodo.org:{n}"
    for n in (8435696, 8435639, 8433301, 8333281, 8321258, 20589672, 20590449, 20565714)
}
ZENODO_DELETED = "oai:zenodo.org:8433364"  # deleted header that still carries <metadata>

Start = Callable[[Callable[[dict[str, str]], Reply]], tuple[str, OAIApp]]


# --- our own fixtures ------------------------------------------------------------------


def envelope(inner: str, *, verb: str = "ListRecords", date: str = NOW, head: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{head}\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        f"<responseDate>{date}</responseDate>"
        f'<request verb="{verb}">http://college.example.edu/oai</request>'
        f"<{verb}>{inner}</{verb}></OAI-PMH>"
    ).encode()


def oai_error(code: str, message: str = "", *, date: str = NOW) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        f"<responseDate>{date}</responseDate><request>http://college.example.edu/oai</request>"
        f'<error code="{code}">{message}</error></OAI-PMH>'
    ).encode()


def identify(
    *,
    granularity: str = SECONDS,
    deleted_record: str = "persistent",
    earliest: str = "2019-01-01T00:00:00Z",
    head: str = "",
) -> bytes:
    return envelope(
        "<repositoryName>Example College</repositoryName>"
        "<baseURL>http://college.example.edu/oai</baseURL>"
        "<protocolVersion>2.0</protocolVersion>"
        "<adminEmail>oai@college.example.edu</adminEmail>"
        f"<earliestDatestamp>{earliest}</earliestDatestamp>"
        f"<deletedRecord>{deleted_record}</deletedRecord>"
        f"<granularity>{granularity}</granularity>",
        verb="Identify",
        head=head,
    )


def dc_record(
    identifier: str,
    title: str = "A course",
    *,
    datestamp: str = "2024-04-01T10:00:00Z",
    deleted: bool = False,
    metadata: bool | None = None,
    extra: str = "",
) -> str:
    status = ' status="deleted"' if deleted else ""
    body = ""
    if metadata if metadata is not None else not deleted:
        body = (
            '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f'<dc:title xml:lang="en">{title}</dc:title>{extra}</oai_dc:dc></metadata>'
        )
    return (
        f"<record><header{status}><identifier>{identifier}</identifier>"
        f"<datestamp>{datestamp}</datestamp></header>{body}</record>"
    )


def page(
    records: Iterable[str],
    token: object = ABSENT,
    *,
    date: str = NOW,
    head: str = "",
    **attributes: str,
) -> bytes:
    if token is ABSENT:
        element = ""
    else:
        attrs = "".join(f' {name}="{value}"' for name, value in attributes.items())
        text = "" if token is None else str(token)
        element = f"<resumptionToken{attrs}>{text}</resumptionToken>"
    return envelope("".join(records) + element, date=date, head=head)


# --- harness -----------------------------------------------------------------------------


@pytest.fixture
def repository() -> Iterator[Start]:
    servers = []

    def start(handler: Callable[[dict[str, str]], Reply]) -> tuple[str, OAIApp]:
        server, app = serve(handler)
        servers.append(server)
        return server.base_url, app

    yield start
    for server in servers:
        server.stop()


@dataclass
class Scenario:
    """A repository to harvest and what the catalogue must then hold."""

    replay: Replay
    live: dict[str, str | None]  # identifier → title (None: any title)
    prefix: str | None = "oai_dc"
    set_spec: str | None = None
    notes: dict[str, object] = field(default_factory=dict)


def harvest_scenario(
    engine: Engine, start: Start, scenario: Scenario
) -> tuple[HarvestRun, Stored, OAIApp, int]:
    url, app = start(scenario.replay)
    source_id = add_source(
        engine, url, slug="college", prefix=scenario.prefix, set_spec=scenario.set_spec
    )
    run = run_harvest(engine, source_id)
    return run, stored(engine, source_id), app, source_id


def assert_catalogue(held: Stored, live: dict[str, str | None]) -> None:
    assert set(held.live) == set(live)
    for identifier, title in live.items():
        if title is not None:
            assert held.live[identifier] == title, identifier


def kinds(run: HarvestRun) -> list[str]:
    return [event["kind"] for event in run.events]


def failed_records(engine: Engine) -> list[FailedRecord]:
    with session_scope(engine) as session:
        return list(session.exec(select(FailedRecord)).all())


def journal_size(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(session.exec(select(JournalEntry)).all())


def source_row(engine: Engine, source_id: int) -> Source:
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        assert source is not None
        session.expunge(source)
        return source


def zenodo_chain(replay: Replay) -> Replay:
    """Zenodo's three oai_dc pages: PI before the root, tokens, a last page without one."""
    replay.capture(sample(ZENODO + "identify__02_Identify_200.xml"))
    for relative in ZENODO_CHAIN:
        replay.capture(sample(relative))
    return replay


def own_identify(replay: Replay, **kw: str) -> Replay:
    return replay.add(identify(**kw), verb="Identify")


GALLICA_TOKEN = "1!53691!20513471!2505879!100!2402263!oai_dc"
GALLICA_ID = "oai:bnf.fr:gallica/ark:/12148/bpt6k5440618t"
GALLICA_NEXT = "oai:bnf.fr:gallica/ark:/12148/bpt6k000001"


def gallica(replay: Replay) -> Replay:
    """The BnF/Gallica page (namespaces on the root, day datestamps, a ``!`` token),
    and a last page of ours answering its token."""
    body = sample("phpoaipmh/NamespacedSample.xml")
    assert f">{GALLICA_TOKEN}<".encode() in body
    replay.capture(body)
    final = page([dc_record(GALLICA_NEXT, "Suite", datestamp="2015-07-20")])
    return replay.add(final, resumptionToken=GALLICA_TOKEN)


def nock(relative: str) -> list[dict[str, object]]:
    """The interactions of a paperhive nock recording (status, raw headers, body)."""
    interactions = json.loads(sample(f"paperhive-nock/fixtures/{relative}"))
    assert isinstance(interactions, list)
    return interactions


def nock_reply(interaction: dict[str, object], **override: str) -> Reply:
    raw = interaction.get("rawHeaders") or []
    assert isinstance(raw, list)
    headers = dict(zip(raw[::2], raw[1::2], strict=True))
    keep = {
        k: v for k, v in headers.items() if k.lower() in {"content-type", "retry-after", "date"}
    }
    keep |= {k.replace("_", "-"): v for k, v in override.items()}
    body = str(interaction["response"]).encode()
    status = interaction["status"]
    assert isinstance(status, int)
    return Reply(body, status, tuple(keep.items()))


# --- HTTP status and OAI errors ------------------------------------------------------------


def _no_records_match_422_capture() -> Scenario:
    body = sample(
        ZENODO + "list_records__02_ListRecords_422_from-2030-01-01_metadataPrefix-oai_dc.xml"
    )
    replay = Replay().capture(sample(ZENODO + "identify__02_Identify_200.xml"))
    replay.add(Reply.of(body, 422, Retry_After="60"), verb="ListRecords")
    return Scenario(replay, {}, notes={"response_date": "2026-08-13T18:19:00Z"})


def _no_records_match_422_own() -> Scenario:
    replay = own_identify(Replay())
    body = oai_error("noRecordsMatch", "nothing changed", date="2026-05-02T00:00:00Z")
    replay.add(Reply.of(body, 422, Retry_After="60"), verb="ListRecords")
    return Scenario(replay, {}, notes={"response_date": "2026-05-02T00:00:00Z"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_no_records_match_422_capture, id="capture-zenodo"),
        pytest.param(_no_records_match_422_own, id="own"),
    ],
)
def test_oai_error_with_http_422_and_retry_after(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """InvenioRDM sends OAI errors as HTTP 422 with ``Retry-After: 60``: the error is
    read at once (no minute-long wait), and noRecordsMatch is an empty, complete list."""
    case = scenario()
    started = time.monotonic()
    run, held, _, source_id = harvest_scenario(engine, repository, case)
    assert time.monotonic() - started < 10, "Retry-After on an OAI error was not waited for"
    assert run.status == "succeeded", run.error
    assert (run.records_seen, run.pages) == (0, 1)
    assert "retry" not in kinds(run)
    assert held.live == {} and not held.tombstones
    assert source_row(engine, source_id).high_water == case.notes["response_date"]


def _bad_argument_capture() -> Scenario:
    replay = Replay().capture(sample(ZENODO + "identify__02_Identify_200.xml"))
    body = sample(ZENODO + "list_records__03_ListRecords_422_metadataPrefix-XXX.xml")
    replay.add(Reply.of(body, 422, Retry_After="60"), verb="ListRecords")
    return Scenario(replay, {}, prefix="XXX")


def _bad_argument_own() -> Scenario:
    replay = own_identify(Replay())
    replay.add(oai_error("badArgument", "metadataPrefix does not exist"), verb="ListRecords")
    return Scenario(replay, {}, prefix="XXX")


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_bad_argument_capture, id="capture-zenodo"),
        pytest.param(_bad_argument_own, id="own"),
    ],
)
def test_wrong_error_code_for_unknown_prefix(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """badArgument where the spec says cannotDisseminateFormat: the run fails at once,
    naming the code the repository answered (its words stay out of the public report);
    it is not retried or restarted."""
    run, held, app, source_id = harvest_scenario(engine, repository, scenario())
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("BadArgument: ")
    assert '<error code="badArgument">' in run.error
    assert "metadataPrefix" not in run.error
    assert not {"retry", "restart"} & set(kinds(run))
    assert app.verbs().count("ListRecords") == 1
    assert held.live == {}
    assert source_row(engine, source_id).high_water is None, "a failed run moves no mark"


def _empty_error_capture() -> Scenario:
    replay = Replay().capture(sample(ZENODO + "identify__02_Identify_200.xml"))
    body = sample(ZENODO + "list_records__06_ListRecords_422_metadataPrefix-oai_dc_set-XXX.xml")
    replay.add(Reply.of(body, 422), verb="ListRecords", set="XXX")
    return Scenario(replay, {}, set_spec="XXX")


def _empty_error_own() -> Scenario:
    replay = own_identify(Replay())
    replay.add(
        envelope("").replace(b"<ListRecords></ListRecords>", b'<error code="noRecordsMatch"/>'),
        verb="ListRecords",
        set="XXX",
    )
    return Scenario(replay, {}, set_spec="XXX")


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_empty_error_capture, id="capture-zenodo"),
        pytest.param(_empty_error_own, id="own"),
    ],
)
def test_empty_error_element_for_an_unknown_set(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """An unknown set answered by an empty ``<error code="noRecordsMatch"/>``."""
    run, held, app, _ = harvest_scenario(engine, repository, scenario())
    assert run.status == "succeeded", run.error
    assert run.records_seen == 0 and held.live == {}
    assert app.requests[-1].get("set") == "XXX"


def _non_standard_capture() -> Scenario:
    replay = own_identify(Replay())
    replay.add(sample("sickle/undefinedError.xml"), verb="ListRecords")
    return Scenario(replay, {}, notes={"code": "undefinedError"})


def _non_standard_own() -> Scenario:
    replay = own_identify(Replay())
    replay.add(oai_error("serverBusy", "try again tonight"), verb="ListRecords")
    return Scenario(replay, {}, notes={"code": "serverBusy"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_non_standard_capture, id="capture-sickle"),
        pytest.param(_non_standard_own, id="own"),
    ],
)
def test_non_standard_error_code(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("UnknownOAIError: ")
    assert str(case.notes["code"]) in run.error
    assert held.live == {}


def _retry_after_503_capture() -> Scenario:
    interactions = nock("oaipmh-listrecords---should-list-identifiers-from-arxiv.json")
    # arXiv's recorded Retry-After is 10 s; 1 s keeps the test short and still tells a
    # honoured Retry-After (1.0 s) from our backoff (0.01 s in these tests).
    unavailable = nock_reply(interactions[0], Retry_After="1")
    assert unavailable.status == 503 and b"<html>" in unavailable.body
    replay = own_identify(Replay())
    replay.add(
        [unavailable, Reply(page([dc_record("oai:arXiv.org:1412.8544", "Lattice QCD")]))],
        verb="ListRecords",
    )
    return Scenario(replay, {"oai:arXiv.org:1412.8544": "Lattice QCD"})


def _retry_after_503_own() -> Scenario:
    unavailable = Reply(
        b"<html><body><h1>Retry after 1 second</h1></body></html>",
        503,
        (("Content-Type", "text/html"), ("Retry-After", "1")),
    )
    replay = own_identify(Replay())
    replay.add([unavailable, Reply(page([dc_record("oai:c:1", "Statics")]))], verb="ListRecords")
    return Scenario(replay, {"oai:c:1": "Statics"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_retry_after_503_capture, id="capture-arxiv"),
        pytest.param(_retry_after_503_own, id="own"),
    ],
)
def test_503_with_retry_after_and_html_body(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    retries = [e["detail"] for e in run.events if e["kind"] == "retry"]
    assert retries == ["ListRecords: HTTP 503; waited 1.0 s"]
    assert_catalogue(held, case.live)


def test_429_rate_limit(engine: Engine, repository: Start) -> None:
    limited = Reply(b"slow down", 429, (("Content-Type", "text/plain"), ("Retry-After", "1")))
    replay = own_identify(Replay())
    replay.add([limited, Reply(page([dc_record("oai:c:1", "Dynamics")]))], verb="ListRecords")
    run, held, _, _ = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert run.status == "succeeded", run.error
    assert [e["detail"] for e in run.events if e["kind"] == "retry"] == [
        "ListRecords: HTTP 429; waited 1.0 s"
    ]
    assert held.live == {"oai:c:1": "Dynamics"}


def test_http_500_with_empty_body(engine: Engine, repository: Start) -> None:
    """DSpace@MIT answered some requests with HTTP 500 and no body at all.  Once: the
    retry mends it.  Always, mid-list: the list is asked again from the last committed
    datestamp, then the run fails, keeping what it stored and moving no mark."""
    broken = Reply(b"", 500, (("Content-Type", "text/html"),))
    first = page([dc_record("oai:c:1", "Optics")], "t2")
    second = page([dc_record("oai:c:2", "Acoustics", datestamp="2024-04-02T10:00:00Z")])

    transient = own_identify(Replay())
    transient.add(first, verb="ListRecords").add([broken, Reply(second)], resumptionToken="t2")
    run, held, _, _ = harvest_scenario(engine, repository, Scenario(transient, {}))
    assert run.status == "succeeded", run.error
    assert next(e["detail"] for e in run.events if e["kind"] == "retry").startswith(
        "ListRecords: HTTP 500; waited"
    )
    assert held.live == {"oai:c:1": "Optics", "oai:c:2": "Acoustics"}

    persistent = own_identify(Replay()).add(first, verb="ListRecords")
    persistent.add(broken, resumptionToken="t2")
    url, app = repository(persistent)
    source_id = add_source(engine, url, slug="always-500")
    run = run_harvest(engine, source_id)
    assert run.status == "failed"
    assert run.error == "HTTPStatusError: HTTP 500"
    assert kinds(run).count("restart") == 1
    restarted = [r for r in app.requests if r.get("verb") == "ListRecords" and "from" in r]
    assert restarted and restarted[0]["from"] == "2024-04-01T09:55:00Z"
    assert stored(engine, source_id).live == {"oai:c:1": "Optics"}
    assert source_row(engine, source_id).high_water is None


# --- resumption tokens ------------------------------------------------------------------


def _absent_token_capture() -> Scenario:
    return Scenario(zenodo_chain(Replay()), dict.fromkeys(ZENODO_LIVE), notes={"pages": 3})


def _absent_token_own() -> Scenario:
    replay = own_identify(Replay())
    replay.add(page([dc_record("oai:c:1", "Logic")], "next"), verb="ListRecords")
    replay.add(page([dc_record("oai:c:2", "Sets")]), resumptionToken="next")
    return Scenario(replay, {"oai:c:1": "Logic", "oai:c:2": "Sets"}, notes={"pages": 2})


def _empty_token_own() -> Scenario:
    replay = own_identify(Replay())
    replay.add(
        page([dc_record("oai:c:1", "Logic")], "next", cursor="0", completeListSize="2"),
        verb="ListRecords",
    )
    replay.add(
        page([dc_record("oai:c:2", "Sets")], None, cursor="1", completeListSize="2"),
        resumptionToken="next",
    )
    return Scenario(replay, {"oai:c:1": "Logic", "oai:c:2": "Sets"}, notes={"pages": 2})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_absent_token_capture, id="capture-zenodo"),
        pytest.param(_absent_token_own, id="own-absent"),
        pytest.param(_empty_token_own, id="own-empty"),
    ],
)
def test_last_page_without_resumption_token(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """Alma and trimmed Zenodo pages end a list with no ``<resumptionToken>`` at all;
    the spec's empty token ends it the same way."""
    case = scenario()
    run, held, app, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert run.pages == case.notes["pages"]
    assert app.verbs().count("ListRecords") == case.notes["pages"], "no request past the end"
    assert run.resumption_token is None
    assert_catalogue(held, case.live)


def test_token_repeats_stops_with_error(engine: Engine, repository: Start) -> None:
    replay = own_identify(Replay())
    replay.add(page([dc_record("oai:c:1", "Loops")], "same"), verb="ListRecords")
    replay.add(page([dc_record("oai:c:2", "Cycles")], "same"), resumptionToken="same")
    run, held, app, _ = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("ResumptionTokenLoop: ")
    assert kinds(run).count("restart") == 1, "asked again once from the last datestamp"
    assert len(app.requests) < 10, "the loop was cut short"
    assert held.live == {"oai:c:1": "Loops", "oai:c:2": "Cycles"}, "what was read is kept"


def test_token_leads_to_empty_pages(engine: Engine, repository: Start) -> None:
    counter = iter(range(10_000))
    replay = own_identify(Replay())
    replay.add(page([dc_record("oai:c:1", "Voids")], "e0"), verb="ListRecords")

    def handler(params: dict[str, str]) -> Reply:
        if "resumptionToken" in params:
            return Reply(page([], f"e{next(counter) + 1}"))
        return replay(params)

    url, app = repository(handler)
    source_id = add_source(engine, url, slug="empty-pages")
    run = run_harvest(engine, source_id)
    assert run.status == "failed"
    assert run.error is not None and "pages in a row were empty" in run.error
    assert len(app.requests) < 80, "empty pages are not followed for ever"
    assert stored(engine, source_id).live == {"oai:c:1": "Voids"}


def _reserved_token_capture() -> Scenario:
    replay = gallica(own_identify(Replay(), granularity=DAY))
    return Scenario(replay, {GALLICA_ID: None, GALLICA_NEXT: "Suite"})


def _reserved_token_own() -> Scenario:
    token = "a|b/c!d@e:f g+h=%2F;&?#"
    replay = own_identify(Replay())
    replay.add(
        page([dc_record("oai:c:1", "Encoding")], token.replace("&", "&amp;")), verb="ListRecords"
    )
    replay.add(page([dc_record("oai:c:2", "Decoding")]), resumptionToken=token)
    return Scenario(replay, {"oai:c:1": "Encoding", "oai:c:2": "Decoding"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_reserved_token_capture, id="capture-gallica"),
        pytest.param(_reserved_token_own, id="own"),
    ],
)
def test_token_with_reserved_characters_is_url_encoded(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """The second page is only served when the token arrives exactly as issued."""
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert case.replay.unmatched == []
    assert run.status == "succeeded", run.error
    assert_catalogue(held, case.live)


def _expired_token_capture() -> Reply:
    return Reply.of(
        sample(ZENODO + "list_records__10_ListRecords_422_resumptionToken-XXX.xml"), 422
    )


def _expired_token_own() -> Reply:
    return Reply(oai_error("badResumptionToken", "The resumptionToken has expired"))


@pytest.mark.parametrize(
    "expired",
    [
        pytest.param(_expired_token_capture, id="capture-zenodo-422"),
        pytest.param(_expired_token_own, id="own"),
    ],
)
def test_expired_token_mid_harvest_restarts_from_last_datestamp(
    engine: Engine, repository: Start, expired: Callable[[], Reply]
) -> None:
    replay = own_identify(Replay())
    replay.add(
        page(
            [
                dc_record("oai:c:1", "One"),
                dc_record("oai:c:2", "Two", datestamp="2024-04-02T10:00:00Z"),
            ],
            "t1",
        ),
        verb="ListRecords",
    )
    replay.add(expired(), resumptionToken="t1")
    replay.add(
        page(
            [
                dc_record("oai:c:2", "Two", datestamp="2024-04-02T10:00:00Z"),
                dc_record("oai:c:3", "Three", datestamp="2024-04-03T10:00:00Z"),
            ]
        ),
        verb="ListRecords",
        from_="2024-04-02T09:55:00Z",
    )
    run, held, _, _ = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert replay.unmatched == []
    assert run.status == "succeeded", run.error
    restarts = [e["detail"] for e in run.events if e["kind"] == "restart"]
    assert len(restarts) == 1 and restarts[0].startswith("BadResumptionToken: ")
    assert (run.records_added, run.records_unchanged) == (3, 1)
    assert held.live == {"oai:c:1": "One", "oai:c:2": "Two", "oai:c:3": "Three"}


def test_cursor_counting_pages_drifting_list_size_and_absurd_expiration(
    engine: Engine, repository: Start
) -> None:
    replay = own_identify(Replay())
    replay.add(
        page(
            [dc_record("oai:c:1", "A")],
            "p1",
            cursor="1",
            completeListSize="10",
            expirationDate="1970-01-01T00:00:00Z",
        ),
        verb="ListRecords",
    )
    replay.add(
        page(
            [dc_record("oai:c:2", "B")],
            "p2",
            cursor="2",
            completeListSize="3",
            expirationDate="9999-12-31T23:59:59Z",
        ),
        resumptionToken="p1",
    )
    replay.add(
        page(
            [dc_record("oai:c:3", "C")],
            None,
            cursor="3",
            completeListSize="12000",
            expirationDate="not a date",
        ),
        resumptionToken="p2",
    )
    run, held, _, _ = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert run.status == "succeeded", run.error
    assert run.pages == 3
    assert held.live == {"oai:c:1": "A", "oai:c:2": "B", "oai:c:3": "C"}


def test_cursor_counting_pages_in_reconciliation(engine: Engine, repository: Start) -> None:
    """DSpace@MIT's ListIdentifiers (cursor 0, then 1; a token with ``/`` and ``:``)
    drives a reconciliation: everything it lists stays, what it does not is tombstoned."""
    pages = [
        sample("dspace-mit/extracted/get-identifiers__00_ListIdentifiers_200.xml"),
        sample("dspace-mit/extracted/get-identifiers__01_ListIdentifiers_200.xml"),
    ]
    listed = [i.decode() for body in pages for i in re.findall(rb"<identifier>([^<]+)<", body)]
    assert len(listed) == 171
    vanished = "oai:dspace.mit.edu:1721.1/999999"
    ours = own_identify(Replay(), deleted_record="transient")
    records = [dc_record(identifier, f"Thesis {n}") for n, identifier in enumerate(listed)]
    ours.add(page([*records, dc_record(vanished, "Withdrawn")]), verb="ListRecords")
    for body in pages:
        ours.capture(body)
    url, _ = repository(ours)
    source_id = add_source(engine, url, slug="dspace")
    assert run_harvest(engine, source_id).status == "succeeded"
    run = asyncio.run(reconcile(engine, source_id, options=FAST))
    assert ours.unmatched == []
    assert (run.status, run.records_seen, run.records_deleted) == ("succeeded", 171, 1)
    held = stored(engine, source_id)
    assert held.tombstones == {vanished}
    assert set(held.live) == set(listed)


# --- deleted records ------------------------------------------------------------------


def _deleted_despite_no_capture() -> Scenario:
    replay = Replay().capture(sample(ZENODO + "identify__02_Identify_200.xml"))
    _, second, third = (sample(relative) for relative in ZENODO_CHAIN)
    # Before: the record Zenodo later deletes is live (a page of ours); then Zenodo's
    # page with its deleted header, and the page its token leads to.
    replay.add(
        [Reply(page([dc_record(ZENODO_DELETED, "Before deletion")])), Reply(second)],
        verb="ListRecords",
    )
    replay.capture(third)
    return Scenario(replay, {}, notes={"seen": 6, "deleted": ZENODO_DELETED})


def _deleted_despite_no_own() -> Scenario:
    replay = own_identify(Replay(), deleted_record="no")
    gone = dc_record(
        "oai:c:9", "Gone", datestamp="2024-05-01T10:00:00Z", deleted=True, metadata=True
    )
    replay.add(
        [
            Reply(page([dc_record("oai:c:9", "Before deletion")])),
            Reply(page([gone, dc_record("oai:c:10", "Kept")])),
        ],
        verb="ListRecords",
    )
    return Scenario(replay, {}, notes={"seen": 2, "deleted": "oai:c:9"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_deleted_despite_no_capture, id="capture-zenodo"),
        pytest.param(_deleted_despite_no_own, id="own"),
    ],
)
def test_deleted_header_despite_deleted_record_no(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """Identify says ``deletedRecord=no``, yet a deleted header comes, metadata and all:
    the status wins, the record is tombstoned, not stored again."""
    case = scenario()
    url, _ = repository(case.replay)
    source_id = add_source(engine, url, slug="college")
    first = run_harvest(engine, source_id)
    assert first.status == "succeeded", first.error
    assert source_row(engine, source_id).deleted_record == "no"
    deleted = case.notes["deleted"]
    assert stored(engine, source_id).live == {deleted: "Before deletion"}
    second = run_harvest(engine, source_id)
    assert second.status == "succeeded", second.error
    assert (second.records_seen, second.records_deleted) == (case.notes["seen"], 1)
    held = stored(engine, source_id)
    assert held.tombstones == {deleted}
    assert deleted not in held.live


def _no_identifier_capture() -> Scenario:
    replay = Replay().capture(sample("sickle/Identify.xml"))
    replay.add(sample("sickle/ListRecords.xml"), verb="ListRecords")
    for name in ("ListRecords2.xml", "ListRecords3.xml", "ListRecords4.xml"):
        replay.add(sample(f"sickle/{name}"), resumptionToken=name)
    return Scenario(replay, {"oai:test.example.com:1585322": "Sample Title"}, notes={"seen": 8})


def _no_identifier_own() -> Scenario:
    headless = (
        '<record><header status="deleted"><datestamp>2024-04-01</datestamp></header></record>'
    )
    replay = own_identify(Replay())
    replay.add(page([headless, dc_record("oai:c:1", "Sibling")]), verb="ListRecords")
    return Scenario(replay, {"oai:c:1": "Sibling"}, notes={"seen": 2})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_no_identifier_capture, id="capture-sickle"),
        pytest.param(_no_identifier_own, id="own"),
    ],
)
def test_deleted_header_without_identifier(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """A deleted header with no identifier (and no datestamp) can tombstone nothing: it
    is kept as a failed record, the run ends ``partial``, its siblings are stored."""
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "partial", run.error
    assert (run.records_seen, run.records_failed) == (case.notes["seen"], 1)
    (failed,) = failed_records(engine)
    assert failed.identifier is None and "no identifier" in failed.reason
    assert failed.raw is not None and b'status="deleted"' in failed.raw
    assert_catalogue(held, case.live)
    assert not held.tombstones


# --- identifiers, base URLs, dates ------------------------------------------------------------


def _non_oai_capture() -> Scenario:
    folder = "pyoai/fake1/"
    mapping = sample(folder + "mapping.txt").decode().split()
    replay = Replay()
    for query, name in zip(mapping[::2], mapping[1::2], strict=True):
        verb = dict(item.split("=", 1) for item in query.split("&"))["verb"]
        if verb in {"Identify", "ListRecords"}:  # matched by verb: we ask without `from`
            replay.add(sample(folder + name), verb=verb)
    body = sample(folder + "00005.xml")
    live = dict.fromkeys(i.decode() for i in re.findall(rb"<identifier>(hdl:[^<]+)<", body))
    assert len(live) == 16
    return Scenario(replay, live)


def _non_oai_own() -> Scenario:
    identifiers = {
        "hdl:1765/308": "Handle",
        "oai:test.example.com::1585310": "Double colon",
        "info:doi/10.1000/182": "Info URI",
        "https://repository.college.example.edu/items/7": "Plain URL",
        "urn:nbn:de:0001-2024": "URN",
    }
    replay = own_identify(Replay())
    replay.add(page([dc_record(i, t) for i, t in identifiers.items()]), verb="ListRecords")
    return Scenario(replay, dict(identifiers))


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_non_oai_capture, id="capture-pyoai-eur"),
        pytest.param(_non_oai_own, id="own"),
    ],
)
def test_identifier_not_oai_scheme(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert_catalogue(held, case.live)
    with session_scope(engine) as session:
        ids = {row.oai_identifier: row.id for row in session.exec(select(Resource)).all()}
    assert ids == {i: resource_id_for("college", i) for i in case.live}
    assert len(set(ids.values())) == len(ids), "distinct identifiers, distinct resources"


def _other_host_capture() -> Scenario:
    body = sample("dspace-mit/extracted/harvest-from-set__00_ListRecords_200.xml")
    assert b"https://dspace.mit.edu//oai/request" in body
    replay = own_identify(Replay()).capture(body)
    live = dict.fromkeys(i.decode() for i in re.findall(rb"<identifier>([^<]+)<", body))
    assert len(live) == 58
    return Scenario(replay, live, set_spec="com_1721.1_140587")


def _other_host_own() -> Scenario:
    body = page([dc_record("oai:c:1", "Elsewhere")]).replace(
        b"http://college.example.edu/oai", b"https://mirror.other-host.example.org//oai/request"
    )
    return Scenario(own_identify(Replay()).add(body, verb="ListRecords"), {"oai:c:1": "Elsewhere"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_other_host_capture, id="capture-dspace-mit"),
        pytest.param(_other_host_own, id="own"),
    ],
)
def test_base_url_echoed_on_another_host(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """The ``<request>`` echo names another host (or ``//``): provenance keeps the URL
    we asked, and nothing is fetched from the echoed one."""
    case = scenario()
    run, held, _, source_id = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert_catalogue(held, case.live)
    base_url = source_row(engine, source_id).base_url
    with session_scope(engine) as session:
        rows = session.exec(select(Resource)).all()
        assert {row.record["provenance"]["base_url"] for row in rows} == {base_url}


def day_granularity(replay: Replay) -> Callable[[dict[str, str]], Reply]:
    """A day-granularity repository answers a ``from`` with a time by badArgument."""

    def handler(params: dict[str, str]) -> Reply:
        if "T" in params.get("from", "") + params.get("until", ""):
            return Reply(oai_error("badArgument", "this repository has day granularity"))
        return replay(params)

    return handler


def _day_dates_capture() -> Scenario:
    replay = Replay().add(sample("perl-oai-lib-citebase/identify.xml"), verb="Identify")
    return Scenario(gallica(replay), {GALLICA_ID: None, GALLICA_NEXT: "Suite"})


def _day_dates_own() -> Scenario:
    replay = own_identify(Replay(), granularity=DAY, earliest="2019-01-01")
    replay.add(
        page(
            [
                dc_record("oai:c:1", "Calendars", datestamp="2024-04-01"),
                dc_record("oai:c:2", "Almanacs", datestamp="2024-04-03"),
            ]
        ),
        verb="ListRecords",
    )
    return Scenario(replay, {"oai:c:1": "Calendars", "oai:c:2": "Almanacs"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_day_dates_capture, id="capture-citebase-gallica"),
        pytest.param(_day_dates_own, id="own"),
    ],
)
def test_day_only_datestamps(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """A day-granularity repository with day datestamps: stored as sent, and the next
    run asks ``from`` a day (seconds would earn badArgument), which is answered."""
    case = scenario()
    url, app = repository(day_granularity(case.replay))
    source_id = add_source(engine, url, slug="college")
    first = run_harvest(engine, source_id)
    assert first.status == "succeeded", first.error
    assert first.last_datestamp is not None and "T" not in first.last_datestamp
    assert source_row(engine, source_id).granularity == DAY
    assert_catalogue(stored(engine, source_id), case.live)
    second = run_harvest(engine, source_id)
    assert second.status == "succeeded", second.error
    assert second.from_date is not None and re.fullmatch(r"\d{4}-\d\d-\d\d", second.from_date)
    froms = [r["from"] for r in app.requests if "from" in r]
    assert froms and all("T" not in value for value in froms)


@pytest.mark.parametrize(
    ("relative", "earliest"),
    [
        pytest.param("pyoai/fake5/00001.xml", "aaaa-bb-cc", id="capture-pyoai-aaaa-bb-cc"),
        pytest.param("perl-oai-lib-citebase/identify.xml", "0001-01-01", id="capture-citebase"),
        pytest.param(None, "0000-00-00T00:00:00Z", id="own"),
    ],
)
def test_invalid_earliest_datestamp(
    engine: Engine, repository: Start, relative: str | None, earliest: str
) -> None:
    replay = Replay()
    if relative is None:
        own_identify(replay, earliest=earliest)
    else:
        replay.add(sample(relative), verb="Identify")
    replay.add(page([dc_record("oai:c:1", "Origins")]), verb="ListRecords")
    run, held, _, source_id = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert run.status == "succeeded", run.error
    assert held.live == {"oai:c:1": "Origins"}
    assert source_row(engine, source_id).earliest_datestamp == earliest, "kept as received"


def test_source_that_ignores_from(engine: Engine, repository: Start) -> None:
    """Every run gets the whole list whatever ``from`` says: nothing is stored twice."""
    records = [dc_record(f"oai:c:{n}", f"Course {n}") for n in range(1, 31)]
    replay = own_identify(Replay()).add(page(records), verb="ListRecords")
    url, app = repository(replay)
    source_id = add_source(engine, url, slug="college")
    assert run_harvest(engine, source_id).status == "succeeded"
    entries = journal_size(engine)
    second = run_harvest(engine, source_id)
    assert second.status == "succeeded", second.error
    assert "from" in app.requests[-1], "we did ask incrementally"
    assert (second.records_seen, second.records_unchanged) == (30, 30)
    assert journal_size(engine) == entries, "unchanged records make no journal entries"


# --- bytes and XML ---------------------------------------------------------------------------


def _stylesheet_capture() -> Scenario:
    body = sample("dspace-mit/extracted/harvest-from-set__00_ListRecords_200.xml")
    assert body.lstrip().startswith(b"<?xml") and b"<?xml-stylesheet" in body[:200]
    replay = Replay().capture(sample("perl-oai-lib-citebase/identify.xml")).capture(body)
    live = dict.fromkeys(i.decode() for i in re.findall(rb"<identifier>([^<]+)<", body))
    return Scenario(replay, live)


def _stylesheet_own() -> Scenario:
    replay = own_identify(Replay(), head=STYLESHEET)
    replay.add(page([dc_record("oai:c:1", "Styled")], head=STYLESHEET), verb="ListRecords")
    return Scenario(replay, {"oai:c:1": "Styled"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_stylesheet_capture, id="capture-citebase-dspace-mit"),
        pytest.param(_stylesheet_own, id="own"),
    ],
)
def test_xml_stylesheet_before_root(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert run.records_failed == 0
    assert_catalogue(held, case.live)


def _bad_bytes_capture() -> Scenario:
    body = sample("perl-oai-lib-citebase/badbytes.xml")
    record = re.search(rb"<record>.*</record>", body, re.DOTALL)
    assert record is not None
    # Citebase's bytes are GetRecord's; the harvest lists, so the record goes into a
    # ListRecords envelope of ours, byte for byte.
    replay = own_identify(Replay())
    replay.add(
        envelope("").replace(b"</ListRecords>", record.group(0) + b"</ListRecords>"),
        verb="ListRecords",
    )
    return Scenario(replay, {"oai:arXiv.org:hep-th/0001001": None})


def _bad_bytes_own() -> Scenario:
    description = "<dc:description>线性代数 VT bad: INVALID end &#6;</dc:description>"
    body = page(
        [dc_record("oai:c:1", "Matrices", extra=description), dc_record("oai:c:2", "Vectors")]
    )
    raw = body.replace(b"VT", b"\x0b").replace(b"INVALID", b"\xff\xfe\xc3")
    return Scenario(
        own_identify(Replay()).add(raw, verb="ListRecords"),
        {"oai:c:1": "Matrices", "oai:c:2": "Vectors"},
    )


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_bad_bytes_capture, id="capture-citebase"),
        pytest.param(_bad_bytes_own, id="own"),
    ],
)
def test_invalid_utf8_and_control_bytes_in_record(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """Invalid UTF-8 and control characters are repaired (U+FFFD), not fatal; the
    stored raw record is valid UTF-8 XML that parses on its own."""
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert run.records_failed == 0
    assert_catalogue(held, case.live)
    with session_scope(engine) as session:
        for row in session.exec(select(Resource)).all():
            assert row.raw_xml is not None
            row.raw_xml.decode("utf-8")
            assert parse_raw_record(row.raw_xml).identifier == row.oai_identifier
            description = " ".join(row.record.get("description", {}).values())
            assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", description)


def _cp1252_capture() -> Scenario:
    lom = sample("lom-quebec-lom2mlr/canal-u.fr-67.lom.xml")
    assert b"&#x96;" in lom  # a C1 control written for cp1252's en dash
    lom = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", lom)
    record = (
        b"<record><header><identifier>oai:canal-u.fr:67</identifier>"
        b"<datestamp>2024-04-01T10:00:00Z</datestamp></header><metadata>"
        + lom
        + b"</metadata></record>"
    )
    body = envelope("").replace(b"</ListRecords>", record + b"</ListRecords>")
    replay = own_identify(Replay()).add(body, verb="ListRecords")
    return Scenario(replay, {"oai:canal-u.fr:67": None}, prefix="lom")


def _cp1252_own() -> Scenario:
    text = page(
        [
            dc_record(
                "oai:c:1",
                "Économie générale – cours",
                extra=("<dc:description>Café, naïveté, “quotes” – and €</dc:description>"),
            )
        ]
    ).decode()
    replay = own_identify(Replay()).add(text.encode("cp1252"), verb="ListRecords")
    return Scenario(
        replay,
        {"oai:c:1": "Économie générale – cours"},
        notes={"description": "Café, naïveté, “quotes” – and €"},
    )


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_cp1252_capture, id="capture-canal-u-lom"),
        pytest.param(_cp1252_own, id="own"),
    ],
)
def test_cp1252_bytes_in_record(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """A page written in Windows-1252 but sent as UTF-8 is read as cp1252, whole; a
    C1 control standing for a cp1252 character never reaches the stored text."""
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert_catalogue(held, case.live)
    with session_scope(engine) as session:
        (row,) = session.exec(select(Resource)).all()
        text = json.dumps(row.record, ensure_ascii=False)
    assert not re.search("[\x80-\x9f]", text), "C1 controls in the stored record"
    if "description" in case.notes:
        assert str(case.notes["description"]) in text


def _double_escaped_capture() -> Scenario:
    return Scenario(zenodo_chain(Replay()), dict.fromkeys(ZENODO_LIVE))


def _double_escaped_own() -> Scenario:
    description = (
        "<dc:description>&amp;lt;p&amp;gt;Intro &amp;amp;amp; basics&amp;lt;/p&amp;gt;"
        "</dc:description>"
    )
    replay = own_identify(Replay())
    replay.add(page([dc_record("oai:c:1", "Escapes", extra=description)]), verb="ListRecords")
    return Scenario(replay, {"oai:c:1": "Escapes"}, notes={"description": "Intro & basics"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_double_escaped_capture, id="capture-zenodo"),
        pytest.param(_double_escaped_own, id="own"),
    ],
)
def test_html_escaped_twice_in_description(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert_catalogue(held, case.live)
    with session_scope(engine) as session:
        descriptions = [
            text
            for row in session.exec(select(Resource).where(Resource.deleted == False)).all()  # noqa: E712
            for text in row.record.get("description", {}).values()
        ]
    assert descriptions
    for text in descriptions:
        assert not re.search(r"&lt;|&gt;|&amp;|</?p>", text), text
    if "description" in case.notes:
        assert descriptions == [case.notes["description"]]


def _undefined_entity_capture() -> bytes:
    body = sample("pyoai/fake4/00001.xml")
    assert b"&bogus;" in body
    return body


def _undefined_entity_own() -> bytes:
    return identify().replace(b"Example College<", b"Example &college; College<")


@pytest.mark.parametrize(
    "identify_body",
    [
        pytest.param(_undefined_entity_capture, id="capture-pyoai"),
        pytest.param(_undefined_entity_own, id="own"),
    ],
)
def test_undefined_entity_in_identify(
    engine: Engine, repository: Start, identify_body: Callable[[], bytes]
) -> None:
    """Identify that is not well-formed fails the run clearly, before any list is asked.
    (An undefined entity inside one record is ``test_harvest``'s broken-record case.)"""
    replay = Replay().add(identify_body(), verb="Identify")
    replay.add(page([dc_record("oai:c:1")]), verb="ListRecords")
    run, held, app, _ = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith("MalformedXML: ")
    assert "ListRecords" not in app.verbs()
    assert held.live == {}


HTML_PAGE = (
    b"<!DOCTYPE html>\n<html>\n<title>Httpbun sample</title>\n<body>\n  <h1>Some title</h1>\n"
    b'  <img src=x onerror=\'document.body.insertAdjacentText("beforeend", "x")\'>\n'
    b"</body></html>\n"
)
XHTML_PAGE = b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Maintenance</p></body></html>'


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(
            lambda: sample("sickle/ListRecordsBroken.xml"),
            "MalformedXML",
            id="capture-sickle-plain-text",
        ),
        pytest.param(lambda: HTML_PAGE, "MalformedXML", id="own-html"),
        pytest.param(lambda: XHTML_PAGE, "NotOAIPMH", id="own-xhtml"),
    ],
)
def test_html_body_instead_of_xml(
    engine: Engine, repository: Start, body: Callable[[], bytes], error: str
) -> None:
    """A 200 answer that is an HTML page or plain text fails the run with a typed
    error, stores nothing and moves no mark."""
    content = body()
    replay = own_identify(Replay())
    replay.add(Reply(content, 200, (("Content-Type", "text/html"),)), verb="ListRecords")
    run, held, _, source_id = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert run.status == "failed"
    assert run.error is not None and run.error.startswith(f"{error}: ")
    assert held.live == {}
    assert source_row(engine, source_id).high_water is None


def test_page_of_many_megabytes(engine: Engine, repository: Start) -> None:
    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 180  # ~10 KB
    records = [
        dc_record(f"oai:c:{n}", f"Course {n}", extra=f"<dc:description>{filler}</dc:description>")
        for n in range(800)
    ]
    body = page(records)
    assert len(body) > 8_000_000
    replay = own_identify(Replay()).add(body, verb="ListRecords")
    run, held, _, _ = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert run.status == "succeeded", run.error
    assert (run.pages, run.records_added) == (1, 800)
    assert len(held.live) == 800


# --- namespaces and formats -----------------------------------------------------------------


def test_no_namespaces_at_all(engine: Engine, repository: Start) -> None:
    body = (
        b"<OAI-PMH><responseDate>2026-05-01T10:00:00Z</responseDate>"
        b'<request verb="ListRecords">http://college.example.edu/oai</request><ListRecords>'
        b"<record><header><identifier>oai:c:1</identifier><datestamp>2024-04-01T10:00:00Z"
        b"</datestamp></header><metadata><dc><title>Bare</title><language>eng</language></dc>"
        b"</metadata></record></ListRecords></OAI-PMH>"
    )
    bare_identify = re.sub(rb' xmlns="[^"]+"', b"", identify())
    replay = Replay().add(bare_identify, verb="Identify").add(body, verb="ListRecords")
    run, held, _, source_id = harvest_scenario(engine, repository, Scenario(replay, {}))
    assert run.status == "succeeded", run.error
    assert held.live == {"oai:c:1": "Bare"}
    assert source_row(engine, source_id).granularity == SECONDS


def test_no_namespaces_at_all_capture(engine: Engine, repository: Start) -> None:
    """arXiv's un-namespaced GetRecord capture, listed: the envelope and header are
    read; the arXiv format is not one we normalise, so the record is kept as failed."""
    body = sample("invenio-oaiharvester/sample_arxiv_response_no_namespace.xml")
    assert b"xmlns" not in body
    listed = re.sub(rb"<(/?)GetRecord>", rb"<\1ListRecords>", body)
    replay = own_identify(Replay()).add(listed, verb="ListRecords")
    run, held, _, _ = harvest_scenario(engine, repository, Scenario(replay, {}, prefix="arXiv"))
    assert (run.status, run.records_seen, run.records_failed) == ("partial", 1, 1), run.error
    (failed,) = failed_records(engine)
    assert failed.identifier == "oai:arXiv.org:0804.2273"
    assert failed.raw is not None and b"<arXiv" in failed.raw
    assert held.live == {}


def _root_namespaces_capture() -> Scenario:
    replay = gallica(own_identify(Replay(), granularity=DAY))
    return Scenario(replay, {GALLICA_ID: None, GALLICA_NEXT: "Suite"}, notes={"row": GALLICA_ID})


def _root_namespaces_own() -> Scenario:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"'
        ' xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<responseDate>{NOW}</responseDate><request>http://college.example.edu/oai</request>"
        "<ListRecords><record><header><identifier>oai:c:1</identifier>"
        "<datestamp>2024-04-01T10:00:00Z</datestamp></header><metadata><oai_dc:dc>"
        '<dc:title xml:lang="en">Rooted</dc:title></oai_dc:dc></metadata></record>'
        "</ListRecords></OAI-PMH>"
    ).encode()
    replay = own_identify(Replay()).add(body, verb="ListRecords")
    return Scenario(replay, {"oai:c:1": "Rooted"}, notes={"row": "oai:c:1"})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_root_namespaces_capture, id="capture-gallica"),
        pytest.param(_root_namespaces_own, id="own"),
    ],
)
def test_namespaces_only_on_the_root(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """``dc``/``oai_dc`` declared only on ``<OAI-PMH>``: the stored raw record carries
    them, so it is read again without the envelope."""
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert_catalogue(held, case.live)
    with session_scope(engine) as session:
        row = session.exec(
            select(Resource).where(Resource.oai_identifier == case.notes["row"])
        ).one()
    assert row.raw_xml is not None
    assert parse_raw_record(row.raw_xml).metadata is not None
    assert b'xmlns:dc="http://purl.org/dc/elements/1.1/"' in row.raw_xml


IMS_NS = "http://www.imsglobal.org/xsd/imsmd_v1p2"
IMS_RECORD = (
    f'<lom xmlns="{IMS_NS}"><general><title><langstring xml:lang="nl">Breuken oefenen'
    "</langstring></title><language>nl</language></general></lom>"
)


def _lom_capture() -> tuple[bytes, str | None]:
    lom = sample("lom-imsmd-kennisnet-pylom/ims-complete.xml")
    return re.sub(rb"^<\?xml[^>]*\?>\s*", b"", lom), None


def _lom_own() -> tuple[bytes, str | None]:
    return IMS_RECORD.encode(), "Breuken oefenen"


@pytest.mark.parametrize(
    "record",
    [pytest.param(_lom_capture, id="capture-kennisnet-ims"), pytest.param(_lom_own, id="own")],
)
def test_lom_under_a_non_ieee_namespace_and_a_local_prefix(
    engine: Engine, repository: Start, record: Callable[[], tuple[bytes, str | None]]
) -> None:
    """An NL-LOM repository offers ``nl_lom`` (IMS binding) next to oai_dc: the richer
    format is chosen and its records are read."""
    lom, title = record()
    formats = envelope(
        "<metadataFormat><metadataPrefix>oai_dc</metadataPrefix>"
        "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
        "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</metadataNamespace>"
        "</metadataFormat><metadataFormat><metadataPrefix>nl_lom</metadataPrefix>"
        f"<schema>{IMS_NS}/imsmd_v1p2p2.xsd</schema><metadataNamespace>{IMS_NS}"
        "</metadataNamespace></metadataFormat>",
        verb="ListMetadataFormats",
    )
    item = (
        b"<record><header><identifier>oai:edurep.nl:1</identifier>"
        b"<datestamp>2024-04-01T10:00:00Z</datestamp></header><metadata>"
        + lom
        + b"</metadata></record>"
    )
    body = envelope("").replace(b"</ListRecords>", item + b"</ListRecords>")
    replay = own_identify(Replay()).add(formats, verb="ListMetadataFormats")
    replay.add(body, verb="ListRecords", metadataPrefix="nl_lom")
    run, held, _, _ = harvest_scenario(engine, repository, Scenario(replay, {}, prefix=None))
    assert replay.unmatched == []
    assert (run.status, run.metadata_prefix) == ("succeeded", "nl_lom"), run.error
    assert set(held.live) == {"oai:edurep.nl:1"}
    assert held.live["oai:edurep.nl:1"]
    if title is not None:
        assert held.live["oai:edurep.nl:1"] == title


def _languages_capture() -> Scenario:
    body = sample("phpoaipmh/GoodResponseSinglePage.xml")
    assert b"<dc:language>English</dc:language>" in body
    replay = Replay().add(sample("phpoaipmh/GoodResponseIdentify.xml"), verb="Identify")
    replay.add(body, verb="ListRecords")
    identifiers = [i.decode() for i in re.findall(rb"<identifier>([^<]+)<", body)]
    assert len(identifiers) == 162
    accepted = {identifier: {"en"} for identifier in identifiers}
    return Scenario(
        replay, dict.fromkeys(identifiers), prefix="nsdl_dc", notes={"languages": accepted}
    )


def _languages_own() -> Scenario:
    # What each value may become: a region may be kept or dropped, nothing else.
    values = {
        "eng": {"en"},
        "English": {"en"},
        "fre": {"fr"},
        "fr-CA": {"fr", "fr-CA"},
        "zxx": {"zxx"},
        "中文": {"zh"},
    }
    records = [
        dc_record(f"oai:c:{n}", f"Course {n}", extra=f"<dc:language>{value}</dc:language>")
        for n, value in enumerate(values)
    ]
    replay = own_identify(Replay()).add(page(records), verb="ListRecords")
    live: dict[str, str | None] = {f"oai:c:{n}": f"Course {n}" for n in range(len(values))}
    accepted = {f"oai:c:{n}": allowed for n, allowed in enumerate(values.values())}
    return Scenario(replay, live, notes={"languages": accepted})


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(_languages_capture, id="capture-nsdl"),
        pytest.param(_languages_own, id="own"),
    ],
)
def test_language_as_names_and_three_letter_codes(
    engine: Engine, repository: Start, scenario: Callable[[], Scenario]
) -> None:
    """``eng``, ``English``, ``fre``, ``fr-CA``, ``zxx``, ``中文``: stored as BCP 47."""
    case = scenario()
    run, held, _, _ = harvest_scenario(engine, repository, case)
    assert run.status == "succeeded", run.error
    assert_catalogue(held, case.live)
    accepted = case.notes["languages"]
    assert isinstance(accepted, dict)
    with session_scope(engine) as session:
        for row in session.exec(select(Resource)).all():
            languages = row.record.get("languages", [])
            assert languages and set(languages) <= accepted[row.oai_identifier], languages


def test_request_echo_helper_reads_the_captured_arguments() -> None:
    body = page([], "t").replace(b'verb="ListRecords"', b'verb="ListRecords" set="a&amp;b"')
    assert request_echo(body) == {"verb": "ListRecords", "set": "a&b"}


# --- faults found by these tests, and fixed -----------------------------------------------


def unordered_list(
    records: list[tuple[str, str]], *, page_size: int, expire: frozenset[str] = frozenset()
) -> Callable[[dict[str, str]], Reply]:
    """An honest repository listing in its own order (by internal id, as Zenodo and
    DSpace do, not by datestamp): ``from`` filters, a token is ``from@offset``, and a
    token in ``expire`` is refused once (badResumptionToken)."""
    refused: set[str] = set()

    def handler(params: dict[str, str]) -> Reply:
        if params.get("verb") == "Identify":
            return Reply(identify())
        token = params.get("resumptionToken")
        if token is not None:
            if token in expire and token not in refused:
                refused.add(token)
                return Reply(oai_error("badResumptionToken", "The resumptionToken has expired"))
            since, offset = token.split("@")
        else:
            since, offset = params.get("from", ""), "0"
        selected = [(i, d) for i, d in records if d >= since]
        start = int(offset)
        following = start + page_size
        token_out = f"{since}@{following}" if following < len(selected) else None
        chunk = selected[start:following]
        return Reply(page([dc_record(i, f"Record {i}", datestamp=d) for i, d in chunk], token_out))

    return handler


def test_expired_token_in_a_list_not_in_datestamp_order_loses_no_records(
    engine: Engine, repository: Start
) -> None:
    # Datestamps as Zenodo's first oai_dc page has them: not even sorted within a page.
    records = [
        ("oai:z:1", "2026-06-08T07:42:23Z"),
        ("oai:z:2", "2023-10-12T14:26:07Z"),
        ("oai:z:3", "2023-10-12T15:06:49Z"),
        ("oai:z:4", "2023-10-12T02:36:57Z"),
        ("oai:z:5", "2023-10-11T01:34:35Z"),
        ("oai:z:6", "2023-10-10T05:35:16Z"),
    ]
    url, _ = repository(unordered_list(records, page_size=2, expire=frozenset({"@2"})))
    source_id = add_source(engine, url, slug="unordered")
    run = run_harvest(engine, source_id)
    if run.status == "succeeded":  # it must not claim success with records missing
        assert set(stored(engine, source_id).live) == {i for i, _ in records}


def test_long_retry_after_keeps_the_source_leased(engine: Engine, repository: Start) -> None:
    lease = {"source_id": 0}
    stolen: list[bool] = []
    replay = own_identify(Replay())
    unavailable = Reply.of(b"<html>busy</html>", 503, Retry_After="2")
    replay.add([unavailable, Reply(page([dc_record("oai:c:1", "Patience")]))], verb="ListRecords")

    lists = iter(range(100))

    def handler(params: dict[str, str]) -> Reply:
        if params.get("verb") == "ListRecords" and next(lists) == 1:
            # The retry after Retry-After: can another worker claim the source now?
            stolen.append(claim(engine, lease["source_id"], "other-host:4242", 600))
        return replay(params)

    url, _ = repository(handler)
    lease["source_id"] = source_id = add_source(engine, url, slug="slow")
    options = HarvestOptions(lease_seconds=1, timeout=10, max_retries=1, backoff_base=0.01)
    run = asyncio.run(harvest(engine, source_id, options=options))
    assert run.status == "succeeded", run.error
    assert stolen == [False], "another worker took the source while this run held it"


def test_an_answer_slower_than_the_lease_keeps_the_source_leased(
    engine: Engine, repository: Start
) -> None:
    """A repository that takes longer for one page than the lease lasts: the harvest is
    alive, so its worker keeps the source (the lease is renewed while it waits)."""
    lease = {"source_id": 0}
    stolen: list[bool] = []
    replay = own_identify(Replay())
    replay.add([Reply(page([dc_record("oai:c:1", "Patience")]))], verb="ListRecords")

    def handler(params: dict[str, str]) -> Reply:
        if params.get("verb") == "ListRecords":
            time.sleep(2.5)  # two and a half leases of one second
            stolen.append(claim(engine, lease["source_id"], "other-host:4242", 600))
        return replay(params)

    url, _ = repository(handler)
    lease["source_id"] = source_id = add_source(engine, url, slug="slow")
    options = HarvestOptions(lease_seconds=1, timeout=10, max_retries=0)
    run = asyncio.run(harvest(engine, source_id, options=options))
    assert run.status == "succeeded", run.error
    assert stolen == [False], "another worker took the source while this run held it"


@pytest.mark.parametrize("response_date", ["2026-05-01T10:00:00.250Z", "2026-05-01T12:00:00+02:00"])
def test_response_date_with_fractional_seconds_or_offset(
    engine: Engine, repository: Start, response_date: str
) -> None:
    strict = re.compile(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\dZ)?")

    def handler(params: dict[str, str]) -> Reply:
        if params.get("verb") == "Identify":
            return Reply(identify())
        if "from" in params and not strict.fullmatch(params["from"]):
            return Reply(oai_error("badArgument", f"bad from {params['from']}"))
        return Reply(page([dc_record("oai:c:1", "Clocks")], date=response_date))

    url, app = repository(handler)
    source_id = add_source(engine, url, slug="clocks")
    assert run_harvest(engine, source_id).status == "succeeded"
    second = run_harvest(engine, source_id)
    assert second.status == "succeeded", second.error
    assert app.requests[-1]["from"] == "2026-05-01T09:55:00Z"

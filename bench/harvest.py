"""Benchmark: coursefed's full harvest against sickle and oaipmh-scythe, in one run.

A static OAI-PMH server (``bench.oai_static``: every page pre-rendered, served from its
own process) holds N demo ``oai_dc`` records, 100 per page.  Each contender then reads
the whole list in a fresh process of its own, ``--rounds`` times, interleaved:

* sickle: ``Sickle(url).ListRecords(metadataPrefix="oai_dc")``, touching ``metadata``;
* oaipmh-scythe: ``Scythe(url).list_records(metadata_prefix="oai_dc")``, likewise;
* coursefed client: our ``harvesters.oai`` client alone (fetch and parse, as the peers);
* coursefed: ``app.sources.harvest.harvest(engine, source_id, full=True)`` into a fresh,
  migrated database: fetch, parse, normalise, validate, store, journal (no indexing).

Printed: median records/s (wall clock, the target's measure) and records per CPU
second (steadier when other work shares the machine), peak RSS (``VmHWM`` of the
contender's process; ``ru_maxrss`` would report the parent's peak, which Linux carries
across fork and exec) and the ratio to sickle, next to the targets: at least 1.5x
sickle's records/s, and peak RSS flat in N (``--memory-check``: 5N records use less
than 1.5x the memory of N).  ``--profile`` adds a cProfile of one more coursefed run.

Run: ``python -m bench.harvest [--records 20000] [--rounds 3] [--database sqlite|postgresql]
[--memory-check] [--profile]``.  PostgreSQL is the server at ``COURSEFED_TEST_PG_URL``
(the tests' default: ``postgres@127.0.0.1:5432``); each run gets a database of its own,
dropped afterwards.  The machine is small and noisy: read ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import multiprocessing
import os
import pstats
import resource
import selectors
import signal
import statistics
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.oai_static import StaticOAIServer

# Every child process imports this module, so it imports only the standard library at
# the top; each contender imports its own libraries in its own process (PLC0415 below).

SPEED_TARGET = 1.5  # coursefed records/s ÷ sickle records/s, at least
MEMORY_TARGET = 1.5  # coursefed peak RSS at MEMORY_FACTOR x N ÷ at N, below
MEMORY_FACTOR = 5
PG_ADMIN_URL = os.environ.get(
    "COURSEFED_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PROFILE_LINES = 25
MB = 1024 * 1024
REPO = Path(__file__).resolve().parent.parent

Sample = dict[str, Any]  # what a contender's process reports: records, seconds, cpu, ...


# --- inside a contender's process ------------------------------------------------------------


def peak_rss() -> int:
    """This process's peak resident set size, in bytes."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage if sys.platform == "darwin" else usage * 1024


@contextlib.contextmanager
def measured(sample: Sample) -> Iterator[Sample]:
    """Wall and CPU seconds of the block; peak RSS afterwards."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield sample
    sample["seconds"] = time.perf_counter() - wall
    sample["cpu"] = time.process_time() - cpu
    sample["peak_rss"] = peak_rss()


def run_sickle(url: str, expected: int) -> Sample:
    from sickle import Sickle  # noqa: PLC0415

    with measured({"records": 0}) as sample:
        for record in Sickle(url).ListRecords(metadataPrefix="oai_dc"):
            getattr(record, "metadata", None)  # deleted records have none
            sample["records"] += 1
    assert sample["records"] == expected, f"sickle read {sample['records']}, not {expected}"
    return sample


def run_scythe(url: str, expected: int) -> Sample:
    from oaipmh_scythe import Scythe  # noqa: PLC0415

    with measured({"records": 0}) as sample, Scythe(url) as scythe:
        for record in scythe.list_records(metadata_prefix="oai_dc"):
            getattr(record, "metadata", None)
            sample["records"] += 1
    assert sample["records"] == expected, f"scythe read {sample['records']}, not {expected}"
    return sample


def run_client(url: str, expected: int) -> Sample:
    """Our OAI-PMH client alone: fetch and parse, what the peers do."""
    import asyncio  # noqa: PLC0415

    from harvesters.net import AddressPolicy  # noqa: PLC0415
    from harvesters.oai.client import OAIClient  # noqa: PLC0415

    async def read(sample: Sample) -> None:
        async with OAIClient(url, policy=AddressPolicy(allow_private=True)) as client:
            async for page in client.list_records_pages("oai_dc"):
                for record in page.records:
                    getattr(record, "metadata", None)
                    sample["records"] += 1

    with measured({"records": 0}) as sample:
        asyncio.run(read(sample))
    assert sample["records"] == expected, f"client read {sample['records']}, not {expected}"
    return sample


class _TimedSelector(selectors.DefaultSelector):
    """Counts the time the event loop sits idle, i.e. waits for the server's bytes."""

    waited = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        start = time.perf_counter()
        try:
            return super().select(timeout)
        finally:
            self.waited += time.perf_counter() - start


class _GCTimer:
    """Time spent in the cyclic garbage collector (cProfile charges it to the caller)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def run_coursefed(
    url: str, expected: int, workdir: str, database_url: str | None, profile_to: str | None
) -> Sample:
    """The full harvest job into a fresh database; only ``harvest()`` itself is timed."""
    import asyncio  # noqa: PLC0415
    import cProfile  # noqa: PLC0415

    from sqlalchemy import func  # noqa: PLC0415
    from sqlmodel import col, select  # noqa: PLC0415

    from app import migrate  # noqa: PLC0415
    from app.catalogue.models import JournalEntry, Resource  # noqa: PLC0415
    from app.db import make_engine, session_scope  # noqa: PLC0415
    from app.settings import Settings  # noqa: PLC0415
    from app.sources import service  # noqa: PLC0415
    from app.sources.harvest import harvest  # noqa: PLC0415

    settings = Settings(
        data_dir=Path(workdir),
        database_url=database_url,
        scheduler=False,
        meili_url="http://127.0.0.1:9",  # nothing listens: indexing is not part of a harvest
        s3_endpoint="http://127.0.0.1:9",
    )
    migrate.upgrade(settings)
    engine = make_engine(settings)
    with session_scope(engine) as session:
        source = service.add_source(
            session,
            base_url=url,
            slug="bench",
            metadata_prefix="oai_dc",
            allow_private_network=True,  # the bench repository is on loopback
        )
        source_id = source.id or 0

    selector, collector = _TimedSelector(), _GCTimer()
    profiler = cProfile.Profile() if profile_to is not None else None
    with (
        asyncio.Runner(loop_factory=lambda: asyncio.SelectorEventLoop(selector)) as runner,
        measured({}) as sample,
    ):
        gc.callbacks.append(collector)
        if profiler is not None:
            profiler.enable()
        run = runner.run(harvest(engine, source_id, full=True))
        if profiler is not None:
            profiler.disable()
        gc.callbacks.remove(collector)
    if profiler is not None:
        profiler.dump_stats(str(profile_to))

    assert run.status == "succeeded", f"harvest ended {run.status}: {run.error}"
    assert run.records_seen == expected, f"harvest saw {run.records_seen}, not {expected}"
    assert run.records_failed == 0, f"{run.records_failed} records failed"
    with session_scope(engine) as session:
        live = session.exec(
            select(func.count()).select_from(Resource).where(col(Resource.deleted).is_(False))
        ).one()
        journal = session.exec(select(func.count()).select_from(JournalEntry)).one()
    engine.dispose()
    assert live == run.records_added == journal, (live, run.records_added, journal)
    return {
        **sample,
        "records": run.records_seen,
        "waited": selector.waited,
        "collecting": collector.seconds,
        "stored": live,
    }


def _child(sender: Connection, target: Callable[..., Sample], args: tuple[Any, ...]) -> None:
    # The parent stops its children itself; Ctrl-C must not print their tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sender.send((True, target(*args)))
    except BaseException:
        sender.send((False, traceback.format_exc()))
    finally:
        sender.close()


def in_child(target: Callable[..., Sample], *args: Any, timeout: float) -> Sample:
    """``target(*args)`` in a fresh interpreter: its own GIL, its own peak RSS."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, target, args), daemon=True)
    try:
        process.start()
        sender.close()
        if not receiver.poll(timeout):
            raise TimeoutError(f"{target.__name__} did not finish in {timeout:.0f} s")
        ok, payload = receiver.recv()
        process.join(30)  # it exits right after sending
    except EOFError:
        process.join(5)
        raise RuntimeError(f"{target.__name__} died (exit code {process.exitcode})") from None
    finally:
        receiver.close()
        if process.is_alive():  # interrupted, timed out, or stuck on its way out
            process.terminate()
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
        process.close()
    if not ok:
        raise RuntimeError(f"{target.__name__} failed in its process:\n{payload}")
    return dict(payload)


# --- the parent process ------------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    does: str
    samples: list[Sample] = field(default_factory=list)

    def median(self, key: Callable[[Sample], float]) -> float:
        return statistics.median(key(s) for s in self.samples)

    @property
    def rate(self) -> float:
        return self.median(lambda s: s["records"] / s["seconds"])

    @property
    def cpu_rate(self) -> float:
        return self.median(lambda s: s["records"] / s["cpu"])

    @property
    def peak_mb(self) -> float:
        return self.median(lambda s: s["peak_rss"]) / MB


@contextlib.contextmanager
def fresh_database(kind: str) -> Iterator[str | None]:
    """None for SQLite (the contender makes its file); a new PostgreSQL database, dropped after."""
    if kind == "sqlite":
        yield None
        return
    import sqlalchemy as sa  # noqa: PLC0415 - only the PostgreSQL benchmark needs it

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"coursefed_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def timeout_for(records: int) -> float:
    return 120 + records / 50  # far beyond a plausible run, but bounded


def harvest_in_child(
    tmp: Path, database: str, url: str, records: int, profile_to: str | None = None
) -> Sample:
    workdir = tempfile.mkdtemp(prefix="coursefed-", dir=tmp)
    with fresh_database(database) as database_url:
        return in_child(
            run_coursefed, url, records, workdir, database_url, profile_to,
            timeout=timeout_for(records),
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--memory-check",
        action="store_true",
        help=f"also harvest {MEMORY_FACTOR}x the records once: is peak RSS flat in N?",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile one more coursefed run (cProfile)"
    )
    args = parser.parse_args()
    if args.records < 1 or args.rounds < 1:
        parser.error("--records and --rounds must be at least 1")
    try:
        with tempfile.TemporaryDirectory(prefix="coursefed-bench-harvest-") as tmp:
            run(args, Path(tmp))
    except KeyboardInterrupt:
        print("\ninterrupted: servers and contenders stopped, temporary files removed")
        sys.exit(130)


def run(args: argparse.Namespace, tmp: Path) -> None:
    n, database = args.records, args.database
    peers = [
        (Contender(f"sickle {version('sickle')}", "fetch+parse"), run_sickle),
        (Contender(f"oaipmh-scythe {version('oaipmh-scythe')}", "fetch+parse"), run_scythe),
        (Contender("coursefed client only", "fetch+parse (harvesters.oai)"), run_client),
    ]
    ours = Contender("coursefed harvest", f"fetch+parse+normalise+store+journal ({database})")
    profile_to = str(tmp / "harvest.prof") if args.profile else None
    profiled: Sample | None = None
    with StaticOAIServer(n) as server:
        rendered = server.rendered
        assert rendered is not None
        url = server.base_url
        for _ in range(args.rounds):  # interleaved, so drift hits every contender alike
            for contender, measure in peers:
                contender.samples.append(in_child(measure, url, n, timeout=timeout_for(n)))
            ours.samples.append(harvest_in_child(tmp, database, url, n))
        if profile_to is not None:
            profiled = harvest_in_child(tmp, database, url, n, profile_to)
    large: Sample | None = None
    if args.memory_check:
        with StaticOAIServer(n * MEMORY_FACTOR) as big:
            large = harvest_in_child(tmp, database, big.base_url, n * MEMORY_FACTOR)

    rounds = f"{args.rounds} round{'s' if args.rounds > 1 else ''}"
    print(
        f"\n{n:,} oai_dc records ({rendered.bytes_per_record / 1024:.2f} KiB each as served, "
        f"{server.page_size} per page, {rendered.pages} pages) from a pre-rendered OAI-PMH "
        f"server in its own process; {rounds}, each contender in a fresh process.\n"
    )
    contenders = [c for c, _ in peers] + [ours]
    sickle = contenders[0].rate
    rows = []
    for contender in contenders:
        ratio = contender.rate / sickle
        target = ""
        if contender is ours:
            target = f"≥ {SPEED_TARGET:.2f}x: {'met' if ratio >= SPEED_TARGET else 'NOT met'}"
        rows.append(
            (
                contender.name,
                contender.does,
                f"{contender.rate:,.0f}",
                " / ".join(f"{s['records'] / s['seconds']:,.0f}" for s in contender.samples),
                f"{contender.cpu_rate:,.0f}",
                f"{contender.peak_mb:.0f}",
                f"{ratio:.2f}x",
                target,
            )
        )
    table(
        ("contender", "does", "records/s (median)", "each round", "records/CPU-s",
         "peak RSS MB", "ratio to sickle", "target"),
        rows,
    )  # fmt: skip
    waited = ours.median(lambda s: s["waited"] / s["seconds"])
    collecting = ours.median(lambda s: s["collecting"] / s["seconds"])
    print(
        f"\ncoursefed harvest, share of its wall time: idle waiting for the server {waited:.1%} "
        "(at most what fetching the next page while storing this one could save here); "
        f"in the cyclic garbage collector {collecting:.1%}."
    )
    if large is not None:
        ratio = large["peak_rss"] / MB / ours.peak_mb
        verdict = "met" if ratio < MEMORY_TARGET else "NOT met"
        print()
        table(
            ("coursefed harvest", "records", "records/s", "records/CPU-s", "peak RSS MB",
             "RSS ratio", "target"),
            [
                ("N (median)", f"{n:,}", f"{ours.rate:,.0f}", f"{ours.cpu_rate:,.0f}",
                 f"{ours.peak_mb:.0f}", "1.00", ""),
                (f"{MEMORY_FACTOR}N (one run)", f"{large['records']:,}",
                 f"{large['records'] / large['seconds']:,.0f}",
                 f"{large['records'] / large['cpu']:,.0f}", f"{large['peak_rss'] / MB:.0f}",
                 f"{ratio:.2f}", f"< {MEMORY_TARGET:.2f}: {verdict}"),
            ],
        )  # fmt: skip
    if profile_to is not None and profiled is not None:
        print_profile(profile_to, profiled, ours)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


# --- the profile ---------------------------------------------------------------------------------

FunctionKey = tuple[str, int, str]  # file, line, function, as pstats keys them

# Where the time goes, by inclusive time of the functions that do each part (they nest,
# so the shares do not add up).  Names that no longer exist are skipped.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("idle: waiting for the server's bytes", "bench/harvest.py", "select"),
    ("fetch: HTTP request, body read (OAIClient._fetch)", "harvesters/oai/client.py", "_fetch"),
    ("parse: parse_page", "harvesters/oai/records.py", "parse_page"),
    ("  raw bytes per record: _raw_items", "harvesters/oai/records.py", "_raw_items"),
    ("  header fields per record: _record", "harvesters/oai/records.py", "_record"),
    ("store a page: _store_page (all below)", "app/sources/harvest.py", "_store_page"),
    ("  one record: _store_one", "app/sources/harvest.py", "_store_one"),
    ("    normalise: read_record + validate", "app/catalogue/normalise.py", "normalise"),
    ("    newest(): datestamp parsing", "app/sources/harvest.py", "newest"),
    ("    Batch.upsert", "app/catalogue/service.py", "upsert"),
    ("      content_hash", "app/catalogue/service.py", "content_hash"),
    ("      append_journal", "app/catalogue/repository.py", "append_journal"),
    ("  SQLModel table-model __init__", "sqlmodel/_compat.py", "sqlmodel_table_construct"),
    ("    inspect.signature (default_factory)", "inspect.py", "signature"),
    ("  ORM flush (autoflush at the lease renewal)", "sqlalchemy/orm/session.py", "_flush"),
    ("  SQLite commit", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("json.dumps (content hash, JSON columns)", "json/__init__.py", "dumps"),
    ("pydantic validation (validate_python)", "~", "validate_python"),
)


def _short(key: FunctionKey) -> str:
    file, line, function = key
    if file == "~":
        return function
    path = file.replace(str(REPO) + os.sep, "")
    for marker in ("site-packages/", f"python{sys.version_info[0]}.{sys.version_info[1]}/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{line}({function})"


def print_profile(path: str, profiled: Sample, ours: Contender) -> None:
    stats = pstats.Stats(path)
    entries: dict[FunctionKey, tuple[int, int, float, float, Any]] = vars(stats)["stats"]
    total = sum(tt for _, _, tt, _, _ in entries.values())
    records = profiled["records"]
    plain = ours.median(lambda s: s["seconds"])
    print(
        f"\nprofile of one more coursefed harvest: {profiled['seconds']:.1f} s under cProfile, "
        f"{plain:.1f} s without.  Shares are of the profiled time; cProfile inflates code that "
        "makes many small calls, so '≈ µs/record' (share x unprofiled time) is a rough guide."
    )
    rows = []
    for label, file_suffix, function in STAGES:
        found = [
            value
            for key, value in entries.items()
            if key[0].endswith(file_suffix)
            and (key[2] == function or (file_suffix == "~" and function in key[2]))
        ]
        if found:
            share = max(value[3] for value in found) / total
            rows.append((label, f"{share:.1%}", f"{share * plain / records * 1e6:,.0f}"))
    print()
    table(("where the time goes (inclusive, nested)", "share", "≈ µs/record"), rows)
    for order, column in (("inclusive time (cumtime)", 3), ("own time (tottime)", 2)):
        print(f"\ntop {PROFILE_LINES} by {order}")
        ranked = sorted(entries.items(), key=lambda item: -item[1][column])[:PROFILE_LINES]
        top = []
        for key, (_, calls, own, inclusive, _) in ranked:
            share = (inclusive if column == 3 else own) / total
            top.append(
                (f"{calls:,}", f"{own:.2f}", f"{inclusive:.2f}", f"{share:.1%}", _short(key))
            )
        table(("calls", "tottime s", "cumtime s", "share", "function"), top)


if __name__ == "__main__":
    main()

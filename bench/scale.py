"""Benchmark: one node from empty to N searchable records, as a user runs it, at several N.

For each N (``--records``, default 10,000; e.g. ``--records 10000 100000 1000000``) a new
node is made in a temporary folder with its own Meilisearch and SeaweedFS S3.  The demo
corpus is filed by institution (``bench.scale_sources``) and each institution is served
as an OAI-PMH repository in a process of its own, reading its pages from disk; half are
registered for LOM, half for oai_dc.  Then, each of our steps a subprocess of the CLI:

- ``coursefed harvest --all``: wall time from its start until Meilisearch answers every
  live record (a placeholder search's ``estimatedTotalHits``), and records/s;
- ``coursefed serve``: search p50/p99 with 1 client and requests/s with 16 and 64 clients,
  by ``wrk`` (rotating queries from a Lua script), against raw Meilisearch
  ``POST /indexes/{uid}/search`` with the bodies ``app.search`` sends, in turns;
- ``coursefed mirror --once`` into a second empty node (its own database and index);
- ``coursefed reindex`` and ``coursefed export``;
- the peak RSS of each of those processes and of Meilisearch (``VmHWM`` sampled from
  /proc, and the kernel's own count when a process ends), the database's and the
  index's size on disk.

One table prints the measures side by side per N (ours, raw, ours/raw), then the issue's
targets with PASS or below.  When the harvest target is missed, or with ``--phases``,
the sources are read again to say where the time goes: fetching pages, parsing and
normalising them (in this process), indexing (``reindex``), and the rest (storing).

Run: ``python -m bench.scale [--records 10000 ...] [--seconds 10] [--jobs 1 --phases]``.  The
machine is small and shared: read ratios and orders of magnitude, not absolute numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import func, or_
from sqlmodel import col, select

from app import migrate
from app.catalogue.models import Resource
from app.db import make_engine, session_scope
from app.search import service as search
from app.search.gateway import HEADERS
from app.services.manager import services_down, services_up
from app.services.ports import free_port, service_ports
from app.settings import Settings
from app.sources import service as sources
from app.sources.models import HarvestRun
from bench.scale_sources import SourceFile, write_sources
from bench.search_api import QUERIES

REPO = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
PAGE_SIZE = 250
CLIENTS = (16, 64)
WRK = shutil.which("wrk")

# The targets.
TARGET_RECORDS = 1_000_000
TARGET_HARVEST_S = 15 * 60
TARGET_RSS = 1024 * MB
TARGET_P50_EXTRA_MS = 1.0
TARGET_THROUGHPUT_SHARE = 0.75


def timeout_for(records: int) -> float:
    """Seconds any one step may take at ``records``: far beyond a plausible run, bounded."""
    return 300 + records / 25  # 25 records/s: a quarter of the slowest rate seen


# --- measuring processes --------------------------------------------------------------------


def vm_hwm(pid: int) -> int:
    """Peak resident set size of a live process, in bytes; 0 once it is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


class Watched:
    """A subprocess of ours with its wall time and peak RSS.

    ``VmHWM`` is sampled every 0.2 s while it runs; when it ends, ``wait4`` gives the
    kernel's own peak, so the last moments are not missed.
    """

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self.started = time.perf_counter()
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                argv, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
            )
        self.peak = 0
        self.seconds = 0.0
        self.cpu_s = 0.0  # user + system, from wait4 once it has ended
        self.returncode: int | None = None
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, vm_hwm(self.process.pid))

    def wait(self, timeout: float) -> int:
        """Wait for the end (terminating it after ``timeout`` seconds); the exit code."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.process.terminate()
                deadline = time.monotonic() + 30
            time.sleep(0.05)
        self.seconds = time.perf_counter() - self.started
        self._stop.set()
        self.peak = max(self.peak, usage.ru_maxrss * 1024)
        self.cpu_s = usage.ru_utime + usage.ru_stime
        self.returncode = os.waitstatus_to_exitcode(status)
        self.process.returncode = self.returncode
        return self.returncode

    def stop(self) -> int:
        self.peak = max(self.peak, vm_hwm(self.process.pid))
        self.process.terminate()
        return self.wait(60)

    def __enter__(self) -> Watched:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:  # the benchmark failed or was interrupted
            self.process.kill()
            self.process.wait(30)

    def check(self) -> None:
        if self.returncode != 0:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.name} exited with {self.returncode}:\n{tail}")


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system seconds the live processes ``pids`` have used so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def disk_size(path: Path) -> int:
    """Bytes a file or folder takes on disk."""
    if path.is_file():
        return path.stat().st_blocks * 512
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


# --- one node ---------------------------------------------------------------------------------


def node_env(settings: Settings) -> dict[str, str]:
    """The environment our CLI reads ``settings`` from (``COURSEFED_*``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSEFED_")}
    env["PYTHONPATH"] = str(REPO)
    values = {
        "data_dir": settings.data_dir,
        "port": settings.port,
        "public_url": settings.resolved_public_url,
        "meili_url": settings.resolved_meili_url,
        "meili_index": settings.meili_index,
        "s3_endpoint": settings.resolved_s3_endpoint,
        "scheduler": "false",
        "rate_limit": "false",
        "objects_fetch": "false",  # the demo's files live at an example host
        "harvest_max_seconds": timeout_for(10_000_000),
    }
    env.update({f"COURSEFED_{name.upper()}": str(value) for name, value in values.items()})
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


@contextlib.contextmanager
def empty_node(folder: Path) -> Iterator[tuple[Settings, int]]:
    """A node's settings in ``folder`` with its services running; and Meilisearch's pid."""
    port = free_port()
    settings = Settings(
        data_dir=folder,
        scheduler=False,
        rate_limit=False,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        meili_url=None,
        s3_endpoint=None,
        **service_ports(),
    )
    statuses = services_up(settings)
    try:
        meili = next(s.pid for s in statuses if s.name == "meilisearch")
        yield settings, meili or 0
    finally:
        services_down(settings)


SOURCE_PIDS: list[int] = []
"""The processes serving the sources now (for their CPU time)."""


@contextlib.contextmanager
def serving_sources(files: list[SourceFile], logs: Path) -> Iterator[list[str]]:
    """Each file served over OAI-PMH by a process of its own; yields the base URLs."""
    processes: list[subprocess.Popen[str]] = []
    try:
        for source in files:
            argv = [sys.executable, "-m", "bench.scale_sources", str(source.path), str(free_port())]
            with (logs / f"source-{source.slug}.log").open("ab") as log:
                process = subprocess.Popen(
                    [*argv, "--page-size", str(PAGE_SIZE)],
                    cwd=REPO,
                    env={**os.environ, "PYTHONPATH": str(REPO)},
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
            processes.append(process)
        SOURCE_PIDS[:] = [process.pid for process in processes]
        # Each prints its URL once it listens; they start side by side.
        yield [process.stdout.readline().strip() for process in processes if process.stdout]
    finally:
        SOURCE_PIDS.clear()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)


def register(settings: Settings, files: list[SourceFile], urls: list[str]) -> list[str]:
    """One source per institution, alternately LOM and oai_dc; their prefixes."""
    prefixes = []
    engine = make_engine(settings)
    with session_scope(engine) as session:
        for n, (source, url) in enumerate(zip(files, urls, strict=True)):
            prefix = "lom" if n % 2 == 0 else "oai_dc"
            sources.add_source(
                session,
                slug=source.slug,
                base_url=url,
                metadata_prefix=prefix,
                allow_private_network=True,
            )
            prefixes.append(prefix)
    engine.dispose()
    return prefixes


def meili_client(settings: Settings) -> httpx.Client:
    """Asks for what the gateway asks for, so the comparison is fair."""
    return httpx.Client(
        base_url=settings.resolved_meili_url,
        headers={**HEADERS, "Authorization": f"Bearer {settings.meili_key.get_secret_value()}"},
        timeout=60,
    )


def searchable(meili: httpx.Client, uid: str) -> int:
    """Documents in the index now (a search's hit count stops at ``maxTotalHits``)."""
    response = meili.get(f"/indexes/{uid}/stats")
    return int(response.json().get("numberOfDocuments", 0)) if response.is_success else 0


def meili_idle(meili: httpx.Client) -> bool:
    tasks = meili.get("/tasks", params={"statuses": "enqueued,processing", "limit": 1}).json()
    return not tasks.get("results")


def indexable(settings: Settings) -> int:
    """Search documents the database makes: live, published records, a course of several
    records once (``app.search.indexer.is_indexed``)."""
    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            return int(
                session.exec(
                    select(func.count())
                    .where(col(Resource.deleted).is_(False), col(Resource.publishable).is_(True))
                    .where(
                        or_(
                            col(Resource.cluster_id).is_(None),
                            col(Resource.cluster_id) == col(Resource.id),
                        )
                    )
                ).one()
            )
    finally:
        engine.dispose()


def wait_searchable(
    meili: httpx.Client, uid: str, settings: Settings, harvested: Callable[[], bool]
) -> int:
    """Poll until the harvest has ended and the index holds every document the database
    makes (or, should some never arrive, Meilisearch is idle and the count has stopped
    moving); the count reached."""
    deadline = time.monotonic() + timeout_for(10_000_000)
    expected: int | None = None
    last, still = -1, 0
    while time.monotonic() < deadline:
        count = searchable(meili, uid)
        if expected is None and harvested():
            expected = indexable(settings)
        if expected is not None and count >= expected:
            return count
        settled = expected is not None and count == last and meili_idle(meili)
        still = still + 1 if settled else 0
        if still >= 50:
            return count
        last = count
        time.sleep(0.1)
    return last


# --- search load ------------------------------------------------------------------------------


def lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_script(method: str, paths: list[str], headers: dict[str, str], bodies: list[str]) -> str:
    """A wrk script sending ``paths`` (with ``bodies``) in turn and printing a JSON line."""
    entries = ",\n".join(
        "{" + lua_string(path) + ", " + (lua_string(body) if body else "nil") + "}"
        for path, body in zip(paths, bodies, strict=True)
    )
    header_table = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
    return f"""
local entries = {{
{entries}
}}
local headers = {{ {header_table} }}
local prepared = {{}}
local n = 0
init = function(args)
  for i, entry in ipairs(entries) do
    prepared[i] = wrk.format({lua_string(method)}, entry[1], headers, entry[2])
  end
  n = math.random(#prepared)
end
request = function()
  n = n % #prepared + 1
  return prepared[n]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "errors": %d, "bad": %d}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
"""


@dataclass(frozen=True)
class Load:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(url: str, script: Path, clients: int, seconds: float) -> Load:
    threads = min(clients, 2)
    argv = [WRK or "wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds:g}s", "-s", str(script)]
    done = subprocess.run(
        [*argv, "--timeout", "10s", url], capture_output=True, text=True, check=True
    )
    line = next((x for x in reversed(done.stdout.splitlines()) if x.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk said nothing of its run:\n{done.stdout}\n{done.stderr}")
    body = json.loads(line)
    return Load(
        body["requests"],
        body["seconds"],
        body["p50_ms"],
        body["p99_ms"],
        body["errors"] + body["bad"],
    )


def search_load(
    api_url: str, settings: Settings, folder: Path, seconds: float
) -> dict[str, tuple[Load, Load]]:
    """(ours, raw) per load: ``1`` client for latency, then each of ``CLIENTS``."""
    api_paths = [f"/api/v1/search?q={quote(q)}" for q in QUERIES]
    uid = settings.meili_index
    bodies = [json.dumps(search.search_params(q, page=1, per_page=20)) for q in QUERIES]
    raw_headers = {
        **HEADERS,
        "Authorization": f"Bearer {settings.meili_key.get_secret_value()}",
        "Content-Type": "application/json",
    }
    ours = folder / "api.lua"
    ours.write_text(wrk_script("GET", api_paths, {}, [""] * len(QUERIES)))
    raw = folder / "raw.lua"
    raw.write_text(
        wrk_script("POST", [f"/indexes/{uid}/search"] * len(QUERIES), raw_headers, bodies)
    )
    results = {}
    for clients in (1, *CLIENTS):
        mine = run_wrk(api_url, ours, clients, seconds)
        theirs = run_wrk(settings.resolved_meili_url, raw, clients, seconds)
        results[str(clients)] = (mine, theirs)
    return results


# --- where the harvest's time goes --------------------------------------------------------------


def harvest_phases(urls: list[str], prefixes: list[str]) -> dict[str, float]:
    """Seconds to fetch every page (HTTP, gzip) and to parse and normalise them, one page at
    a time so memory stays flat."""
    from harvesters.oai.records import parse_page  # noqa: PLC0415
    from metadata.readers import read_record  # noqa: PLC0415
    from metadata.validate import validate  # noqa: PLC0415

    fetch = normalise = 0.0
    with httpx.Client(timeout=300) as http:
        for url, prefix in zip(urls, prefixes, strict=True):
            params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": prefix}
            while True:
                started = time.perf_counter()
                data = http.get(url, params=params).content
                fetch += time.perf_counter() - started
                started = time.perf_counter()
                page = parse_page(data, verb="ListRecords")
                for record in page.records:
                    if record.metadata is not None:
                        resource, _ = read_record(record.metadata, prefix)
                        validate(resource)
                normalise += time.perf_counter() - started
                if not page.token:
                    break
                params = {"verb": "ListRecords", "resumptionToken": page.token}
    return {"fetch": fetch, "normalise": normalise}


# --- one N, end to end ------------------------------------------------------------------------


@dataclass
class Result:
    """Every measure of one N; ``rss`` is bytes per process name."""

    records: int
    live: int
    sources: int
    searchable: int = 0
    harvest_s: float = 0.0
    harvest_exit_s: float = 0.0
    runs_s: float = 0.0  # the harvest runs' own durations, indexing after each excluded
    rss: dict[str, int] = field(default_factory=dict)
    database_bytes: int = 0
    index_bytes: int = 0
    load: dict[str, tuple[Load, Load]] = field(default_factory=dict)
    reindex_s: float = 0.0
    export_s: float = 0.0
    mirror_s: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    jobs: int = 1  # coursefed harvest --jobs
    # CPU seconds used during harvest -> searchable, by process.
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.searchable / self.harvest_s if self.harvest_s else 0.0


def say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def measure(
    records: int, seconds: float, *, phases: bool, via: str = "harvest", jobs: int = 1
) -> Result:
    """Every measure at ``records``, on a new node that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="coursefed-bench-scale-") as tmp:
        folder = Path(tmp)
        (folder / "logs").mkdir()
        started = time.perf_counter()
        files = write_sources(folder / "sources", records)
        live = sum(f.live for f in files)
        say(f"N={records:,}: {len(files)} sources, {live:,} live, "
            f"filed in {time.perf_counter() - started:.0f} s")  # fmt: skip
        result = Result(records, live, len(files))
        with (
            empty_node(folder / "node") as (settings, meili_pid),
            serving_sources(files, folder / "logs") as urls,
        ):
            migrate.upgrade(settings)
            prefixes = register(settings, files, urls)
            with meili_client(settings) as meili:
                step = worker_step if via == "worker" else harvest_step
                result.jobs = jobs
                before = {
                    "meilisearch": cpu_seconds([meili_pid]),
                    "sources": cpu_seconds(SOURCE_PIDS),
                }
                step(result, settings, meili, folder)
                result.cpu["meilisearch"] = cpu_seconds([meili_pid]) - before["meilisearch"]
                result.cpu["sources"] = cpu_seconds(SOURCE_PIDS) - before["sources"]
            database = settings.data_dir / "coursefed.db"
            result.database_bytes = sum(
                disk_size(p) for p in database.parent.glob(database.name + "*")
            )
            result.index_bytes = disk_size(settings.data_dir / "services" / "meilisearch")
            serving_steps(result, settings, folder, seconds)
            for name, args in (
                ("reindex", ["reindex"]),
                ("export", ["export", str(folder / "catalogue.ndjson.gz")]),
            ):
                process = run_step(name, args, node_env(settings), folder, records)
                setattr(result, f"{name}_s", process.seconds)
                result.rss[name] = process.peak
            result.rss["meilisearch"] = vm_hwm(meili_pid)
            # The phases split one harvest after another; the worker's (and --jobs') overlap.
            missed = projected_harvest_s(result) > TARGET_HARVEST_S
            if via == "harvest" and jobs == 1 and (phases or missed):
                result.phases = harvest_phases(urls, prefixes)
        return result


def harvest_step(result: Result, settings: Settings, meili: httpx.Client, folder: Path) -> None:
    """``coursefed harvest --all [--jobs N]`` from its start until every live record is
    searchable."""
    step = timeout_for(result.records)
    argv = cli("harvest", "--all", "--jobs", str(result.jobs))
    log = folder / "logs" / "harvest.log"
    with Watched("harvest", argv, node_env(settings), log) as harvest:
        waiting = threading.Thread(target=harvest.wait, args=(step,), daemon=True)
        waiting.start()
        result.searchable = wait_searchable(
            meili, settings.meili_index, settings, lambda: harvest.returncode is not None
        )
        result.harvest_s = time.perf_counter() - harvest.started
        waiting.join(step)
    harvest.check()
    result.harvest_exit_s = harvest.seconds
    result.rss["harvest"] = harvest.peak
    result.cpu["harvest"] = harvest.cpu_s
    result.runs_s = runs_seconds(settings)
    say(f"  harvest -> searchable in {result.harvest_s:.1f} s ({result.searchable:,})")


def worker_step(result: Result, settings: Settings, meili: httpx.Client, folder: Path) -> None:
    """``coursefed worker`` (the scheduler: harvests side by side, indexing in its own loop)
    from its start until every live record is searchable; then it is stopped."""
    log = folder / "logs" / "worker.log"
    with Watched("worker", cli("worker"), node_env(settings), log) as worker:
        result.searchable = wait_searchable(
            meili,
            settings.meili_index,
            settings,
            lambda: runs_finished(settings) >= result.sources or worker.process.poll() is not None,
        )
        result.harvest_s = time.perf_counter() - worker.started
        worker.stop()
    result.rss["worker"] = worker.peak
    result.cpu["worker"] = worker.cpu_s
    result.runs_s = runs_seconds(settings)
    say(f"  worker: harvest -> searchable in {result.harvest_s:.1f} s ({result.searchable:,})")


def runs_finished(settings: Settings) -> int:
    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            runs = session.exec(select(HarvestRun)).all()
            return sum(run.finished_at is not None for run in runs)
    finally:
        engine.dispose()


def runs_seconds(settings: Settings) -> float:
    """Seconds the harvest runs took in all, as they recorded them (fetch to stored)."""
    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            runs = session.exec(select(HarvestRun)).all()
            return sum(
                (run.finished_at - run.started_at).total_seconds()
                for run in runs
                if run.finished_at is not None
            )
    finally:
        engine.dispose()


def serving_steps(result: Result, settings: Settings, folder: Path, seconds: float) -> None:
    """``coursefed serve``: search load against it, then a second node mirroring it."""
    env = node_env(settings)
    log = folder / "logs" / "serve.log"
    with Watched("serve", cli("serve", "--no-scheduler"), env, log) as serve:
        api_url = settings.resolved_public_url
        wait_http(f"{api_url}/healthz", 120)
        # Measured once warm: the lexicon of suggestions is made after start.
        warm = wait_suggestions(api_url, timeout_for(result.records))
        say(f"  serve: suggestions ready {warm:.1f} s after it answered")
        if WRK:
            result.load = search_load(api_url, settings, folder, seconds)
            say("  search load done")
        else:
            say("  wrk not found: search latency and throughput skipped")
        migrate.upgrade(Settings(data_dir=folder / "mirror", scheduler=False))
        mirror_env = {
            **env,
            "COURSEFED_DATA_DIR": str(folder / "mirror"),
            "COURSEFED_MEILI_INDEX": settings.meili_index + "-mirror",
        }
        args = ["mirror", api_url, "--once", "--allow-private-network"]
        mirror = run_step("mirror", args, mirror_env, folder, result.records)
        result.mirror_s, result.rss["mirror"] = mirror.seconds, mirror.peak
        serve.stop()
    result.rss["serve"] = serve.peak


def run_step(
    name: str, args: list[str], env: dict[str, str], folder: Path, records: int
) -> Watched:
    """One CLI command to its end; it must succeed."""
    with Watched(name, cli(*args), env, folder / "logs" / f"{name}.log") as process:
        process.wait(timeout_for(records))
    process.check()
    say(f"  {name} in {process.seconds:.1f} s")
    return process


def wait_suggestions(api_url: str, timeout: float) -> float:
    """Seconds until ``/readyz`` says the suggestions are ready."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            if httpx.get(f"{api_url}/readyz", timeout=30).json().get("suggestions") == "ready":
                break
        time.sleep(0.2)
    return time.monotonic() - started


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# --- the table and the targets (pure) -----------------------------------------------------------


def ratio(ours: float, raw: float) -> str:
    return f"{ours / raw:.2f}" if raw else "-"


def projected_harvest_s(result: Result) -> float:
    """Harvest -> searchable at the target's N, at this run's rate (linear)."""
    return TARGET_RECORDS / result.rate if result.rate else float("inf")


Cells = tuple[str, str, str]  # ours, raw, ours/raw


def jobs_flag(result: Result) -> str:
    return f" --jobs {result.jobs}" if result.jobs > 1 else ""


def rows(result: Result) -> dict[str, Cells]:
    """The measures of one N, by row name."""
    table: dict[str, Cells] = {
        f"harvest{jobs_flag(result)} -> searchable, s": (f"{result.harvest_s:.1f}", "", ""),
        "harvest -> searchable, records/s": (f"{result.rate:,.0f}", "", ""),
    }
    if result.harvest_exit_s:
        table["  harvest process exit, s"] = (f"{result.harvest_exit_s:.1f}", "", "")
    for name in ("harvest", "worker", "serve", "mirror", "reindex", "export", "meilisearch"):
        if name in result.rss:
            table[f"peak RSS {name}, MB"] = (f"{result.rss[name] / MB:.0f}", "", "")
    table["SQLite database, MB"] = (f"{result.database_bytes / MB:.1f}", "", "")
    table["Meilisearch data, MB"] = (f"{result.index_bytes / MB:.1f}", "", "")
    if "1" in result.load:
        ours, raw = result.load["1"]
        table["search p50 ms, 1 client"] = (
            f"{ours.p50_ms:.2f}",
            f"{raw.p50_ms:.2f}",
            ratio(ours.p50_ms, raw.p50_ms),
        )
        table["search p99 ms, 1 client"] = (
            f"{ours.p99_ms:.2f}",
            f"{raw.p99_ms:.2f}",
            ratio(ours.p99_ms, raw.p99_ms),
        )
    for clients in CLIENTS:
        if str(clients) in result.load:
            ours, raw = result.load[str(clients)]
            table[f"search req/s, {clients} clients"] = (
                f"{ours.per_second:,.0f}",
                f"{raw.per_second:,.0f}",
                ratio(ours.per_second, raw.per_second),
            )
    table["coursefed mirror (2nd node), s"] = (f"{result.mirror_s:.1f}", "", "")
    table["coursefed reindex, s"] = (f"{result.reindex_s:.1f}", "", "")
    table["coursefed export, s"] = (f"{result.export_s:.1f}", "", "")
    return table


def format_table(results: Sequence[Result]) -> list[str]:
    """One table: a row per measure, (ours, raw, ours/raw) per N side by side."""
    by_n = [rows(result) for result in results]
    names = list(dict.fromkeys(name for table in by_n for name in table))
    header = ["measure"]
    for result in results:
        header += [f"N={result.records:,} ours", "raw", "ours/raw"]
    body = [
        [name, *(cell for table in by_n for cell in table.get(name, ("-", "", "")))]
        for name in names
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    for row in body:
        lines.append(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return lines


def verdicts(result: Result) -> list[tuple[str, str, bool | None]]:
    """(target, what was measured, met) for one N; met is None where the target is set
    at another N (the measure is then projected linearly, for information)."""
    out: list[tuple[str, str, bool | None]] = []
    minutes = result.harvest_s / 60
    if result.records == TARGET_RECORDS:
        out.append(("harvest -> searchable <= 15 min", f"{minutes:.1f} min", minutes <= 15))
    else:
        projected = projected_harvest_s(result) / 60
        out.append(
            (
                "harvest -> searchable <= 15 min at 1,000,000",
                f"{minutes:.1f} min here; {projected:.0f} min at 1,000,000 at this rate",
                None,
            )
        )
    ours_rss = {name: rss for name, rss in result.rss.items() if name != "meilisearch"}
    if ours_rss:
        name, peak = max(ours_rss.items(), key=lambda item: item[1])
        out.append(
            ("peak RSS of each coursefed process <= 1 GB", f"{peak / MB:.0f} MB ({name})",
             peak <= TARGET_RSS)
        )  # fmt: skip
    if "1" in result.load:
        ours, raw = result.load["1"]
        out.append(
            (
                "search p50 <= raw + 1 ms",
                f"{ours.p50_ms:.2f} ms vs {raw.p50_ms:.2f} ms",
                ours.p50_ms <= raw.p50_ms + TARGET_P50_EXTRA_MS,
            )
        )
    if "16" in result.load:
        ours, raw = result.load["16"]
        share = ours.per_second / raw.per_second if raw.per_second else 0.0
        out.append(
            (
                "API req/s at 16 clients >= 75 % of raw",
                f"{share:.0%} ({ours.per_second:,.0f} vs {raw.per_second:,.0f})",
                share >= TARGET_THROUGHPUT_SHARE,
            )
        )
    return out


def phase_lines(result: Result) -> list[str]:
    """Where harvest -> searchable goes: the harvest runs (split into fetching, normalising
    as measured again alone, and the rest: storing and journalling), the indexing and
    start-up around them, and Meilisearch catching up after the process ended."""
    if not result.phases:
        return []
    total = result.harvest_s
    fetch, normalise = result.phases["fetch"], result.phases["normalise"]
    parts = [
        ("fetch pages (HTTP, gzip), alone", fetch),
        ("parse + normalise + validate, alone", normalise),
        ("store + journal, indexing alongside", max(result.runs_s - fetch - normalise, 0.0)),
        ("last index catch-up, CLI start-up", max(result.harvest_exit_s - result.runs_s, 0.0)),
        ("Meilisearch catching up after exit", max(total - result.harvest_exit_s, 0.0)),
    ]
    lines = [f"where harvest -> searchable at N={result.records:,} goes ({total:.1f} s):"]
    lines += [f"  {name:40} {seconds:8.1f} s  {seconds / total:5.0%}" for name, seconds in parts]
    return lines


def cpu_lines(result: Result) -> list[str]:
    """CPU seconds each process used during harvest -> searchable, against what the
    machine's cores could give in that time."""
    if not result.cpu or not result.harvest_s:
        return []
    cores = os.cpu_count() or 1
    capacity = cores * result.harvest_s
    lines = [f"CPU during harvest -> searchable ({cores} cores x {result.harvest_s:.1f} s):"]
    for name, seconds in sorted(result.cpu.items(), key=lambda item: -item[1]):
        lines.append(f"  {name:40} {seconds:8.1f} s  {seconds / capacity:5.0%}")
    used = sum(result.cpu.values())
    lines.append(f"  {'all of these':40} {used:8.1f} s  {used / capacity:5.0%}")
    return lines


def report(results: Sequence[Result], seconds: float) -> list[str]:
    lines = format_table(results)
    lines.append("")
    for result in results:
        lines.append(
            f"N={result.records:,}: {result.sources} OAI-PMH sources (LOM and oai_dc), "
            f"{result.live:,} live records, {result.searchable:,} searchable"
        )
        for target, measured, met in verdicts(result):
            verdict = "n/a " if met is None else ("PASS" if met else "below")
            lines.append(f"  {verdict:5} {target}: {measured}")
        lines += ["  " + line for line in phase_lines(result)]
        lines += ["  " + line for line in cpu_lines(result)]
    lines.append(
        f"\nwrk: {seconds:g} s per run, our API and raw Meilisearch in turns, {len(QUERIES)} "
        "queries in rotation; ratios are ours/raw (latency: lower is better, req/s: higher)."
    )
    if not WRK:
        lines.append("wrk is not installed (apt-get install wrk): search columns skipped.")
    return lines


def parse_records(values: Sequence[str]) -> list[int]:
    """``--records`` values: each a number or a comma-separated list (``10000,100000``)."""
    counts = []
    for value in values:
        for part in value.replace(",", " ").split():
            count = int(part.replace("_", ""))
            if count < 1:
                raise ValueError(f"{part!r} is not a positive number of records")
            counts.append(count)
    return counts


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--records", action="extend", nargs="+", default=None,
        help="N, several times or as a list (default 10000)",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0, help="per wrk run")
    parser.add_argument("--phases", action="store_true", help="always say where time goes")
    parser.add_argument(
        "--via",
        choices=("harvest", "worker"),
        default="harvest",
        help="harvest by `coursefed harvest --all` (one source after another, default) or by"
        " `coursefed worker` (the scheduler: sources side by side, indexing alongside)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="`coursefed harvest --all --jobs N` (default: one per core, as the command)",
    )
    args = parser.parse_args(argv)
    if args.phases and args.jobs > 1:
        parser.error("--phases splits one harvest after another: add --jobs 1")
    try:
        counts = parse_records(args.records or ["10000"])
    except ValueError as error:
        parser.error(str(error))
    results = [
        measure(n, args.seconds, phases=args.phases, via=args.via, jobs=args.jobs) for n in counts
    ]
    for line in report(results, args.seconds):
        out(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

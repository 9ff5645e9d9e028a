"""Benchmark: storing and serving digital objects, against boto3 straight to the same S3.

One SeaweedFS S3, the same bytes, the same concurrency, in one run:

* PUT, ours: records name files on a local HTTP file server; ``jobs.run_objects`` runs
  until nothing is due (download, hash, sniff, spool, S3 upload, rows recorded).
  Direct: boto3 ``put_object`` (small files) or ``upload_fileobj`` with the default
  ``TransferConfig`` (large ones) of the same bytes from memory, in a thread pool as wide
  as the fetcher's S3 uploads (``--concurrency`` is both the downloads and the uploads in
  flight).  Each repeat uses a fresh database and fresh buckets, so every repeat
  uploads for real.
* GET, ours: ``GET /api/v1/objects/{sha256}`` served as ``coursefed serve`` serves it
  (plain uvicorn), following the 307 to the presigned URL (``objects_serve=redirect``)
  or streamed through the app from boto3's ``get_object`` (``objects_serve=proxy``).
  Direct: boto3 ``get_object`` of the same keys.  Every body is read to the end and its
  length checked.  Ours is read with urllib3, boto3's own HTTP layer, so the ratio is not
  the clients' difference (``--client httpx`` reads it with httpx instead).

The file server and both app instances run in processes of their own, so their CPU is not
charged to the code measured here (the machine is shared, so read medians and ratios).
Both the fetcher and the direct client use the same botocore settings (path addressing,
no default checksums, a connection pool wide enough): the ratio measures our pipeline,
not client tuning.  Ours also sends the SHA-256 S3 checks the bytes against (per part
for large files), as it does in production; the direct client sends none.  Files come
from one host, so the per-host limit is set to the overall one (real objects come from
many hosts).

Run: ``python -m bench.objects [--small 1000] [--large 20] [--large-mb 50] [--repeat 3]``
(about 5 minutes on two cores).
Targets: redirected downloads at ≥ 90 % of direct boto3 throughput, large uploads at ≥ 70 %.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import multiprocessing
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import httpx
import urllib3
from botocore.config import Config
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from app import jobs, migrate
from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject
from app.db import make_engine, session_scope
from app.objects.discovery import discover
from app.objects.store import ObjectStore, content_key
from app.services.manager import services_down, services_up
from app.services.ports import free_port, service_ports
from app.settings import Settings
from app.sources import service as sources
from metadata.profile import DigitalObjectRef, Provenance, ResourceRecord

KiB, MiB = 1024, 1024 * 1024
# What users need: downloads redirected to S3 nearly as fast as S3 itself, and large files
# stored at a good share of a bare upload's speed.  The other cases have no target.
TARGETS = {"PUT large": 0.70, "GET small, redirect": 0.90, "GET large, redirect": 0.90}
SEED = 20260101
SLACK = MiB  # files are windows into one random pool, each starting somewhere else in it
PIECE = 256 * KiB  # bytes per socket write of the file server
READ_CHUNK = MiB
FETCH_LIMIT = 1000  # rows claimed per round, as `coursefed objects fetch` does
DATESTAMP = "2026-01-01T00:00:00Z"


# --- the files: deterministic, distinct, sniffed as PDF -------------------------------------


@dataclass(frozen=True)
class Corpus:
    small: int
    small_size: int
    large: int
    large_size: int

    def count(self, kind: str) -> int:
        return self.small if kind == "small" else self.large

    def size(self, kind: str) -> int:
        return self.small_size if kind == "small" else self.large_size

    def pool(self) -> bytes:
        return random.Random(SEED).randbytes(max(self.small_size, self.large_size) + SLACK)

    @staticmethod
    def path(kind: str, n: int) -> str:
        return f"/{kind}/{n:05d}.pdf"

    def parts(self, pool: memoryview, kind: str, n: int) -> tuple[bytes, memoryview]:
        """A PDF header naming the file, then a window of the pool: no two files alike."""
        header = f"%PDF-1.7\n% coursefed bench {kind} {n}\n".encode()
        start = (n * 7919 + (1 if kind == "large" else 0)) % SLACK
        return header, pool[start : start + self.size(kind) - len(header)]

    def body(self, pool: memoryview, kind: str, n: int) -> bytes:
        header, rest = self.parts(pool, kind, n)
        return header + rest


def serve_files(port: int, corpus: Corpus) -> None:
    """The file server's process: every file of the corpus, from memory, over HTTP/1.1.

    It stands for the colleges' servers, which are not on this machine, so it takes as
    little of the machine's CPU as it can: a few lines of asyncio (keep-alive, one
    header write, the body in ``PIECE`` slices of one buffer) rather than ``http.server``,
    which spends several times more per request.
    """
    pool = memoryview(corpus.pool())
    files = {
        corpus.path(kind, n).encode(): corpus.parts(pool, kind, n)
        for kind in ("small", "large")
        for n in range(corpus.count(kind))
    }

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = writer.get_extra_info("socket")
        # Without TCP_NODELAY a small body written after its header waits for the
        # client's delayed ACK (40 ms a file).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                method, target, _ = request.split(b" ", 2)
                found = files.get(target)
                if found is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    continue
                header, rest = found
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                    b"Content-Length: %d\r\n\r\n" % (len(header) + len(rest))
                )
                if method == b"HEAD":
                    continue
                writer.write(header)
                for start in range(0, len(rest), PIECE):
                    writer.write(rest[start : start + PIECE])
                    await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def serve_app(settings: Settings) -> None:
    """An app instance's process: uvicorn as ``coursefed serve`` runs it."""
    import uvicorn  # noqa: PLC0415

    from app.main import create_app  # noqa: PLC0415

    app = create_app(settings)
    uvicorn.run(app, host="127.0.0.1", port=settings.port, log_level="error", proxy_headers=False)


def start_process(target: Callable[..., None], *args: Any) -> multiprocessing.process.BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    process.start()
    return process


def wait_for(url: str, process: multiprocessing.process.BaseProcess) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if not process.is_alive() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


# --- S3, straight through boto3 -------------------------------------------------------------


def s3_client(settings: Settings) -> Any:
    """A boto3 client for the same S3, configured as ``ObjectStore`` configures its own."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        max_pool_connections=64,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session(
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
        region_name=settings.s3_region,
    ).client("s3", endpoint_url=settings.resolved_s3_endpoint, config=config)


def drop_bucket(client: Any, bucket: str) -> None:
    """Empty and remove a bucket, so repeats do not fill the disk."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    client.delete_bucket(Bucket=bucket)


def in_pool(workers: int, task: Callable[[int], int], count: int) -> tuple[float, int]:
    """(seconds, bytes) to run ``task(0..count-1)`` on ``workers`` threads."""
    with ThreadPoolExecutor(workers) as pool:
        start = time.perf_counter()
        total = sum(pool.map(task, range(count)))
        return time.perf_counter() - start, total


def put_direct(
    client: Any, bucket: str, bodies: list[bytes], keys: list[str], *, workers: int, large: bool
) -> float:
    def put(n: int) -> int:
        if large:
            client.upload_fileobj(
                io.BytesIO(bodies[n]), bucket, keys[n], ExtraArgs={"ContentType": "application/pdf"}
            )
        else:
            client.put_object(
                Bucket=bucket, Key=keys[n], Body=bodies[n], ContentType="application/pdf"
            )
        return len(bodies[n])

    seconds, _ = in_pool(workers, put, len(bodies))
    return seconds


# --- PUT through our fetcher ----------------------------------------------------------------


def publish(engine: Engine, source_id: int, kind: str, urls: list[str]) -> None:
    """One record per file, written the way a harvest writes them."""
    now = datetime.now(UTC)
    for first in range(0, len(urls), 500):
        ids = [f"bench-{kind}-{n:05d}" for n in range(first, min(first + 500, len(urls)))]
        with session_scope(engine) as session:
            batch = catalogue.Batch(session, ids)
            for n, resource_id in enumerate(ids, first):
                oai_id = f"oai:bench:{kind}:{n}"
                raw = f"<record>{oai_id}</record>".encode()
                digest = hashlib.sha256(raw).hexdigest()
                record = ResourceRecord(
                    id=resource_id,
                    title={"zh": f"课件 {kind} {n}"},
                    objects=[DigitalObjectRef(url=urls[n], format="application/pdf")],
                    provenance=Provenance(
                        source="bench",
                        oai_identifier=oai_id,
                        datestamp=DATESTAMP,
                        metadata_prefix="oai_dc",
                        harvested_at=now,
                        raw_sha256=digest,
                    ),
                )
                batch.upsert(
                    catalogue.StoredRecord(
                        record=record,
                        issues=[],
                        source_id=source_id,
                        oai_identifier=oai_id,
                        datestamp=DATESTAMP,
                        metadata_prefix="oai_dc",
                        raw_xml=raw,
                        raw_sha256=digest,
                    )
                )
            batch.flush()


def stored_hashes(engine: Engine, kind: str) -> set[str]:
    with session_scope(engine) as session:
        found = session.exec(
            select(DigitalObject.sha256).where(
                col(DigitalObject.status) == "stored",
                col(DigitalObject.resource_id).startswith(f"bench-{kind}-"),
            )
        ).all()
    return {sha for sha in found if sha}


def pending(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.exec(
            select(func.count()).where(col(DigitalObject.status) == "pending")
        ).one()


def put_ours(
    engine: Engine,
    settings: Settings,
    store: ObjectStore,
    *,
    source_id: int,
    kind: str,
    urls: list[str],
) -> float:
    """Seconds from the start of the fetch until every row of these files is stored."""
    publish(engine, source_id, kind, urls)
    discover(engine)  # noting the files is the journal follower's job, not the fetch's
    start = time.perf_counter()
    while True:
        report = jobs.run_objects(engine, settings, limit=FETCH_LIMIT, store=store)
        if report.store_error:
            raise RuntimeError(f"S3 failed during the benchmark: {report.store_error}")
        if not report.claimed:
            break
    seconds = time.perf_counter() - start
    if pending(engine):
        raise RuntimeError(f"{pending(engine)} {kind} objects were not stored")
    return seconds


# --- GET --------------------------------------------------------------------------------------


def get_direct(client: Any, bucket: str, keys: list[str], workers: int) -> tuple[float, int]:
    def get(n: int) -> int:
        body = client.get_object(Bucket=bucket, Key=keys[n])["Body"]
        return sum(len(chunk) for chunk in body.iter_chunks(READ_CHUNK))

    return in_pool(workers, get, len(keys))


def get_api(base_url: str, hashes: list[str], workers: int, client: str) -> tuple[float, int]:
    """GET every object through the app, following a redirect, reading every body."""
    if client == "httpx":
        limits = httpx.Limits(max_connections=4 * workers, max_keepalive_connections=4 * workers)
        with httpx.Client(timeout=60, limits=limits) as session:

            def get_httpx(n: int) -> int:
                url = f"{base_url}/api/v1/objects/{hashes[n]}"
                with session.stream("GET", url, follow_redirects=True) as response:
                    response.raise_for_status()
                    return sum(len(chunk) for chunk in response.iter_raw())

            return in_pool(workers, get_httpx, len(hashes))
    pool = urllib3.PoolManager(
        maxsize=workers,
        timeout=60,
        retries=urllib3.Retry(total=None, connect=0, read=0, redirect=1, status=0, other=0),
    )

    def get(n: int) -> int:
        response = pool.request(
            "GET", f"{base_url}/api/v1/objects/{hashes[n]}", preload_content=False
        )
        try:
            if response.status != 200:
                raise RuntimeError(f"GET {hashes[n]}: HTTP {response.status}")
            return sum(len(chunk) for chunk in response.stream(READ_CHUNK))
        finally:
            response.release_conn()

    try:
        return in_pool(workers, get, len(hashes))
    finally:
        pool.clear()


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    kind: str
    direct: list[float]  # seconds per repeat
    ours: list[float]


@dataclass(frozen=True)
class Files:
    """Every file of the corpus: its bytes, sha256, S3 key and URL, by kind."""

    corpus: Corpus
    base_url: str  # the file server's
    kinds: list[str]
    bodies: dict[str, list[bytes]]
    hashes: dict[str, list[str]]
    keys: dict[str, list[str]]
    urls: dict[str, list[str]]

    @classmethod
    def build(cls, corpus: Corpus, base_url: str) -> Files:
        pool = memoryview(corpus.pool())
        kinds = [kind for kind in ("small", "large") if corpus.count(kind)]
        bodies = {k: [corpus.body(pool, k, n) for n in range(corpus.count(k))] for k in kinds}
        hashes = {k: [hashlib.sha256(b).hexdigest() for b in bodies[k]] for k in kinds}
        return cls(
            corpus=corpus,
            base_url=base_url,
            kinds=kinds,
            bodies=bodies,
            hashes=hashes,
            keys={k: [content_key(sha) for sha in hashes[k]] for k in kinds},
            urls={
                k: [f"{base_url}{corpus.path(k, n)}" for n in range(corpus.count(k))] for k in kinds
            },
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000, help="64 KiB files")
    parser.add_argument("--large", type=int, default=20, help="large files")
    parser.add_argument("--large-mb", type=int, default=50, help="MiB per large file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=Settings().objects_concurrency)
    parser.add_argument(
        "--client",
        choices=["urllib3", "httpx"],
        default="urllib3",
        help="HTTP client of the GETs through the app (boto3's own is urllib3)",
    )
    args = parser.parse_args()
    corpus = Corpus(args.small, 64 * KiB, args.large, args.large_mb * MiB)

    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="coursefed-bench-objects-") as tmp:
        base = Settings(
            data_dir=Path(tmp) / "services",
            scheduler=False,
            database_url=None,
            s3_endpoint=None,
            meili_url="http://127.0.0.1:9",  # not needed: only S3 is started
            rate_limit=False,  # one client asking thousands of times a minute is the point here
            objects_concurrency=args.concurrency,
            objects_host_concurrency=args.concurrency,
            objects_store_concurrency=args.concurrency,
            **{k: v for k, v in service_ports().items() if k != "meili_port"},
        )
        services_up(base)
        files_port = free_port()
        processes = [start_process(serve_files, files_port, corpus)]
        try:
            files_url = f"http://127.0.0.1:{files_port}"
            wait_for(f"{files_url}/", processes[0])
            files = Files.build(corpus, files_url)
            put, settings = measure_put(base, Path(tmp), files, args.repeat)
            get = measure_get(settings, files, args.repeat, processes, args.client)
        finally:
            for process in processes:
                process.terminate()
                process.join(10)
            services_down(base)
    report([*put, *get], corpus, args.repeat, args.concurrency)
    print(f"run took {time.monotonic() - began:.0f} s")


def fresh_bucket(client: Any, bucket: str) -> None:
    """Create a bucket and write into it once: SeaweedFS grows a bucket's first volumes on
    its first write, which neither side should be timed for."""
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="warm-up", Body=b"%PDF-1.7\n")
    client.delete_object(Bucket=bucket, Key="warm-up")


def measure_put(
    base: Settings, tmp: Path, files: Files, repeat: int
) -> tuple[list[Case], Settings]:
    """PUT cases, and the settings of the last repeat (its database and bucket stay)."""
    client = s3_client(base)
    put = {k: Case(f"PUT {k}", k, [], []) for k in files.kinds}
    settings = base
    for r in range(repeat):
        settings = base.model_copy(update={"data_dir": tmp / f"put-{r}", "s3_bucket": f"ours-{r}"})
        migrate.upgrade(settings)
        engine = make_engine(settings)
        with session_scope(engine) as session:
            source = sources.add_source(
                session,
                slug="bench-files",
                base_url=f"{files.base_url}/oai",
                allow_private_network=True,
            )
            source_id = source.id or 0
        store = ObjectStore(settings)
        fresh_bucket(client, settings.s3_bucket)
        for kind in files.kinds:
            direct_bucket = f"direct-{r}-{kind}"
            fresh_bucket(client, direct_bucket)
            # Alternate who goes first, so a drift in the machine's load favours neither.
            for who in ["direct", "ours"] if r % 2 == 0 else ["ours", "direct"]:
                if who == "direct":
                    put[kind].direct.append(
                        put_direct(
                            client,
                            direct_bucket,
                            files.bodies[kind],
                            files.keys[kind],
                            workers=settings.objects_store_concurrency,
                            large=kind == "large",
                        )
                    )
                else:
                    put[kind].ours.append(
                        put_ours(
                            engine,
                            settings,
                            store,
                            source_id=source_id,
                            kind=kind,
                            urls=files.urls[kind],
                        )
                    )
            if stored_hashes(engine, kind) != set(files.hashes[kind]):
                raise RuntimeError(f"the stored {kind} objects are not the files served")
            drop_bucket(client, direct_bucket)
            print(
                f"repeat {r + 1}: PUT {kind}: direct {put[kind].direct[-1]:.2f} s, "
                f"ours {put[kind].ours[-1]:.2f} s",
                flush=True,
            )
        engine.dispose()
        if r < repeat - 1:
            drop_bucket(client, settings.s3_bucket)
    return list(put.values()), settings


def measure_get(
    settings: Settings, files: Files, repeat: int, processes: list[Any], client: str
) -> list[Case]:
    """GET cases from the stored objects, through two app instances and straight from S3."""
    s3 = s3_client(settings)
    served = {}
    for mode in ("redirect", "proxy"):
        app = settings.model_copy(update={"port": free_port(), "objects_serve": mode})
        processes.append(start_process(serve_app, app))
        served[mode] = f"http://127.0.0.1:{app.port}"
        wait_for(f"{served[mode]}/healthz", processes[-1])
    workers = settings.objects_concurrency
    cases: list[Case] = []
    for kind in files.kinds:
        redirect = Case(f"GET {kind}, redirect", kind, [], [])
        proxy = Case(f"GET {kind}, proxy", kind, [], [])
        expected = len(files.hashes[kind]) * files.corpus.size(kind)
        keys, hashes = files.keys[kind], files.hashes[kind]
        measures: list[tuple[str, Callable[[], tuple[float, int]]]] = [
            ("direct", partial(get_direct, s3, settings.s3_bucket, keys, workers)),
            ("redirect", partial(get_api, served["redirect"], hashes, workers, client)),
            ("proxy", partial(get_api, served["proxy"], hashes, workers, client)),
        ]
        for r in range(repeat):
            timings: dict[str, float] = {}
            for name, measure in measures[r % 3 :] + measures[: r % 3]:  # rotate who goes first
                seconds, read = measure()
                if read != expected:
                    raise RuntimeError(f"GET {kind} {name}: read {read} bytes, not {expected}")
                timings[name] = seconds
            redirect.direct.append(timings["direct"])
            redirect.ours.append(timings["redirect"])
            proxy.direct.append(timings["direct"])
            proxy.ours.append(timings["proxy"])
            print(
                f"repeat {r + 1}: GET {kind}: "
                + ", ".join(f"{name} {s:.2f} s" for name, s in timings.items()),
                flush=True,
            )
        cases += [redirect, proxy]
    return cases


def target_verdict(name: str, ratio: float) -> str:
    target = TARGETS.get(name)
    if target is None:
        return "-"
    return f"{'PASS' if ratio >= target else 'below'} ≥{target:.0%}"


def report(cases: list[Case], corpus: Corpus, repeat: int, concurrency: int) -> None:
    header = (
        "case", "objects", "size", "direct MiB/s", "ours MiB/s",
        "direct obj/s", "ours obj/s", "ours/direct", "target",
    )  # fmt: skip
    rows = []
    for case in cases:
        count, size = corpus.count(case.kind), corpus.size(case.kind)
        direct_s, ours_s = statistics.median(case.direct), statistics.median(case.ours)
        ratio = direct_s / ours_s
        rows.append(
            (
                case.name,
                f"{count:,}",
                f"{size // MiB} MiB" if size >= MiB else f"{size // KiB} KiB",
                f"{count * size / MiB / direct_s:,.1f}",
                f"{count * size / MiB / ours_s:,.1f}",
                f"{count / direct_s:,.1f}",
                f"{count / ours_s:,.1f}",
                f"{ratio:.2f}",
                target_verdict(case.name, ratio),
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print()
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(
            " | ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print(
        f"\nmedians of {repeat} repeats, {concurrency} objects in flight on each side; "
        "ours/direct = our throughput / direct boto3 throughput (higher is better)."
    )


if __name__ == "__main__":
    main()

"""Benchmark: mirroring one coursefed into another, against downloading its snapshot.

An upstream node with N resources is served by uvicorn in its own process.  In one run:

1. the ceiling: download the snapshot and parse every NDJSON line (no storing);
2. the change feed: read ``/api/v1/changes`` from serial 0 to the end (no storing);
3. a full mirror: ``Mirror.sync()`` into a fresh SQLite database (snapshot, then the
   feed, stored and journalled).

Run: ``python -m bench.mirror [--records 100000]``.  Target: full mirror at ≥ 50 % of the
snapshot-download rate.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app import migrate
from app.catalogue import service as catalogue
from app.db import make_engine, session_scope
from app.mirror.client import Mirror
from app.services.ports import free_port
from app.settings import Settings
from metadata.profile import Provenance, ResourceRecord, Subject

TITLES = ["计算机科学导论", "数据结构与算法", "Introduction to Data Science", "大学物理（上）"]


def populate(settings: Settings, count: int) -> None:
    """``count`` realistic resources, written the way a harvest writes them."""
    migrate.upgrade(settings)
    engine = make_engine(settings)
    now = datetime.now(UTC)
    for start in range(0, count, 1000):
        with session_scope(engine) as session:
            ids = [f"bench-{n:08d}" for n in range(start, min(start + 1000, count))]
            batch = catalogue.Batch(session, ids)
            for n, resource_id in enumerate(ids, start):
                record = ResourceRecord(
                    id=resource_id,
                    title={"zh": f"{TITLES[n % 4]}（{n}）", "en": f"Course {n}"},
                    description={"zh": "本课程介绍基本概念与方法。" * 4},
                    keywords=["课程", "开放资源"],
                    subjects=[Subject(code="0812", label={"zh": "计算机科学与技术"})],
                    languages=["zh"],
                    institution="示范职业技术学院",
                    provenance=Provenance(
                        source="bench",
                        oai_identifier=f"oai:bench:{n}",
                        datestamp="2026-01-01T00:00:00Z",
                        metadata_prefix="oai_dc",
                        harvested_at=now,
                        raw_sha256="0" * 64,
                    ),
                )
                raw = f"<record>{n}</record>".encode()
                batch.upsert(
                    catalogue.StoredRecord(
                        record=record,
                        issues=[],
                        source_id=None,
                        oai_identifier=f"oai:bench:{n}",
                        datestamp="2026-01-01T00:00:00Z",
                        metadata_prefix="oai_dc",
                        raw_xml=raw,
                        raw_sha256=str(n),
                    )
                )
            batch.flush()
    engine.dispose()


def serve(settings: Settings) -> None:
    import uvicorn  # noqa: PLC0415

    from app.main import create_app  # noqa: PLC0415

    uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.port, log_level="error")


def snapshot_download(url: str) -> int:
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    import json  # noqa: PLC0415

    count, pending = 0, b""
    with httpx.stream("GET", f"{url}/api/v1/snapshot", timeout=600) as response:
        for chunk in response.iter_bytes():
            pending += inflate.decompress(chunk)
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    json.loads(line)
                    count += 1
    return count - 1  # the serial line


def feed_download(url: str) -> int:
    since, count = 0, 0
    with httpx.Client(timeout=600) as client:
        while True:
            body = client.get(
                f"{url}/api/v1/changes", params={"since": since, "limit": 5000}
            ).json()
            count += len(body["entries"])
            since = body["last_serial"]
            if not body["more"]:
                return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coursefed-bench-mirror-") as tmp:
        upstream = Settings(
            data_dir=Path(tmp) / "upstream", port=free_port(), scheduler=False,
            meili_url="http://127.0.0.1:9", s3_endpoint="http://127.0.0.1:9",
        )  # fmt: skip
        started = time.perf_counter()
        populate(upstream, args.records)
        built = time.perf_counter() - started
        print(f"upstream with {args.records:,} resources built in {built:.0f} s")
        server = multiprocessing.get_context("spawn").Process(target=serve, args=(upstream,))
        server.start()
        url = f"http://127.0.0.1:{upstream.port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"{url}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            rows = []
            start = time.perf_counter()
            snap = snapshot_download(url)
            snap_s = time.perf_counter() - start
            rows.append(("snapshot download + parse (ceiling)", snap, snap_s))
            start = time.perf_counter()
            feed = feed_download(url)
            rows.append(("change feed from serial 0, read only", feed, time.perf_counter() - start))
            downstream = Settings(data_dir=Path(tmp) / "downstream", scheduler=False)
            migrate.upgrade(downstream)
            engine = make_engine(downstream)
            mirror = Mirror(engine, url, allow_private=True)
            start = time.perf_counter()
            result = mirror.sync()
            mirror_s = time.perf_counter() - start
            mirror.close()
            rows.append(("full mirror: snapshot + feed, stored", result.snapshot_records, mirror_s))
        finally:
            server.terminate()
            server.join(10)
    print(f"\n{'measure':40} | {'records':>9} | {'seconds':>8} | {'records/s':>10}")
    print("-" * 76)
    for name, count, seconds in rows:
        print(f"{name:40} | {count:>9,} | {seconds:>8.1f} | {count / seconds:>10,.0f}")
    ratio = (rows[2][1] / rows[2][2]) / (rows[0][1] / rows[0][2])
    print(f"\nfull mirror rate / snapshot download rate = {ratio:.2f} (target ≥ 0.50)")


if __name__ == "__main__":
    main()

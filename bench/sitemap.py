"""Benchmark: sitemaps of a large catalogue on SQLite, against the raw query they need.

Builds a migrated SQLite database of ``--records`` resources shaped like harvested ones
(a 1 KB profile record, 2 KB of raw XML; ids in hash order; 2 % deleted and 3 % held
back by validation errors), then, median of ``--repeat`` runs:

* ceiling: ``sqlite3`` alone fetching (id, updated_at) of one child's live rows;
* ours, database: ``catalogue.live_page`` (the same rows through SQLAlchemy);
* ours, HTTP: ``GET /sitemaps/courses.xml?from=…`` through the whole app, identity and
  gzip, for the first and for the last child (a keyset range costs the same anywhere);
* the index: ``catalogue.live_pages`` (one pass numbering every live id) and
  ``GET /sitemap.xml``.

Run: ``python -m bench.sitemap [--records 100000] [--page-size 50000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert

from app import migrate
from app.catalogue import service as catalogue
from app.catalogue.models import Resource
from app.db import make_engine, session_scope
from app.main import create_app
from app.settings import Settings

BATCH = 5000


def build(settings: Settings, records: int) -> None:
    engine = make_engine(settings)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    description = "一门开放课程的简介，讲授数据结构、算法与程序设计的基础。" * 12
    raw = b"<record>" + b"x" * 2000 + b"</record>"
    with engine.begin() as connection:
        for first in range(0, records, BATCH):
            rows = []
            for n in range(first, min(first + BATCH, records)):
                digest = hashlib.sha256(str(n).encode()).hexdigest()
                record = {"id": f"demo-{digest[:20]}", "title": {"zh": f"课程 {n}"}}
                record["description"] = {"zh": description}
                rows.append(
                    {
                        "id": record["id"],
                        "source_id": None,
                        "oai_identifier": f"oai:demo:{n}",
                        "datestamp": "2026-01-01T00:00:00Z",
                        "metadata_prefix": "oai_dc",
                        "deleted": n % 50 == 0,
                        "publishable": n % 33 != 0,
                        "quality": 0.8,
                        "record": json.loads(json.dumps(record)),
                        "issues": [],
                        "raw_xml": raw,
                        "raw_sha256": digest,
                        "content_hash": digest,
                        "created_at": start,
                        "updated_at": start + timedelta(seconds=n),
                    }
                )
            connection.execute(insert(Resource), rows)
    engine.dispose()


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "coursefed.db"
        settings = Settings(
            data_dir=Path(folder),
            database_url=f"sqlite:///{path}",
            scheduler=False,
            rate_limit=False,
            sitemap_page_size=args.page_size,
            public_url="https://courses.example.edu.cn",
            meili_url="http://127.0.0.1:9",
            s3_endpoint="http://127.0.0.1:9",
        )
        migrate.upgrade(settings)
        began = time.perf_counter()
        build(settings, args.records)
        print(f"{args.records:,} resources built in {time.perf_counter() - began:.0f} s, ", end="")
        print(f"{path.stat().st_size / 1e6:.0f} MB")
        engine = make_engine(settings)
        with session_scope(engine) as session:
            pages = catalogue.live_pages(session, args.page_size)
        print(
            f"{sum(p.count for p in pages):,} live in {len(pages)} children of {args.page_size:,}"
        )
        rows: list[tuple[str, str]] = []

        def raw_query(first: str) -> None:
            with sqlite3.connect(path) as connection:
                rows[:] = connection.execute(
                    "SELECT id, updated_at FROM resources WHERE deleted = 0 AND publishable = 1"
                    " AND id >= ? ORDER BY id LIMIT ?",
                    (first, args.page_size),
                ).fetchall()

        def ours_query(first: str) -> None:
            with session_scope(engine) as session:
                catalogue.live_page(session, first, None, args.page_size)

        table: list[tuple[str, float, str]] = []
        sizes: list[int] = []
        with TestClient(create_app(settings)) as client:
            # The last full child: as far into the catalogue as a full page lies.
            far = [p for p in pages if p.count == args.page_size][-1]
            for name, page in (("first", pages[0]), ("last full", far)):
                url = f"/sitemaps/courses.xml?from={page.first}"
                table.append(
                    (
                        f"{name} child: sqlite3 alone",
                        median_ms(lambda first=page.first: raw_query(first), args.repeat),
                        "",
                    )
                )
                table.append(
                    (
                        f"{name} child: live_page",
                        median_ms(lambda first=page.first: ours_query(first), args.repeat),
                        "",
                    )
                )
                for encoding in ("identity", "gzip"):
                    headers = {"Accept-Encoding": encoding}

                    def fetch(url: str = url, headers: dict[str, str] = headers) -> None:
                        with client.stream("GET", url, headers=headers) as response:
                            sizes.append(sum(len(c) for c in response.iter_raw()))

                    ms = median_ms(fetch, args.repeat)
                    table.append(
                        (f"{name} child: GET, {encoding}", ms, f"{sizes[-1] / 1e6:.1f} MB")
                    )

            def index_query() -> None:
                with session_scope(engine) as session:
                    catalogue.live_pages(session, args.page_size)

            table.append(("index: live_pages", median_ms(index_query, args.repeat), ""))
            table.append(
                (
                    "index: GET /sitemap.xml",
                    median_ms(lambda: client.get("/sitemap.xml"), args.repeat),
                    "",
                )
            )
        engine.dispose()
        print(f"\n{'':38} {'median ms':>10}  {'sent':>8}")
        for label, ms, size in table:
            print(f"{label:38} {ms:10.1f}  {size:>8}")


if __name__ == "__main__":
    main()

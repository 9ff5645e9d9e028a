"""Benchmark: the statistics (``GET /api/v1/stats``, its CSV, the ``/stats`` page) against the
raw Meilisearch query they are counted from, at 100,000 records, in one run.

Meilisearch and S3 start on free ports, the demo corpus is loaded as ``coursefed demo``
loads it (files noted, not fetched), the courses' first-harvest times are spread over
``--months`` months (as a catalogue that grew over years; the index is rebuilt from them),
and the app is served by uvicorn.  Each measure is taken in turns with the raw query, so
both see the same machine noise:

- raw Meilisearch: ``POST /multi-search`` with the queries ``app.search`` sends;
- counted: the statistics with no copy in memory (what the first request after a start,
  and the background recount every 30 s, cost);
- kept: what every other request costs, served from the copy in memory.

The target is a p50 within 100 ms for ``/api/v1/stats`` and ``/stats``.

Run: ``python -m bench.stats [--records 100000] [--rounds 30] [--months 36]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import httpx
from sqlalchemy import text

from app import jobs
from app.db import make_engine, session_scope
from app.demo.run import demo_catalogue
from app.main import create_app
from app.objects import service as objects
from app.search import service as search
from app.search.gateway import HEADERS
from app.settings import Settings
from app.stats import service as stats
from bench.local import local_node, serving
from bench.search_api import timed_pair

TARGET_MS = 100.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()

    with local_node() as settings:
        started = time.perf_counter()
        with demo_catalogue(settings, count=args.records, fetch_limit=0, say=print):
            spread_months(settings, args.months)
            print(f"catalogue ready in {time.perf_counter() - started:.0f} s")
            run(settings, args.records, args.rounds, args.months)


def spread_months(settings: Settings, months: int) -> None:
    """Give the courses first-harvest times over ``months`` months ending now (a benchmark
    set-up step, straight in SQLite), then rebuild the index from them."""
    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            session.execute(
                text(
                    "UPDATE resources SET created_at = "
                    "datetime('now', '-' || (abs(random()) % :days) || ' days')"
                ),
                {"days": max(months * 30, 1)},
            )
        jobs.rebuild_search(engine, settings)
    finally:
        engine.dispose()


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(settings: Settings, records: int, rounds: int, months: int) -> None:
    uid = settings.meili_index
    queries = list(search.catalogue_count_queries().values())
    meili = httpx.Client(  # asks for what the gateway asks for, so the comparison is fair
        base_url=settings.resolved_meili_url,
        headers={**HEADERS, "Authorization": f"Bearer {settings.meili_key.get_secret_value()}"},
    )

    def raw() -> None:
        body = {"queries": [{"indexUid": uid, **query} for query in queries]}
        meili.post("/multi-search", json=body).raise_for_status()

    engine = make_engine(settings)

    def held() -> None:
        with session_scope(engine) as session:
            objects.holdings(session)

    rows: list[tuple[str, list[float], list[float]]] = []
    with serving(create_app(settings), settings.port) as url, httpx.Client(base_url=url) as http:

        def get(path: str, *, counted: bool) -> Callable[[], None]:
            def call() -> None:
                if counted:
                    stats.forget()  # the app runs in this process: no copy, count again
                http.get(path).raise_for_status()

            return call

        for path in ("/api/v1/stats", "/api/v1/stats.csv", "/stats"):
            for counted in (True, False):
                call = get(path, counted=counted)
                call()
                raw()  # warm both paths once
                ours, peer = timed_pair(call, raw, rounds)
                rows.append((f"GET {path} ({'counted' if counted else 'kept'})", ours, peer))
        ours, peer = timed_pair(held, raw, rounds)
        rows.append(("files held: the objects SQL alone", ours, peer))
        numbers = http.get("/api/v1/stats").json()
        page_kb = len(http.get("/stats").content) / 1024
    engine.dispose()

    header = ("measure", "p50 ms", "p90 ms", "raw Meilisearch p50 ms", "ratio")
    table = [
        (
            name,
            f"{statistics.median(ours):.2f}",
            f"{percentile(ours, 0.9):.2f}",
            f"{statistics.median(peer):.2f}",
            f"{statistics.median(ours) / statistics.median(peer):.2f}",
        )
        for name, ours, peer in rows
    ]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *table]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    slowest = max(
        statistics.median(ours)
        for name, ours, _ in rows
        if name.startswith(("GET /api/v1/stats (", "GET /stats ("))
    )
    verdict = "within" if slowest <= TARGET_MS else "NOT within"
    print(
        f"\n{numbers['total']:,} live courses of {records:,} demo records over {months} months, "
        f"{len(numbers['dimensions']['institution']['values'])} institutions, "
        f"{sum(numbers['files']['objects'].values()):,} files named; /stats is "
        f"{page_kb:.0f} KB; {rounds} rounds per measure in turns with the raw query.\n"
        f"The slowest p50 of /api/v1/stats and /stats is {slowest:.1f} ms: {verdict} the "
        f"{TARGET_MS:.0f} ms target."
    )


if __name__ == "__main__":
    main()

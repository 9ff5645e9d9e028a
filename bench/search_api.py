"""Benchmark: coursefed's harvest and search against a peer and the raw engine, in one run.

1. Harvest: sickle (a plain OAI-PMH client that only parses) and coursefed (parse,
   normalise, validate, store, journal, index) read the same demo repository over HTTP.
2. Search: the same queries through ``GET /api/v1/search`` (uvicorn, FastAPI, our mapping)
   and straight to Meilisearch's ``POST /indexes/{uid}/search`` with the same parameters.

Run: ``python -m bench.search_api [--records 10000] [--rounds 30]``.  Prints medians
and ratios; the machine is small and noisy, so read ratios, not absolute numbers.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn
from sickle import Sickle

from app import jobs, migrate
from app.db import make_engine, session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.main import create_app
from app.search import service
from app.search.gateway import HEADERS
from app.services.manager import services_down, services_up
from app.services.ports import free_port, service_ports
from app.settings import Settings
from app.sources import service as sources

QUERIES = ["计算机", "数据结构", "大学物理", "data", "algorithms", "algebre", "managment", "教育学"]


def timed_pair(
    first: Callable[[], None], second: Callable[[], None], rounds: int
) -> tuple[list[float], list[float]]:
    """Milliseconds per call of each, taken in turns so both see the same machine noise."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(rounds):
        for fn, out in ((first, samples[0]), (second, samples[1])):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="coursefed-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            scheduler=False,
            port=free_port(),
            **service_ports(),
        )
        services_up(settings)
        try:
            run(settings, args.records, args.rounds)
        finally:
            services_down(settings)


def run(settings: Settings, records: int, rounds: int) -> None:
    migrate.upgrade(settings)
    engine = make_engine(settings)
    corpus = generate_corpus(records)
    rows: list[tuple[str, str, str, str]] = []
    with DemoRepositoryServer(corpus, page_size=200) as repository:
        start = time.perf_counter()
        count = sum(1 for _ in Sickle(repository.base_url).ListRecords(metadataPrefix="oai_dc"))
        sickle_s = time.perf_counter() - start
        with session_scope(engine) as session:
            source = sources.add_source(
                session, slug="bench", base_url=repository.base_url, allow_private_network=True
            )
            source_id = source.id or 0
        start = time.perf_counter()
        harvest = jobs.run_harvest(engine, settings, source_id, full=True)
        ours_s = time.perf_counter() - start
    assert harvest.status == "succeeded", harvest.error
    rows.append(
        (
            f"harvest {records} records (rec/s)",
            f"{count / sickle_s:,.0f} (sickle, parse only)",
            f"{harvest.records_seen / ours_s:,.0f} (store+index)",
            f"{sickle_s / ours_s:.2f}",
        )
    )

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.port, log_level="error"
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    api = httpx.Client(base_url=f"http://127.0.0.1:{settings.port}")
    meili = httpx.Client(  # asks for what the gateway asks for, so the comparison is fair
        base_url=settings.resolved_meili_url,
        headers={**HEADERS, "Authorization": f"Bearer {settings.meili_key.get_secret_value()}"},
    )
    uid = settings.meili_index
    all_api, all_raw = [], []
    for q in QUERIES:
        params = service.search_params(q, page=1, per_page=20)

        def ours(q: str = q) -> None:
            api.get("/api/v1/search", params={"q": q}).raise_for_status()

        def raw(params: dict[str, object] = params) -> None:
            meili.post(f"/indexes/{uid}/search", json=params).raise_for_status()

        ours()
        raw()  # warm both paths once
        api_ms, raw_ms = timed_pair(ours, raw, rounds)
        all_api += api_ms
        all_raw += raw_ms
        total = api.get("/api/v1/search", params={"q": q}).json()["total"]
        a, r = statistics.median(api_ms), statistics.median(raw_ms)
        rows.append(
            (
                f"search {q!r} ({total} hits), ms",
                f"{r:.2f} (raw Meilisearch)",
                f"{a:.2f} (coursefed API)",
                f"{a / r:.2f}",
            )
        )
    a, r = statistics.median(all_api), statistics.median(all_raw)
    rows.append(("search, all queries, median ms", f"{r:.2f}", f"{a:.2f}", f"{a / r:.2f}"))
    server.should_exit = True

    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("measure", "peer / raw engine", "coursefed", "ratio")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    print(
        f"\n{records} records, {rounds} rounds per query; harvest ratio = our speed / sickle's "
        "speed (higher is better); search ratio = our latency / raw latency (overhead)."
    )


if __name__ == "__main__":
    main()

"""Benchmark: the search page against ``GET /api/v1/search`` for the same queries, in one run.

Meilisearch and S3 start on free ports, the demo corpus is loaded as ``coursefed demo``
loads it, the app is served by uvicorn, and each query is asked of the page (``/search`` with the
query's parameters, as a learner's browser asks: gzip accepted) and of the API, in turns so
both see the same machine noise.  The page does the API's work and renders HTML on top; the
target is a page p50 within +2 ms of the API's.

Run: ``python -m bench.search_page [--records 2400] [--rounds 30]``.  Prints medians, the
ratio and the difference; the machine is small and noisy, so read the difference, not the
absolute numbers.
"""

from __future__ import annotations

import argparse
import statistics
import unicodedata
from typing import Any

import httpx

from app.demo.run import demo_catalogue
from app.main import create_app
from app.settings import Settings
from bench.local import local_node, serving
from bench.search_api import QUERIES, timed_pair

# The API's queries, then what the page adds: the empty query (the whole catalogue, home's
# "list everything"), filters, a sort and a later page.
CASES: list[dict[str, Any]] = [
    *({"q": q} for q in QUERIES),
    {"q": "", "sort": "newest"},  # the page's order when there are no words
    {"q": "数据", "level": "undergraduate"},
    {"q": "computer", "subject": "08", "sort": "newest"},
    {"q": "课程", "language": "zh", "type": "video", "page": 3},
]
TARGET_MS = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2400)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    with local_node() as settings, demo_catalogue(settings, count=args.records, fetch_limit=0):
        run(settings, args.records, args.rounds)


def shown_width(text: str) -> int:
    """Columns a terminal gives ``text``: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - shown_width(text))


def label(case: dict[str, Any]) -> str:
    return " ".join(f"{key}={value}" for key, value in case.items()) or "q="


def run(settings: Settings, records: int, rounds: int) -> None:
    rows: list[tuple[str, ...]] = []
    all_api: list[float] = []
    all_page: list[float] = []
    with serving(create_app(settings), settings.port) as url, httpx.Client(base_url=url) as http:
        for case in CASES:

            def api(case: dict[str, Any] = case) -> None:
                http.get("/api/v1/search", params=case).raise_for_status()

            def page(case: dict[str, Any] = case) -> None:
                http.get("/search", params=case).raise_for_status()

            api()
            page()  # warm both paths once
            api_ms, page_ms = timed_pair(api, page, rounds)
            all_api += api_ms
            all_page += page_ms
            total = http.get("/api/v1/search", params=case).json()["total"]
            size = len(http.get("/search", params=case).content)
            a, p = statistics.median(api_ms), statistics.median(page_ms)
            rows.append(
                (
                    f"{label(case)} ({total} hits)",
                    f"{a:.2f}",
                    f"{p:.2f}",
                    f"{p / a:.2f}",
                    f"{p - a:+.2f}",
                    f"{size / 1024:.1f}",
                )
            )
    a, p = statistics.median(all_api), statistics.median(all_page)
    rows.append(("all queries", f"{a:.2f}", f"{p:.2f}", f"{p / a:.2f}", f"{p - a:+.2f}", ""))

    header = ("query", "API p50 ms", "page p50 ms", "ratio", "page - API ms", "page KB")
    widths = [max(shown_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)))
    verdict = "within" if p - a <= TARGET_MS else "NOT within"
    print(
        f"\n{records} demo records, {rounds} rounds per query, calls in turns over one "
        f"keep-alive connection; page p50 is {verdict} +{TARGET_MS:g} ms of the API's "
        f"({p - a:+.2f} ms)."
    )


if __name__ == "__main__":
    main()

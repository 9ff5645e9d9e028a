"""Prometheus series of events, counted in the process where they happen: searches,
rate-limit refusals, object fetches, finished harvests.

With ``PROMETHEUS_MULTIPROC_DIR`` set before a process starts, each process writes its
counts to files there, and a scrape sums them over every process sharing the directory
(``serve`` workers, ``coursefed worker``).  Figures the database knows are read from it at
scrape time instead (``app.observability.scrape``).  This module imports nothing of ours,
so any layer of ``app`` may count.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import Counter, Histogram

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


class MetricsDirectoryMissing(RuntimeError):
    """``PROMETHEUS_MULTIPROC_DIR`` names no directory: no process could count."""


_shared = os.environ.get(MULTIPROCESS_ENV)
if _shared and not Path(_shared).is_dir():
    raise MetricsDirectoryMissing(
        f"{MULTIPROCESS_ENV}={_shared} is not a directory: create it (empty) before"
        " coursefed starts, or unset it to count in each process alone"
    )

SEARCH_SECONDS = Histogram(
    "coursefed_search_duration_seconds",
    "Time to answer a search, from parameters read to results made (Meilisearch included)",
    ["endpoint"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
SEARCH_API = SEARCH_SECONDS.labels("api")
SEARCH_PAGE = SEARCH_SECONDS.labels("page")

RATE_LIMIT_REFUSALS = Counter(
    "coursefed_rate_limit_refusals",
    "Requests answered 429 because the caller's budget of this kind was spent",
    ["kind"],
)
for _kind in ("search", "oai", "changes", "snapshot", "objects", "sitemap", "auth_failures"):
    RATE_LIMIT_REFUSALS.labels(_kind)

OBJECT_FETCHES = Counter(
    "coursefed_object_fetches",
    "Downloads of the files records name, by outcome (retry: transient failure, tried"
    " again later; postpone: S3 unavailable)",
    ["outcome"],
)
FETCH_OUTCOMES = (
    "stored", "failed", "not_allowed", "too_large", "unsupported", "retry", "postpone"
)  # fmt: skip
for _outcome in FETCH_OUTCOMES:
    OBJECT_FETCHES.labels(_outcome)

HARVEST_RECORDS = Counter(
    "coursefed_harvest_records",
    "Records of finished harvests, by source and outcome (failed: could not be read)",
    ["source", "outcome"],
)
HARVEST_RUNS = Counter(
    "coursefed_harvest_runs", "Finished harvests, by source and status", ["source", "status"]
)
HARVEST_SECONDS = Histogram(
    "coursefed_harvest_run_duration_seconds",
    "Wall-clock time of a harvest run in the process that finished it",
    ["source"],
    buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400),
)
RECORD_OUTCOMES = ("seen", "added", "updated", "unchanged", "deleted", "failed")


def harvest_finished(source: str, status: str, records: dict[str, int], seconds: float) -> None:
    """Count a finished harvest run of ``source``."""
    HARVEST_RUNS.labels(source, status).inc()
    for outcome in RECORD_OUTCOMES:
        HARVEST_RECORDS.labels(source, outcome).inc(records.get(outcome, 0))
    HARVEST_SECONDS.labels(source).observe(seconds)

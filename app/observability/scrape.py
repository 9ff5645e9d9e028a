"""What ``/metrics`` answers: the event counters of this process (or, in multiprocess mode,
of every process sharing ``PROMETHEUS_MULTIPROC_DIR``), then figures read from the database
at scrape time: index lag, mirror lag, each source's last harvest."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.catalogue import repository as catalogue
from app.db import session_scope
from app.mirror.lag import mirror_positions
from app.observability.metrics import MULTIPROCESS_ENV
from app.search.indexer import CURSOR as SEARCH_CURSOR
from app.sources import service as sources

log = logging.getLogger(__name__)

DATABASE_UP = "coursefed_database_up"
DATABASE_UP_HELP = "1 when the figures below could be read from the database at this scrape"


def _timestamp(moment: datetime) -> float:
    return moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()


class DatabaseCollector(Collector):
    """Gauges read from the database when scraped: a few indexed queries."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        try:
            with session_scope(self.engine) as session:
                head = catalogue.last_serial(session)
                indexed = catalogue.get_cursor(session, SEARCH_CURSOR)
                runs = sources.last_runs(session)
                successes = sources.last_successes(session)
                mirrors = mirror_positions(session)
        except SQLAlchemyError as exc:
            # The counters are still worth a scrape; the figures come back with the database.
            log.warning("metrics: the database could not be read: %s", exc)
            yield GaugeMetricFamily(DATABASE_UP, DATABASE_UP_HELP, value=0)
            return
        yield GaugeMetricFamily(DATABASE_UP, DATABASE_UP_HELP, value=1)
        yield GaugeMetricFamily(
            "coursefed_journal_head_serial", "Newest serial of the change journal", value=head
        )
        yield GaugeMetricFamily(
            "coursefed_index_lag_serials",
            "Journal serials not yet in the search index (journal head minus indexer cursor)",
            value=max(0, head - indexed),
        )

        records = GaugeMetricFamily(
            "coursefed_source_last_run_records",
            "Records of each source's newest finished harvest, by outcome",
            labels=["source", "outcome"],
        )
        duration = GaugeMetricFamily(
            "coursefed_source_last_run_duration_seconds",
            "Duration of each source's newest finished harvest",
            labels=["source"],
        )
        finished = GaugeMetricFamily(
            "coursefed_source_last_run_finished_timestamp_seconds",
            "When each source's newest finished harvest ended (Unix time)",
            labels=["source"],
        )
        status = GaugeMetricFamily(
            "coursefed_source_last_run_status",
            "1 for the status of each source's newest finished harvest",
            labels=["source", "status"],
        )
        for run in runs:
            for outcome, count in run.records.items():
                records.add_metric([run.source, outcome], count)
            seconds = _timestamp(run.finished_at) - _timestamp(run.started_at)
            duration.add_metric([run.source], max(0.0, seconds))
            finished.add_metric([run.source], _timestamp(run.finished_at))
            status.add_metric([run.source, run.status], 1)
        yield from (records, duration, finished, status)

        success = GaugeMetricFamily(
            "coursefed_source_last_success_timestamp_seconds",
            "When each source's newest harvest that listed everything ended (Unix time)",
            labels=["source"],
        )
        for slug, moment in sorted(successes.items()):
            success.add_metric([slug], _timestamp(moment))
        yield success

        lag = GaugeMetricFamily(
            "coursefed_mirror_lag_serials",
            "Serials the upstream had when last asked that this mirror has not applied",
            labels=["upstream"],
        )
        asked = GaugeMetricFamily(
            "coursefed_mirror_last_poll_timestamp_seconds",
            "When the mirror last had an answer from the upstream's change feed (Unix time)",
            labels=["upstream"],
        )
        for position in mirrors:
            lag.add_metric([position.upstream], position.lag)
            asked.add_metric([position.upstream], _timestamp(position.asked_at))
        yield from (lag, asked)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def render(engine: Engine) -> bytes:
    """The text exposition: this process's (or, in multiprocess mode, every process's)
    counters, then the database's figures."""
    if multiprocess_mode():
        events = CollectorRegistry()
        multiprocess.MultiProcessCollector(events)
    else:
        events = REGISTRY
    figures = CollectorRegistry(auto_describe=False)
    figures.register(DatabaseCollector(engine))
    return generate_latest(events) + generate_latest(figures)

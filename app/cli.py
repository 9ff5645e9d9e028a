"""The ``coursefed`` command line: services, database, sources, harvests, serving, the demo.

Every expected failure is printed as one clear line on stderr with exit code 1; a
traceback is only shown with ``--debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import db, migrate
from app.db import session_scope
from app.errors import AppError
from app.observability import logs
from app.settings import Settings, get_settings
from app.sources.models import HarvestRun
from metadata.readers import READERS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

Handler = Callable[[argparse.Namespace, Settings], int]


class CLIError(Exception):
    """A user-facing failure: printed as one line, exit code 1."""


_engines: list[Engine] = []


def make_engine(settings: Settings) -> Engine:
    """``app.db.make_engine``, disposed of when the command ends (``main``): its connections
    are closed by the command, not left to the end of the process that ran it."""
    engine = db.make_engine(settings)
    _engines.append(engine)
    return engine


def _print(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- services ----------------------------------------------------------------------------


def cmd_services(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import binaries, manager  # noqa: PLC0415 - keeps `--help` fast

    if args.action == "install":
        _print(f"meilisearch: {binaries.find_meilisearch(settings)}")
        _print(f"weed:        {binaries.find_weed(settings)}")
        _print(f"axe-core:    {binaries.find_axe_core(settings)}")
        return 0
    action = {
        "up": manager.services_up,
        "down": manager.services_down,
        "status": manager.services_status,
    }[args.action]
    statuses = action(settings)
    for status in statuses:
        _print(status.as_line())
    if args.action == "status":
        return 0 if all(s.state in ("running", "external") for s in statuses) else 3
    return 0


# -- database ----------------------------------------------------------------------------


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "upgrade":
        migrate.upgrade(settings)
    _print(
        f"database {settings.resolved_database_url.split('@')[-1]} at revision "
        f"{migrate.current(settings)}"
    )
    return 0


# -- sources and harvesting ---------------------------------------------------------------


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from app.jobs import run_sync  # noqa: PLC0415
    from app.sources import registration, service  # noqa: PLC0415

    if args.action == "check":
        return _check_conformance(args, settings)
    migrate.require_head(settings)
    engine = make_engine(settings)
    if args.action == "add":
        source = run_sync(
            registration.register(
                engine,
                settings,
                base_url=args.base_url,
                name=args.name,
                slug=args.slug,
                metadata_prefix=args.prefix,
                set_spec=args.set,
                interval_minutes=service.parse_interval(args.interval),
                allow_private_network=args.allow_private_network,
            )
        )
        _print(
            f"source {source.slug} ({source.name}) → {source.base_url}: "
            f"{source.repository_name or 'unnamed repository'}, granularity "
            f"{source.granularity}, deleted records {source.deleted_record}, format "
            f"{source.metadata_prefix if source.prefix_pinned else 'chosen at first harvest'}"
        )
        _print(str(source.id))  # alone on the last line, for scripts
        return 0
    with session_scope(engine) as session:
        for source in service.list_sources(session):
            run = service.last_run(session, source.id) if source.id else None
            last = f"{run.status} {run.started_at:%Y-%m-%d %H:%M}" if run else "never harvested"
            _print(
                f"{source.id:>4} {source.slug:20} {source.base_url}  "
                f"[{source.metadata_prefix}]  {last}"
            )
    return 0


def _check_conformance(args: argparse.Namespace, settings: Settings) -> int:
    """Check an endpoint, by base URL or as a registered source; the result is kept as
    the latest check of every registered source at that endpoint (when there is a
    database: a college checking its own endpoint usually has none)."""
    from app.jobs import run_sync  # noqa: PLC0415
    from app.sources import service  # noqa: PLC0415
    from app.sources.conformance import check_endpoint, format_checks, has_failures  # noqa: PLC0415

    target, allow_private = args.endpoint, args.allow_private_network
    by_url = target.startswith(("http://", "https://"))
    if not by_url:  # a source reference: its base URL and its network permission
        migrate.require_head(settings)
        engine = make_engine(settings)
        try:
            with session_scope(engine) as session:
                source = service.find_source(session, target)
                if source is None:
                    raise CLIError(f"no source {target!r}: give a base URL or a registered source")
                target = source.base_url
                allow_private = allow_private or source.allow_private_network
        finally:
            engine.dispose()
    policy = settings.address_policy().permitting(allow_private=allow_private)
    checks = run_sync(check_endpoint(target, policy=policy))
    for line in format_checks(checks):
        _print(line)
    if not by_url or _database_ready(settings):
        engine = make_engine(settings)
        try:
            with session_scope(engine) as session:
                for source in service.sources_at(session, target):
                    service.record_conformance(session, source, target, checks)
                    _print(f"kept as the latest check of source {source.slug}")
        finally:
            engine.dispose()
    return 1 if has_failures(checks) else 0


def _database_ready(settings: Settings) -> bool:
    """Whether a migrated database is there, without creating one."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if not path or path == ":memory:" or not Path(path).is_file():
            return False
    from sqlalchemy.exc import SQLAlchemyError  # noqa: PLC0415

    try:
        return migrate.current(settings) == migrate.head()
    except SQLAlchemyError:  # unreachable or not ours: the check stands alone
        return False


def _source_ids(settings: Settings, references: list[str], every: bool) -> list[tuple[int, str]]:
    from app.sources import service  # noqa: PLC0415

    if not references and not every:
        raise CLIError("name a source (id, slug or name), or use --all")
    with session_scope(make_engine(settings)) as session:
        if every:
            return [(s.id, s.slug) for s in service.list_sources(session) if s.id and s.enabled]
        found = []
        for reference in references:
            source = service.find_source(session, reference)
            if source is None or source.id is None:
                raise CLIError(f"no source {reference!r}; add it with `coursefed sources add`")
            found.append((source.id, source.slug))
        return found


class _Progress:
    """A one-line progress display on stderr when it is a terminal."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.live = sys.stderr.isatty()

    def __call__(self, run: HarvestRun) -> None:
        if not self.live:
            return
        rate = run.records_seen / max(time.monotonic() - self.started, 1e-6)
        sys.stderr.write(
            f"\r  {run.records_seen} records ({run.pages} pages), {rate:,.0f} records/s   "
        )
        sys.stderr.flush()

    def done(self) -> None:
        if self.live:
            sys.stderr.write("\n")


def _report(settings: Settings, run: HarvestRun) -> None:
    from app.sources.report import report_lines, run_report  # noqa: PLC0415

    with session_scope(make_engine(settings)) as session:
        for line in report_lines(run_report(session, run)):
            _print(line)


EXIT_CODES = {"succeeded": 0, "failed": 1, "partial": 2}


def cmd_harvest(args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415
    from app.sources.harvest import SourceBusy  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    worst = 0
    chosen = _source_ids(settings, args.sources, args.all)
    # Several sources: indexed alongside, while the next one is harvested.
    several = len(chosen) > 1
    alongside = jobs.indexing_alongside(engine, settings) if several else contextlib.nullcontext()
    with alongside:
        at_once = args.jobs or _cores()
        if several and at_once > 1:
            return _harvest_side_by_side(engine, settings, chosen, full=args.full, jobs=at_once)
        for source_id, slug in chosen:
            progress = _Progress()
            try:
                run = jobs.run_harvest(
                    engine,
                    settings,
                    source_id,
                    full=args.full,
                    progress=progress,
                    index=not several,
                )
            except SourceBusy:
                _print(f"{slug}: skipped, another worker is harvesting it")
                worst = max(worst, 1)
                continue
            finally:
                progress.done()
            _report(settings, run)
            worst = max(worst, EXIT_CODES.get(run.status, 1))
    return worst


def _harvest_side_by_side(
    engine: Engine, settings: Settings, chosen: list[tuple[int, str]], *, full: bool, jobs: int
) -> int:
    """Harvest ``chosen`` sources, up to ``jobs`` at once, each in a process of its own
    (parsing and normalising then use a core each); reports print as harvests end.

    Ctrl-C reaches this process alone; it interrupts each running harvest as Ctrl-C
    interrupts one (its run resumable, its source's lease released) and waits for them.
    """
    import multiprocessing  # noqa: PLC0415
    import os  # noqa: PLC0415
    from multiprocessing.connection import wait  # noqa: PLC0415

    # Spawned, not forked: this process runs the indexing thread, whose locks a fork copies.
    context = multiprocessing.get_context("spawn")
    level = logging.getLogger().getEffectiveLevel()
    waiting = list(chosen)
    running: dict[Any, tuple[str, Any]] = {}  # process → (slug, the end of its pipe)
    worst = 0
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                source_id, slug = waiting.pop(0)
                receiving, sending = context.Pipe(duplex=False)
                process = context.Process(
                    target=_harvest_one,
                    args=(settings, source_id, full, sending, level),
                    name=f"coursefed-harvest-{slug}",
                )
                process.start()
                sending.close()
                running[process] = (slug, receiving)
            ended = wait([process.sentinel for process in running])
            for process in [p for p in running if p.sentinel in ended]:
                slug, receiving = running.pop(process)
                process.join()
                run_id = receiving.recv() if receiving.poll() else _CRASHED
                receiving.close()
                worst = max(worst, _report_one(engine, settings, slug, run_id))
    except KeyboardInterrupt:
        for process in running:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # see _harvest_one
        for process in running:
            process.join()
        raise
    return worst


_CRASHED, _BUSY = -1, 0


def _cores() -> int:
    """The cores this process may run on."""
    import os  # noqa: PLC0415

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _report_one(engine: Engine, settings: Settings, slug: str, run_id: int) -> int:
    """Print what a process of ``_harvest_side_by_side`` did; its exit code."""
    if run_id == _BUSY:
        _print(f"{slug}: skipped, another worker is harvesting it")
        return 1
    run = None
    if run_id != _CRASHED:
        with session_scope(engine) as session:
            run = session.get(HarvestRun, run_id)
    if run is None:
        _print(f"{slug}: the harvest stopped unexpectedly; see the log above")
        return 1
    _report(settings, run)
    return EXIT_CODES.get(run.status, 1)


def _harvest_one(settings: Settings, source_id: int, full: bool, result: Any, level: int) -> None:
    """One harvest in a process of ``_harvest_side_by_side``; sends its run's id (``_BUSY``
    when another worker holds the source).  The command indexes alongside."""
    from app import jobs  # noqa: PLC0415
    from app.sources.harvest import SourceBusy  # noqa: PLC0415

    # Ctrl-C is the command's to decide; its SIGTERM interrupts the harvest as Ctrl-C would.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    _set_up_process(settings.log_format, level)
    engine = make_engine(settings)
    try:
        run = jobs.run_harvest(engine, settings, source_id, full=full, index=False)
        result.send(run.id)
    except SourceBusy:
        result.send(_BUSY)
    except KeyboardInterrupt:
        pass  # interrupted: the command reports nothing more
    except Exception as exc:  # one line, as main() says it; the command goes on
        logging.getLogger(__name__).error("harvest of source %s failed: %s", source_id, exc)
    finally:
        engine.dispose()


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    worst = 0
    for source_id, _slug in _source_ids(settings, args.sources, args.all):
        run = jobs.run_reconcile(engine, settings, source_id, force=args.force)
        _report(settings, run)
        worst = max(worst, EXIT_CODES.get(run.status, 1))
    return worst


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Harvest, index and fetch files without the web app: one round, or until stopped.

    Without ``--once`` the work runs in ``jobs.Scheduler``'s loops (as in ``serve``), so
    a stuck source delays nothing else; SIGINT or SIGTERM stops it cleanly (exit 0).
    """
    from app import jobs  # noqa: PLC0415
    from app.objects.store import ObjectStore  # noqa: PLC0415
    from app.sources.report import report_lines, run_report  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    if args.once:
        for run in jobs.run_due(engine, settings):
            _report(settings, run)
        jobs.sync_search_quietly(engine, settings)
        jobs.run_objects_quietly(engine, settings, ObjectStore(settings))
        return 0
    printing = threading.Lock()

    def report(run: HarvestRun) -> None:
        # Harvests end in threads of their own: keep each report whole.
        with printing, session_scope(engine) as session:
            for line in report_lines(run_report(session, run)):
                _print(line)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    scheduler = jobs.Scheduler(engine, settings, on_run=report)
    scheduler.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.stop()
        engine.dispose()
    return 0


def cmd_objects(args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415
    from app.objects import repository  # noqa: PLC0415
    from app.objects.store import ObjectStore  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    if args.action == "status":
        with session_scope(engine) as session:
            rows = repository.status_counts(session)
        if not rows:
            _print("no digital objects yet")
        for slug, status, count, size in rows:
            _print(f"{slug:20} {status:12} {count:>8} objects {size:>16,} bytes")
        return 0
    if args.action == "fetch":
        source_id = _source_ids(settings, [args.source], False)[0][0] if args.source else None
        report = jobs.run_objects(engine, settings, limit=args.limit, source_id=source_id)
        outcomes = ", ".join(f"{n} {status}" for status, n in sorted(report.outcomes.items()))
        _print(
            f"{report.claimed} objects due: {outcomes or 'none done'}; "
            f"{report.retrying} to retry, {report.postponed} postponed; "
            f"{report.reused} files were held already"
        )
        if report.store_error:
            raise CLIError(f"object store unavailable, objects stay pending: {report.store_error}")
        return 0
    if args.action == "verify":
        from app.objects.verify import verify_objects  # noqa: PLC0415

        result = verify_objects(engine, ObjectStore(settings), sample=args.sample)
        for line in result.lines():
            _print(line)
        return 1 if result.bad else 0
    from app.objects.links import check_links  # noqa: PLC0415

    links = jobs.run_sync(check_links(engine, settings, sample=args.sample))
    for line in links.lines():
        _print(line)
    return 0


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415

    migrate.require_head(settings)
    result = jobs.sync_search(make_engine(settings), settings)
    _print(
        f"search index at serial {result.applied_serial}: "
        f"{result.upserted} documents added, {result.removed} removed"
    )
    return 0


def cmd_normalize(args: argparse.Namespace, _settings: Settings) -> int:
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from app.catalogue.normalise import normalise_document  # noqa: PLC0415

    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    results = normalise_document(data, None if args.format == "auto" else args.format)
    errors = sum(1 for result in results if result.failed)
    report = {
        "records": [result.as_json() for result in results],
        "summary": {
            "records": len(results),
            "deleted": sum(1 for result in results if result.deleted),
            "with_errors": errors,
            "warnings": sum(
                1 for result in results for issue in result.issues if issue.severity == "warning"
            ),
        },
    }
    _print(json.dumps(report, ensure_ascii=False, indent=2))
    return 1 if errors else 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path  # noqa: PLC0415

    from app.mirror.snapshot import write_snapshot  # noqa: PLC0415

    migrate.require_head(settings)
    target = Path(args.file)
    partial = target.with_name(target.name + ".partial")
    with partial.open("wb") as out:
        serial = write_snapshot(make_engine(settings), out)
    partial.replace(target)  # a reader never sees a half-written snapshot
    _print(f"snapshot consistent at serial {serial} written to {target}")
    return 0


def cmd_mirror(args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415
    from app.mirror.client import Mirror, RecordFilter  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    copier = None
    if args.objects:
        from app.mirror.objects import ObjectCopier  # noqa: PLC0415

        def copier(node: Mirror) -> ObjectCopier:
            return ObjectCopier(engine, settings, node.upstream, node.http)

    mirror = Mirror(
        engine,
        args.upstream,
        record_filter=RecordFilter.parse(args.filter),
        objects=copier,
        page_size=args.page_size,
        policy=settings.address_policy(),
        allow_private=args.allow_private_network,
        api_key=settings.mirror_key.get_secret_value() if settings.mirror_key else None,
    )
    try:
        while True:
            result = mirror.sync()
            jobs.sync_search_quietly(engine, settings)
            _print(
                f"mirror of {mirror.upstream} at serial {result.serial}: "
                f"{result.snapshot_records} snapshot records, {result.upserted} stored, "
                f"{result.deleted} deleted, {result.pages} change pages"
                + (
                    f"; objects: {result.objects_copied} copied, {result.objects_held} "
                    f"held already, {result.objects_failed} failed"
                    if args.objects
                    else ""
                )
            )
            if result.objects_error:
                _print(f"objects not copied, will retry: {result.objects_error}")
            if args.once:
                return 0
            time.sleep(args.interval)
    finally:
        mirror.close()


def _page_size(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if not 1 <= value <= 5000:  # the change feed's own limit
        raise argparse.ArgumentTypeError(f"{text!r} is not a page size from 1 to 5000")
    return value


def cmd_reindex(_args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415

    migrate.require_head(settings)
    count = jobs.rebuild_search(make_engine(settings), settings)
    _print(f"search index {settings.meili_index} rebuilt from the database: {count} documents")
    return 0


# -- backup and restore --------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from app.backup import service as backup  # noqa: PLC0415

    folder = Path(args.dir)
    result = backup.back_up(
        settings, folder, force=args.force, include_objects=not args.no_objects, say=_print
    )
    manifest, report = result.manifest, result.objects
    copied = (
        f"{report.copied} copied, {report.reused} already in the backup"
        if manifest.objects.included
        else "listed only (--no-objects)"
    )
    _print(
        f"backup of migration {manifest.alembic_revision} at journal serial "
        f"{manifest.journal_serial} written to {folder}: {manifest.counts.get('resources', 0)} "
        f"resources, {report.listed} objects ({report.bytes:,} bytes) {copied}"
    )
    if report.problems:
        for line in report.problems[:20]:
            _print(f"  not backed up: {line}")
        _print(
            f"{len(report.problems)} objects the database references were not backed up;"
            " `coursefed objects verify` re-fetches them"
        )
        return 2
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415
    from app.backup import service as backup  # noqa: PLC0415

    result = backup.restore(settings, Path(args.dir), force=args.force, say=_print)
    manifest, report = result.manifest, result.objects
    _print(
        f"restored migration {manifest.alembic_revision} at journal serial "
        f"{manifest.journal_serial} from a backup of {manifest.created_at}: "
        f"{report.listed} objects ({report.copied} put into S3, {report.reused} there already)"
    )
    if args.reindex:
        if result.needs_upgrade:
            migrate.upgrade(settings)
            _print(f"database upgraded to migration {migrate.head()}")
        count = jobs.rebuild_search(make_engine(settings), settings)
        _print(f"search index {settings.meili_index} rebuilt: {count} documents")
        return 0
    steps = ["`coursefed db upgrade`"] if result.needs_upgrade else []
    steps.append("`coursefed reindex` (the search index is rebuilt from the database)")
    _print("next: run " + ", then ".join(steps))
    return 0


def _add_backup_commands(sub: Any) -> None:
    """``backup`` and ``restore``."""
    p = sub.add_parser(
        "backup", help="copy the database, its files in S3 and the settings into a directory"
    )
    p.add_argument("dir", help="a new or empty directory")
    p.add_argument(
        "--no-objects",
        action="store_true",
        help="list the files (key, size, sha256) without copying their bytes: for a bucket"
        " that is backed up or replicated on its own",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty directory, e.g. over the last backup (files already there"
        " with the right sha256 are not read from S3 again)",
    )
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup into an empty deployment")
    p.add_argument("dir", help="a directory `coursefed backup` wrote")
    p.add_argument(
        "--force", action="store_true", help="replace a database that holds data already"
    )
    p.add_argument(
        "--reindex",
        action="store_true",
        help="then bring the schema up to date and rebuild the search index",
    )
    p.set_defaults(handler=cmd_restore)


# -- the institution authority ------------------------------------------------------------


def cmd_institutions(args: argparse.Namespace, settings: Settings) -> int:
    from app.institutions import service as institutions  # noqa: PLC0415
    from app.keys import audit  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    try:
        return _institutions(engine, args, institutions, audit)
    finally:
        engine.dispose()


def _institutions(engine: Any, args: argparse.Namespace, institutions: Any, audit: Any) -> int:
    with session_scope(engine) as session:
        if args.action == "list":
            rows = institutions.list_institutions(session, with_courses_only=not args.all)
            _print(f"{'id':40} {'courses':>7}  names")
            for row in rows:
                names = " / ".join(n for n in (row.name_zh, row.name_en) if n)
                _print(f"{row.id:40} {row.count:7}  {names}")
            _print(f"{len(rows)} institutions")
            return 0
        if args.action == "show":
            found = institutions.get_institution(session, args.id)
            if found is None:
                raise institutions.UnknownInstitution(f"no institution with id {args.id!r}")
            _print(f"{found.id}: {found.name_zh or '-'} / {found.name_en or '-'}")
            _print(f"{found.count} courses; names that lead here:")
            for alias in found.aliases:
                _print(f"  {alias}")
            return 0
        target, line = _curate(session, args, institutions)
        audit.record(
            session, audit.Pending(audit.CLI, f"institutions.{args.action}", target, audit.LOCAL),
            audit.OK, 0,
        )  # fmt: skip
    _print(line)
    return 0


def _curate(session: Any, args: argparse.Namespace, institutions: Any) -> tuple[str, str]:
    """Run a curating action; (audit target, the line to print)."""
    if args.action == "add":
        row = institutions.add_institution(
            session,
            name_zh=args.zh,
            name_en=args.en,
            institution_id=args.id,
            aliases=args.alias,
        )
        names = " / ".join(n for n in (row.name_zh, row.name_en) if n)
        return f"institution:{row.id}", f"institution {row.id} added: {names}"
    if args.action == "rename":
        row = institutions.set_names(session, args.id, name_zh=args.zh, name_en=args.en)
        names = " / ".join(n for n in (row.name_zh, row.name_en) if n)
        return f"institution:{row.id}", f"institution {row.id} is now {names}"
    if args.action == "alias":
        moved = institutions.add_alias(session, args.name, args.id)
        line = f"{args.name!r} now leads to {args.id}; {moved} courses moved"
        return f"institution:{args.id}", line
    if args.action == "merge":
        moved = institutions.merge(session, args.source, args.target)
        line = f"{args.source} merged into {args.target}; {moved} courses moved"
        return f"institution:{args.target}", line
    changed = institutions.seed(session, every=args.all)
    return "institutions", f"{changed} courses given their institution"


# -- course clusters ----------------------------------------------------------------------


def cmd_clusters(args: argparse.Namespace, settings: Settings) -> int:
    from app.catalogue import clusters  # noqa: PLC0415
    from app.catalogue import service as catalogue  # noqa: PLC0415
    from app.keys import audit  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    try:
        if args.action == "rebuild":
            done, after = 0, ""
            while True:
                with session_scope(engine) as session:
                    last = clusters.rebuild(session, after=after)
                if last is None:
                    break
                done, after = done + 1, last
            _print(f"match keys and clusters computed again ({done} batches)")
            return 0
        with session_scope(engine) as session:
            resource = catalogue.get_resource(session, args.id)
            if resource is None:
                raise clusters.UnknownResource(f"no resource with id {args.id!r}")
            if args.action == "split":
                clusters.split(session, args.id)
            elif args.action == "merge":
                clusters.merge(session, args.id, args.other)
            if args.action != "show":
                entry = audit.Pending(
                    audit.CLI, f"clusters.{args.action}", f"resource:{args.id}", audit.LOCAL
                )
                audit.record(session, entry, audit.OK, 0)
            for member in clusters.members(session, resource):
                mark = "*" if member.id == (resource.cluster_id or resource.id) else " "
                _print(f"{mark} {member.id}  {member.oai_identifier}")
        return 0
    finally:
        engine.dispose()


# -- keys and the audit log ----------------------------------------------------------------


def _when(moment: Any) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else "-"


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from app.keys import audit  # noqa: PLC0415
    from app.keys import service as keys  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    with session_scope(engine) as session:
        if args.action == "create":
            expires = keys.parse_expiry(args.expires) if args.expires else None
            row, key = keys.create_key(session, args.scope, name=args.name, expires_at=expires)
            entry = audit.Pending(audit.CLI, "keys.create", f"key:{row.id}", audit.LOCAL)
            audit.record(session, entry, audit.OK, 0)
            _print(f"key {row.id} {row.name or '(no name)'}: {row.scopes}")
            _print(f"expires {_when(row.expires_at)} UTC" if row.expires_at else "never expires")
            _print("keep it now: only its digest is stored, it cannot be shown again")
            _print(key)  # alone on the last line, for scripts
        elif args.action == "revoke":
            row = keys.revoke_key(session, keys.key_id_of(args.key_id))
            entry = audit.Pending(audit.CLI, "keys.revoke", f"key:{row.id}", audit.LOCAL)
            audit.record(session, entry, audit.OK, 0)
            _print(f"key {row.id} revoked at {_when(row.revoked_at)} UTC")
        else:
            now = datetime.now(UTC)
            header = ("id", "name", "scopes", "created (UTC)", "last used")
            _print("{:12}  {:20} {:30} {:16}  {:16}  state".format(*header))
            for row in keys.list_keys(session):
                state = "active"
                if row.revoked_at is not None:
                    state = f"revoked {_when(row.revoked_at)}"
                elif row.expires_at is not None:
                    expired = row.expires_at <= now
                    state = f"{'expired' if expired else 'expires'} {_when(row.expires_at)}"
                _print(
                    f"{row.id:12}  {row.name[:20]:20} {row.scopes[:30]:30} "
                    f"{_when(row.created_at):16}  {_when(row.last_used_at):16}  {state}"
                )
    return 0


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from app.keys import audit  # noqa: PLC0415

    migrate.require_head(settings)
    with session_scope(make_engine(settings)) as session:
        rows, total = audit.page(session, page=1, per_page=args.limit)
    for row in reversed(rows):  # oldest first, like a log: the newest is the last line
        _print(
            f"{row.at:%Y-%m-%d %H:%M:%S}  {row.credential:12} {row.action:18} {row.target:28} "
            f"{row.client:16} {row.outcome} {row.status or ''}".rstrip()
        )
    _print(f"{len(rows)} of {total} entries")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 to 10000")
    return value


def _add_key_commands(sub: Any) -> None:
    """``keys`` and ``audit``."""
    p = sub.add_parser("keys", help="create, list and revoke API keys")
    keys = p.add_subparsers(dest="action", required=True)
    create = keys.add_parser("create", help="make a key; it is printed once, on the last line")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        help="admin, mirror (larger read budgets) or source:<slug> (manage and upload for"
        " that source); repeat for several",
    )
    create.add_argument("--name", default="", help="who or what holds the key")
    create.add_argument("--expires", help="12h, 30d, 8w from now, or a date (2027-06-30)")
    keys.add_parser("list", help="keys with their scopes and last use (never the secrets)")
    revoke = keys.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id", help="the key's id (or the whole key)")
    p.set_defaults(handler=cmd_keys)

    p = sub.add_parser("audit", help="the latest writes through the API and key commands")
    p.add_argument("--limit", type=_positive, default=50, help="entries to show (1-10000)")
    p.set_defaults(handler=cmd_audit)


# -- serving -------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from app import server  # noqa: PLC0415
    from app.main import create_app  # noqa: PLC0415

    settings = _listening(args, settings)
    if args.workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        raise CLIError(
            "--workers needs PostgreSQL (COURSEFED_DATABASE_URL): SQLite lets one process"
            " write at a time; serve with one worker, or move the database to PostgreSQL"
        )
    migrate.require_head(settings)
    if args.no_scheduler:
        settings = settings.model_copy(update={"scheduler": False})
    if args.workers > 1:
        server.run_workers(settings, workers=args.workers)
    else:
        server.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app import server  # noqa: PLC0415
    from app.demo.run import run_demo  # noqa: PLC0415

    def serve(app: Any, listening: Settings) -> None:
        server.run(app, host=listening.host, port=listening.port, log_level="warning")

    return run_demo(_listening(args, settings), serve=serve, count=args.count)


def _listening(args: argparse.Namespace, settings: Settings) -> Settings:
    """``settings`` with the ``--host`` and ``--port`` given, which win over the environment."""
    given = {name: getattr(args, name) for name in ("host", "port")}
    update = {name: value for name, value in given.items() if value is not None}
    return settings.model_copy(update=update) if update else settings


def _host(text: str) -> str:
    if not text.strip() or text != text.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not a host name or address")
    return text


def _port(text: str) -> int:
    value = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 1 to 65535")
    return value


def _add_serving_commands(sub: Any) -> None:
    """``serve`` and ``demo``, each with ``--host`` and ``--port``."""
    p = sub.add_parser("serve", help="serve the web app and API (and run due harvests)")
    p.add_argument("--no-scheduler", action="store_true", help="do not harvest in background")
    p.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="processes serving HTTP (default 1; more need PostgreSQL); background work"
        " still runs once, in the supervising process",
    )
    _add_listen_arguments(p)
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("demo", help="services + demo repository + harvest + serve, in one go")
    p.add_argument("--count", type=int, default=2400, help="number of demo courses")
    _add_listen_arguments(p)
    p.set_defaults(handler=cmd_demo)


def _add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        type=_host,
        help="address to listen on, e.g. 0.0.0.0 for every interface"
        " (default: COURSEFED_HOST, else 127.0.0.1)",
    )
    parser.add_argument(
        "--port", type=_port, help="port to listen on (default: COURSEFED_PORT, else 8000)"
    )


# -- parser ----------------------------------------------------------------------------------


def _add_harvesting_commands(sub: Any) -> None:
    """``sources``, ``harvest``, ``reconcile`` and ``worker``."""
    p = sub.add_parser("sources", help="register and list OAI-PMH sources")
    sources = p.add_subparsers(dest="action", required=True)
    add = sources.add_parser(
        "add", help="register (or update) a source after checking it answers Identify"
    )
    add.add_argument("base_url", help="the repository's OAI-PMH base URL")
    add.add_argument("--name", help="display name (default: the repository's own name)")
    add.add_argument("--slug", help="short id used in resource ids (default: from the name)")
    add.add_argument("--prefix", help="metadataPrefix to harvest (default: the richest offered)")
    add.add_argument("--set", help="setSpec to restrict the harvest to")
    add.add_argument("--interval", default="1d", help="time between harvests: 30m, 12h, 1d, 1w")
    add.add_argument(
        "--allow-private-network",
        action="store_true",
        help="harvest it and fetch its files although they are on loopback or private"
        " addresses (intranets, tests); cloud metadata addresses stay refused",
    )
    sources.add_parser("list", help="list sources with their last harvest")
    check = sources.add_parser(
        "check", help="check an OAI-PMH endpoint before asking to be harvested (pass/warn/fail)"
    )
    check.add_argument(
        "endpoint",
        metavar="base_url_or_source",
        help="the repository's OAI-PMH base URL, or a registered source (id, slug or name);"
        " a registered source's result is kept for its health page",
    )
    check.add_argument(
        "--allow-private-network",
        action="store_true",
        help="check an endpoint on a loopback or private address (your own machine, intranets)",
    )
    p.set_defaults(handler=cmd_sources)

    p = sub.add_parser("harvest", help="harvest sources now and print the report")
    p.add_argument("sources", nargs="*", help="source id, slug or name")
    p.add_argument("--all", action="store_true", help="every enabled source")
    p.add_argument("--full", action="store_true", help="ignore the high-water mark")
    p.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        help="sources harvested at once, each in a process of its own (default: one per"
        " core; 1: one after another in this process)",
    )
    p.set_defaults(handler=cmd_harvest)

    p = sub.add_parser("reconcile", help="tombstone records a source no longer lists")
    p.add_argument("sources", nargs="*", help="source id, slug or name")
    p.add_argument("--all", action="store_true", help="every enabled source")
    p.add_argument("--force", action="store_true", help="allow deleting a large share")
    p.set_defaults(handler=cmd_reconcile)

    p = sub.add_parser("worker", help="run due harvests, indexing and fetching without the web app")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.set_defaults(handler=cmd_worker)


def _add_institution_commands(sub: Any) -> None:
    p = sub.add_parser(
        "institutions", help="the institution authority: one entry per school, its names"
    )
    actions = p.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="institutions with their course counts")
    listing.add_argument("--all", action="store_true", help="also those without a course")
    show = actions.add_parser("show", help="an institution and the names that lead to it")
    show.add_argument("id")
    add = actions.add_parser("add", help="add an institution with its names")
    add.add_argument("--zh", help="its Chinese name, e.g. 东湖财经大学")
    add.add_argument("--en", help="its English name")
    add.add_argument("--id", help="its id (default: made from the English name)")
    add.add_argument(
        "--alias", action="append", default=[], metavar="NAME", help="another name records use"
    )
    rename = actions.add_parser("rename", help="set an institution's Chinese or English name")
    rename.add_argument("id")
    rename.add_argument("--zh", help="its Chinese name")
    rename.add_argument("--en", help="its English name")
    alias = actions.add_parser("alias", help="let a name lead to an institution")
    alias.add_argument("name", help="the name as records write it")
    alias.add_argument("id", help="the institution it names")
    merge = actions.add_parser("merge", help="fold one institution into another")
    merge.add_argument("source", help="the institution that goes away")
    merge.add_argument("target", help="the institution that stays")
    seed = actions.add_parser(
        "seed", help="give stored courses their institution (after an upgrade)"
    )
    seed.add_argument("--all", action="store_true", help="resolve every course again")
    p.set_defaults(handler=cmd_institutions)


def _add_cluster_commands(sub: Any) -> None:
    p = sub.add_parser(
        "clusters", help="records of one course from several repositories: one search hit"
    )
    actions = p.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="the records of a resource's course (* canonical)")
    show.add_argument("id", help="a resource id")
    split = actions.add_parser(
        "split", help="take a resource out of its cluster, kept apart across re-harvests"
    )
    split.add_argument("id", help="a resource id")
    merge = actions.add_parser("merge", help="make two resources one course")
    merge.add_argument("id", help="a resource id")
    merge.add_argument("other", help="the other resource's id")
    actions.add_parser(
        "rebuild", help="compute every resource's match keys and clusters (after an upgrade)"
    )
    p.set_defaults(handler=cmd_clusters)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursefed", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        help="text lines for people, or one JSON object a line for a log collector"
        " (default: COURSEFED_LOG_FORMAT, else text)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("objects", help="fetch, list and verify the files records point at")
    objects = p.add_subparsers(dest="action", required=True)
    fetch = objects.add_parser("fetch", help="fetch due objects into S3 now")
    fetch.add_argument("--source", help="only this source (id, slug or name)")
    fetch.add_argument("--limit", type=int, default=1000, help="at most this many objects")
    objects.add_parser("status", help="objects by source and status")
    verify = objects.add_parser(
        "verify", help="re-read stored objects, compare sha256; re-fetch bad ones"
    )
    verify.add_argument("--sample", type=int, help="check this many, chosen at random")
    links = objects.add_parser("check-links", help="re-check source links; mark broken ones")
    links.add_argument("--sample", type=int, default=100, help="links to check")
    p.set_defaults(handler=cmd_objects)

    p = sub.add_parser("services", help="start, stop or inspect local Meilisearch and S3")
    p.add_argument("action", choices=["up", "down", "status", "install"])
    p.set_defaults(handler=cmd_services)

    p = sub.add_parser("db", help="database migrations")
    p.add_argument("action", choices=["upgrade", "current"])
    p.set_defaults(handler=cmd_db)

    _add_harvesting_commands(sub)
    _add_key_commands(sub)

    _add_institution_commands(sub)
    _add_cluster_commands(sub)

    p = sub.add_parser("index", help="bring the search index up to date with the journal")
    p.add_argument("action", choices=["sync"])
    p.set_defaults(handler=cmd_index)

    p = sub.add_parser(
        "normalize", help="print the profile record and issues of each record in an XML file"
    )
    p.add_argument(
        "file", help="an OAI-PMH response (ListRecords, GetRecord) or one record; - for stdin"
    )
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", *sorted(READERS)],
        help="metadataPrefix of the records; default: detect from the document",
    )
    p.set_defaults(handler=cmd_normalize)

    p = sub.add_parser("mirror", help="make this node a mirror of another coursefed")
    p.add_argument("upstream", help="the upstream coursefed's URL, e.g. https://coursefed.example")
    p.add_argument("--once", action="store_true", help="catch up once, then exit")
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="keep only matching records: subject=0812, level=…, language=…, source=…",
    )
    p.add_argument("--interval", type=float, default=60.0, help="seconds between polls")
    p.add_argument(
        "--objects", action="store_true", help="copy the files the upstream holds, by sha256"
    )
    p.add_argument(
        "--page-size",
        type=_page_size,
        default=5000,
        help="change-feed entries per request and per committed step (1-5000)",
    )
    p.add_argument(
        "--allow-private-network",
        action="store_true",
        help="the upstream is on a loopback or private address (intranets, tests)",
    )
    p.set_defaults(handler=cmd_mirror)

    p = sub.add_parser(
        "export", help="write the live catalogue as gzip'd NDJSON (the snapshot mirrors start from)"
    )
    p.add_argument("file", help="where to write, e.g. catalogue.ndjson.gz")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser(
        "reindex", help="rebuild the search index from the database and swap it in atomically"
    )
    p.set_defaults(handler=cmd_reindex)

    _add_backup_commands(sub)
    _add_serving_commands(sub)
    return parser


def _set_up_process(
    log_format: logs.LogFormat, level: int, *, schema_messages: bool = False
) -> None:
    """Logging for a process of the command, and its imports frozen for the collector."""
    logs.configure(log_format, level)
    if level > logging.DEBUG:
        # One line per HTTP request to Meilisearch or a repository is noise for a user.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        # Every command checks the schema revision; alembic would announce it each time.
        if not schema_messages:
            logging.getLogger("alembic").setLevel(logging.WARNING)
    # Long-running commands build millions of short-lived objects on top of a large,
    # permanent import graph; freezing that graph keeps full collections cheap.
    gc.collect()
    gc.freeze()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except Exception as exc:  # a bad setting: one clear line (pydantic names it)
        if args.debug:
            raise
        sys.stderr.write(f"coursefed: error: {exc}\n")
        return 1
    if args.log_format:  # wins over the environment, here and in processes started here
        settings = settings.model_copy(update={"log_format": args.log_format})
    _set_up_process(
        settings.log_format,
        logging.DEBUG if args.debug else logging.INFO,
        schema_messages=args.handler is cmd_db,
    )
    try:
        handler: Handler = args.handler
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one clear line for the user; the traceback only on request
        if args.debug:
            raise
        message = exc.detail if isinstance(exc, AppError) else exc
        sys.stderr.write(f"coursefed: error: {message}\n")
        return 1
    finally:
        while _engines:
            _engines.pop().dispose()


if __name__ == "__main__":
    sys.exit(main())

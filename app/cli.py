"""The ``coursefed`` command line: services, database, sources, harvests, serving, the demo.

Every expected failure is printed as one clear line on stderr with exit code 1; a
traceback is only shown with ``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from app import migrate
from app.db import make_engine, session_scope
from app.errors import AppError
from app.settings import Settings, get_settings

Handler = Callable[[argparse.Namespace, Settings], int]


class CLIError(Exception):
    """A user-facing failure: printed as one line, exit code 1."""


def _print(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# -- services ----------------------------------------------------------------------------


def cmd_services(args: argparse.Namespace, settings: Settings) -> int:
    from app.services import binaries, manager  # noqa: PLC0415 - keeps `--help` fast

    if args.action == "install":
        _print(f"meilisearch: {binaries.find_meilisearch(settings)}")
        _print(f"weed:        {binaries.find_weed(settings)}")
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
    from app.sources import service  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    with session_scope(engine) as session:
        if args.action == "add":
            source = service.add_source(
                session,
                slug=args.slug,
                base_url=args.base_url,
                name=args.name,
                metadata_prefix=args.prefix,
                set_spec=args.set,
                interval_minutes=args.interval,
                allow_private_network=args.allow_private_network,
            )
            _print(f"source {source.slug} → {source.base_url} ({source.metadata_prefix})")
        else:
            for source in service.list_sources(session):
                run = service.last_run(session, source.id) if source.id else None
                last = f"{run.status} {run.started_at:%Y-%m-%d %H:%M}" if run else "never harvested"
                _print(f"{source.slug:20} {source.base_url}  [{source.metadata_prefix}]  {last}")
    return 0


def cmd_harvest(args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415
    from app.sources import service  # noqa: PLC0415

    migrate.require_head(settings)
    engine = make_engine(settings)
    with session_scope(engine) as session:
        source = service.get_by_slug(session, args.slug)
        if source is None or source.id is None:
            raise CLIError(f"no source {args.slug!r}; add it with `coursefed sources add`")
        source_id = source.id
    run = jobs.run_harvest(engine, settings, source_id, full=args.full)
    _print(
        f"harvest {args.slug}: {run.status}; {run.records_seen} records seen, "
        f"{run.records_upserted} stored, {run.records_unchanged} unchanged, "
        f"{run.records_deleted} deleted, {run.records_failed} failed"
    )
    if run.error:
        _print(f"error: {run.error}")
    return 0 if run.status == "succeeded" else 1


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from app import jobs  # noqa: PLC0415

    migrate.require_head(settings)
    result = jobs.sync_search(make_engine(settings), settings)
    _print(
        f"search index at serial {result.applied_serial}: "
        f"{result.upserted} documents added, {result.removed} removed"
    )
    return 0


# -- serving -------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn  # noqa: PLC0415

    from app.main import create_app  # noqa: PLC0415

    migrate.require_head(settings)
    if args.no_scheduler:
        settings = settings.model_copy(update={"scheduler": False})
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo.run import run_demo  # noqa: PLC0415

    return run_demo(settings, count=args.count)


# -- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursefed", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("services", help="start, stop or inspect local Meilisearch and S3")
    p.add_argument("action", choices=["up", "down", "status", "install"])
    p.set_defaults(handler=cmd_services)

    p = sub.add_parser("db", help="database migrations")
    p.add_argument("action", choices=["upgrade", "current"])
    p.set_defaults(handler=cmd_db)

    p = sub.add_parser("sources", help="register and list OAI-PMH sources")
    sources = p.add_subparsers(dest="action", required=True)
    add = sources.add_parser("add", help="register (or update) a source")
    add.add_argument("slug")
    add.add_argument("base_url")
    add.add_argument("--name")
    add.add_argument("--prefix", default="oai_dc", help="metadataPrefix to harvest")
    add.add_argument("--set", help="setSpec to restrict the harvest to")
    add.add_argument("--interval", type=int, default=1440, help="minutes between harvests")
    add.add_argument(
        "--allow-private-network",
        action="store_true",
        help="allow object URLs on loopback/private addresses (tests, intranets)",
    )
    sources.add_parser("list", help="list sources with their last harvest")
    p.set_defaults(handler=cmd_sources)

    p = sub.add_parser("harvest", help="harvest one source now")
    p.add_argument("slug")
    p.add_argument("--full", action="store_true", help="ignore the high-water mark")
    p.set_defaults(handler=cmd_harvest)

    p = sub.add_parser("index", help="bring the search index up to date with the journal")
    p.add_argument("action", choices=["sync"])
    p.set_defaults(handler=cmd_index)

    p = sub.add_parser("serve", help="serve the web app and API (and run due harvests)")
    p.add_argument("--no-scheduler", action="store_true", help="do not harvest in background")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("demo", help="services + demo repository + harvest + serve, in one go")
    p.add_argument("--count", type=int, default=2400, help="number of demo courses")
    p.set_defaults(handler=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.debug:
        # One line per HTTP request to Meilisearch or a repository is noise for a user.
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = get_settings()
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


if __name__ == "__main__":
    sys.exit(main())

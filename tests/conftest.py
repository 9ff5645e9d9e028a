"""Shared fixtures: databases (SQLite and PostgreSQL), real services, the app under test,
Chromium."""

from __future__ import annotations

import atexit
import functools
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy.engine import Engine

from app import cli, migrate
from app.db import make_engine
from app.settings import Settings, get_settings

pytest_plugins = ["tests.services_plugin", "tests.properties"]

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PG_ADMIN_URL = os.environ.get(
    "COURSEFED_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def screenshots_dir() -> Path:
    """Where browser tests keep their screenshots, as test artefacts:
    ``$COURSEFED_ARTEFACTS/screenshots``, by default under the checkout's ignored ``var/``."""
    configured = os.environ.get("COURSEFED_ARTEFACTS")
    root = Path(configured) if configured else REPO_ROOT / "var" / "artefacts"
    return root / "screenshots"


def samples_dir() -> Path:
    """The third-party OAI-PMH captures, read in place (never copied into the repo)."""
    configured = os.environ.get("COURSEFED_SAMPLES_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "oai-samples"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine | None]:
    """An admin connection to the PostgreSQL server, or None when there is none."""
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError:
        engine.dispose()
        yield None
        return
    yield engine
    engine.dispose()


@functools.cache
def sqlite_template() -> Path:
    """A SQLite database at the head migration, migrated once per test process and copied
    wherever a test needs a new one."""
    folder = Path(tempfile.mkdtemp(prefix="coursefed-migrated-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "coursefed.db"
    migrate.upgrade(Settings(data_dir=folder, database_url=f"sqlite:///{path}"))
    assert not path.with_name(path.name + "-wal").exists(), "the copy must hold everything"
    return path


def migrated(settings: Settings) -> Settings:
    """``settings``, its database at the head migration: a new SQLite file is a copy of the
    template, any other database is upgraded."""
    url = settings.resolved_database_url
    target = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    if target is not None and not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sqlite_template(), target)
    else:
        migrate.upgrade(settings)
    return settings


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings of a node in ``tmp_path``: a migrated SQLite database, no scheduler, and
    Meilisearch and S3 at a closed port."""
    return migrated(
        Settings(
            data_dir=tmp_path / "var",
            database_url=f"sqlite:///{tmp_path / 'coursefed.db'}",
            scheduler=False,
            meili_url="http://127.0.0.1:9",
            s3_endpoint="http://127.0.0.1:9",
            **overrides,  # type: ignore[arg-type]
        )
    )


@pytest.fixture(scope="session")
def migrated_sqlite() -> Path:
    """The SQLite template at the head migration (copied for each test)."""
    return sqlite_template()


def sqlite_search_node(live_services: Settings, migrated_sqlite: Path, folder: Path) -> Settings:
    """Settings of a node of its own in ``folder``: a copy of the migrated SQLite database,
    an index of its own in the live Meilisearch, no scheduler, no S3 (a closed port)."""
    database = folder / "coursefed.db"
    shutil.copyfile(migrated_sqlite, database)
    return Settings(
        data_dir=folder / "var",
        database_url=f"sqlite:///{database}",
        scheduler=False,
        meili_url=live_services.resolved_meili_url,
        meili_key=live_services.meili_key,
        meili_index=f"test-{uuid.uuid4().hex[:12]}",
        s3_endpoint="http://127.0.0.1:9",
    )


@pytest.fixture(scope="session")
def migrated_postgres(postgres_admin: Engine | None) -> Iterator[str | None]:
    """The name of a PostgreSQL database at the head migration, the template of each test's."""
    if postgres_admin is None:
        yield None
        return
    name = f"coursefed_template_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        migrate.upgrade(Settings(database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"))
        yield name
    finally:
        with postgres_admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_admin: Engine | None,
    migrated_sqlite: Path,
    migrated_postgres: str | None,
) -> Iterator[str]:
    """A fresh database of each kind at the head migration (a copy of one migrated once per
    session); PostgreSQL is skipped where no server runs."""
    if request.param == "sqlite":
        path = tmp_path / "coursefed.db"
        shutil.copyfile(migrated_sqlite, path)
        yield f"sqlite:///{path}"
        return
    if postgres_admin is None or migrated_postgres is None:
        pytest.skip(f"no PostgreSQL server at {PG_ADMIN_URL.split('@')[-1]}")
    name = f"coursefed_test_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_postgres}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with postgres_admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a migrated database of each kind; services are not started."""
    return Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        scheduler=False,
        meili_url="http://127.0.0.1:9",  # nothing listens there: tests that need it use `live`
        s3_endpoint="http://127.0.0.1:9",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def live(live_services: Settings, settings: Settings) -> Settings:
    """Migrated database + the session's real Meilisearch and S3, with a unique index."""
    return settings.model_copy(
        update={
            "meili_url": live_services.resolved_meili_url,
            "meili_key": live_services.meili_key,
            "s3_endpoint": live_services.resolved_s3_endpoint,
            "s3_bucket": live_services.s3_bucket,
            "s3_access_key": live_services.s3_access_key,
            "s3_secret_key": live_services.s3_secret_key,
            "meili_index": f"test-{uuid.uuid4().hex[:12]}",
        }
    )


@pytest.fixture
def live_engine(live: Settings) -> Iterator[Engine]:
    engine = make_engine(live)
    yield engine
    engine.dispose()


@pytest.fixture
def client(live: Settings) -> Iterator[TestClient]:
    from app.main import create_app  # noqa: PLC0415 - keeps collection light

    with TestClient(create_app(live)) as test_client:
        yield test_client


class Ran(NamedTuple):
    """What a command gave: unpacks as ``(code, out, err)``, or reads as a ``CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


CommandLine = Callable[..., Ran]


@pytest.fixture
def coursefed(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[CommandLine]:
    """Run ``coursefed ARGS`` in this process: the exit code, stdout and stderr a process would
    give, without a second of start-up each time. Its settings are the environment with ``env``
    on top when ``env`` is given, else the test's own ``settings`` where it has them. Tests of
    what only a process shows (signals, ports, workers) start the real command instead."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "alembic")}
    # A process's one-off collection and freeze at start: a whole test session's heap here.
    monkeypatch.setattr(cli, "gc", SimpleNamespace(collect=lambda: 0, freeze=lambda: None))
    own = request.getfixturevalue("settings") if "settings" in request.fixturenames else None

    def run(*args: str, env: Mapping[str, str] | None = None) -> Ran:
        with monkeypatch.context() as patch:
            if env is None and own is not None:
                patch.setattr(cli, "get_settings", lambda: own)
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse: 2 for a usage error, 0 for --help
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                get_settings.cache_clear()
                for handler in list(root.handlers):
                    root.removeHandler(handler)
                for handler in handlers:
                    root.addHandler(handler)
                root.setLevel(level)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    yield run
    for name, was in quiet.items():
        logging.getLogger(name).setLevel(was)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless: a test tool never downloads a browser of its own."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what a test needs from the fixtures it uses, so ``-m "not services and not
    browser"`` is the fast inner loop whatever a test file remembered to declare: live
    Meilisearch and S3, the PostgreSQL variant of a database test, Redis, Chromium."""
    for item in items:
        needs = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
        if needs & {"live_services", "redis_prefix"} or on_postgres:
            item.add_marker(pytest.mark.services)
        if "browser" in needs:
            item.add_marker(pytest.mark.browser)

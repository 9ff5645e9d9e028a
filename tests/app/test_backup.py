"""``coursefed backup`` and ``coursefed restore`` run as an operator runs them, on real S3,
Meilisearch, SQLite and PostgreSQL: a node backed up, restored into an empty deployment and
reindexed answers the same searches and serves the same files."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import jobs, migrate
from app.backup.manifest import FORMAT_VERSION
from app.db import make_engine
from app.main import create_app
from app.objects.store import ObjectStore, content_key
from app.settings import Settings
from app.sources.models import Source
from tests.app.environment import env_of
from tests.app.records import store_record
from tests.app.test_objects_api import new_source, sha, upload
from tests.app.test_objects_store import bucket_keys, remove_bucket
from tests.conftest import PG_ADMIN_URL, CommandLine, Ran, migrated

pytestmark = pytest.mark.services

COURSES = [
    ({"zh": "高等数学（上）"}, {"zh": "极限、导数与积分。"}, ["zh"]),
    ({"zh": "线性代数"}, {"zh": "矩阵、向量空间与特征值。"}, ["zh"]),
    ({"en": "Introduction to Physics"}, {"en": "Mechanics and heat."}, ["en"]),
    ({"en": "Organic Chemistry Lab"}, {"en": "Reactions of carbon compounds."}, ["en"]),
    ({"zh": "大学物理实验"}, {"zh": "力学与热学实验。"}, ["zh"]),
]
QUERIES = ["", "数学", "线性代数", "physics", "chemistry", "物理"]
FILES = [
    (b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n", "lecture.pdf", "application/pdf"),
    (b"%PDF-1.4\nnotes\n%%EOF\n", "notes.pdf", "application/pdf"),
    (b"plain text notes, UTF-8: \xe7\xba\xbf\xe6\x80\xa7\n", "notes.txt", "text/plain"),
]


@pytest.fixture
def run(coursefed: CommandLine) -> Callable[..., Ran]:
    """``coursefed ARGS`` configured by the environment as in a deployment (in this process);
    ``path`` replaces ``PATH``."""

    def command(settings: Settings, *args: str, path: str | None = None) -> Ran:
        env = env_of(settings)
        return coursefed(*args, env=env if path is None else {**env, "PATH": path})

    return command


@pytest.fixture
def origin(live: Settings) -> Iterator[Settings]:
    """The node backed up: its database, a bucket and an index of its own; files proxied,
    so the objects API answers with the bytes themselves."""
    settings = live.model_copy(
        update={"s3_bucket": f"backup-{uuid.uuid4().hex[:12]}", "objects_serve": "proxy"}
    )
    ObjectStore(settings).ensure_bucket()
    yield settings
    remove_bucket(settings)


@pytest.fixture
def empty_database(
    database_url: str, tmp_path: Path, postgres_admin: Engine | None
) -> Iterator[str]:
    """A new database of the origin's kind that nothing has touched (not even migrations)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'coursefed.db'}"
        return
    assert postgres_admin is not None
    name = f"coursefed_restored_{uuid.uuid4().hex[:12]}"
    with postgres_admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with postgres_admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def target(origin: Settings, empty_database: str, tmp_path: Path) -> Iterator[Settings]:
    """An empty deployment: a new database, a new bucket, a new search index."""
    settings = origin.model_copy(
        update={
            "data_dir": tmp_path / "restored-var",
            "database_url": empty_database,
            "s3_bucket": f"restored-{uuid.uuid4().hex[:12]}",
            "meili_index": f"test-{uuid.uuid4().hex[:12]}",
        }
    )
    yield settings
    remove_bucket(settings)


def populate(settings: Settings) -> list[str]:
    """Courses, uploaded files, and an index of them; the files' sha256."""
    engine = make_engine(settings)
    try:
        source_id = new_source(settings, "college")
        for n, (title, description, languages) in enumerate(COURSES):
            store_record(
                engine, source_id, n, title=title, description=description, languages=languages
            )
        with TestClient(create_app(settings)) as client:
            for data, name, media_type in FILES:
                answer = upload(client, source_id, data, name=name, content_type=media_type)
                assert answer.status_code == 201, answer.text
        jobs.rebuild_search(engine, settings)
    finally:
        engine.dispose()
    return [sha(data) for data, _name, _type in FILES]


def answers(settings: Settings, digests: list[str]) -> dict[str, Any]:
    """What the node answers: each query's hits (ids in order, and the total) and each
    file's name, type and bytes as the objects API serves them."""
    seen: dict[str, Any] = {}
    with TestClient(create_app(settings)) as client:
        for query in QUERIES:
            found = client.get("/api/v1/search", params={"q": query})
            assert found.status_code == 200, found.text
            body = found.json()
            seen[f"search {query!r}"] = ([hit["id"] for hit in body["hits"]], body["total"])
        for digest in digests:
            served = client.get(f"/api/v1/objects/{digest}")
            assert served.status_code == 200, served.text
            headers = {k: served.headers[k] for k in ("content-type", "content-disposition")}
            seen[f"object {digest}"] = (served.content, headers)
    return seen


def test_backup_restore_reindex_answers_the_same(
    origin: Settings, target: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    digests = populate(origin)
    before = answers(origin, digests)
    assert before["search '线性代数'"][1] >= 1
    assert before["search 'physics'"][1] >= 1
    folder = tmp_path / "backup"

    backed = run(origin, "backup", str(folder))
    assert backed.returncode == 0, backed.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["database_kind"] == origin.resolved_database_url.split(":")[0].split("+")[0]
    assert manifest["alembic_revision"] == migrate.head()
    assert manifest["journal_serial"] >= len(COURSES)
    assert manifest["counts"]["resources"] == len(COURSES)
    assert manifest["counts"]["blobs"] == len(FILES)
    assert manifest["objects"] == {
        "included": True,
        "count": len(FILES),
        "bytes": sum(len(data) for data, _n, _t in FILES),
        "missing": 0,
    }
    listed = [json.loads(line) for line in (folder / "objects.ndjson").read_text().splitlines()]
    assert {entry["sha256"] for entry in listed} == set(digests)
    for entry in listed:
        assert entry["key"] == content_key(entry["sha256"])
        assert (folder / "objects" / entry["key"]).stat().st_size == entry["size"]

    restored = run(target, "restore", str(folder))
    assert restored.returncode == 0, restored.stderr
    assert "coursefed reindex" in restored.stdout
    assert sorted(bucket_keys(ObjectStore(target))) == sorted(content_key(d) for d in digests)
    reindexed = run(target, "reindex")
    assert reindexed.returncode == 0, reindexed.stderr

    assert answers(target, digests) == before


def test_settings_are_kept_without_secrets(
    origin: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    folder = tmp_path / "backup"
    secret = "s3cr3t-pa55"
    settings = origin.model_copy(update={"redis_url": f"redis://:{secret}@127.0.0.1:6379/0"})
    result = run(settings, "backup", "--no-objects", str(folder))
    assert result.returncode == 0, result.stderr
    text = (folder / "settings.json").read_text()
    kept = json.loads(text)
    assert kept["s3_bucket"] == origin.s3_bucket
    assert kept["meili_index"] == origin.meili_index
    for name in ("admin_token", "meili_key", "s3_secret_key", "s3_access_key"):
        assert kept[name] == "<redacted>", name
    assert kept["redis_url"] == "redis://:<redacted>@127.0.0.1:6379/0"
    for value in (secret, origin.meili_key, origin.s3_secret_key, origin.admin_token):
        assert (value if isinstance(value, str) else value.get_secret_value()) not in text
    assert not (folder / "objects").exists()  # --no-objects: the listing only


def test_a_backup_refuses_a_directory_that_is_not_empty(
    origin: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"not ours")
    refused = run(origin, "backup", str(folder))
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
    assert "--force" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    assert not (folder / "manifest.json").exists()
    forced = run(origin, "backup", "--force", str(folder))
    assert forced.returncode == 0, forced.stderr
    assert (folder / "manifest.json").is_file()


def test_a_second_backup_into_the_same_directory_reuses_the_files(
    origin: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    populate(origin)
    folder = tmp_path / "backup"
    assert run(origin, "backup", str(folder)).returncode == 0
    again = run(origin, "backup", "--force", str(folder))
    assert again.returncode == 0, again.stderr
    assert f"0 copied, {len(FILES)} already in the backup" in again.stdout


def test_a_restore_refuses_a_database_that_holds_data(
    origin: Settings, target: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    populate(origin)
    folder = tmp_path / "backup"
    assert run(origin, "backup", str(folder)).returncode == 0
    refused = run(origin, "restore", str(folder))  # the origin itself holds data
    assert refused.returncode == 1
    assert "is not empty" in refused.stderr
    assert "--force" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    # A migrated but empty database is an empty deployment.
    migrated(target)
    restored = run(target, "restore", "--reindex", str(folder))
    assert restored.returncode == 0, restored.stderr
    assert f"rebuilt: {len(COURSES)} documents" in restored.stdout
    # Restoring again replaces what is there only when told.
    assert run(target, "restore", str(folder)).returncode == 1
    assert run(target, "restore", "--force", str(folder)).returncode == 0


def test_a_restore_refuses_a_backup_of_a_newer_coursefed(
    origin: Settings, target: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    folder = tmp_path / "backup"
    assert run(origin, "backup", "--no-objects", str(folder)).returncode == 0
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())

    newer_schema = {**manifest, "alembic_revision": "9999"}
    manifest_path.write_text(json.dumps(newer_schema))
    refused = run(target, "restore", str(folder))
    assert refused.returncode == 1
    assert "migration 9999" in refused.stderr
    assert "newer coursefed" in refused.stderr
    assert "Traceback" not in refused.stderr

    newer_format = {**manifest, "format_version": FORMAT_VERSION + 1, "layout": "unknown"}
    manifest_path.write_text(json.dumps(newer_format))
    refused = run(target, "restore", str(folder))
    assert refused.returncode == 1
    assert f"format {FORMAT_VERSION + 1}" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not _database_exists(target) or not _tables(target)  # nothing was touched


def test_a_restore_refuses_a_directory_that_is_not_a_backup(
    target: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    refused = run(target, "restore", str(tmp_path))
    assert refused.returncode == 1
    assert "no manifest.json" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_damaged_object_in_the_backup_is_not_restored(
    origin: Settings, target: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    digests = populate(origin)
    folder = tmp_path / "backup"
    assert run(origin, "backup", str(folder)).returncode == 0
    (folder / "objects" / content_key(digests[0])).write_bytes(b"bit rot")
    refused = run(target, "restore", str(folder))
    assert refused.returncode == 1
    assert f"{digests[0]}: damaged in the backup" in refused.stderr
    assert not _database_exists(target) or not _tables(target)


def test_missing_pg_dump_is_named_with_what_to_install(
    origin: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    if not origin.resolved_database_url.startswith("postgresql"):
        pytest.skip("pg_dump backs up PostgreSQL only")
    bare = tmp_path / "bin"
    bare.mkdir()
    # Python itself stays reachable; pg_dump does not.
    result = run(origin, "backup", str(tmp_path / "backup"), path=str(bare))
    assert result.returncode == 1
    assert "pg_dump is not on PATH" in result.stderr
    assert "postgresql-client" in result.stderr
    assert "Traceback" not in result.stderr


def _database_exists(settings: Settings) -> bool:
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        return Path(url.removeprefix("sqlite:///")).is_file()
    return True


def _tables(settings: Settings) -> list[str]:
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_a_file_missing_from_s3_is_named_and_the_backup_says_partial(
    origin: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    digests = populate(origin)
    ObjectStore(origin).delete(digests[1])  # e.g. lost in a bucket outside our care
    folder = tmp_path / "backup"
    result = run(origin, "backup", str(folder))
    assert result.returncode == 2, result.stderr
    assert f"not backed up: {digests[1]}: not in S3" in result.stdout
    assert "coursefed objects verify" in result.stdout
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["objects"]["count"] == len(FILES) - 1
    assert manifest["objects"]["missing"] == 1


def test_a_running_node_is_backed_up_as_of_its_last_commit(
    origin: Settings, target: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    """A write in progress (here: a harvest's transaction not yet committed) is neither in
    the copy nor in the manifest's counts, on either database."""
    populate(origin)
    engine = make_engine(origin)
    folder = tmp_path / "backup"
    try:
        with Session(engine) as writing:
            writing.add(Source(slug="late", name="late", base_url="http://late.example.org/oai"))
            writing.flush()
            result = run(origin, "backup", str(folder))
            writing.rollback()
    finally:
        engine.dispose()
    assert result.returncode == 0, result.stderr
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["sources"] == 1
    assert run(target, "restore", str(folder)).returncode == 0
    restored = make_engine(target)
    try:
        with Session(restored) as session:
            assert [s.slug for s in session.exec(select(Source))] == ["college"]
    finally:
        restored.dispose()


def test_a_backup_of_an_older_migration_is_restored_and_upgraded(
    live_services: Settings, tmp_path: Path, run: Callable[..., Ran]
) -> None:
    """A backup made before the latest migration restores, and ``--reindex`` brings the
    schema up to date before it rebuilds the index (``db upgrade`` is named otherwise)."""
    older = "0009"
    assert migrate.is_known(older) and migrate.head() != older

    def node(name: str) -> Settings:
        return Settings(
            data_dir=tmp_path / name,
            database_url=f"sqlite:///{tmp_path / name / 'coursefed.db'}",
            meili_url=live_services.resolved_meili_url,
            meili_key=live_services.meili_key,
            meili_index=f"test-{uuid.uuid4().hex[:12]}",
            s3_endpoint=live_services.resolved_s3_endpoint,
            s3_bucket=f"older-{uuid.uuid4().hex[:12]}",
        )

    origin, first, second = node("origin"), node("first"), node("second")
    migrate.upgrade(origin, older)
    folder = tmp_path / "backup"
    assert run(origin, "backup", str(folder)).returncode == 0
    assert json.loads((folder / "manifest.json").read_text())["alembic_revision"] == older

    restored = run(first, "restore", str(folder))
    assert restored.returncode == 0, restored.stderr
    assert "next: run `coursefed db upgrade`, then `coursefed reindex`" in restored.stdout
    assert migrate.current(first) == older

    upgraded = run(second, "restore", "--reindex", str(folder))
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"database upgraded to migration {migrate.head()}" in upgraded.stdout
    assert migrate.current(second) == migrate.head()

"""Two coursefed nodes with their own databases, indexes and buckets: B mirrors A whole.

After each ``mirror`` round B's catalogue (ids and content hashes), its answers to a set
of searches, and its stored files (sha256, bytes) equal A's.  Real Meilisearch, real
SeaweedFS S3, A served by uvicorn over loopback HTTP, files fetched from a local server.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from app import jobs
from app.catalogue import service as catalogue
from app.catalogue.models import DigitalObject, Resource
from app.db import make_engine, session_scope
from app.main import create_app
from app.mirror.client import Mirror
from app.mirror.objects import ObjectCopier
from app.objects.store import ObjectStore
from app.search.gateway import SearchIndex
from app.search.service import search
from app.settings import Settings
from app.sources import service as sources
from tests.app.object_server import ObjectServer, Reply
from tests.app.records import publish as publish_record
from tests.app.test_objects_store import bucket_keys
from tests.conftest import migrated
from tests.services_plugin import free_port, serving

PDF = b"%PDF-1.7\n"
MP4 = b"\0\0\0\x18ftypmp42\0\0\0\0"
TITLES = [
    "计算机科学导论",
    "数据结构与算法",
    "Introduction to Data Science",
    "大学物理",
    "高等数学",
]
QUERIES = ["计算机", "数据", "data", "物理", "数学", "scince", "course"]


def node(live: Settings, data_dir: Path, name: str) -> Settings:
    """Settings of one node: its own SQLite database, index and bucket; shared services."""
    return live.model_copy(
        update={
            "data_dir": data_dir / name,
            "database_url": None,
            "meili_index": f"{name}-{uuid.uuid4().hex[:8]}",
            "s3_bucket": f"{name}-{uuid.uuid4().hex[:10]}",
        }
    )


@pytest.fixture
def files() -> Iterator[ObjectServer]:
    with ObjectServer() as server:
        yield server


@pytest.fixture
def node_a(live: Settings, tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    settings = node(live, tmp_path, "a")
    migrated(settings)
    engine = make_engine(settings)
    yield settings, engine
    engine.dispose()


@pytest.fixture
def node_b(live: Settings, tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    settings = node(live, tmp_path, "b")
    migrated(settings)
    engine = make_engine(settings)
    yield settings, engine
    engine.dispose()


@pytest.fixture
def served_a(node_a: tuple[Settings, Engine]) -> Iterator[str]:
    settings, _engine = node_a
    with serving(create_app(settings)) as url:
        yield url


def publish(engine: Engine, source_id: int, n: int, title: str, urls: list[str]) -> str:
    return publish_record(
        engine,
        source_id,
        n,
        urls,
        title={"zh" if not title.isascii() else "en": f"{title}（{n}）"},
        description={"en": f"An open course, number {n}, about {title}."},
        names=True,
    )


def catalogue_of(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        rows = session.exec(select(Resource)).all()
        return {r.id: r.content_hash for r in rows if not r.deleted and r.publishable}


def held_files(engine: Engine) -> dict[tuple[str, str], str | None]:
    """(resource id, url) → sha256 of the stored copy (None while not stored)."""
    with session_scope(engine) as session:
        rows = session.exec(select(DigitalObject)).all()
        return {
            (row.resource_id, row.url): row.sha256 if row.status == "stored" else None
            for row in rows
        }


def stored_bytes(settings: Settings) -> dict[str, str]:
    """content key → sha256 of the bytes actually in the node's bucket."""
    store = ObjectStore(settings)
    try:
        return {key: store.digest(key.rsplit("/", 1)[-1])[0] for key in bucket_keys(store)}
    finally:
        store.close()


def answers(settings: Settings, engine: Engine) -> dict[str, list[str]]:
    jobs.sync_search(engine, settings)
    with SearchIndex.from_settings(settings) as index:
        return {
            query: [
                hit.id
                for hit in search(index, settings.meili_index, q=query, page=1, per_page=50).hits
            ]
            for query in QUERIES
        }


def copier_for(settings: Settings, engine: Engine) -> object:
    def make(mirror: Mirror) -> ObjectCopier:
        return ObjectCopier(engine, settings, mirror.upstream, mirror.http)

    return make


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_mirror_holds_the_same_catalogue_searches_and_files(
    node_a: tuple[Settings, Engine],
    node_b: tuple[Settings, Engine],
    served_a: str,
    files: ObjectServer,
) -> None:
    settings_a, engine_a = node_a
    settings_b, engine_b = node_b
    with session_scope(engine_a) as session:
        source = sources.add_source(
            session, slug="college", name="college", base_url="http://college.example/oai",
            allow_private_network=True,
        )  # fmt: skip
        source_id = source.id
    assert source_id is not None
    urls = [files.serve(f"/f{n}.pdf", Reply(prefix=PDF, size=40_000 + n, seed=n)) for n in range(6)]
    shared = files.serve("/lecture.mp4", Reply(prefix=MP4, size=120_000, seed=99))
    for n in range(30):
        named = [urls[(n // 3) % 6]] if n % 3 == 0 else []
        publish(engine_a, source_id, n, TITLES[n % 5], named + ([shared] if n < 2 else []))
    assert jobs.run_objects(engine_a, settings_a).outcomes["stored"] > 0

    # B starts with a store it cannot reach: records arrive, files wait (pending).
    broken = settings_b.model_copy(update={"s3_endpoint": f"http://127.0.0.1:{free_port()}"})
    mirror = Mirror(
        engine_b,
        served_a,
        objects=copier_for(broken, engine_b),  # type: ignore[arg-type]
        allow_private=True,
    )
    first = mirror.sync()
    mirror.close()
    assert first.objects_error
    assert catalogue_of(engine_b) == catalogue_of(engine_a)
    assert set(held_files(engine_b)) == set(held_files(engine_a))
    assert not any(held_files(engine_b).values()), "nothing stored while S3 is unreachable"

    # Restarted with S3 reachable, B converges: same files, same bytes, copied once each.
    mirror = Mirror(
        engine_b,
        served_a,
        objects=copier_for(settings_b, engine_b),  # type: ignore[arg-type]
        allow_private=True,
    )
    second = mirror.sync()
    assert second.objects_error is None
    assert held_files(engine_b) == held_files(engine_a)
    assert second.objects_copied == len(stored_bytes(settings_a)) == 7
    assert stored_bytes(settings_b) == stored_bytes(settings_a)
    assert all(key.endswith(sha) for key, sha in stored_bytes(settings_b).items())
    assert answers(settings_b, engine_b) == answers(settings_a, engine_a)

    # A changes: a new course with a new file, a retitled one, a deletion.
    extra = files.serve("/new.pdf", Reply(prefix=PDF, size=10_000, seed=7))
    publish(engine_a, source_id, 100, "计算机网络", [extra, urls[0]])
    publish(engine_a, source_id, 3, "数据库系统", [urls[3]])
    with session_scope(engine_a) as session:
        catalogue.delete(session, catalogue.resource_id_for("college", "oai:college:6"))
    jobs.run_objects(engine_a, settings_a)

    third = mirror.sync()
    mirror.close()
    assert third.objects_copied == 1, "only the new file crosses over"
    assert catalogue_of(engine_b) == catalogue_of(engine_a)
    assert held_files(engine_b) == held_files(engine_a)
    assert stored_bytes(settings_b) == stored_bytes(settings_a)
    assert answers(settings_b, engine_b) == answers(settings_a, engine_a)

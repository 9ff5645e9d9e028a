"""Many demo OAI-PMH repositories for the scale benchmark, each in a process of its own.

``write_sources`` walks the demo corpus once (``iter_corpus``: one record at a time) and
files every record under its institution, in one SQLite file per institution, in
(datestamp, local id) order.  ``python -m bench.scale_sources FILE PORT`` serves one such
file over OAI-PMH with the demo's own provider, reading each page from the file, so a
repository of any size needs a few megabytes of memory and none of it is in the
processes being measured.
"""

from __future__ import annotations

import argparse
import pickle
import sqlite3
import sys
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from app.demo.corpus import DemoRecord, institution_by_slug, iter_corpus
from app.demo.repository import DemoRepository
from app.demo.server import DemoRepositoryServer
from app.demo.xml import METADATA_FORMATS
from app.oai.provider import FormatDescription, Item, SetFilter, SetsPresent

SCHEMA = """
CREATE TABLE records (
    datestamp TEXT NOT NULL,  -- ISO 8601, whole seconds: sorts as it reads
    local_id TEXT NOT NULL UNIQUE,
    deleted INTEGER NOT NULL,
    level TEXT NOT NULL,
    subject_code TEXT NOT NULL,
    record BLOB NOT NULL      -- the DemoRecord, pickled and compressed
);
CREATE UNIQUE INDEX records_order ON records (datestamp, local_id);
"""
BATCH = 2000


@dataclass(frozen=True)
class SourceFile:
    """One institution's records on disk, and what the benchmark needs to know of them."""

    slug: str
    path: Path
    records: int
    live: int


def write_sources(folder: Path, count: int) -> list[SourceFile]:
    """The first ``count`` demo records, filed by institution under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    connections: dict[str, sqlite3.Connection] = {}
    pending: dict[str, list[tuple[object, ...]]] = {}
    totals: dict[str, list[int]] = {}

    def flush(slug: str) -> None:
        with connections[slug]:
            connections[slug].executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)", pending[slug]
            )
        pending[slug] = []

    for record in iter_corpus(count):
        slug = record.institution_slug
        if slug not in connections:
            connection = sqlite3.connect(folder / f"{slug}.sqlite")
            connection.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
            connection.executescript(SCHEMA)
            connections[slug], pending[slug], totals[slug] = connection, [], [0, 0]
        pending[slug].append(
            (
                _stamp(record.datestamp),
                record.local_id,
                int(record.deleted),
                record.level,
                record.subject_code,
                zlib.compress(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)),
            )
        )
        totals[slug][0] += 1
        totals[slug][1] += not record.deleted
        if len(pending[slug]) >= BATCH:
            flush(slug)
    for slug, connection in connections.items():
        flush(slug)
        connection.close()
    return [
        SourceFile(slug, folder / f"{slug}.sqlite", total, live)
        for slug, (total, live) in sorted(totals.items())
    ]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _moment(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


class FileStore:
    """One institution's records in its SQLite file: the provider's ``Repository`` and
    ``Dissemination``, answering each page with one indexed query."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()  # the server answers each connection in a thread
        rows = self._db().execute("SELECT DISTINCT level, subject_code FROM records").fetchall()
        self._slug = path.stem  # write_sources names each file after its institution
        institution = institution_by_slug(self._slug)
        self._sets = SetsPresent(
            sources=[(self._slug, f"{institution.name_zh} / {institution.name_en}")],
            levels=sorted({level for level, _ in rows}),
            subject_codes=sorted({code for _, code in rows}),
        )

    def _db(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True)
            self._local.connection = connection
        return connection

    def _item(self, row: Sequence[object]) -> Item:
        record: DemoRecord = pickle.loads(zlib.decompress(row[0]))  # type: ignore[arg-type]  # noqa: S301
        return Item(
            id=record.local_id,
            source=record.institution_slug,
            deleted=record.deleted,
            updated_at=record.datestamp,
            record={
                "subjects": [{"code": record.subject_code}],
                "education_level": record.level,
                "demo": record,
            },
        )

    def _where(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
    ) -> tuple[str, list[object]] | None:
        """The SQL condition and its arguments; None when the set selects nothing here."""
        clauses, args = ["1"], list[object]()
        if low is not None:
            clauses.append("datestamp >= ?")
            args.append(_stamp(low))
        if high is not None:
            clauses.append("datestamp < ?")
            args.append(_stamp(high))
        if after is not None:
            clauses.append("(datestamp, local_id) > (?, ?)")
            args += [_stamp(after[0]), after[1]]
        if set_filter is not None:
            group, value = set_filter
            if group == "source" and value not in ("", self._slug):
                return None
            if group == "level" and value:
                clauses.append("level = ?")
                args.append(value)
            if group == "subject" and value:
                clauses.append("subject_code LIKE ?")
                args.append(value + "%")
        return " AND ".join(clauses), args

    # ------------------------------------------------------------ Repository

    def get(self, resource_id: str, *, with_raw: bool) -> Item | None:
        row = (
            self._db()
            .execute("SELECT record FROM records WHERE local_id = ?", (resource_id,))
            .fetchone()
        )
        return None if row is None else self._item(row)

    def earliest(self) -> datetime | None:
        row = self._db().execute("SELECT min(datestamp) FROM records").fetchone()
        return _moment(row[0]) if row and row[0] else None

    def page(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
        limit: int,
        *,
        with_raw: bool,
    ) -> list[Item]:
        where = self._where(low, high, set_filter, after)
        if where is None:
            return []
        sql = f"SELECT record FROM records WHERE {where[0]} ORDER BY datestamp, local_id LIMIT ?"  # noqa: S608 - clauses are ours, values bound
        return [self._item(row) for row in self._db().execute(sql, [*where[1], limit])]

    def count(
        self,
        low: datetime | None,
        high: datetime | None,
        set_filter: SetFilter | None,
        after: tuple[datetime, str] | None,
    ) -> int:
        where = self._where(low, high, set_filter, after)
        if where is None:
            return 0
        sql = f"SELECT count(*) FROM records WHERE {where[0]}"  # noqa: S608 - as above
        return int(self._db().execute(sql, where[1]).fetchone()[0])

    def sets(self) -> SetsPresent:
        return self._sets

    # ------------------------------------------------------------ Dissemination

    def formats(self) -> Sequence[FormatDescription]:
        return list(METADATA_FORMATS.values())

    def metadata(self, item: Item, prefix: str) -> tuple[etree._Element, etree._Element | None]:
        return METADATA_FORMATS[prefix].render(item.record["demo"]), None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="serve one institution's file over OAI-PMH")
    parser.add_argument("file", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--page-size", type=int, default=250)
    args = parser.parse_args(argv)
    repository = DemoRepository(store=FileStore(args.file), page_size=args.page_size)
    server = DemoRepositoryServer(repository, port=args.port)
    server.start()
    sys.stdout.write(server.base_url + "\n")
    sys.stdout.flush()
    threading.Event().wait()  # until the benchmark terminates this process
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Snapshots: the whole live catalogue at one serial, as gzip'd NDJSON, in constant memory.

The first line is ``{"serial", "generated_at", "format"}``; each further line is one live,
publishable resource ``{"id", "record", "content_hash", "objects"}``, in id order.  All
of it is read in one consistent transaction (``repository.read_snapshot``), so the lines
are exactly the catalogue after serial N: a mirror loads them and follows the change
feed with ``since=N``.  Resources are read in keyset-paged batches and compressed as
they go, so memory does not grow with the catalogue.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Generator
from contextlib import ExitStack
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy.engine import Engine

from app.catalogue import repository as catalogue
from app.clock import utcnow
from app.mirror import repository
from app.mirror.manifest import index_stored, manifest

FORMAT = "coursefed-snapshot/1"
BATCH_SIZE = 500
_GZIP = 16 + zlib.MAX_WBITS  # zlib writes a gzip header and trailer


def _line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class Snapshot:
    """An open consistent read of the catalogue; ``serial`` is known before any byte is sent.

    Iterate ``chunks()`` once to get the gzip stream; the transaction ends when the
    iteration does (or is abandoned), or on ``close()``.
    """

    def __init__(self, engine: Engine, batch_size: int = BATCH_SIZE) -> None:
        self._stack = ExitStack()
        self._session = self._stack.enter_context(repository.read_snapshot(engine))
        self._batch_size = batch_size
        try:
            # The first query fixes the transaction's view: the serial and the rows agree.
            self.serial: int = catalogue.last_serial(self._session)
        except BaseException:
            self._stack.close()
            raise
        self.generated_at: datetime = utcnow()

    @property
    def filename(self) -> str:
        return f"coursefed-snapshot-{self.serial}.ndjson.gz"

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def chunks(self) -> Generator[bytes, None, None]:
        """The gzip stream: one chunk for the header line, then one per batch of resources.

        Each chunk ends with a sync flush, so a reader can decompress what it has so far.
        """
        try:
            compressor = zlib.compressobj(6, zlib.DEFLATED, _GZIP)
            header = {
                "serial": self.serial,
                "generated_at": self.generated_at.isoformat(),
                "format": FORMAT,
            }
            yield compressor.compress(_line(header)) + compressor.flush(zlib.Z_SYNC_FLUSH)
            after: str | None = None
            while (batch := self._batch(compressor, after)) is not None:
                chunk, after = batch
                yield chunk
            yield compressor.flush(zlib.Z_FINISH)
        finally:
            self.close()

    def _batch(self, compressor: Any, after: str | None) -> tuple[bytes, str] | None:
        """The next batch of resources after id ``after``, compressed; None at the end.

        A method of its own so one batch's rows are released before the next is read.
        """
        rows = repository.live_rows_after(self._session, after, self._batch_size)
        if not rows:
            return None
        ids = [rid for rid, _record, _digest in rows]
        stored = index_stored(repository.stored_objects(self._session, ids))
        parts = []
        for rid, record, digest in rows:
            objects = [item.model_dump() for item in manifest(rid, record, stored)]
            line = {"id": rid, "record": record, "content_hash": digest, "objects": objects}
            parts.append(compressor.compress(_line(line)))
        parts.append(compressor.flush(zlib.Z_SYNC_FLUSH))
        return b"".join(parts), ids[-1]


def write_snapshot(engine: Engine, out: BinaryIO) -> int:
    """Write a snapshot to ``out`` (for ``coursefed export FILE``); returns its serial."""
    snapshot = Snapshot(engine)
    for chunk in snapshot.chunks():
        out.write(chunk)
    return snapshot.serial

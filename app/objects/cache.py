"""The ``blobs`` rows downloads need, kept in memory for a few seconds (bounded, LRU).

A row's size and type never change (it is named by its sha256), but it can be removed
(a takedown) or gain the file name it lacked: so an entry lives ``ttl`` seconds, this
process forgets a row it changes, and a sha256 the database does not hold is never
remembered (a file uploaded after a 404 is served at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cachetools import TTLCache

from app.objects.http import content_disposition, etag

MAX_ENTRIES = 10_000  # a few hundred bytes each


@dataclass(frozen=True, slots=True)
class ServedBlob:
    """What serving a stored file needs of its ``blobs`` row."""

    sha256: str
    size: int
    media_type: str
    file_name: str | None
    etag: str = field(init=False)
    disposition: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", etag(self.sha256))
        object.__setattr__(
            self, "disposition", content_disposition(self.file_name, self.media_type, self.sha256)
        )


class BlobCache:
    """sha256 → ``ServedBlob`` for ``ttl`` seconds (``cachetools.TTLCache``: the least
    recently used go first past ``max_entries``); ``ttl`` 0 remembers nothing."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: TTLCache[str, ServedBlob] = TTLCache(max_entries, ttl, timer=clock)
        # Requests run on the event loop and on worker threads alike.
        self._lock = threading.Lock()

    def get(self, sha256: str) -> ServedBlob | None:
        with self._lock:
            return self._entries.get(sha256)

    def put(self, blob: ServedBlob) -> None:
        with self._lock:
            self._entries[blob.sha256] = blob

    def forget(self, sha256: str) -> None:
        """Drop a row this process changed or removed."""
        with self._lock:
            self._entries.pop(sha256, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)  # expired entries are dropped first

"""The in-memory cache of blobs rows behind downloads: expiry, bound, forgetting."""

from __future__ import annotations

import hashlib

from app.objects.cache import BlobCache, ServedBlob
from app.objects.http import content_disposition


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def blob(n: int, file_name: str | None = "notes.pdf") -> ServedBlob:
    sha = hashlib.sha256(str(n).encode()).hexdigest()
    return ServedBlob(sha256=sha, size=n, media_type="application/pdf", file_name=file_name)


def test_a_served_blob_carries_its_etag_and_disposition() -> None:
    found = blob(1, "讲义.pdf")
    assert found.etag == f'"{found.sha256}"'
    assert found.disposition == content_disposition("讲义.pdf", "application/pdf", found.sha256)


def test_an_entry_lives_ttl_seconds() -> None:
    clock = Clock()
    cache = BlobCache(30, clock=clock)
    cache.put(blob(1))
    clock.now += 29.9
    assert cache.get(blob(1).sha256) == blob(1)
    clock.now += 0.1
    assert cache.get(blob(1).sha256) is None
    assert len(cache) == 0  # an expired entry is dropped, not kept


def test_ttl_zero_remembers_nothing() -> None:
    cache = BlobCache(0)
    cache.put(blob(1))
    assert cache.get(blob(1).sha256) is None


def test_forget_drops_a_row_at_once() -> None:
    cache = BlobCache(30)
    cache.put(blob(1))
    cache.put(blob(2))
    cache.forget(blob(1).sha256)
    cache.forget(blob(3).sha256)  # never cached: not an error
    assert cache.get(blob(1).sha256) is None
    assert cache.get(blob(2).sha256) == blob(2)


def test_the_least_recently_used_go_first_past_the_bound() -> None:
    cache = BlobCache(30, max_entries=3)
    for n in (1, 2, 3):
        cache.put(blob(n))
    assert cache.get(blob(1).sha256) is not None  # 1 is now the most recently used
    cache.put(blob(4))
    assert len(cache) == 3
    assert cache.get(blob(2).sha256) is None
    assert all(cache.get(blob(n).sha256) for n in (1, 3, 4))


def test_putting_again_renews_the_entry() -> None:
    clock = Clock()
    cache = BlobCache(30, clock=clock)
    cache.put(blob(1, None))
    clock.now += 20
    cache.put(blob(1, "named.pdf"))
    clock.now += 20
    assert cache.get(blob(1).sha256) == blob(1, "named.pdf")

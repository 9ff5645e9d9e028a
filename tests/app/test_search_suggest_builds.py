"""The lexicon of suggestions is made once per index at a time, in the background: many
searches at once just after start share one build instead of each reading the whole
index, a search waits for it only briefly, and the app starts it when it starts serving.

No Meilisearch here: an index that counts its reads and holds them until released."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.search import suggest
from app.search.gateway import SearchIndex
from app.search.suggest import Lexicon
from app.settings import Settings

UID = "courses"
COURSES = [{"titles": ["操作系统"], "discipline_codes": ["08", "0812"]}]


class HeldIndex(SearchIndex):
    """An index whose every read of its documents is counted and waits for ``release``."""

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        super().__init__(f"http://held-{uuid.uuid4().hex}.invalid", "key")
        self.documents = documents
        self.marker = "1"
        self.reads = 0
        self.release = threading.Event()
        self._count = threading.Lock()

    def index_marker(self, uid: str) -> str:
        return self.marker

    def iter_documents(
        self, uid: str, fields: list[str], *, batch: int = 0
    ) -> Iterator[dict[str, Any]]:
        with self._count:
            self.reads += 1
            documents = list(self.documents)  # as the index held them when the read began
        assert self.release.wait(30), "the test never released the read"
        yield from documents


@pytest.fixture
def index() -> Iterator[HeldIndex]:
    held = HeldIndex(COURSES)
    yield held
    held.release.set()  # no build thread outlives its test


def _made(index: HeldIndex, reads: int) -> Lexicon:
    """The lexicon once ``reads`` builds have ended (the next search finds it made)."""
    deadline = time.monotonic() + 10
    while True:
        with suggest._lock:
            held = suggest._held[(index.url, UID)]
            if held.building is None and index.reads == reads and held.lexicon is not None:
                return held.lexicon
        assert time.monotonic() < deadline, "the build did not end"
        time.sleep(0.01)


def test_sixteen_searches_at_once_after_start_share_one_build(index: HeldIndex) -> None:
    """Each search used to read the whole index itself when none was held yet."""
    start = threading.Barrier(16)

    def search() -> Lexicon:
        start.wait()
        return suggest.lexicon(index, UID, wait=10)

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(search) for _ in range(16)]
        time.sleep(0.2)  # all of them are waiting now
        index.release.set()
        lexicons = [future.result(timeout=15) for future in futures]
    assert index.reads == 1
    assert all(lexicon is lexicons[0] for lexicon in lexicons)
    assert lexicons[0].courses == 1


def test_a_refresh_in_the_background_never_runs_twice(index: HeldIndex) -> None:
    index.release.set()
    held = suggest.lexicon(index, UID, wait=10)
    assert held.courses == 1 and index.reads == 1
    index.release.clear()
    index.marker = "2"
    suggest.changed(index.url, UID)
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: suggest.lexicon(index, UID, wait=10), range(32)))
    assert time.monotonic() - started < 5, "searches go on with the lexicon held"
    assert all(answer is held for answer in answers)
    index.release.set()
    assert _made(index, 2) is not held
    assert index.reads == 2


def test_a_search_waits_for_the_first_build_briefly_then_goes_without_help(
    index: HeldIndex,
) -> None:
    """A million courses take longer to read than a learner should wait: the first
    searches are answered without suggestions, and only one of them waits."""
    started = time.monotonic()
    first = suggest.lexicon(index, UID, wait=0.2)
    assert 0.2 <= time.monotonic() - started < 5
    assert first.courses == 0, "an empty lexicon: the search is answered without help"
    started = time.monotonic()
    assert suggest.lexicon(index, UID, wait=10).courses == 0
    assert time.monotonic() - started < 5, "no second wait for the same long build"
    index.release.set()
    made = _made(index, 1)
    assert suggest.lexicon(index, UID, wait=0) is made
    assert made.courses == 1
    assert index.reads == 1


def test_a_write_during_a_build_makes_the_lexicon_again(index: HeldIndex) -> None:
    """The build read the index before the write reached it: its lexicon is not kept as
    up to date for the next 30 seconds."""
    suggest.warm(index, UID)
    while index.reads == 0:
        time.sleep(0.01)
    index.documents = [*COURSES, {"titles": ["微积分"], "discipline_codes": ["07", "0701"]}]
    index.marker = "2"
    suggest.changed(index.url, UID)
    index.release.set()
    _made(index, 1)
    assert suggest.lexicon(index, UID, wait=10).courses == 1, "the one held, meanwhile"
    assert _made(index, 2).courses == 2


def test_warming_twice_starts_one_build(index: HeldIndex) -> None:
    suggest.warm(index, UID)
    suggest.warm(index, UID)
    index.release.set()
    assert _made(index, 1).courses == 1
    suggest.warm(index, UID)  # one is held: nothing to do
    assert suggest.lexicon(index, UID, wait=0).courses == 1
    assert index.reads == 1


def test_the_app_starts_the_build_when_it_starts_serving(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.main import create_app  # noqa: PLC0415 - keeps collection light

    warmed: list[tuple[SearchIndex, str]] = []
    monkeypatch.setattr(suggest, "warm", lambda index, uid: warmed.append((index, uid)))
    with TestClient(create_app(settings)) as client:
        state = client.app.state.coursefed  # type: ignore[attr-defined]
        assert warmed == [(state.search, settings.meili_index)]


def test_an_unreachable_meilisearch_is_one_line_in_the_log_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = SearchIndex("http://127.0.0.1:9", "key", timeout=2)
    with caplog.at_level("WARNING", logger="app.search.suggest"):
        suggest.warm(down, UID)
        deadline = time.monotonic() + 10
        while suggest.state(down, UID) != "ready" and time.monotonic() < deadline:
            time.sleep(0.02)
    assert suggest.state(down, UID) == "ready", "an empty lexicon: searches go on unhelped"
    [record] = [r for r in caplog.records if "could not be made" in r.getMessage()]
    assert "unreachable" in record.getMessage()
    assert record.exc_info is None

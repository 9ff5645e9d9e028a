"""Shutdown closes every client the app opened at start-up: the database pool, the search
client, the S3 client (the app's and the scheduler's), the rate limiter's Redis pool, and
the scheduler itself.  Each close is observed on the real objects, which keep working."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.jobs import Scheduler
from app.main import create_app
from app.objects.store import ObjectStore
from app.ratelimit import Limiter
from app.search.gateway import SearchIndex
from app.settings import Settings

REDIS = "redis://127.0.0.1:6379/15"


class Calls:
    """Which objects had a method called: the real method still runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.seen: dict[str, list[object]] = {}

    def watch(self, cls: type, name: str) -> None:
        original: Callable[..., Any] = getattr(cls, name)
        seen = self.seen.setdefault(f"{cls.__name__}.{name}", [])
        if name == "aclose":

            @wraps(original)
            async def async_spy(self: object, *args: Any, **kwargs: Any) -> Any:
                seen.append(self)
                return await original(self, *args, **kwargs)

            self.monkeypatch.setattr(cls, name, async_spy)
            return

        @wraps(original)
        def spy(self: object, *args: Any, **kwargs: Any) -> Any:
            seen.append(self)
            return original(self, *args, **kwargs)

        self.monkeypatch.setattr(cls, name, spy)

    def of(self, cls: type, name: str) -> list[object]:
        return self.seen[f"{cls.__name__}.{name}"]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Calls:
    watched = Calls(monkeypatch)
    for cls, name in (
        (ObjectStore, "__init__"),
        (ObjectStore, "close"),
        (SearchIndex, "__init__"),
        (SearchIndex, "close"),
        (Limiter, "aclose"),
        (Scheduler, "stop"),
        (Engine, "dispose"),
    ):
        watched.watch(cls, name)
    return watched


def _same(objects: list[object]) -> set[int]:
    return {id(o) for o in objects}


def test_shutdown_closes_every_client_the_app_opened(settings: Settings, calls: Calls) -> None:
    own = settings.model_copy(
        update={"scheduler": True, "objects_fetch": False, "redis_url": REDIS}
    )
    with TestClient(create_app(own)) as client:
        assert client.get("/healthz").status_code == 200
        app = client.app
        state = app.state.coursefed  # type: ignore[attr-defined]
        limiter = app.state.limiter  # type: ignore[attr-defined]
        assert not calls.of(ObjectStore, "close"), "nothing is closed while the app runs"
    assert id(state.objects) in _same(calls.of(ObjectStore, "close")), "the app's S3 client"
    # The scheduler's own S3 client, and any other one opened, are closed too.
    assert _same(calls.of(ObjectStore, "close")) == _same(calls.of(ObjectStore, "__init__"))
    assert len(calls.of(ObjectStore, "__init__")) >= 2
    assert id(state.search) in _same(calls.of(SearchIndex, "close"))
    assert _same(calls.of(SearchIndex, "close")) == _same(calls.of(SearchIndex, "__init__"))
    assert calls.of(Limiter, "aclose") == [limiter]
    assert len(calls.of(Scheduler, "stop")) == 1
    assert id(state.engine) in _same(calls.of(Engine, "dispose"))


def test_a_start_up_that_fails_half_way_closes_what_it_had_opened(
    settings: Settings, calls: Calls
) -> None:
    """A Redis URL the client cannot use fails the start after the database, search and
    S3 clients were opened: they are closed, not leaked."""
    broken = settings.model_copy(update={"redis_url": "nosuch://127.0.0.1:6379/0"})
    with pytest.raises(ValueError, match="Redis URL"), TestClient(create_app(broken)):
        pass
    assert len(calls.of(ObjectStore, "close")) == len(calls.of(ObjectStore, "__init__")) == 1
    assert len(calls.of(SearchIndex, "close")) == len(calls.of(SearchIndex, "__init__")) == 1
    assert len(calls.of(Engine, "dispose")) >= 1
    assert calls.of(Limiter, "aclose") == []

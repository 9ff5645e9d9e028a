"""Request-scoped dependencies: the app's shared state and the per-request transaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import session_scope
from app.objects.cache import BlobCache
from app.objects.store import ObjectStore
from app.search.gateway import SearchIndex
from app.settings import Settings


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    search: SearchIndex
    objects: ObjectStore
    blobs: BlobCache  # rows of stored files, for downloads


async def get_state(request: Request) -> AppState:
    # async, though it awaits nothing: FastAPI runs a plain function dependency on a
    # worker thread, a hop every request would pay for nothing.
    state: AppState = request.app.state.coursefed
    return state


def get_session(state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    """The request's one transaction: committed when the route returns without error."""
    with session_scope(state.engine) as session:
        yield session


StateDep = Annotated[AppState, Depends(get_state)]
SessionDep = Annotated[Session, Depends(get_session)]

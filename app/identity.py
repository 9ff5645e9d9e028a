"""This node's identity, so that it recognises itself when asked to harvest or mirror itself.

A random id is stored once in the database (every process and host of one deployment
shares it) and sent as ``X-Coursefed-Node`` by our OAI-PMH endpoint and the mirror API.
``self_harvest_reason`` compares a peer's Identify answer with it, with our public base
URL and with our repository identifier; a harvest of ourselves would copy our own
catalogue into itself for ever.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel

from app.clock import utcnow
from app.db import session_scope
from app.settings import Settings
from harvesters.net.endpoints import same_endpoint
from harvesters.oai.records import Identify

NODE_HEADER = "X-Coursefed-Node"
SelfCheck = Callable[[Identify], "str | None"]
"""Why an Identify answer is this repository itself, or None."""

_cache: dict[str, str] = {}
_lock = threading.Lock()


class NodeIdentity(SQLModel, table=True):
    """The one row naming this deployment."""

    __tablename__ = "node_identity"

    id: int = Field(default=1, primary_key=True)
    node_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


def node_id(engine: Engine) -> str:
    """This deployment's id, created on first use (race-safe across processes)."""
    key = str(engine.url)
    with _lock:
        if key in _cache:
            return _cache[key]
    with Session(engine) as session:
        row = session.get(NodeIdentity, 1)
    if row is None:
        try:
            with session_scope(engine) as session:
                session.add(NodeIdentity(id=1, node_id=uuid.uuid4().hex))
        except IntegrityError:
            pass  # another process made it first: read theirs
        with Session(engine) as session:
            row = session.get(NodeIdentity, 1)
    assert row is not None  # noqa: S101 - inserted above
    with _lock:
        _cache[key] = row.node_id
    return row.node_id


def self_harvest_reason(
    identify: Identify, *, node: str, public_url: str | None, repository_identifier: str
) -> str | None:
    """Why ``identify`` is this very repository, in words; None when it is another one.

    ``public_url`` is our public base URL (``Settings.resolved_public_url``), when known.
    """
    if identify.peer_node and identify.peer_node == node:
        return "its Identify answer comes from this coursefed node"
    if public_url and identify.base_url:
        own_base = f"{public_url.rstrip('/')}/oai"
        if same_endpoint(identify.base_url, own_base):
            return f"its baseURL {own_base} is this repository's own"
    # Only a domain-name identifier is announced (and unique); "coursefed" is everyone's default.
    if "." in repository_identifier and (
        identify.repository_identifier.lower() == repository_identifier.lower()
    ):
        return f"its repositoryIdentifier {repository_identifier} is this repository's own"
    return None


def self_check(engine: Engine, settings: Settings) -> SelfCheck:
    """``self_harvest_reason`` bound to this deployment, for harvests and registration."""
    node = node_id(engine)

    def check(identify: Identify) -> str | None:
        return self_harvest_reason(
            identify,
            node=node,
            public_url=settings.resolved_public_url,
            repository_identifier=settings.oai_repository_identifier,
        )

    return check

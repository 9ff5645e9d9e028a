"""How far this node is behind each upstream it mirrors, from what ``coursefed mirror``
committed: the serial it applied, and the upstream's newest serial when last asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.catalogue import repository
from app.mirror.client import CURSOR_PREFIX, UPSTREAM_SUFFIX
from app.sources import service as sources


@dataclass(frozen=True)
class MirrorPosition:
    upstream: str
    applied: int
    latest: int
    asked_at: datetime

    @property
    def lag(self) -> int:
        return max(0, self.latest - self.applied)


def mirror_positions(session: Session) -> list[MirrorPosition]:
    """Each mirrored upstream (by its URL) that has answered a change-feed request."""
    positions = []
    for noted in repository.cursors_named_like(session, CURSOR_PREFIX, UPSTREAM_SUFFIX):
        digest = noted.name.removeprefix(CURSOR_PREFIX).removesuffix(UPSTREAM_SUFFIX)
        source = sources.get_by_slug(session, f"{CURSOR_PREFIX}{digest[:8]}")
        upstream = source.base_url.removesuffix("/oai") if source else digest
        positions.append(
            MirrorPosition(
                upstream=upstream,
                applied=repository.get_cursor(session, f"{CURSOR_PREFIX}{digest}"),
                latest=noted.serial,
                asked_at=noted.updated_at,
            )
        )
    return positions

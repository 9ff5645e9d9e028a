"""Registering sources and finding which ones are due for a harvest."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, col, select

from app.errors import InvalidParameter
from app.sources.models import HarvestRun, Source, utcnow

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def add_source(
    session: Session,
    *,
    slug: str,
    base_url: str,
    name: str | None = None,
    metadata_prefix: str = "oai_dc",
    set_spec: str | None = None,
    interval_minutes: int = 1440,
    allow_private_network: bool = False,
) -> Source:
    """Register a source, or update it if the slug exists (so re-running is safe)."""
    if not _SLUG.match(slug):
        raise InvalidParameter(
            f"slug {slug!r}: use 2-63 lowercase letters, digits and '-', starting alphanumeric"
        )
    if not base_url.startswith(("http://", "https://")):
        raise InvalidParameter(f"base URL {base_url!r} must start with http:// or https://")
    if interval_minutes < 1:
        raise InvalidParameter("interval must be at least one minute")
    source = get_by_slug(session, slug) or Source(slug=slug, name=name or slug, base_url=base_url)
    source.name = name or source.name
    source.base_url = base_url
    source.metadata_prefix = metadata_prefix
    source.set_spec = set_spec
    source.interval_minutes = interval_minutes
    source.allow_private_network = allow_private_network
    session.add(source)
    session.flush()
    return source


def get_by_slug(session: Session, slug: str) -> Source | None:
    return session.exec(select(Source).where(Source.slug == slug)).first()


def list_sources(session: Session) -> list[Source]:
    return list(session.exec(select(Source).order_by(col(Source.slug))).all())


def due_sources(session: Session) -> list[Source]:
    """Enabled sources whose next harvest time has come (never-harvested ones first)."""
    now = utcnow()
    due = []
    for source in list_sources(session):
        if not source.enabled:
            continue
        if source.next_harvest_at is None or source.next_harvest_at <= now:
            due.append(source)
    return due


def schedule_next(session: Session, source_id: int) -> None:
    source = session.get(Source, source_id)
    if source is not None:
        source.next_harvest_at = utcnow() + timedelta(minutes=source.interval_minutes)
        session.add(source)


def last_run(session: Session, source_id: int) -> HarvestRun | None:
    statement = (
        select(HarvestRun)
        .where(HarvestRun.source_id == source_id)
        .order_by(col(HarvestRun.id).desc())
    )
    return session.exec(statement).first()

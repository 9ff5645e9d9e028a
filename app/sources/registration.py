"""Registering a source only after its endpoint answers OAI-PMH ``Identify``."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import InvalidParameter
from app.sources import service
from app.sources.models import Source, utcnow
from harvesters.oai.client import OAIClient
from harvesters.oai.errors import HarvestError
from harvesters.oai.records import Identify


async def identify(base_url: str, *, wait: float = 30.0) -> Identify:
    """Ask the endpoint who it is; a clear ``InvalidParameter`` when it does not answer."""
    if not base_url.startswith(("http://", "https://")):
        raise InvalidParameter(f"base URL {base_url!r} must start with http:// or https://")
    try:
        client = OAIClient(base_url, timeout=wait, max_retries=1, backoff_base=0.5)
        async with client:
            return await client.identify()
    except HarvestError as exc:
        raise InvalidParameter(
            f"{base_url} did not answer an OAI-PMH Identify request: "
            f"{exc.__class__.__name__}: {exc}"
        ) from exc


async def register(
    engine: Engine,
    *,
    base_url: str,
    name: str | None = None,
    slug: str | None = None,
    metadata_prefix: str | None = None,
    set_spec: str | None = None,
    interval_minutes: int = 1440,
    allow_private_network: bool = False,
) -> Source:
    """Identify the endpoint, then save (or update) the source with what it said."""
    info = await identify(base_url)
    with session_scope(engine) as session:
        source = service.add_source(
            session,
            base_url=base_url,
            name=name or info.repository_name or None,
            slug=slug,
            metadata_prefix=metadata_prefix,
            set_spec=set_spec,
            interval_minutes=interval_minutes,
            allow_private_network=allow_private_network,
        )
        source.repository_name = info.repository_name or None
        source.granularity = info.granularity or None
        source.earliest_datestamp = info.earliest_datestamp or None
        source.deleted_record = info.deleted_record or None
        source.identified_at = utcnow()
        session.add(source)
        session.flush()
        return source

"""Registering a source only after its endpoint answers OAI-PMH ``Identify``.

The Identify request obeys the outbound address policy (lifted only for a source
registered with ``allow_private_network``), and an endpoint that answers as this very
repository is refused: harvesting ourselves would copy the catalogue into itself.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from app.clock import utcnow
from app.db import session_scope
from app.errors import InvalidParameter
from app.identity import self_check
from app.settings import Settings
from app.sources import repository, service
from app.sources.models import Source
from harvesters.net import AddressPolicy
from harvesters.oai.client import OAIClient
from harvesters.oai.errors import AddressNotAllowed, HarvestError, public_description
from harvesters.oai.records import Identify

PRIVATE_HINT = (
    "; a repository on a private network can be registered with allow_private_network"
    " (--allow-private-network) by an administrator"
)


async def identify(base_url: str, *, policy: AddressPolicy, wait: float = 30.0) -> Identify:
    """Ask the endpoint who it is; a clear ``InvalidParameter`` when it does not answer.

    The message names the failure and the policy rule that refused, never what the
    endpoint sent.
    """
    if not base_url.startswith(("http://", "https://")):
        raise InvalidParameter(f"base URL {base_url!r} must start with http:// or https://")
    try:
        client = OAIClient(
            base_url, timeout=wait, deadline=wait, max_retries=1, backoff_base=0.5, policy=policy
        )
        async with client:
            return await client.identify()
    except AddressNotAllowed as exc:
        hint = PRIVATE_HINT if exc.rule == "private-address" else ""
        raise InvalidParameter(f"{base_url} cannot be registered: {exc}{hint}") from exc
    except HarvestError as exc:
        raise InvalidParameter(
            f"{base_url} did not answer an OAI-PMH Identify request: {public_description(exc)}"
        ) from exc


async def register(
    engine: Engine,
    settings: Settings,
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
    policy = settings.address_policy().permitting(allow_private=allow_private_network)
    info = await identify(base_url, policy=policy)
    oneself = self_check(engine, settings)(info)
    if oneself is not None:
        raise InvalidParameter(
            f"{base_url} is this coursefed itself ({oneself}); a repository cannot harvest itself"
        )
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
        repository.save(session, source)
        return source

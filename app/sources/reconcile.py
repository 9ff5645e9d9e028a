"""Reconciliation: find records a source no longer lists and mark them deleted.

Repositories whose ``deletedRecord`` is ``no`` or ``transient`` never tell us about (all)
deletions.  A periodic ``ListIdentifiers`` of the whole source is compared with what we
hold; what vanished is tombstoned.  A broken endpoint that suddenly lists nothing must
not empty the catalogue, so deleting more than a configured share needs ``force``.
"""

from __future__ import annotations

import asyncio
import builtins
import logging

from sqlalchemy.engine import Engine

from app.catalogue import service as catalogue
from app.clock import utcnow
from app.db import session_scope
from app.sources import repository, service
from app.sources.harvest import HarvestOptions, holding, worker_id
from app.sources.models import HarvestRun
from harvesters.net import AddressPolicy
from harvesters.oai.client import OAIClient
from harvesters.oai.errors import HarvestError, public_description

log = logging.getLogger(__name__)


class _Incomplete(Exception):
    """The list did not end within the run's bounds."""


async def reconcile(
    engine: Engine,
    source_id: int,
    *,
    max_share: float = 0.2,
    force: bool = False,
    options: HarvestOptions | None = None,
) -> HarvestRun:
    """List every identifier of the source and tombstone ours that are missing."""
    options = options or HarvestOptions()
    async with holding(engine, source_id, worker_id(), options.lease_seconds):
        return await _reconcile(engine, source_id, max_share, force, options)


async def _reconcile(
    engine: Engine, source_id: int, max_share: float, force: bool, options: HarvestOptions
) -> HarvestRun:
    with session_scope(engine) as session:
        source = repository.get_source(session, source_id)
        if source is None:
            raise LookupError(f"no source with id {source_id}")
        run = HarvestRun(
            source_id=source_id,
            kind="reconcile",
            full=True,
            metadata_prefix=source.metadata_prefix,
            set_spec=source.set_spec,
        )
        repository.save(session, run)
        assert run.id is not None  # noqa: S101 - set by the flush
        run_id, slug, base_url = run.id, source.slug, source.base_url
        prefix, set_spec = source.metadata_prefix, source.set_spec
        policy = options.policy.permitting(allow_private=source.allow_private_network)

    listed, error = await _listed(
        base_url, slug, prefix=prefix, set_spec=set_spec, policy=policy, options=options
    )

    with session_scope(engine) as session:
        finished = repository.get_run(session, run_id)
        assert finished is not None  # noqa: S101 - created above
        run = finished
        run.records_seen = len(listed)
        if error is None:
            ours = catalogue.live_ids_of_source(session, source_id)
            vanished = [resource_id for resource_id in ours if resource_id not in listed]
            share = len(vanished) / len(ours) if ours else 0.0
            if vanished and share > max_share and not force:
                error = (
                    f"refusing to delete {len(vanished)} of {len(ours)} records ({share:.0%}, "
                    f"more than {max_share:.0%}) without --force: the endpoint may be broken"
                )
            else:
                batch = catalogue.Batch(session, vanished)
                for resource_id in vanished:
                    if batch.delete(resource_id) is catalogue.Outcome.DELETED:
                        run.records_deleted += 1
                batch.flush()
                source = repository.get_source(session, source_id)
                if source is not None:
                    source.last_reconciled_at = utcnow()
                    repository.save(session, source)
        run.status = "failed" if error else "succeeded"
        run.error = error
        run.finished_at = utcnow()
        service.note_catalogue(session, run)
        repository.save(session, run)
    log.info(
        "reconcile %s: %s, %d listed, %d deleted",
        slug,
        run.status,
        len(listed),
        run.records_deleted,
    )
    return run


async def _listed(
    base_url: str,
    slug: str,
    *,
    prefix: str,
    set_spec: str | None,
    policy: AddressPolicy,
    options: HarvestOptions,
) -> tuple[set[str], str | None]:
    """The resource ids the source lists now, or the error that left the list incomplete."""
    listed: set[str] = set()
    error: str | None = None
    try:
        # Only a complete list may delete anything: a run stopped at its bounds deletes nothing.
        async with (
            asyncio.timeout(options.max_seconds),
            OAIClient(
                base_url,
                timeout=options.timeout,
                max_retries=options.max_retries,
                backoff_base=options.backoff_base,
                policy=policy,
                deadline=options.deadline,
            ) as client,
        ):
            pages = 0
            async for page in client.list_identifiers_pages(prefix, set=set_spec):
                pages += 1
                if page.token is not None and pages >= options.max_pages:
                    raise _Incomplete(f"the list is longer than {pages} pages")
                for header in page.records:
                    if header.identifier and not header.deleted:
                        listed.add(catalogue.resource_id_for(slug, header.identifier))
    except HarvestError as exc:
        error = public_description(exc)
    except _Incomplete as exc:
        error = f"{exc} (COURSEFED_HARVEST_MAX_PAGES); nothing deleted"
    except builtins.TimeoutError:  # asyncio.timeout: the run's wall clock ran out
        error = (
            "the list took longer than one run may (COURSEFED_HARVEST_MAX_SECONDS); nothing deleted"
        )
    return listed, error

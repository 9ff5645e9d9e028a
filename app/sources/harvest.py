"""The harvest job: pull one source over OAI-PMH, normalise each record, store it.

Each page is its own transaction (a checkpoint): a run stopped at any moment keeps the
pages already committed, and re-harvesting them later is harmless because unchanged
records (same raw bytes) are skipped.  The source's high-water mark is the server's
``responseDate`` at the *start* of the run, and it only moves when the run completes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.catalogue import service as catalogue
from app.db import session_scope
from app.sources.models import HarvestRun, Source, utcnow
from harvesters.oai.client import OAIClient
from harvesters.oai.errors import HarvestError
from harvesters.oai.records import RawRecord
from metadata.profile import CourseResource, Issue, Provenance, ResourceRecord
from metadata.readers.oai_dc import read_oai_dc
from metadata.validate import validate

log = logging.getLogger(__name__)

Reader = Callable[..., tuple[CourseResource, list[Issue]]]

# The formats this slice can normalise; the profile issue adds LOM and qualified DC.
READERS: dict[str, Reader] = {"oai_dc": read_oai_dc}


class UnsupportedFormat(HarvestError):
    """The source is configured with a metadata format we cannot normalise."""


async def harvest(engine: Engine, source_id: int, *, full: bool = False) -> HarvestRun:
    """Harvest one source; always returns the finished run (succeeded or failed)."""
    with session_scope(engine) as session:
        source = session.get(Source, source_id)
        if source is None:
            raise LookupError(f"no source with id {source_id}")
        from_date = None if full else source.high_water
        run = HarvestRun(source_id=source_id, full=full, from_date=from_date)
        session.add(run)
        session.flush()
        run_id, slug, base_url = run.id, source.slug, source.base_url
        prefix, set_spec = source.metadata_prefix, source.set_spec
    assert run_id is not None  # noqa: S101 - set by flush

    error: str | None = None
    response_date: str | None = None
    try:
        reader = READERS.get(prefix)
        if reader is None:
            raise UnsupportedFormat(f"metadata format {prefix!r} cannot be normalised yet")
        job = _Job(source_id, slug, prefix, base_url, reader)
        async with OAIClient(base_url) as client:
            async for page in client.list_records_pages(prefix, set=set_spec, from_=from_date):
                response_date = response_date or page.response_date
                with session_scope(engine) as session:
                    run = _get_run(session, run_id)
                    run.pages += 1
                    batch = catalogue.Batch(
                        session,
                        (
                            catalogue.resource_id_for(slug, r.identifier)
                            for r in page.records
                            if r.identifier
                        ),
                    )
                    for raw in page.records:
                        _store_one(batch, run, raw, job)
                    session.add(run)
    except HarvestError as exc:
        error = f"{exc.__class__.__name__}: {exc}"
    except Exception as exc:  # a run reports its failure instead of dying silently
        log.exception("harvest of %s failed unexpectedly", slug)
        error = f"unexpected {exc.__class__.__name__}: {exc}"

    with session_scope(engine) as session:
        run = _get_run(session, run_id)
        run.finished_at = utcnow()
        run.response_date = response_date
        run.status = "failed" if error else "succeeded"
        run.error = error
        session.add(run)
        source = session.get(Source, source_id)
        if source is not None and not error and response_date:
            source.high_water = response_date
            session.add(source)
    log.info(
        "harvest %s: %s, %d seen, %d upserted, %d deleted, %d failed",
        slug,
        run.status,
        run.records_seen,
        run.records_upserted,
        run.records_deleted,
        run.records_failed,
    )
    return run


def _get_run(session: Session, run_id: int) -> HarvestRun:
    run = session.get(HarvestRun, run_id)
    assert run is not None  # noqa: S101 - the run row was created by this job
    return run


@dataclass(frozen=True)
class _Job:
    """What every record of one run shares."""

    source_id: int
    slug: str
    prefix: str
    base_url: str
    reader: Reader


def _store_one(batch: catalogue.Batch, run: HarvestRun, raw: RawRecord, job: _Job) -> None:
    run.records_seen += 1
    if not raw.identifier:
        run.records_failed += 1
        return
    resource_id = catalogue.resource_id_for(job.slug, raw.identifier)
    if raw.deleted:
        if batch.delete(resource_id, raw.datestamp) is catalogue.Outcome.DELETED:
            run.records_deleted += 1
        return
    if raw.error is not None or raw.metadata is None:
        run.records_failed += 1
        return
    content, issues = job.reader(raw.metadata)
    issues = [*issues, *validate(content)]
    raw_sha256 = hashlib.sha256(raw.raw).hexdigest()
    record = ResourceRecord(
        id=resource_id,
        provenance=Provenance(
            source=job.slug,
            oai_identifier=raw.identifier,
            datestamp=raw.datestamp or "",
            metadata_prefix=job.prefix,
            harvested_at=utcnow(),
            raw_sha256=raw_sha256,
            base_url=job.base_url,
        ),
        **content.model_dump(),
    )
    outcome = batch.upsert(
        catalogue.StoredRecord(
            record=record,
            issues=issues,
            source_id=job.source_id,
            oai_identifier=raw.identifier,
            datestamp=raw.datestamp or "",
            metadata_prefix=job.prefix,
            raw_xml=raw.raw,
            raw_sha256=raw_sha256,
        ),
    )
    if outcome is catalogue.Outcome.UNCHANGED:
        run.records_unchanged += 1
    else:
        run.records_upserted += 1

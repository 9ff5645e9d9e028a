"""Harvest reports for colleges: what a run did, what failed, what to improve.

One dictionary serves the API (``GET /api/v1/sources/{id}/report``) and the command line
(``coursefed harvest`` prints it as text), so both always say the same thing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.catalogue.models import Resource
from app.sources.models import FailedRecord, HarvestRun, Source

LISTED = 50  # failed records and records with errors shown in one report


def run_report(session: Session, run: HarvestRun) -> dict[str, Any]:
    source = session.get(Source, run.source_id)
    failed = session.exec(
        select(FailedRecord).where(FailedRecord.run_id == run.id).order_by(col(FailedRecord.id))
    ).all()
    with_errors = session.exec(
        select(Resource)
        .where(Resource.source_id == run.source_id)
        .where(col(Resource.deleted).is_(False), col(Resource.publishable).is_(False))
        .order_by(col(Resource.oai_identifier))
        .limit(LISTED)
    ).all()
    live = (
        select(func.count(), func.avg(Resource.quality))
        .where(Resource.source_id == run.source_id)
        .where(col(Resource.deleted).is_(False))
    )
    count, mean_quality = session.exec(live).one()
    return {
        "run": run.id,
        "source": source.slug if source else None,
        "kind": run.kind,
        "status": run.status,
        "metadata_prefix": run.metadata_prefix,
        "set": run.set_spec,
        "from": run.from_date,
        "response_date": run.response_date,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "duration_seconds": run.duration_seconds,
        "resumed": run.resumed,
        "pages": run.pages,
        "records": {
            "seen": run.records_seen,
            "added": run.records_added,
            "updated": run.records_updated,
            "unchanged": run.records_unchanged,
            "deleted": run.records_deleted,
            "failed": run.records_failed,
        },
        "error": run.error,
        "events": run.events,
        "issue_counts": run.issue_counts,
        "failed_records": [
            {"identifier": f.identifier, "datestamp": f.datestamp, "reason": f.reason}
            for f in failed[:LISTED]
        ],
        "records_with_errors": [
            {
                "id": r.id,
                "oai_identifier": r.oai_identifier,
                "issues": [i for i in r.issues if i.get("severity") == "error"],
            }
            for r in with_errors
        ],
        "catalogue": {
            "live_records": int(count or 0),
            "mean_quality": round(float(mean_quality), 3) if mean_quality is not None else None,
        },
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as text for a terminal."""
    counts = report["records"]
    duration = report["duration_seconds"]
    lines = [
        f"{report['kind']} of {report['source']} ({report['metadata_prefix']}"
        f"{', set ' + report['set'] if report['set'] else ''}"
        f"{', from ' + report['from'] if report['from'] else ''}): {report['status'].upper()}"
        f"{f' in {duration:.1f} s' if duration is not None else ''}",
        f"  {report['pages']} pages; {counts['seen']} records: {counts['added']} added, "
        f"{counts['updated']} updated, {counts['unchanged']} unchanged, "
        f"{counts['deleted']} deleted, {counts['failed']} failed",
    ]
    if report["resumed"]:
        lines.append(f"  resumed {report['resumed']} time(s) from a checkpoint")
    if report["error"]:
        lines.append(f"  error: {report['error']}")
    lines += [f"  {event['kind']}: {event['detail']}" for event in report["events"][-10:]]
    if report["issue_counts"]:
        issues = ", ".join(f"{code} {n}" for code, n in sorted(report["issue_counts"].items()))
        lines.append(f"  issues: {issues}")
    lines += [
        f"  failed record {f['identifier'] or '(no identifier)'}: {f['reason']}"
        for f in report["failed_records"][:10]
    ]
    lines += [
        f"  not published {r['oai_identifier']}: "
        + "; ".join(issue.get("message", "") for issue in r["issues"])
        for r in report["records_with_errors"][:10]
    ]
    catalogue = report["catalogue"]
    if catalogue["mean_quality"] is not None:
        lines.append(
            f"  catalogue: {catalogue['live_records']} live records, "
            f"mean quality {catalogue['mean_quality']:.2f}"
        )
    return lines

"""Harvest reports for colleges: what a run did, what failed, what to improve.

One dictionary serves the API (``GET /api/v1/sources/{id}/report``) and the command line
(``coursefed harvest`` prints it as text), so both always say the same thing; the run
history (``GET /api/v1/sources/{id}/runs``) lists each run with the same ``run_fields``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.catalogue import service as catalogue
from app.sources import repository
from app.sources.models import HarvestRun

LISTED = 50  # failed records and records with errors shown in one report


def run_fields(run: HarvestRun) -> dict[str, Any]:
    """What a run asked and did: the part of its report the run history lists, too."""
    return {
        "kind": run.kind,
        "status": run.status,
        "full": run.full,
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
        "issue_counts": run.issue_counts,
        "catalogue_after": catalogue_after(run),
    }


def catalogue_after(run: HarvestRun) -> dict[str, Any] | None:
    """The source's catalogue when the run finished; None for a run not finished, or
    finished before runs kept it."""
    if run.live_records is None:
        return None
    published = run.published_records or 0
    return {
        "live_records": run.live_records,
        "published_records": published,
        "published_share": round(published / run.live_records, 4) if run.live_records else None,
        "mean_quality": run.mean_quality,
    }


def run_report(session: Session, run: HarvestRun) -> dict[str, Any]:
    source = repository.get_source(session, run.source_id)
    failed = repository.failed_records(session, run.id or 0, limit=LISTED)
    with_errors = catalogue.records_with_errors(session, run.source_id, limit=LISTED)
    summary = catalogue.source_summary(session, run.source_id)
    return {
        "run": run.id,
        "source": source.slug if source else None,
        **run_fields(run),
        "events": run.events,
        "failed_records": [
            {"identifier": f.identifier, "datestamp": f.datestamp, "reason": f.reason}
            for f in failed
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
            "live_records": summary.live_records,
            "mean_quality": (
                round(summary.mean_quality, 3) if summary.mean_quality is not None else None
            ),
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

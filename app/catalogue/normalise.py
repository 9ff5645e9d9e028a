"""One harvested record in, one profile record and its issues out.

The harvest job and ``coursefed normalize`` both go through ``normalise``, so a college
checking its records on the command line sees exactly what the harvester would store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from harvesters.oai.records import parse_page
from harvesters.xml import parse_xml
from metadata.profile import CourseResource, Issue
from metadata.readers import UnsupportedFormat, read_record
from metadata.validate import has_errors, missing_recommended, quality_score, validate

_OAI = "http://www.openarchives.org/OAI/2.0/"
_RECORD_VERBS = ("ListRecords", "GetRecord")


def normalise(
    element: etree._Element, metadata_prefix: str | None = None
) -> tuple[CourseResource, list[Issue]]:
    """Read a metadata element in any supported format, then validate the result."""
    content, issues = read_record(element, metadata_prefix)
    return content, [*issues, *validate(content)]


@dataclass
class Normalised:
    """The outcome for one record of a file, as ``coursefed normalize`` reports it."""

    identifier: str | None
    deleted: bool = False
    record: CourseResource | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return has_errors(self.issues)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"identifier": self.identifier}
        if self.deleted:
            body["deleted"] = True
            return body
        if self.record is not None:
            body["record"] = self.record.model_dump(mode="json", exclude_defaults=True)
            body["quality_score"] = quality_score(self.record)
            body["missing_recommended"] = missing_recommended(self.record)
        body["issues"] = [issue.model_dump(mode="json") for issue in self.issues]
        return body


def normalise_document(data: bytes, metadata_prefix: str | None = None) -> list[Normalised]:
    """Every record of an OAI-PMH response (ListRecords, GetRecord) or one bare record."""
    root = parse_xml(data)
    if etree.QName(root).localname != "OAI-PMH":
        return [_normalise_one(None, root, metadata_prefix)]
    verb = next(
        (etree.QName(el).localname for el in root if etree.QName(el).localname in _RECORD_VERBS),
        None,
    )
    if verb is None:
        raise ValueError(
            "this OAI-PMH response holds no records (expected ListRecords or GetRecord)"
        )
    if metadata_prefix is None:
        request = root.find(f"{{{_OAI}}}request")
        metadata_prefix = request.get("metadataPrefix") if request is not None else None
    results = []
    for raw in parse_page(data, verb=verb).records:
        metadata = None if raw.deleted or raw.error is not None else raw.metadata  # read once
        if raw.deleted:
            results.append(Normalised(identifier=raw.identifier, deleted=True))
        elif metadata is None:
            reason = raw.error or "the record has no metadata"
            issue = Issue(severity="error", code="unreadable_record", message=reason, path="record")
            results.append(Normalised(identifier=raw.identifier, issues=[issue]))
        else:
            results.append(_normalise_one(raw.identifier, metadata, metadata_prefix))
    return results


def _normalise_one(
    identifier: str | None, element: etree._Element, metadata_prefix: str | None
) -> Normalised:
    try:
        record, issues = normalise(element, metadata_prefix)
    except UnsupportedFormat as exc:
        issue = Issue(
            severity="error", code="unsupported_format", message=str(exc), path="metadata"
        )
        return Normalised(identifier=identifier, issues=[issue])
    return Normalised(identifier=identifier, record=record, issues=issues)

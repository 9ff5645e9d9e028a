"""Every table, imported in one place so Alembic and ``SQLModel.metadata`` see them all."""

from app.catalogue.models import (
    ClusterOverride,
    Cursor,
    DigitalObject,
    JournalEntry,
    Resource,
    ResourceIssue,
    ResourceMatchKey,
)
from app.identity import NodeIdentity
from app.institutions.models import Institution, InstitutionAlias
from app.keys.models import ApiKey, AuditEntry
from app.objects.models import Blob
from app.sources.models import ConformanceResult, FailedRecord, HarvestRun, Source

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Blob",
    "ClusterOverride",
    "ConformanceResult",
    "Cursor",
    "DigitalObject",
    "FailedRecord",
    "HarvestRun",
    "Institution",
    "InstitutionAlias",
    "JournalEntry",
    "NodeIdentity",
    "Resource",
    "ResourceIssue",
    "ResourceMatchKey",
    "Source",
]

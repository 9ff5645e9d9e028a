"""Every table, imported in one place so Alembic and ``SQLModel.metadata`` see them all."""

from app.catalogue.models import Cursor, DigitalObject, JournalEntry, Resource, ResourceIssue
from app.identity import NodeIdentity
from app.institutions.models import Institution, InstitutionAlias
from app.keys.models import ApiKey, AuditEntry
from app.objects.models import Blob
from app.sources.models import ConformanceResult, FailedRecord, HarvestRun, Source

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Blob",
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
    "Source",
]

"""API models of the audit log."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

MAX_PER_PAGE = 500


class AuditParams(BaseModel):
    """Query parameters of ``GET /api/v1/audit``; an unknown parameter is an error."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=50, ge=1, le=MAX_PER_PAGE)


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    credential: str = Field(description="the key id, admin-token, cli, none or invalid")
    action: str
    target: str
    client: str
    outcome: str = Field(description="ok, or the error answered")
    status: int


class AuditPage(BaseModel):
    """Entries newest first."""

    entries: list[AuditEntryPublic]
    page: int
    per_page: int
    total: int

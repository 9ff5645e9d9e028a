"""Tables: API keys (only a digest of each secret is kept) and the audit log of writes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.clock import utcnow


class ApiKey(SQLModel, table=True):
    """A credential ``cf_<id>_<secret>``: looked up by id, its secret checked by digest."""

    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=16)
    name: str = Field(default="", max_length=200)
    scopes: str = Field(
        max_length=2000, description="space-separated: admin, mirror, source:<slug>"
    )
    secret_sha256: str = Field(max_length=64, description="SHA-256 of the whole key, hex")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class AuditEntry(SQLModel, table=True):
    """One write, or one refused attempt at a write: who, what, on what, from where, outcome."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    credential: str = Field(
        max_length=32, description="the key id, admin-token, cli, none or invalid"
    )
    action: str = Field(max_length=64, description="e.g. sources.register, objects.upload")
    target: str = Field(max_length=300)
    client: str = Field(max_length=64, description="client address, or local for the CLI")
    outcome: str = Field(max_length=32, description="ok, or the error: forbidden, …")
    status: int = Field(description="the HTTP status answered (0 for the CLI)")

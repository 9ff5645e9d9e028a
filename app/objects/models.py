"""The ``blobs`` table: one row per distinct file content we hold in S3, keyed by sha256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class Blob(SQLModel, table=True):
    """Bytes stored once under ``sha256/ab/cd/<sha256>``, however many objects point at them."""

    __tablename__ = "blobs"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=BigInteger)
    media_type: str = Field(max_length=200)
    file_name: str | None = Field(
        default=None, max_length=300, description="the original name, as first seen"
    )
    stored_at: datetime = Field(default_factory=utcnow)
    last_verified_at: datetime | None = None
    verify_status: str | None = Field(default=None, max_length=16)  # ok | corrupt | missing
    uploaded_by_source_id: int | None = Field(default=None, foreign_key="sources.id", index=True)

"""API models of the objects endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field


class StoredObject(BaseModel):
    """A file we hold, as the upload endpoint reports it."""

    sha256: str = Field(description="hex sha256 of the bytes: the object's identity")
    size: int
    media_type: str = Field(description="sniffed from the bytes, not taken from the client")
    file_name: str | None = Field(description="the original name, as first seen")
    url: str = Field(description="where learners download it: /api/v1/objects/{sha256}")

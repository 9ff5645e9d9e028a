"""Tables of the catalogue: resources, their digital objects, and the change journal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import utcnow

SerialType = BigInteger().with_variant(Integer(), "sqlite")


class Resource(SQLModel, table=True):
    """A normalised record with its provenance and the raw XML exactly as harvested."""

    __tablename__ = "resources"
    __table_args__ = (
        UniqueConstraint("source_id", "oai_identifier"),
        # Our OAI-PMH provider pages by (updated_at, id).
        Index("ix_resources_updated_at_id", "updated_at", "id"),
        # Sitemaps read live resources by id ranges, with their last change: covered here,
        # so a range is read from the index alone, in order, wherever it lies.
        Index("ix_resources_live_id", "deleted", "publishable", "id", "updated_at"),
        # A source's counts, mean quality and quality histogram are read from this index
        # alone (source health, each run's snapshot), never from the wide rows.
        Index("ix_resources_source_quality", "source_id", "deleted", "publishable", "quality"),
        # The catalogue files (app.publication) read live resources by when they were
        # first stored, a month at a time, and count them per month.
        Index("ix_resources_live_created_at", "deleted", "publishable", "created_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=100)
    source_id: int | None = Field(default=None, foreign_key="sources.id", index=True)
    oai_identifier: str = Field(max_length=1000)
    datestamp: str = Field(max_length=32)
    metadata_prefix: str = Field(max_length=64)
    deleted: bool = Field(default=False, index=True)
    publishable: bool = Field(default=True, description="no validation errors")
    quality: float = Field(default=0.0, description="share of recommended fields present")
    record: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    issues: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    raw_xml: bytes | None = Field(default=None, description="the harvested record, verbatim")
    raw_sha256: str = Field(max_length=64)
    content_hash: str = Field(max_length=64, description="sha256 of the normalised record")
    # The school in the institution authority (app.institutions) the record's names
    # resolved to when it was stored; no foreign key, so merges move rows in any order.
    institution_id: str | None = Field(default=None, index=True, max_length=64)
    # The canonical member of the course's cluster (``app.catalogue.clusters``): several
    # records of one course are one search hit.  None when the record stands alone.
    cluster_id: str | None = Field(default=None, index=True, max_length=100)
    # When the record was first stored ("first harvested"): an upsert never changes it,
    # not even when a deleted record comes back.
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ResourceIssue(SQLModel, table=True):
    """One issue code a live resource's stored ``issues`` carry: the index of records by
    issue, so a source's issue counts and the records with one code are read by index.

    Written with every upsert and deletion of the resource, in the same transaction
    (``catalogue.service.Batch``): a live resource has one row per distinct code of its
    ``issues``, a tombstone none.  ``severity`` is ``error`` when any issue of that code
    in the record is an error.
    """

    __tablename__ = "resource_issues"
    __table_args__ = (
        # Counts by code and the pages of one code, in resource id order, index-only.
        Index("ix_resource_issues_source_code", "source_id", "code", "resource_id", "severity"),
    )

    resource_id: str = Field(foreign_key="resources.id", primary_key=True, max_length=100)
    code: str = Field(primary_key=True, max_length=100)
    source_id: int | None = Field(default=None, foreign_key="sources.id")
    severity: str = Field(max_length=16)


class ResourceMatchKey(SQLModel, table=True):
    """A match key of a live, publishable resource (``metadata.matching``): resources
    sharing one are records of one course.  Written with every upsert and deletion of
    the resource, in the same transaction; a tombstone has none."""

    __tablename__ = "resource_match_keys"

    key: str = Field(primary_key=True, max_length=64)
    resource_id: str = Field(
        foreign_key="resources.id", primary_key=True, index=True, max_length=100
    )


class ClusterOverride(SQLModel, table=True):
    """An administrator's decision on clusters, kept across re-harvests.

    ``split``: the resource joins no cluster by its match keys (``other_id`` None);
    ``merge``: the two resources are one course whatever their keys say.
    """

    __tablename__ = "cluster_overrides"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=8)  # split | merge
    resource_id: str = Field(index=True, max_length=100)
    other_id: str | None = Field(default=None, index=True, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class DigitalObject(SQLModel, table=True):
    """A file a resource points at (video, PDF, courseware) and its storage state.

    One row per resource × url.  The bytes, once fetched, live in S3 under their sha256
    (the ``blobs`` table); several rows may share one blob.
    """

    __tablename__ = "objects"
    __table_args__ = (
        UniqueConstraint("resource_id", "url", name="uq_objects_resource_id_url"),
        # The fetcher asks for pending rows whose next attempt is due.
        Index("ix_objects_status_next_attempt_at", "status", "next_attempt_at"),
        # The statistics count files by state and link health from this index alone.
        Index("ix_objects_status_link_status", "status", "link_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    resource_id: str = Field(foreign_key="resources.id", index=True, max_length=100)
    source_id: int | None = Field(default=None, foreign_key="sources.id", index=True)
    url: str = Field(max_length=2000)
    file_name: str | None = Field(default=None, max_length=300)
    declared_format: str | None = Field(default=None, max_length=200)
    declared_size: int | None = Field(default=None, sa_type=BigInteger)
    sha256: str | None = Field(default=None, index=True, max_length=64)
    size: int | None = Field(default=None, sa_type=BigInteger)
    media_type: str | None = Field(default=None, max_length=200)
    # pending | stored | failed | too_large | not_allowed | unsupported
    status: str = Field(default="pending", max_length=16)
    status_reason: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = None
    fetched_at: datetime | None = None
    last_verified_at: datetime | None = None
    link_status: str | None = Field(default=None, max_length=16)  # ok | broken
    link_checked_at: datetime | None = None


class JournalEntry(SQLModel, table=True):
    """One change to the catalogue. Serials strictly increase and are never reused."""

    __tablename__ = "journal"
    __table_args__ = ({"sqlite_autoincrement": True},)

    serial: int | None = Field(default=None, sa_column=Column(SerialType, primary_key=True))
    resource_id: str = Field(index=True, max_length=100)
    op: str = Field(max_length=8)  # upsert | delete
    content_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Cursor(SQLModel, table=True):
    """How far a journal follower (the search indexer, a mirror) has got."""

    __tablename__ = "cursors"

    name: str = Field(primary_key=True, max_length=64)
    serial: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=utcnow)

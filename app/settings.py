"""The one typed configuration object, read from the environment (prefix ``COURSEFED_``).

Defaults give a working single machine: SQLite under ``var/``, and Meilisearch and
SeaweedFS S3 on loopback, started and stopped by ``coursefed services``.  Setting
``COURSEFED_MEILI_URL`` or ``COURSEFED_S3_ENDPOINT`` points coursefed at an external
service instead; the service manager then starts nothing for it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_MEILI_KEY = "coursefed-development-master-key"
DEV_ADMIN_TOKEN = "coursefed-development-admin-token"  # noqa: S105 - development only
DEV_S3_ACCESS_KEY = "coursefed"
DEV_S3_SECRET_KEY = "coursefed-development-secret"  # noqa: S105 - development only


class Settings(BaseSettings):
    """Everything configurable, validated once at start-up."""

    model_config = SettingsConfigDict(env_prefix="COURSEFED_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite under data_dir"
    )
    admin_token: SecretStr = SecretStr(DEV_ADMIN_TOKEN)

    # HTTP server
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None

    # Meilisearch
    meili_url: str | None = Field(default=None, description="external Meilisearch; unset = managed")
    meili_key: SecretStr = SecretStr(DEV_MEILI_KEY)
    meili_port: int = 7700
    meili_binary: Path | None = None
    meili_index: str = "resources"
    meili_timeout: float = 30.0

    # S3
    s3_endpoint: str | None = Field(default=None, description="external S3; unset = managed")
    s3_bucket: str = "coursefed"
    s3_access_key: str = DEV_S3_ACCESS_KEY
    s3_secret_key: SecretStr = SecretStr(DEV_S3_SECRET_KEY)
    s3_region: str = "us-east-1"
    s3_public_endpoint: str | None = Field(
        default=None,
        description="S3 endpoint as learners' browsers reach it, for presigned URLs; unset ="
        " the S3 endpoint",
    )
    s3_port: int = 8333
    weed_binary: Path | None = None
    weed_master_port: int = 9333
    weed_volume_port: int = 8080
    weed_filer_port: int = 8888
    weed_admin_port: int = 23646

    # Digital objects: serving and uploads
    objects_serve: Literal["redirect", "proxy"] = Field(
        default="redirect",
        description="redirect: 307 to a short-lived presigned S3 URL; proxy: stream through"
        " the app (ranges, ETag)",
    )
    objects_presign_seconds: int = Field(
        default=300, ge=1, le=604800, description="lifetime of presigned object URLs"
    )
    objects_blob_cache_seconds: float = Field(
        default=30.0,
        ge=0,
        description="how long the app remembers a stored file's record for downloads, so a"
        " removed file may still be served this long (0 = ask the database every time)",
    )
    objects_max_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="largest object stored, unless the source sets its own max_object_bytes",
    )

    # Services managed by `coursefed services`
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "coursefed",
        description="where downloaded service binaries are kept, outside the checkout",
    )
    service_start_timeout: float = 60.0
    service_stop_timeout: float = 15.0

    # Harvesting
    harvest_overlap_seconds: int = Field(
        default=300, description="incremental harvests ask again from high-water minus this"
    )
    harvest_lease_seconds: int = 600
    harvest_timeout: float = 60.0
    harvest_max_retries: int = 5
    harvest_backoff_base: float = 1.0
    harvest_host_concurrency: int = Field(default=2, description="requests in flight per host")
    harvest_politeness_delay: float = Field(
        default=0.0, description="seconds between request starts to one host"
    )
    reconcile_interval_days: float = 7.0
    reconcile_max_share: float = Field(
        default=0.2, description="refuse to delete a larger share of a source without --force"
    )

    # Our OAI-PMH endpoint (/oai), as described by its Identify answer
    oai_repository_identifier: str = Field(
        default="coursefed",
        description="the namespace of our OAI identifiers (oai:<this>:<id>); a domain name "
        "such as courses.example.edu.cn also announces the oai-identifier scheme",
    )
    oai_repository_name: str = "coursefed 课程资源联邦 / coursefed course resource federation"
    oai_admin_email: str = Field(
        default="oai-admin@coursefed.invalid", description="contact harvesters are shown"
    )

    # Fetching digital objects (videos, PDFs, courseware) into S3
    objects_fetch: bool = Field(
        default=True, description="fetch the files records point at; off = metadata only"
    )
    objects_concurrency: int = Field(default=4, description="downloads in flight in all")
    objects_host_concurrency: int = Field(default=2, description="downloads in flight per host")
    objects_store_concurrency: int = Field(
        default=4, description="uploads to S3 in flight, apart from the downloads"
    )
    objects_timeout: float = Field(default=60.0, description="seconds without progress")
    objects_max_attempts: int = Field(
        default=6, description="transient failures before an object is marked failed"
    )
    objects_retry_base_seconds: float = Field(
        default=60.0, description="first retry delay; doubles with each failure"
    )
    objects_store_retry_seconds: float = Field(
        default=30.0, description="wait before trying again while S3 is unreachable"
    )
    objects_source_max_bytes: int | None = Field(
        default=None, description="bytes stored per source before its objects are refused"
    )
    objects_check_sample: int = Field(
        default=50, description="source links re-checked per scheduler round"
    )
    objects_check_days: float = Field(
        default=30.0, description="a source link is re-checked after this many days"
    )

    # Background harvesting and indexing inside `coursefed serve`
    scheduler: bool = True
    scheduler_interval: float = 30.0

    # S3 availability as downloads see it
    objects_s3_fresh_seconds: float = Field(
        default=10.0,
        ge=0,
        description="how long the last S3 outcome (a check, a read, an upload) is trusted;"
        " redirect-mode downloads answer 503 while S3 is known to be down and probe it"
        " again once this has passed",
    )

    # Third-party OAI-PMH captures read in place by the tests
    samples_dir: Path = Path("../shared/oai-samples")

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Settings:
        if self.env == "production":
            for name, value, default in (
                ("admin_token", self.admin_token, DEV_ADMIN_TOKEN),
                ("meili_key", self.meili_key, DEV_MEILI_KEY),
                ("s3_secret_key", self.s3_secret_key, DEV_S3_SECRET_KEY),
            ):
                if value.get_secret_value() == default:
                    raise ValueError(f"COURSEFED_{name.upper()} must be set in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'coursefed.db').resolve()}"

    @property
    def meili_managed(self) -> bool:
        return self.meili_url is None

    @property
    def s3_managed(self) -> bool:
        return self.s3_endpoint is None

    @property
    def resolved_meili_url(self) -> str:
        return self.meili_url or f"http://127.0.0.1:{self.meili_port}"

    @property
    def resolved_s3_endpoint(self) -> str:
        return self.s3_endpoint or f"http://127.0.0.1:{self.s3_port}"

    @property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()

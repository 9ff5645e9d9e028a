"""The one typed configuration object, read from the environment (prefix ``COURSEFED_``).

Defaults give a working single machine: SQLite under ``var/``, and Meilisearch and
SeaweedFS S3 on loopback, started and stopped by ``coursefed services``.  Setting
``COURSEFED_MEILI_URL`` or ``COURSEFED_S3_ENDPOINT`` points coursefed at an external
service instead; the service manager then starts nothing for it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from harvesters.net.policy import AddressPolicy, parse_networks
from metadata.abbreviations import BUILT_IN, Vocabulary, VocabularyError, parse

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
    sitemap_page_size: int = Field(
        default=45_000,
        ge=1,
        le=50_000,
        description="course URLs per child sitemap when the index is read (the protocol"
        " allows 50,000; the rest is room for courses added before a crawler reads it)",
    )

    # Meilisearch
    meili_url: str | None = Field(default=None, description="external Meilisearch; unset = managed")
    meili_key: SecretStr = SecretStr(DEV_MEILI_KEY)
    meili_port: int = 7700
    meili_binary: Path | None = None
    meili_index: str = "resources"
    meili_timeout: float = 30.0
    search_synonyms_file: Path | None = Field(
        default=None,
        description="a file of synonyms added to the built-in abbreviations and subject"
        " names, one rule a line in Solr's format: '高数, 高数学 => 高等数学' (one way) or"
        " '计算机, computer' (each finds the others); read when the index settings are sent",
    )

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
    objects_serve: Literal["redirect", "proxy", "accel"] = Field(
        default="redirect",
        description="redirect: 307 to a short-lived presigned S3 URL; proxy: stream through"
        " the app (ranges, ETag); accel: nginx streams from S3 (X-Accel-Redirect)",
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
    # Outbound requests and harvest bounds: every request to another server obeys one
    # address policy (harvesters.net.policy); a harvest run is bounded in time and pages.
    outbound_allow_networks: str = Field(
        default="",
        description="comma-separated networks treated as public by the address policy, e.g."
        " 10.20.0.0/16 for repositories on a campus network (cloud metadata stays refused)",
    )
    harvest_deadline: float = Field(
        default=300.0, gt=0, description="seconds one OAI-PMH answer may take in all"
    )
    harvest_max_seconds: float = Field(
        default=4 * 3600.0, gt=0, description="wall-clock limit of one harvest run"
    )
    harvest_max_pages: int = Field(default=10_000, ge=1, description="pages per harvest run")
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
    objects_download_deadline: float = Field(
        default=3600.0, gt=0, description="seconds one download may take in all (a trickle)"
    )
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
    objects_lease_seconds: float = Field(
        default=900.0,
        gt=0,
        description="how long a fetcher holds the files it claimed; renewed while it works,"
        " so a dead worker's files are due again once this has passed",
    )
    objects_check_days: float = Field(
        default=30.0, description="a source link is re-checked after this many days"
    )

    # Background harvesting and indexing inside `coursefed serve`
    scheduler: bool = True
    scheduler_interval: float = 30.0

    # Isolation of background work (`serve`, `worker`) and when /readyz says degraded
    harvest_concurrency: int = Field(
        default=4, ge=1, description="harvests of different sources running at once"
    )
    index_interval: float = Field(
        default=2.0, gt=0, description="seconds between index catch-ups, apart from harvests"
    )
    scheduler_stop_seconds: float = Field(
        default=5.0,
        ge=0,
        description="how long shutdown waits for background work; what is still blocked"
        " is left to end with the process",
    )
    ready_max_index_lag: int = Field(
        default=1000, ge=0, description="journal entries not yet indexed before degraded"
    )
    ready_max_run_seconds: float = Field(
        default=7200.0, gt=0, description="seconds a harvest may run before degraded"
    )

    # S3 availability as downloads see it
    objects_s3_fresh_seconds: float = Field(
        default=10.0,
        ge=0,
        description="how long the last S3 outcome (a check, a read, an upload) is trusted;"
        " redirect-mode downloads answer 503 while S3 is known to be down and probe it"
        " again once this has passed",
    )

    # S3 credentials, checksums, and files served by nginx
    s3_session_token: SecretStr | None = Field(
        default=None,
        description="session token of temporary (STS) credentials, sent with the access key"
        " and secret; with no access key at all boto3 finds credentials itself (environment,"
        " instance or container role)",
    )
    s3_checksums: bool = Field(
        default=True,
        description="send each file's SHA-256 for S3 to check the bytes against (per part for"
        " multipart uploads); off for S3-compatible stores that refuse x-amz-checksum headers",
    )
    objects_accel_location: str = Field(
        default="/_s3/",
        pattern=r"^/[A-Za-z0-9._~/-]*/$",
        description="objects_serve=accel: nginx's internal location that proxies to S3; the"
        " app answers X-Accel-Redirect: <location><bucket>/<key>?<presigned query>",
    )

    # Third-party OAI-PMH captures read in place by the tests
    samples_dir: Path = Path("../shared/oai-samples")

    # Keys, scopes and rate limits (app/auth.py, app/keys/, app/ratelimit.py)
    redis_url: str | None = Field(
        default=None,
        description="Redis holding the rate-limit counters, so several app processes share"
        " one budget (redis://host:6379/0); unset = counted in each process's memory",
    )
    redis_prefix: str = Field(
        default="coursefed", max_length=100, description="prefix of every key written in Redis"
    )
    rate_limit: bool = Field(default=True, description="off = no request is ever answered 429")
    trusted_proxies: str = Field(
        default="",
        description="comma-separated CIDRs of reverse proxies whose X-Forwarded-For is"
        " believed; unset = the socket peer is the client",
    )
    rate_limit_search: str = Field(default="600/minute", description="/api/v1/search and /")
    rate_limit_oai: str = Field(default="600/minute", description="/oai")
    rate_limit_changes: str = Field(default="600/minute", description="/api/v1/changes")
    rate_limit_snapshot: str = Field(default="20/minute", description="/api/v1/snapshot")
    rate_limit_objects: str = Field(default="1200/minute", description="/api/v1/objects/…")
    rate_limit_sitemap: str = Field(
        default="60/minute", description="/sitemap.xml and the child sitemaps"
    )
    rate_limit_auth_failures: str = Field(
        default="20/minute", description="wrong or missing credentials on protected calls"
    )
    mirror_key: SecretStr | None = Field(
        default=None,
        description="an upstream's mirror-scoped API key that `coursefed mirror` sends (its"
        " larger rate budget)",
    )
    rate_limit_mirror_factor: int = Field(
        default=10,
        ge=1,
        description="mirror- and admin-scoped keys get this many times the budget on the"
        " feed, snapshot, objects and OAI",
    )

    # Operators: /metrics and the logs (app/observability/)
    metrics_allow: str = Field(
        default="127.0.0.0/8,::1",
        description="comma-separated client networks /metrics answers (empty: none; the"
        " client is found as for rate limits, through COURSEFED_TRUSTED_PROXIES)",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="a bearer token that opens /metrics from any address (for a Prometheus"
        " outside the allowed networks)",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: a line for people; json: one JSON object a line, for a log"
        " collector (`--log-format` wins)",
    )

    @field_validator(
        "rate_limit_search",
        "rate_limit_oai",
        "rate_limit_changes",
        "rate_limit_snapshot",
        "rate_limit_objects",
        "rate_limit_sitemap",
        "rate_limit_auth_failures",
    )
    @classmethod
    def _rate_limit_notation(cls, value: str) -> str:
        from limits import parse_many  # noqa: PLC0415 - only when settings are built

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"{value!r}: use the form 600/minute or 10/second;600/hour") from exc
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"{item!r} is not an address or CIDR network") from exc
        return value

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> Settings:
        if self.env == "production":
            for name, value, default in (
                ("admin_token", self.admin_token, DEV_ADMIN_TOKEN),
                ("meili_key", self.meili_key, DEV_MEILI_KEY),
                ("s3_secret_key", self.s3_secret_key, DEV_S3_SECRET_KEY),
            ):
                if name == "s3_secret_key" and not self.s3_access_key:
                    continue  # boto3's own credentials: the secret is not used
                if value.get_secret_value() == default:
                    raise ValueError(f"COURSEFED_{name.upper()} must be set in production")
        return self

    @model_validator(mode="after")
    def _check_allowed_networks(self) -> Settings:
        self.address_policy()  # a bad network is a start-up error, not a surprise later
        return self

    @model_validator(mode="after")
    def _check_synonyms_file(self) -> Settings:
        self.search_vocabulary()  # a bad file is a start-up error naming its line
        return self

    def search_vocabulary(self) -> Vocabulary:
        """The built-in search vocabulary with the admin's synonyms file added.

        Raises ``VocabularyError`` for a file that cannot be read or holds a bad rule.
        """
        if self.search_synonyms_file is None:
            return BUILT_IN
        return BUILT_IN + _read_vocabulary(self.search_synonyms_file)

    def address_policy(self) -> AddressPolicy:
        """The outbound address policy of this deployment (sources may lift it further)."""
        networks = parse_networks(self.outbound_allow_networks.split(","))
        return AddressPolicy(allow_networks=networks)

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


def _read_vocabulary(path: Path) -> Vocabulary:
    try:
        stat = path.stat()
    except OSError as exc:
        raise VocabularyError(f"synonyms file {path}: {exc.strerror or exc}") from exc
    return _parsed_vocabulary(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _parsed_vocabulary(path: Path, _mtime_ns: int, _size: int) -> Vocabulary:
    """Read once per version of the file (searches ask for it on every query)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise VocabularyError(f"synonyms file {path}: not UTF-8 text ({exc.reason})") from exc
    except OSError as exc:
        raise VocabularyError(f"synonyms file {path}: {exc.strerror or exc}") from exc
    return parse(text, origin=f"synonyms file {path}")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()

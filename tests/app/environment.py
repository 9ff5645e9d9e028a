"""The environment an operator would set for a node's settings: what tests give a
``coursefed`` command run in a process of its own."""

from __future__ import annotations

from app.settings import Settings


def env_of(settings: Settings, **overrides: str) -> dict[str, str]:
    """``COURSEFED_*`` variables naming the node's database, Meilisearch and S3 (and Redis,
    when set); ``overrides`` are more settings by name (``HOST="127.0.0.1"``)."""
    values = {
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.resolved_database_url,
        "MEILI_URL": settings.resolved_meili_url,
        "MEILI_KEY": settings.meili_key.get_secret_value(),
        "MEILI_INDEX": settings.meili_index,
        "S3_ENDPOINT": settings.resolved_s3_endpoint,
        "S3_BUCKET": settings.s3_bucket,
        "S3_ACCESS_KEY": settings.s3_access_key,
        "S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
        **({"REDIS_URL": settings.redis_url} if settings.redis_url else {}),
        **overrides,
    }
    return {f"COURSEFED_{name}": value for name, value in values.items()}

"""The S3 object store behind a small interface; boto3 errors are translated here."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.settings import Settings


class ObjectStoreError(Exception):
    """The object store failed or could not be reached."""


class ObjectStore:
    def __init__(self, settings: Settings, *, connect_timeout: float = 3.0) -> None:
        self.bucket = settings.s3_bucket
        self.endpoint = settings.resolved_s3_endpoint
        self.region = settings.s3_region
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key.get_secret_value(),
            region_name=settings.s3_region,
            config=Config(
                connect_timeout=connect_timeout,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )

    def check(self) -> None:
        """Raise ``ObjectStoreError`` unless the bucket is reachable."""
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(f"S3 bucket {self.bucket!r} at {self.endpoint}: {exc}") from exc

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists (safe when two callers race to create it)."""
        try:
            try:
                self._client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchBucket"}:
                    raise
            extra = (
                {}
                if self.region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
            )
            try:
                self._client.create_bucket(Bucket=self.bucket, **extra)
            except ClientError as exc:
                # Another caller may have created it between our check and our create.
                if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise
        except (BotoCoreError, ClientError) as exc:
            raise ObjectStoreError(
                f"bucket {self.bucket!r} at {self.endpoint} could not be checked or created: {exc}"
            ) from exc

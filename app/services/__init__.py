"""Run the local Meilisearch and SeaweedFS S3 that coursefed uses: `coursefed services`.

``services_up`` / ``services_down`` / ``services_status`` are the whole public surface; errors
are the ``ServiceError`` family from ``app.services.errors``.
"""

from app.services.base import ManagedService, ServiceState, ServiceStatus
from app.services.binaries import find_meilisearch, find_weed
from app.services.errors import (
    BinaryNotFound,
    PortInUse,
    ServiceError,
    ServiceStartError,
    ServiceStopError,
)
from app.services.manager import managed_services, services_down, services_status, services_up
from app.services.seaweed import ensure_bucket

__all__ = [
    "BinaryNotFound",
    "ManagedService",
    "PortInUse",
    "ServiceError",
    "ServiceStartError",
    "ServiceState",
    "ServiceStatus",
    "ServiceStopError",
    "ensure_bucket",
    "find_meilisearch",
    "find_weed",
    "managed_services",
    "services_down",
    "services_status",
    "services_up",
]

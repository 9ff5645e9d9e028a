"""Outbound HTTP: the one address policy every request of ours obeys, and its transports."""

from harvesters.net.policy import (
    AddressPolicy,
    AddressRefused,
    ResolutionFailed,
    Target,
    system_resolver,
)
from harvesters.net.transport import (
    POLICY,
    PolicyTransport,
    SyncPolicyTransport,
    async_client,
    sync_client,
)

__all__ = [
    "POLICY",
    "AddressPolicy",
    "AddressRefused",
    "PolicyTransport",
    "ResolutionFailed",
    "SyncPolicyTransport",
    "Target",
    "async_client",
    "sync_client",
    "system_resolver",
]

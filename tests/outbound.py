"""The outbound address policy as the tests use it: their servers listen on loopback."""

from harvesters.net import AddressPolicy

PRIVATE = AddressPolicy(allow_private=True)
"""Loopback and private addresses allowed, as for a source registered with
``--allow-private-network`` (cloud metadata addresses stay refused)."""

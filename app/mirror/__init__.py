"""Mirroring: the change feed that follows the journal, and consistent catalogue snapshots."""

"""Backups of a node (database, the files it references, settings) and their restore."""

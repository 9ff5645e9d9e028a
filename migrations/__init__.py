"""Alembic migrations; run with ``coursefed db upgrade``."""

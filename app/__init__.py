"""STORE · INDEX · SERVE · MIRROR: the coursefed service (database, search, objects, HTTP)."""

"""Credentials: API keys with scopes, and the audit log of writes."""

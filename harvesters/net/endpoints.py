"""When two base URLs name the same endpoint: one comparable form for every caller."""

from __future__ import annotations

from urllib.parse import urlsplit

from harvesters.net.policy import DEFAULT_PORTS


def endpoint_key(base_url: str) -> str:
    """A base URL as compared: scheme and host in lower case, no default port, no trailing
    slash, no trailing dot on the host (``HTTP://Repo.EDU:80/oai/`` is
    ``http://repo.edu/oai``); the query is kept."""
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in {None, DEFAULT_PORTS.get(scheme)} else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}{query}"


def same_endpoint(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` name the same endpoint (see ``endpoint_key``)."""
    return endpoint_key(a) == endpoint_key(b)

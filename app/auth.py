"""Who may call what, and how often: credentials, scopes, audited writes, rate-limited reads.

A credential arrives as ``Authorization: Bearer <token>``: an API key ``cf_<id>_<secret>``
(``coursefed keys create``) or the bootstrap admin token ``COURSEFED_ADMIN_TOKEN``, which
acts as a key with the ``admin`` scope.  A protected call without a good credential is
401 with ``WWW-Authenticate: Bearer`` (``error="invalid_token"`` when one was presented);
a good key whose scopes do not cover the target is 403.  Failed authentications draw on a
small budget per client address, then 429.  Public reads take an optional key: a mirror's
key gives it a larger budget; a bad one is 401 like anywhere else.

Writes are audited (``app.keys.audit``): who, what, on what, from where, and the outcome.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from app.db import session_scope
from app.deps import StateDep
from app.errors import AppError, Unauthorized
from app.keys import audit
from app.keys.service import ADMIN_TOKEN, InvalidKey, Principal, check_key, looks_like_key
from app.ratelimit import Kind, Limiter, TooManyRequests, limiter_of
from app.sources.service import find_source, get_by_slug

log = logging.getLogger(__name__)

REALM = 'Bearer realm="coursefed"'


class Forbidden(AppError):
    status_code = 403
    error = "forbidden"


def _challenge(error: str | None = None, description: str = "") -> dict[str, str]:
    if error is None:
        return {"WWW-Authenticate": REALM}
    return {"WWW-Authenticate": f'{REALM}, error="{error}", error_description="{description}"'}


def _check_key(engine: Engine, key: str) -> Principal:
    with session_scope(engine) as session:
        return check_key(session, key)


async def authenticate(request: Request, state: StateDep, limiter: Limiter) -> Principal | None:
    """The caller's principal; None without an Authorization header; 401 for a bad one."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    client = limiter.client(request)
    await limiter.check_failures(client)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        reason = "use Authorization: Bearer <key>"
    elif secrets.compare_digest(
        token.encode(), state.settings.admin_token.get_secret_value().encode()
    ):
        return ADMIN_TOKEN
    elif looks_like_key(token):
        try:
            return await run_in_threadpool(_check_key, state.engine, token)
        except InvalidKey as exc:
            reason = str(exc)
    else:
        reason = "unknown token"
    await limiter.failed(client)
    raise Unauthorized(
        f"invalid credentials: {reason}", headers=_challenge("invalid_token", reason)
    )


async def _required(request: Request, state: StateDep, limiter: Limiter) -> Principal:
    principal = await authenticate(request, state, limiter)
    if principal is None:
        # Counted too: a caller probing write endpoints without credentials gets 429 soon.
        await limiter.failed(limiter.client(request))
        raise Unauthorized(
            "this call needs a key or the admin token: Authorization: Bearer <key>",
            headers=_challenge(),
        )
    return principal


def _forbidden(message: str) -> Forbidden:
    return Forbidden(message, headers=_challenge("insufficient_scope", "scope does not cover"))


# -- admin-only reads -------------------------------------------------------------------------


async def require_admin(request: Request, state: StateDep) -> Principal:
    """An admin key or the admin token (401 without one, 403 for another key)."""
    principal = await _required(request, state, limiter_of(request))
    if not principal.is_admin:
        raise _forbidden("this call needs an admin key or the admin token")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


# -- audited writes ---------------------------------------------------------------------------


@asynccontextmanager
async def _audited(
    request: Request, state: StateDep, action: str, target: str
) -> AsyncIterator[tuple[audit.Pending, Principal]]:
    """Authenticate a write and log it (see ``app.keys.audit``) whatever becomes of it."""
    limiter = limiter_of(request)
    route = request.scope.get("route")
    entry = audit.Pending(
        credential="none" if request.headers.get("authorization") is None else "invalid",
        action=action,
        target=target,
        client=limiter.client(request),
        status=getattr(route, "status_code", None) or 200,
    )
    outcome, status, worth_a_row = audit.OK, entry.status, True
    try:
        principal = await _required(request, state, limiter)
        entry.credential = principal.credential
        yield entry, principal
    except TooManyRequests:
        worth_a_row = False  # refused before any look at the request: no flood of rows
        raise
    except AppError as exc:
        outcome, status = exc.error, exc.status_code
        raise
    except RequestValidationError:
        outcome, status = "invalid_parameter", 422
        raise
    except HTTPException as exc:
        outcome, status = "http_error", exc.status_code
        raise
    except Exception:
        outcome, status = "internal_error", 500
        raise
    finally:
        if worth_a_row and not entry.recorded:
            try:
                await run_in_threadpool(audit.record_alone, state.engine, entry, outcome, status)
            except Exception:  # the answer stands: a failed log write must not replace it
                log.exception("could not write the audit entry %s", entry)


async def _json_fields(request: Request) -> dict[str, Any]:
    """The JSON body's fields, leniently: FastAPI itself rejects a malformed body (422)."""
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def register_access(request: Request, state: StateDep) -> AsyncIterator[Principal]:
    """``POST /api/v1/sources``: admins register any source; a ``source:<slug>`` key
    re-registers (updates) its own source, naming its slug, and cannot grant it
    ``allow_private_network`` (it may keep what an admin granted)."""
    fields = await _json_fields(request)
    slug = fields.get("slug") if isinstance(fields.get("slug"), str) else None
    target = f"source:{slug}" if slug else f"new source {str(fields.get('base_url'))[:200]}"
    async with _audited(request, state, "sources.register", target) as (entry, principal):
        if not principal.is_admin:
            if slug is None or not principal.manages(slug):
                raise _forbidden("this key may only update its own source, named by its slug")
            if fields.get("allow_private_network"):
                granted = await run_in_threadpool(_private_network_granted, state.engine, slug)
                if not granted:
                    raise _forbidden("allow_private_network is granted by an admin only")
        with audit.pending(entry):
            yield principal


def _private_network_granted(engine: Engine, slug: str) -> bool:
    with session_scope(engine) as session:
        source = get_by_slug(session, slug)
        return source is not None and source.allow_private_network


def _slug_of(engine: Engine, reference: str) -> str | None:
    """The slug of a source by id, slug or name."""
    with session_scope(engine) as session:
        source = find_source(session, reference)
        return source.slug if source is not None else None


async def upload_access(
    reference: str, request: Request, state: StateDep
) -> AsyncIterator[Principal]:
    """``POST /api/v1/sources/{reference}/objects``: admins, or the source's own key."""
    target = f"source:{reference[:200]}"
    async with _audited(request, state, "objects.upload", target) as (entry, principal):
        slug = await run_in_threadpool(_slug_of, state.engine, reference)
        entry.target = f"source:{slug}" if slug else target
        if not principal.is_admin and (slug is None or not principal.manages(slug)):
            raise _forbidden("this key may not upload files for this source")
        with audit.pending(entry):
            yield principal


async def cluster_access(
    resource_id: str, request: Request, state: StateDep
) -> AsyncIterator[Principal]:
    """``POST /api/v1/resources/{id}/split`` and ``/merge``: admins only."""
    action = f"clusters.{request.url.path.rsplit('/', 1)[-1]}"
    target = f"resource:{resource_id[:200]}"
    async with _audited(request, state, action, target) as (entry, principal):
        if not principal.is_admin:
            raise _forbidden("this call needs an admin key or the admin token")
        with audit.pending(entry):
            yield principal


# "function" scope: the audit entry is written before the response is sent, not after.
RegisterDep = Annotated[Principal, Depends(register_access, scope="function")]
UploadDep = Annotated[Principal, Depends(upload_access, scope="function")]
ClusterDep = Annotated[Principal, Depends(cluster_access, scope="function")]


# -- rate-limited reads -----------------------------------------------------------------------


def rate_limited(kind: Kind) -> Any:
    """A route dependency: one request from the caller's budget of ``kind`` (by key when a
    good key is presented, else by client address)."""

    async def limit(request: Request, state: StateDep) -> None:
        limiter = limiter_of(request)
        principal = await authenticate(request, state, limiter)
        if principal is None:
            await limiter.hit(kind, f"address:{limiter.client(request)}")
        else:
            await limiter.hit(kind, f"key:{principal.credential}", boosted=principal.boosted)

    return Depends(limit)

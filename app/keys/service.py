"""API keys: make one (its secret shown once), check one, revoke one; scopes and expiry.

A key reads ``cf_<id>_<secret>``: the prefix makes a leaked key easy to recognise (and to
scan for), the id finds its row, the secret is 256 random bits.  Only the SHA-256 of the
whole key is stored and compared in constant time.  A slow password hash would add nothing
here: nobody can guess 256 random bits however fast the hash, and it would cost every
request milliseconds of CPU (a denial-of-service lever of its own).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from app.errors import InvalidParameter, NotFound
from app.keys import repository
from app.keys.models import ApiKey
from app.sources.service import get_by_slug

PREFIX = "cf"
_KEY = re.compile(r"^cf_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$", re.IGNORECASE)
_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
USE_RECORDED_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per key, not on every request."""

MAX_NAME = 200

ADMIN = "admin"
MIRROR = "mirror"
SOURCE = "source:"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key (by id) or the bootstrap admin token, and what it may do."""

    credential: str  # the key id, or "admin-token"
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    @property
    def boosted(self) -> bool:
        """Mirrors (and admins) read the feed, snapshot, objects and OAI in bulk."""
        return MIRROR in self.scopes or ADMIN in self.scopes

    def manages(self, slug: str) -> bool:
        return self.is_admin or f"{SOURCE}{slug}" in self.scopes


ADMIN_TOKEN = Principal("admin-token", frozenset({ADMIN}))


class InvalidKey(Exception):
    """A presented key that is not (or no longer) good; the message says which."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(text: str) -> bool:
    return text.startswith(f"{PREFIX}_")


def check_key(session: Session, key: str, now: datetime | None = None) -> Principal:
    """The principal of a presented key, its use recorded; ``InvalidKey`` otherwise."""
    now = now or datetime.now(UTC)
    match = _KEY.match(key)
    if match is None:
        raise InvalidKey("not a coursefed key")
    row = repository.get_key(session, match.group(1))
    # The digest is compared even for an unknown id, so both cost the same.
    stored = row.secret_sha256 if row is not None else "0" * 64
    if not hmac.compare_digest(digest(key), stored) or row is None:
        raise InvalidKey("unknown key")
    if row.revoked_at is not None:
        raise InvalidKey("the key has been revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise InvalidKey("the key has expired")
    repository.mark_used(session, row.id, now, now - USE_RECORDED_EVERY)
    return Principal(row.id, frozenset(row.scope_list))


def parse_scopes(session: Session, scopes: list[str]) -> list[str]:
    """Checked scopes, each ``admin``, ``mirror`` or ``source:<slug>`` of a known source."""
    if not scopes:
        raise InvalidParameter("give at least one scope: admin, mirror or source:<slug>")
    checked: list[str] = []
    for scope in scopes:
        if scope in {ADMIN, MIRROR}:
            pass
        elif scope.startswith(SOURCE):
            slug = scope.removeprefix(SOURCE)
            if get_by_slug(session, slug) is None:
                raise InvalidParameter(f"scope {scope!r}: there is no source {slug!r}")
        else:
            raise InvalidParameter(f"scope {scope!r}: use admin, mirror or source:<slug>")
        if scope not in checked:
            checked.append(scope)
    return checked


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """When a key expires: ``12h``, ``30d``, ``8w`` from now, or a date or ISO time (UTC
    unless it names its offset)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text)
    if match is not None:
        moment = now + timedelta(hours=float(match.group(1)) * _HOURS[match.group(2).lower()])
    else:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError as exc:
            raise InvalidParameter(
                f"expiry {text!r}: use a duration (12h, 30d, 8w) or a date (2027-06-30)"
            ) from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment <= now:
        raise InvalidParameter(f"expiry {text!r} is not in the future")
    return moment


def create_key(
    session: Session, scopes: list[str], *, name: str = "", expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key row and the key itself, which is never stored and cannot be shown again."""
    if len(name) > MAX_NAME:
        raise InvalidParameter(f"a key's name has at most {MAX_NAME} characters")
    key_id = secrets.token_hex(6)
    while repository.get_key(session, key_id) is not None:  # 48 bits: a clash is unlikely
        key_id = secrets.token_hex(6)
    key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=key_id,
        name=name,
        scopes=" ".join(parse_scopes(session, scopes)),
        secret_sha256=digest(key),
        expires_at=expires_at,
    )
    return repository.add_key(session, row), key


def list_keys(session: Session) -> list[ApiKey]:
    return repository.list_keys(session)


def key_id_of(text: str) -> str:
    """A key's id from its id or from the whole key (as found where it leaked)."""
    match = _KEY.match(text.strip())
    return match.group(1) if match else text.strip()


def revoke_key(session: Session, key_id: str, now: datetime | None = None) -> ApiKey:
    """Revoke a key from now on (revoking twice keeps the first time)."""
    row = repository.get_key(session, key_id)
    if row is None:
        raise NotFound(f"no key {key_id!r}; `coursefed keys list` shows them")
    if row.revoked_at is None:
        row.revoked_at = now or datetime.now(UTC)
        session.add(row)
        session.flush()
    return row

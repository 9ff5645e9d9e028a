"""API keys and the audit log below HTTP: digests only, expiry, revocation, the CLI."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import InvalidParameter, NotFound
from app.keys import audit
from app.keys import service as keys
from app.keys.models import AuditEntry
from app.settings import Settings
from app.sources.models import Source
from app.sources.service import add_source
from tests.conftest import CommandLine

pytestmark = pytest.mark.postgres


def new_key(engine: Engine, *scopes: str, expires_at: datetime | None = None) -> str:
    with session_scope(engine) as session:
        _row, key = keys.create_key(session, list(scopes), name="test", expires_at=expires_at)
    return key


def check(engine: Engine, key: str, now: datetime | None = None) -> keys.Principal:
    with session_scope(engine) as session:
        return keys.check_key(session, key, now)


def college(engine: Engine, slug: str = "college") -> None:
    with session_scope(engine) as session:
        add_source(session, base_url="http://example.org/oai", slug=slug)


# --- keys --------------------------------------------------------------------------------------


def test_key_secret_is_never_stored_in_clear(engine: Engine) -> None:
    key = new_key(engine, "mirror")
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.text("SELECT * FROM api_keys"))]
    assert len(rows) == 1
    _prefix, key_id, secret = key.split("_", 2)
    stored = " ".join(str(value) for value in rows[0])
    assert secret not in stored and key not in stored
    assert hashlib.sha256(key.encode()).hexdigest() in stored  # the digest is all we keep
    assert key_id in stored
    assert len(secret) == 43  # 256 random bits, URL-safe base64


def test_a_key_is_recognised_by_its_prefix_and_grants_its_scopes(engine: Engine) -> None:
    college(engine)
    key = new_key(engine, "source:college", "mirror")
    assert key.startswith("cf_")
    principal = check(engine, key)
    assert principal.scopes == {"source:college", "mirror"}
    assert principal.manages("college") and not principal.manages("other")
    assert principal.boosted and not principal.is_admin


def test_a_guessed_secret_for_a_real_key_id_is_refused(engine: Engine) -> None:
    key = new_key(engine, "admin")
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    with pytest.raises(keys.InvalidKey, match="unknown key"):
        check(engine, forged)
    with pytest.raises(keys.InvalidKey, match="unknown key"):
        check(engine, "cf_000000000000_" + key.rsplit("_", 1)[-1][-43:].rjust(43, "A"))
    with pytest.raises(keys.InvalidKey, match="not a coursefed key"):
        check(engine, "cf_admin")


def test_revoked_key_is_refused_from_the_next_request_on(engine: Engine) -> None:
    key = new_key(engine, "admin")
    assert check(engine, key).is_admin
    with session_scope(engine) as session:
        keys.revoke_key(session, keys.key_id_of(key))  # the whole key works as well as its id
    with pytest.raises(keys.InvalidKey, match="revoked"):
        check(engine, key)


def test_expired_key_is_refused(engine: Engine) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    key = new_key(engine, "mirror", expires_at=soon)
    assert check(engine, key).boosted
    with pytest.raises(keys.InvalidKey, match="expired"):
        check(engine, key, now=soon + timedelta(seconds=1))


def test_last_use_is_recorded_without_a_write_per_request(engine: Engine) -> None:
    key = new_key(engine, "mirror")
    key_id = keys.key_id_of(key)
    start = datetime.now(UTC)
    check(engine, key, now=start)
    check(engine, key, now=start + timedelta(seconds=30))  # within the minute: not written
    with engine.connect() as connection:
        used = connection.execute(
            sa.text("SELECT last_used_at FROM api_keys WHERE id = :id"), {"id": key_id}
        ).scalar_one()
    assert str(used).startswith(start.strftime("%Y-%m-%d %H:%M:%S"))


def test_scopes_name_known_sources_only(engine: Engine) -> None:
    college(engine)
    with session_scope(engine) as session:
        with pytest.raises(InvalidParameter, match="no source 'other'"):
            keys.parse_scopes(session, ["source:other"])
        with pytest.raises(InvalidParameter, match="use admin, mirror or source"):
            keys.parse_scopes(session, ["root"])
        with pytest.raises(InvalidParameter, match="at least one scope"):
            keys.parse_scopes(session, [])
        assert keys.parse_scopes(session, ["mirror", "source:college", "mirror"]) == [
            "mirror",
            "source:college",
        ]
        with pytest.raises(InvalidParameter, match="at most 200 characters"):
            keys.create_key(session, ["mirror"], name="x" * 201)
        with pytest.raises(NotFound, match="no key"):
            keys.revoke_key(session, "0123456789ab")


def test_expiry_is_a_duration_or_a_moment_in_the_future() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert keys.parse_expiry("30d", now) == now + timedelta(days=30)
    assert keys.parse_expiry("12h", now) == now + timedelta(hours=12)
    assert keys.parse_expiry("2027-01-31", now) == datetime(2027, 1, 31, tzinfo=UTC)
    assert keys.parse_expiry("2026-06-02T08:00+08:00", now) == datetime(2026, 6, 2, tzinfo=UTC)
    for bad in ("yesterday", "2026-05-01", "0h", "-1d"):
        with pytest.raises(InvalidParameter):
            keys.parse_expiry(bad, now)


# --- the audit log's transaction -----------------------------------------------------------


def entries(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT credential, action, outcome FROM audit_log"))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def pending() -> audit.Pending:
    return audit.Pending("k1", "sources.register", "source:college", "192.0.2.1", status=201)


def test_audit_entry_commits_with_the_write_it_describes(engine: Engine) -> None:
    with audit.pending(pending()) as entry:
        with session_scope(engine) as session:  # a read: no entry
            session.get(Source, 1)
        assert entries(engine) == []
        with session_scope(engine) as session:
            add_source(session, base_url="http://example.org/oai", slug="college")
        assert entry.recorded
        with session_scope(engine) as session:  # a second write of the same request
            add_source(session, base_url="http://second.example.org/oai", slug="second")
    assert entries(engine) == [("k1", "sources.register", "ok")]


def test_audit_entry_rolls_back_with_a_failed_write(engine: Engine) -> None:
    with audit.pending(pending()) as entry:
        with pytest.raises(RuntimeError), session_scope(engine) as session:
            add_source(session, base_url="http://example.org/oai", slug="college")
            session.flush()
            raise RuntimeError("the write failed after its insert")
        assert not entry.recorded
        audit.record_alone(engine, entry, "internal_error", 500)
    assert entries(engine) == [("k1", "sources.register", "internal_error")]
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM sources")).scalar_one() == 0


def test_writes_after_the_request_are_not_attributed_to_it(engine: Engine) -> None:
    with audit.pending(pending()):
        pass
    with session_scope(engine) as session:
        session.add(
            AuditEntry(credential="x", action="a", target="t", client="c", outcome="ok", status=0)
        )
        add_source(session, base_url="http://example.org/oai", slug="college")
    assert entries(engine) == [("x", "a", "ok")]


# --- the command line ----------------------------------------------------------------------


def test_keys_cli_shows_the_secret_once_and_never_again(
    engine: Engine, coursefed: CommandLine
) -> None:
    college(engine)
    created = coursefed("keys", "create", "--scope", "source:college", "--name", "College IT")
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[-1]
    assert key.startswith("cf_") and len(key) == len("cf_") + 12 + 1 + 43
    assert check(engine, key).manages("college")
    key_id = keys.key_id_of(key)

    listed = coursefed("keys", "list")
    assert listed.returncode == 0
    assert key_id in listed.stdout and "College IT" in listed.stdout
    assert "source:college" in listed.stdout and "active" in listed.stdout
    secret = key[-43:]  # token_urlsafe may itself hold "_": cut by length, not by "_"
    assert secret not in listed.stdout

    revoked = coursefed("keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in coursefed("keys", "list").stdout
    with pytest.raises(keys.InvalidKey, match="revoked"):
        check(engine, key)

    log = coursefed("audit", "--limit", "5")
    assert log.returncode == 0
    lines = log.stdout.splitlines()
    assert "keys.create" in lines[0] and f"key:{key_id}" in lines[0] and "cli" in lines[0]
    assert "keys.revoke" in lines[1]
    assert lines[-1] == "2 of 2 entries"
    assert secret not in log.stdout


def test_keys_cli_refuses_unknown_sources_and_keys_with_a_message(
    settings: Settings, coursefed: CommandLine
) -> None:
    for args, message in (
        (("create", "--scope", "source:nowhere"), "there is no source 'nowhere'"),
        (("create", "--scope", "superuser"), "use admin, mirror or source:<slug>"),
        (("create", "--scope", "admin", "--expires", "2001-01-01"), "not in the future"),
        (("revoke", "0123456789ab"), "no key '0123456789ab'"),
    ):
        result = coursefed("keys", *args)
        assert result.returncode == 1, args
        assert message in result.stderr
        assert "Traceback" not in result.stderr
    missing = coursefed("keys", "create")
    assert missing.returncode == 2 and "--scope" in missing.stderr
    assert coursefed("keys", "list").stdout.count("\n") == 1  # the header alone

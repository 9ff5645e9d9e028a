"""Signed, expiring resumption tokens: the whole state of a paged list, held by the harvester.

A token is ``<payload>.<signature>``, both base64url without padding (so it needs no
URL-encoding): the payload is compact JSON of the list's query (verb, prefix, from,
until, set as the harvester sent them), the keyset position (the last item's
``updated_at`` with microseconds and its resource id), the cursor (items already sent)
and an expiry (Unix seconds); the signature is HMAC-SHA256 over the payload with a key
derived from the admin token.  Nothing is stored on the server, so any instance sharing
the admin token can continue any list, and re-issuing a token gives the same page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TOKEN_LIFETIME = timedelta(hours=1)
_KEY_CONTEXT = b"coursefed/oai/resumption-token/v1"
_VERSION = 1


class InvalidToken(Exception):
    """The token was not issued by us, was altered, or has expired."""


@dataclass(frozen=True)
class ListState:
    """Where a ListIdentifiers / ListRecords harvest stands."""

    verb: str
    prefix: str
    from_: str
    until: str
    set_spec: str
    after_time: datetime
    after_id: str
    cursor: int


def derive_key(secret: str) -> bytes:
    """A key for tokens only, so a token never reveals anything about the admin token."""
    return hmac.new(secret.encode("utf-8"), _KEY_CONTEXT, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenCodec:
    """Seal and open resumption tokens with one key."""

    def __init__(self, key: bytes, lifetime: timedelta = TOKEN_LIFETIME) -> None:
        self._key = key
        self.lifetime = lifetime

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def seal(self, state: ListState, now: datetime) -> tuple[str, datetime]:
        """(the token, its expiry) for ``state``."""
        expires = (now + self.lifetime).replace(microsecond=0)
        body = {
            "v": _VERSION,
            "verb": state.verb,
            "p": state.prefix,
            "f": state.from_,
            "u": state.until,
            "s": state.set_spec,
            "t": state.after_time.astimezone(UTC).isoformat(),
            "i": state.after_id,
            "c": state.cursor,
            "e": int(expires.timestamp()),
        }
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return f"{_b64(payload)}.{_b64(self._sign(payload))}", expires

    def open(self, token: str, now: datetime) -> ListState:
        """The state sealed in ``token``; ``InvalidToken`` when forged, altered or expired."""
        encoded, dot, signature = token.partition(".")
        if not dot:
            raise InvalidToken("not a token this repository issued")
        try:
            payload, mac = _unb64(encoded), _unb64(signature)
        except (binascii.Error, ValueError):
            raise InvalidToken("not a token this repository issued") from None
        if not hmac.compare_digest(mac, self._sign(payload)):
            raise InvalidToken("the token was altered or issued by another repository")
        try:
            body = json.loads(payload)
            if body["v"] != _VERSION:
                raise InvalidToken("a token of another version")
            state = ListState(
                verb=str(body["verb"]),
                prefix=str(body["p"]),
                from_=str(body["f"]),
                until=str(body["u"]),
                set_spec=str(body["s"]),
                after_time=datetime.fromisoformat(body["t"]).astimezone(UTC),
                after_id=str(body["i"]),
                cursor=int(body["c"]),
            )
            expires = int(body["e"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken("a malformed token") from exc
        if now.timestamp() > expires:
            raise InvalidToken("the token has expired; start the list again")
        return state

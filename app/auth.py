"""The admin token: what lets a caller change the catalogue's sources and objects."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header

from app.deps import StateDep
from app.errors import Unauthorized


def require_admin(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """``Authorization: Bearer <COURSEFED_ADMIN_TOKEN>``, compared in constant time."""
    scheme, _, token = (authorization or "").partition(" ")
    expected = state.settings.admin_token.get_secret_value()
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("this call needs the admin token: Authorization: Bearer <token>")


AdminDep = Annotated[None, Depends(require_admin)]

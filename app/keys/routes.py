"""``GET /api/v1/audit``: the audit log of writes, newest first (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.auth import AdminDep
from app.deps import SessionDep
from app.keys import audit
from app.keys.schemas import AuditEntryPublic, AuditPage, AuditParams

router = APIRouter(prefix="/api/v1", tags=["keys"])


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no credential, or a bad one"},
    403: {"description": "a key without the admin scope"},
}


@router.get("/audit", response_model=AuditPage, responses=_ERRORS)
def audit_log(
    session: SessionDep, params: Annotated[AuditParams, Query()], _admin: AdminDep
) -> AuditPage:
    """Every write through the API and the key commands: who, what, on what, from where,
    and the outcome (an admin key or the admin token)."""
    rows, total = audit.page(session, page=params.page, per_page=params.per_page)
    return AuditPage(
        entries=[AuditEntryPublic.model_validate(row, from_attributes=True) for row in rows],
        page=params.page,
        per_page=params.per_page,
        total=total,
    )

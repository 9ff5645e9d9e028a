"""``/oai``: our OAI-PMH 2.0 endpoint (GET or form-encoded POST).

Thin: arguments in, ``Provider`` out.  OAI-PMH errors are ordinary 200 responses (the
provider writes them).  Answers are gzip'd for harvesters that ask, by ``app.compression``
like every other response.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from app.auth import rate_limited
from app.deps import SessionDep, StateDep
from app.identity import NODE_HEADER, node_id
from app.oai.provider import Provider
from app.oai.repository import SqlRepository
from app.oai.tokens import TokenCodec, derive_key

router = APIRouter(tags=["oai-pmh"])

CONTENT_TYPE = "text/xml; charset=utf-8"
FORM_TYPE = "application/x-www-form-urlencoded"


async def _arguments(request: Request) -> dict[str, list[str]]:
    """Every argument with all its values (repeats matter: they are badArgument)."""
    items = list(request.query_params.multi_items())
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == FORM_TYPE:
            form = await request.form()
            items.extend((name, str(value)) for name, value in form.multi_items())
    arguments: dict[str, list[str]] = {}
    for name, value in items:
        arguments.setdefault(name, []).append(value)
    return arguments


def _base_url(request: Request, state: StateDep) -> str:
    if state.settings.public_url:
        return f"{state.settings.resolved_public_url}/oai"
    return str(request.url.replace(query=None))


@router.get(
    "/oai",
    response_class=Response,
    operation_id="oai_pmh_get",
    dependencies=[rate_limited("oai")],
)
@router.post(
    "/oai",
    response_class=Response,
    operation_id="oai_pmh_post",
    dependencies=[rate_limited("oai")],
)
async def oai_pmh(
    request: Request,
    state: StateDep,
    session: SessionDep,
    base_url: Annotated[str, Depends(_base_url)],
) -> Response:
    arguments = await _arguments(request)
    provider = Provider(
        SqlRepository(session),
        TokenCodec(derive_key(state.settings.admin_token.get_secret_value())),
        base_url,
        repository_identifier=state.settings.oai_repository_identifier,
        repository_name=state.settings.oai_repository_name,
        admin_email=state.settings.oai_admin_email,
    )
    body = await run_in_threadpool(provider.handle, arguments)
    # Our node id, so that a coursefed asked to harvest this endpoint recognises itself.
    headers = {NODE_HEADER: node_id(state.engine)}
    return Response(body, media_type=CONTENT_TYPE, headers=headers)

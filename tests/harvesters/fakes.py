"""A scripted OAI-PMH repository on ``httpx.MockTransport``, and small XML builders.

Protocol unit tests only: each test scripts the exact responses a real repository's
quirk produces, and inspects the requests the client sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from harvesters.oai.client import OAIClient

BASE_URL = "http://courses.example.edu/oai"
ABSENT = object()  # no <resumptionToken> element at all

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n'
    "<responseDate>{date}</responseDate>\n"
    '<request verb="{verb}">' + BASE_URL + "</request>\n"
)


def envelope(verb: str, inner: str, *, date: str = "2024-05-01T10:00:00Z") -> bytes:
    return (_HEAD.format(verb=verb, date=date) + f"<{verb}>{inner}</{verb}>\n</OAI-PMH>\n").encode()


def error_body(code: str, message: str = "", *, verb: str = "ListRecords") -> bytes:
    return (
        _HEAD.format(verb=verb, date="2024-05-01T10:00:00Z")
        + f'<error code="{code}">{message}</error>\n</OAI-PMH>\n'
    ).encode()


def dc_record(identifier: str, title: str = "A course", *, deleted: bool = False) -> str:
    status = ' status="deleted"' if deleted else ""
    metadata = (
        ""
        if deleted
        else (
            '<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{title}</dc:title></oai_dc:dc></metadata>"
        )
    )
    return (
        f"<record><header{status}><identifier>{identifier}</identifier>"
        f"<datestamp>2024-04-01</datestamp></header>{metadata}</record>"
    )


def token_element(token: object, **attributes: str) -> str:
    if token is ABSENT:
        return ""
    attrs = "".join(f' {k}="{v}"' for k, v in attributes.items())
    if token in (None, ""):
        return f"<resumptionToken{attrs}/>"
    return f"<resumptionToken{attrs}>{token}</resumptionToken>"


def records_page(
    identifiers: Iterable[str], token: object = ABSENT, *, verb: str = "ListRecords"
) -> bytes:
    if verb == "ListIdentifiers":
        items = "".join(
            f"<header><identifier>{i}</identifier><datestamp>2024-04-01</datestamp></header>"
            for i in identifiers
        )
    else:
        items = "".join(dc_record(i) for i in identifiers)
    return envelope(verb, items + token_element(token))


Responder = Callable[[httpx.Request], httpx.Response]


@dataclass
class Repository:
    """Answers requests from a script; records every request it received."""

    script: list[httpx.Response | Exception | Responder]
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.script:
            raise AssertionError(f"unexpected request {request.url}")
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    def params(self, index: int) -> dict[str, str]:
        return dict(self.requests[index].url.params)


def ok(body: bytes, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=body, headers={"Content-Type": "text/xml; charset=utf-8", **headers}
    )


@dataclass
class Harness:
    """A client wired to a scripted repository; ``sleeps`` lists the waits it asked for."""

    repository: Repository
    client: OAIClient
    http: httpx.AsyncClient
    sleeps: list[float]

    async def __aenter__(self) -> Harness:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()
        await self.http.aclose()


def harness(*script: httpx.Response | Exception | Responder, **options: Any) -> Harness:
    """``async with harness(ok(...), ...) as h:`` then call ``h.client``."""
    repository = Repository(list(script))
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    http = httpx.AsyncClient(transport=httpx.MockTransport(repository.handler))
    client = OAIClient(BASE_URL, http=http, sleep=sleep, **options)
    return Harness(repository, client, http, sleeps)

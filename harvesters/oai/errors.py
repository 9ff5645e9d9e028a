"""The harvest error family: every way a harvest can fail, as one exception tree.

Callers catch ``HarvestError`` to catch everything a harvest can raise; the leaves say
exactly what went wrong, so the app can record it on the harvest run without parsing
messages::

    HarvestError
     ├── XMLError                      a harvested document cannot be used as XML
     │    ├── DocumentTooLarge         larger than the configured cap (also after gunzip)
     │    ├── UnsafeXML                declares entities in a DOCTYPE (XXE, billion laughs)
     │    └── MalformedXML             not well-formed, even after byte repair
     ├── TransportError                no usable HTTP response, after all retries
     │    ├── TimeoutError             (also a builtins.TimeoutError)
     │    │    └── DeadlineExceeded    an answer took longer than its total deadline (a trickle)
     │    ├── NetworkError             connection refused, reset, DNS, TLS ...
     │    ├── AddressNotAllowed        the outbound address policy refused the URL or a redirect
     │    └── HTTPStatusError          an HTTP error status without an OAI-PMH <error> body
     ├── ProtocolError                 an answer that is not usable OAI-PMH
     │    ├── NotOAIPMH                well-formed XML (or HTML ...) that is not OAI-PMH 2.0
     │    └── ResumptionTokenLoop      a token repeats, or pages stay empty for ever
     └── OAIError                      the repository answered with <error code="...">
          ├── BadVerb
          ├── BadArgument
          ├── BadResumptionToken
          ├── CannotDisseminateFormat
          ├── IdDoesNotExist
          ├── NoRecordsMatch           (the list iterators treat it as "no records")
          ├── NoMetadataFormats
          ├── NoSetHierarchy
          └── UnknownOAIError          a code outside the eight of OAI-PMH 2.0 §3.6

The XML errors live here (not in ``harvesters.xml``) so that the tree is drawn, and
caught, in one place.  This module imports nothing of ours.

Messages are for operators' logs and may quote what a server sent (an OAI-PMH error's
text, a token).  ``public_description`` is what reports and API answers show: the error
class, the OAI-PMH code or HTTP status, and words of our own — never upstream bytes.
"""

from __future__ import annotations

import builtins
import re


class HarvestError(Exception):
    """Base of every error raised while harvesting."""


# --- XML -------------------------------------------------------------------------------


class XMLError(HarvestError):
    """A harvested document could not be parsed safely."""


class DocumentTooLarge(XMLError):
    """The document is larger than the size cap (counted after decompression)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"document of {size} bytes or more exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class UnsafeXML(XMLError):
    """The document declares entities (XXE, billion laughs); refused before expansion."""


class MalformedXML(XMLError):
    """The document is not well-formed XML, even after repairing bytes."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


# --- transport -------------------------------------------------------------------------


class TransportError(HarvestError):
    """No usable HTTP response after all retries."""

    def __init__(self, message: str, *, url: str | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.url = url
        self.attempts = attempts


class TimeoutError(TransportError, builtins.TimeoutError):  # the name httpx uses
    """The repository did not answer in time (connect, read or pool timeout)."""


class DeadlineExceeded(TimeoutError):
    """One answer took longer than its total deadline, however steadily its bytes came."""


class NetworkError(TransportError):
    """The connection failed: refused, reset, name resolution, TLS, decompression."""


class AddressNotAllowed(TransportError):
    """The outbound address policy refused the URL or one of its redirects (never retried).

    ``rule`` names the policy rule (``private-address``, ``scheme``, ``metadata`` ...).
    """

    def __init__(self, message: str, *, rule: str, url: str | None = None) -> None:
        super().__init__(message, url=url)
        self.rule = rule


class HTTPStatusError(TransportError):
    """An HTTP error status whose body carries no OAI-PMH ``<error>`` (the body is not kept)."""

    def __init__(self, status_code: int, *, url: str | None = None, attempts: int = 1) -> None:
        super().__init__(f"HTTP {status_code}", url=url, attempts=attempts)
        self.status_code = status_code


# --- protocol --------------------------------------------------------------------------


class ProtocolError(HarvestError):
    """The answer is not usable OAI-PMH (wrong document, broken paging ...)."""


class NotOAIPMH(ProtocolError):
    """The body is not an OAI-PMH 2.0 response (HTML error page, another XML ...)."""


class ResumptionTokenLoop(ProtocolError):
    """Paging does not progress: a resumption token came back again, or pages stay empty.

    The message is ours; the token itself is kept in ``token``, out of the message.
    """

    def __init__(self, message: str, *, token: str | None = None) -> None:
        super().__init__(message)
        self.token = token


# --- OAI-PMH <error> -------------------------------------------------------------------


class OAIError(HarvestError):
    """The repository answered with one or more ``<error>`` elements.

    ``code`` and ``message`` are those of the first error; ``errors`` keeps them all as
    ``(code, message)`` pairs, in document order.  ``http_status`` is the status the
    error came with (200 per the spec; 422 or 500 from some repositories).
    """

    code: str = ""

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        errors: tuple[tuple[str, str], ...] = (),
        http_status: int | None = None,
        response_date: str | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        text = f"{self.code}: {message}" if message else self.code
        super().__init__(text)
        self.message = message
        self.errors = errors or ((self.code, message),)
        self.http_status = http_status
        self.response_date = response_date


class BadVerb(OAIError):
    code = "badVerb"


class BadArgument(OAIError):
    code = "badArgument"


class BadResumptionToken(OAIError):
    code = "badResumptionToken"


class CannotDisseminateFormat(OAIError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    code = "idDoesNotExist"


class NoRecordsMatch(OAIError):
    code = "noRecordsMatch"


class NoMetadataFormats(OAIError):
    code = "noMetadataFormats"


class NoSetHierarchy(OAIError):
    code = "noSetHierarchy"


class UnknownOAIError(OAIError):
    """An error code that OAI-PMH 2.0 does not define (kept in ``code``)."""


OAI_ERROR_CLASSES: dict[str, type[OAIError]] = {
    cls.code: cls
    for cls in (
        BadVerb,
        BadArgument,
        BadResumptionToken,
        CannotDisseminateFormat,
        IdDoesNotExist,
        NoRecordsMatch,
        NoMetadataFormats,
        NoSetHierarchy,
    )
}
"""OAI-PMH error code → exception class (the eight codes of §3.6)."""


def oai_error_class(code: str) -> type[OAIError]:
    """The exception class for an OAI-PMH error code (``UnknownOAIError`` if unknown)."""
    return OAI_ERROR_CLASSES.get(code, UnknownOAIError)


_CODE = re.compile(r"[A-Za-z]{1,40}")


def public_description(exc: HarvestError) -> str:
    """What a report or an API answer may say about ``exc``: no byte a server sent.

    The error class, then the OAI-PMH error code, HTTP status or our own words.
    """
    name = type(exc).__name__
    if isinstance(exc, OAIError):
        code = exc.code if _CODE.fullmatch(exc.code or "") else "(not a valid code)"
        status = "" if exc.http_status in (None, 200) else f" with HTTP {exc.http_status}"
        detail = f'the repository answered <error code="{code}">{status}'
    elif isinstance(exc, HTTPStatusError):
        detail = f"HTTP {exc.status_code}"
    elif isinstance(exc, TransportError | DocumentTooLarge | UnsafeXML | ResumptionTokenLoop):
        detail = str(exc)  # our own words (client.py keeps server text out of them)
    elif isinstance(exc, MalformedXML):
        where = f" at line {exc.line}, column {exc.column}" if exc.line is not None else ""
        detail = f"the answer is not well-formed XML{where}"
    else:
        detail = next(
            (words for kind, words in _PUBLIC_WORDS if isinstance(exc, kind)), "harvest failed"
        )
    return f"{name}: {detail}"


_PUBLIC_WORDS: tuple[tuple[type[HarvestError], str], ...] = (
    (NotOAIPMH, "the answer is not an OAI-PMH 2.0 document"),
    (ProtocolError, "the answer is not usable OAI-PMH"),
    (XMLError, "the answer is not usable XML"),
)

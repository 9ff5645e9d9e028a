"""Log lines as text or JSON, each naming the HTTP request it was written for.

``REQUEST_ID`` holds the id of the request being served (set by
``app.observability.requests``); ``RequestContext``, a handler filter, copies it onto
every record as ``request_id``, and the fields of uvicorn's access line as ``method``,
``path``, ``status`` and ``client``.  ``configure`` installs one handler on the root
logger: human text by default, one JSON object a line with ``COURSEFED_LOG_FORMAT=json``
(or ``--log-format json``), for a log collector.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("coursefed_request_id", default=None)
"""The id of the HTTP request this code runs for; None outside requests (background work)."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"
ACCESS_LOGGER = "uvicorn.access"


class RequestContext(logging.Filter):
    """Puts the request id (and an access line's request and status) on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        args = record.args
        # uvicorn's access line: client, method, path, HTTP version, status
        if record.name == ACCESS_LOGGER and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            record.client, record.method, record.path, record.status = client, method, path, status
        return True


class TextFormatter(logging.Formatter):
    """``TEXT_FORMAT``, followed by ``[request <id>]`` on lines written for a request."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


def json_formatter() -> logging.Formatter:
    """One JSON object a line: ``timestamp`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, ``request_id``, and any extra fields of the record."""
    return JsonFormatter(
        JSON_FIELDS,
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
        json_ensure_ascii=False,
    )


def handler(log_format: LogFormat, stream: object = None) -> logging.Handler:
    """A stream handler (stderr by default) writing ``log_format`` lines with request ids."""
    made = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    made.setFormatter(json_formatter() if log_format == "json" else TextFormatter())
    made.addFilter(RequestContext())
    return made


def configure(log_format: LogFormat, level: int) -> None:
    """The process's logging: one handler on the root logger, replacing any before it."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format))
    root.setLevel(level)

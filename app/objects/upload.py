"""Receive one file from a ``multipart/form-data`` request, streamed to disk and hashed.

Starlette's form parser would spool the whole file first; this one writes the ``file``
part straight into our data directory, hashing it on the way, and stops reading as soon
as the size cap is passed.  Parsing, hashing and writing run in a worker thread.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from app.errors import InvalidParameter, PayloadTooLarge
from app.filenames import clean_file_name
from app.objects.http import content_length as declared_length

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELD = "file"
BATCH_BYTES = 1024 * 1024
# Room for the multipart boundaries and part headers around the file itself.
FORM_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class ReceivedFile:
    """An uploaded file on disk; the caller deletes ``path`` when done."""

    path: Path
    sha256: str
    size: int
    file_name: str | None
    declared_type: str | None


class _FilePart:
    """python-multipart callbacks that keep the ``file`` part and skip every other part."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.hasher = hashlib.sha256()
        self.size = 0
        self.file_name: str | None = None
        self.declared_type: str | None = None
        self.path: Path | None = None
        self.finished = False
        self._out: IO[bytes] | None = None
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.strip().lower()] = self._value.strip()
        self._field = self._value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        if options.get(b"name") != FIELD.encode():
            return
        if self.path is not None:
            raise InvalidParameter(f"send one file per request in the form field {FIELD!r}")
        # Browsers send the name as raw UTF-8 inside the quotes; the parser read it as latin-1.
        raw_name = options.get(b"filename")
        self.file_name = clean_file_name(raw_name.decode("utf-8", "replace")) if raw_name else None
        declared = self._headers.get(b"content-type")
        self.declared_type = declared.decode("latin-1") if declared else None
        self._out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in _part_end / discard
            dir=self.directory, prefix="upload-", suffix=".part", delete=False
        )
        self.path = Path(self._out.name)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is None:  # not the file part
            return
        self.size += end - start
        if self.size > self.max_bytes:
            raise PayloadTooLarge(
                f"the file is larger than this source's limit of {self.max_bytes:,} bytes"
            )
        chunk = data[start:end]
        self.hasher.update(chunk)
        self._out.write(chunk)

    def _part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
            self.finished = True

    def discard(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)


async def receive_file(
    content_type: str | None,
    content_length: str | None,
    body: AsyncIterator[bytes],
    *,
    directory: Path,
    max_bytes: int,
) -> ReceivedFile:
    """Stream the ``file`` field of a multipart body into ``directory``.  Raises
    ``PayloadTooLarge`` once more than ``max_bytes`` arrive (or the request's length says
    they will), ``InvalidParameter`` for anything but one well-formed ``file`` part."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidParameter(f"send the file as multipart/form-data in the field {FIELD!r}")
    length = declared_length(content_length)
    if length is not None and length > max_bytes + FORM_OVERHEAD:
        raise PayloadTooLarge(f"the file is larger than this source's limit of {max_bytes:,} bytes")
    await run_in_threadpool(directory.mkdir, parents=True, exist_ok=True)
    part = _FilePart(directory, max_bytes)
    parser = MultipartParser(boundary, part.callbacks())
    try:
        batch: list[bytes] = []
        held = 0
        async for chunk in body:
            batch.append(chunk)
            held += len(chunk)
            if held >= BATCH_BYTES:
                await run_in_threadpool(parser.write, b"".join(batch))
                batch, held = [], 0
        await run_in_threadpool(parser.write, b"".join(batch))
        parser.finalize()
        if part.path is None or not part.finished:
            raise InvalidParameter(f"no file in the form field {FIELD!r}")
    except FormParserError as exc:
        part.discard()
        raise InvalidParameter(f"the multipart body is malformed: {exc}") from exc
    except BaseException:
        part.discard()
        raise
    return ReceivedFile(
        path=part.path,
        sha256=part.hasher.hexdigest(),
        size=part.size,
        file_name=part.file_name,
        declared_type=part.declared_type,
    )

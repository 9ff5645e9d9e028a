"""Catalogue files as bytes, written chunk by chunk as the entries come (pure).

CSV (RFC 4180, CRLF line ends) has one column per fact, several values in one cell
joined by ``"; "``; JSON is one object whose ``courses`` holds one object per course,
with the school and the disciplines as objects.  Both carry the same facts: a CSV cell
differs from its JSON value only where spreadsheet safety prefixes it (``spreadsheet_safe``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

from app.publication.entries import CatalogueEntry, iso_utc

CHUNK = 500
"""Entries written per chunk sent."""
# Excel opens a CSV file in the system's legacy code page unless the file starts with a
# UTF-8 byte order mark; on Chinese Windows that is GBK, so every Chinese title would
# become mojibake.  With the mark, Excel (and LibreOffice, Numbers, pandas' "utf-8-sig")
# read UTF-8; programs reading plain UTF-8 see one U+FEFF before the first column name.
BOM = "\ufeff"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8; header=present"
JSON_MEDIA_TYPE = "application/json"
MULTI = "; "
"""Joins several values in one CSV cell (a course's disciplines)."""

CSV_COLUMNS = (
    "id",
    "title_zh",
    "title_en",
    "institution_id",
    "institution_zh",
    "institution_en",
    "discipline_codes",
    "discipline_zh",
    "discipline_en",
    "level",
    "license",
    "license_open",
    "url",
    "source_url",
    "first_harvested",
)

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google
# Sheets (=, +, - and @ start formulas; a tab or line break before one hides it): such a
# cell gets a leading apostrophe, which spreadsheets show as text and never evaluate.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs (OWASP's CSV injection advice)."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _flag(value: bool) -> str:
    return "true" if value else "false"


def csv_row(entry: CatalogueEntry) -> list[str]:
    """An entry's cells, in ``CSV_COLUMNS`` order, each spreadsheet-safe."""
    school = entry.institution
    cells = [
        entry.id,
        entry.title_zh,
        entry.title_en,
        school.id if school else "",
        (school.name_zh or "") if school else "",
        (school.name_en or "") if school else "",
        MULTI.join(d.code for d in entry.disciplines),
        MULTI.join(d.name_zh for d in entry.disciplines),
        MULTI.join(d.name_en for d in entry.disciplines),
        entry.level or "",
        entry.license or "",
        _flag(entry.license_open),
        entry.url,
        entry.source_url or "",
        iso_utc(entry.first_harvested),
    ]
    return [spreadsheet_safe(cell) for cell in cells]


def csv_chunks(entries: Iterable[CatalogueEntry], chunk: int = CHUNK) -> Iterator[bytes]:
    """A CSV file: the byte order mark and the column names, then ``chunk`` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(CSV_COLUMNS)
    remaining = iter(entries)
    while True:
        for entry in islice(remaining, chunk):
            writer.writerow(csv_row(entry))
        text = buffer.getvalue()
        if not text:
            return
        yield text.encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


def json_object(entry: CatalogueEntry) -> dict[str, Any]:
    school = entry.institution
    return {
        "id": entry.id,
        "title_zh": entry.title_zh or None,
        "title_en": entry.title_en or None,
        "institution": (
            {"id": school.id, "name_zh": school.name_zh, "name_en": school.name_en}
            if school
            else None
        ),
        "disciplines": [
            {"code": d.code, "name_zh": d.name_zh or None, "name_en": d.name_en or None}
            for d in entry.disciplines
        ],
        "level": entry.level,
        "license": entry.license,
        "license_open": entry.license_open,
        "url": entry.url,
        "source_url": entry.source_url,
        "first_harvested": iso_utc(entry.first_harvested),
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_chunks(
    entries: Iterable[CatalogueEntry], about: Mapping[str, Any], chunk: int = CHUNK
) -> Iterator[bytes]:
    """A JSON file ``{...about, "courses": [...], "count": n}``, ``chunk`` courses at a time
    (one per line, so a large file can also be read line by line)."""
    head = _dumps(dict(about))
    yield (head[:-1] + ("," if len(head) > 2 else "") + '"courses":[').encode("utf-8")
    count = 0
    remaining = iter(entries)
    while batch := list(islice(remaining, chunk)):
        lines = [
            ("," if count or i else "") + "\n" + _dumps(json_object(e)) for i, e in enumerate(batch)
        ]
        count += len(batch)
        yield "".join(lines).encode("utf-8")
    yield f'\n],"count":{count}}}\n'.encode()

"""Match keys: what two records of one course share, whoever exposes them (pure, no I/O).

A course reached through two paths (its college's repository and an aggregator that
re-exposes it, or one repository listing it twice) has two records with two OAI
identifiers.  Two kinds of key tell they are one course:

- an identifier the record names that points at one course only: a web page that is
  not a site's home page nor a file, or a persistent identifier (``urn:``, ``doi:``,
  ``hdl:``, ``ark:``, ``info:``, a bare DOI).  A local number (``12345``) is not one:
  another repository may use it for another course;
- the conservative match: the normalised title with the school (the institution
  authority's id) and the course code, all three present.  Two courses of one title at
  two schools, or without a course code, never share it.

Keys are hashed, so each is one short value however long the URL.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit

from metadata.profile import CourseResource
from metadata.readers.oai_dc import file_extension
from metadata.urls import http_url

_NOT_ALNUM = re.compile(r"[\W_]+")
_PERSISTENT = re.compile(r"^(?:(?:urn|doi|hdl|ark|info):\S{3,}|10\.\d{4,9}/\S+)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def fold(text: str | None) -> str:
    """``text`` compared loosely: NFKC, case folded, letters and digits only (any script)."""
    if not text:
        return ""
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


def identifier_key(identifier: str | None) -> str | None:
    """The form of an identifier two records of one course share; None for an
    identifier that may name something else than one course."""
    if not identifier:
        return None
    text = identifier.strip()
    url = http_url(text)
    if url is not None:
        if file_extension(url) is not None:
            return None  # a file may be shared by several courses (a syllabus, a logo)
        parts = urlsplit(url)
        host = (parts.hostname or "").removeprefix("www.")
        port = parts.port
        path = parts.path.rstrip("/")
        if not path and not parts.query:
            return None  # a site's home page names no one course
        netloc = host if port in (None, _DEFAULT_PORTS.get(parts.scheme)) else f"{host}:{port}"
        # http and https, ``www.`` or not, a trailing slash: one page.
        return f"web:{netloc}{path}" + (f"?{parts.query}" if parts.query else "")
    lowered = text.casefold()
    if _PERSISTENT.match(lowered):
        return f"pid:{lowered.removeprefix('doi:')}"
    return None


def match_keys(record: CourseResource, institution_id: str | None) -> list[str]:
    """The keys a record of the school ``institution_id`` shares with the other records
    of its course, hashed and sorted."""
    keys: set[str] = set()
    for identifier in [record.url, *record.identifiers]:
        key = identifier_key(identifier)
        if key is not None:
            keys.add(key)
    code = fold(record.course_code)
    if institution_id and code:
        for title in record.title.values():
            if folded := fold(title):
                keys.add(f"course:{institution_id}\x1f{code}\x1f{folded}")
    return sorted(hashlib.sha256(key.encode("utf-8")).hexdigest() for key in keys)

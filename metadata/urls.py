"""The one rule for URLs in a record: an absolute ``http``/``https`` URL, or nothing.

``http_url`` is the check.  URL fields (landing page, licence URL, file URLs) must pass it;
name fields (identifiers, relation targets, sources ...) may hold names that are no links,
but never a URL that fails it.  ``screen_urls`` applies the rule to a whole record (every
reader ends with it) and reports each dropped value as an ``url_not_http`` error.  The rule
in full is in docs/profile.md ("Conventions").
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit

from metadata.profile import CourseResource, Issue

URL_NOT_HTTP = "url_not_http"
"""Issue code of a value that was dropped because it is not an absolute http(s) URL."""

STATEMENT_SEPARATOR = "; "
"""How readers join the rights statements of a record into one licence text: each is
judged on its own."""
MAX_URL_LENGTH = 2000
"""As long as the objects table holds, and longer than links browsers and servers agree on."""

# WHATWG URL: what a browser strips from both ends, and what it removes anywhere.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Characters no host may hold (WHATWG "forbidden domain code points", plus backslash,
# which browsers read as "/" and Python does not).
_FORBIDDEN_IN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f\s\"'`{}]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Schemes whose values are locations (or code) even without "//": a name field holding
# one holds a URL, never a name.
_LOCATION_SCHEMES = frozenset({
    "http", "https", "javascript", "vbscript", "livescript", "mocha", "data", "file",
    "blob", "filesystem", "about", "view-source", "jar", "mhtml", "ms-its", "mk", "res",
    "mailto", "tel", "sms",
})  # fmt: skip

Resource = TypeVar("Resource", bound=CourseResource)


def http_url(value: object) -> str | None:
    """``value`` as an absolute http(s) URL (scheme in lower case, ends trimmed), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip(_C0_AND_SPACE).strip()
    scheme, separator, rest = text.partition("://")
    if (
        scheme.lower() not in {"http", "https"}
        or not separator
        or len(text) > MAX_URL_LENGTH
        or _CONTROL.search(text)
    ):
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is no port
    except ValueError:
        return None
    netloc = parts.netloc
    if "@" in netloc or not parts.hostname:
        return None  # credentials, or no host at all
    if not netloc.startswith("["):  # Python checks bracketed IPv6 hosts itself
        host = netloc.split(":")[0]
        if _FORBIDDEN_IN_HOST.search(host) or not host.strip("."):
            return None
    return scheme.lower() + separator + rest


def names_a_location(value: str) -> bool:
    """Is a name field's ``value`` a URL after all (``scheme://…``, ``//…``, ``javascript:…``)?

    Read as a browser would read it in an ``href``: ends trimmed, tabs and newlines
    removed, HTML character references decoded (``&#106;avascript:``).
    """
    text = value
    for _ in range(3):  # references escaped twice arrive once-escaped from the parser
        if "&" not in text:
            break
        text = html.unescape(text)
    text = _TAB_OR_NEWLINE.sub("", text.strip(_C0_AND_SPACE).strip())
    if text.startswith(("//", "\\\\", "/\\", "\\/")):
        return True
    match = _SCHEME.match(text)
    if match is None:
        return False
    if match.group(1).lower() in _LOCATION_SCHEMES:
        return True
    after = text[match.end() : match.end() + 2]
    return len(after) == 2 and set(after) <= {"/", "\\"}  # an authority: ftp://, rtmp://


def acceptable_name(value: str) -> bool:
    """A name field's value may stay: a name that is no URL, or an http(s) URL."""
    return not names_a_location(value) or http_url(value) is not None


def screen_urls(
    resource: Resource, locate: Callable[[str], str | None] | None = None
) -> tuple[Resource, list[Issue]]:
    """``resource`` without the values that break the URL rule, and an issue for each.

    URL fields keep the ``http_url`` form of their value; a file whose URL fails is
    dropped whole, and so is a licence left with nothing to say.  ``locate`` names the
    source element a value was read from (``dc:identifier[2]``), for the issue's path;
    without it, or when it knows none, the path is the profile field's.
    """
    issues = [
        _issue(field, value, (locate(value) if locate else None) or field)
        for field, value in unsafe_urls(resource)
    ]
    if not issues:
        return resource, []
    update: dict[str, object] = {
        "url": http_url(resource.url),
        "objects": [
            obj.model_copy(update={"url": url})
            for obj in resource.objects
            if (url := http_url(obj.url)) is not None
        ],
        "identifiers": [i for i in resource.identifiers if acceptable_name(i)],
        "relations": [r for r in resource.relations if acceptable_name(r.target)],
        "sources": [s for s in resource.sources if acceptable_name(s)],
        "contributors": [
            c.model_copy(update={"email": None}) if c.email and not acceptable_name(c.email) else c
            for c in resource.contributors
        ],
    }
    licence = resource.license
    if licence is not None:
        url = http_url(licence.url)
        statements = licence.text.split(STATEMENT_SEPARATOR)
        text = STATEMENT_SEPARATOR.join(s for s in statements if acceptable_name(s))
        keep = licence.spdx or url or text
        update["license"] = licence.model_copy(update={"url": url, "text": text}) if keep else None
    return resource.model_copy(update=update), issues


def unsafe_urls(resource: CourseResource) -> Iterator[tuple[str, str]]:
    """(profile path, value) of every value in ``resource`` that breaks the URL rule."""
    for path, value, is_url_field in _url_bearing(resource):
        if (http_url(value) is None) if is_url_field else not acceptable_name(value):
            yield path, value


def _url_bearing(resource: CourseResource) -> Iterator[tuple[str, str, bool]]:
    """(profile path, value, whether a URL field) of every value the URL rule applies to."""
    if resource.url is not None:
        yield "url", resource.url, True
    if resource.license is not None:
        if resource.license.url is not None:
            yield "license.url", resource.license.url, True
        for statement in resource.license.text.split(STATEMENT_SEPARATOR):
            yield "license.text", statement, False
    for n, obj in enumerate(resource.objects, 1):
        yield f"objects[{n}].url", obj.url, True
    for n, identifier in enumerate(resource.identifiers, 1):
        yield f"identifiers[{n}]", identifier, False
    for n, relation in enumerate(resource.relations, 1):
        yield f"relations[{n}].target", relation.target, False
    for n, source in enumerate(resource.sources, 1):
        yield f"sources[{n}]", source, False
    for n, contributor in enumerate(resource.contributors, 1):
        if contributor.email is not None:
            yield f"contributors[{n}].email", contributor.email, False


def _issue(field: str, value: str, path: str) -> Issue:
    shown = value if len(value) <= 120 else value[:120] + "…"
    return Issue(
        severity="error",
        code=URL_NOT_HTTP,
        message=f"{shown!r} is not an absolute http(s) URL: dropped from {field}",
        path=path,
    )

"""The pages' one Jinja environment and ``render``, which every page answers through.

``render`` gives each template what ``base.html`` needs: the page language (``lang``, and
``html_lang`` for the ``<html lang>`` attribute), the language switch's link (the current
URL with the other ``lang``, every other parameter kept), the canonical URL and its
``hreflang`` alternates.  It remembers a ``?lang=`` choice in a cookie and marks the
answer as varying by language.

Templates make their charts with ``bar_chart(…)`` and ``time_series(…)`` (``app.web.charts``,
numbers written in the page's language) and draw them with ``_charts.html``'s ``chart``.

Record text is always escaped: a record's URL becomes a link only through the
``http_url`` filter, search snippets pass ``highlighted``, which lets only ``<mark>``
through.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.web import charts, i18n
from app.web.results import leaf_subjects
from metadata.urls import http_url

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# Templates ship with the package and change only with a new release (a restart): no
# modification-time checks of every template a page uses on every request.
templates.env.auto_reload = False
i18n.install(templates.env)

COOKIE_MAX_AGE = 365 * 24 * 3600
_MARK = re.compile("(</?mark>)")


def link_filter(value: object) -> str:
    """``href`` of a record's URL: the URL when it passes ``http_url``, else nothing.

    Every link to a record's URL goes through it, so a record stored before the URL
    rule (``javascript:…``) renders no link.
    """
    return http_url(value) or ""


def highlighted(text: str) -> Markup:
    """A search snippet as markup: only ``<mark>``/``</mark>`` survive, balanced; the rest
    is escaped, whatever the search service handed over."""
    parts: list[str] = []
    open_ = False
    for piece in _MARK.split(text):
        if piece in {"<mark>", "</mark>"}:
            if (piece == "<mark>") != open_:
                parts.append(piece)
                open_ = not open_
        else:
            parts.append(str(escape(html.unescape(piece))))
    if open_:
        parts.append("</mark>")
    return Markup("".join(parts))  # noqa: S704 - every piece escaped above


@pass_context
def _bar_chart(
    context: Context, items: Sequence[tuple[object, charts.Number]], **options: Any
) -> charts.BarChart:
    """``charts.bar_chart`` for templates: numbers written as the page's language writes them."""
    options.setdefault("format", partial(i18n.number, lang=i18n.context_language(context)))
    return charts.bar_chart(items, **options)


@pass_context
def _time_series(
    context: Context,
    points: Sequence[tuple[object, Mapping[str, charts.Number]]],
    **options: Any,
) -> charts.SeriesChart:
    """``charts.time_series`` for templates, numbers in the page's language."""
    options.setdefault("format", partial(i18n.number, lang=i18n.context_language(context)))
    return charts.time_series(points, **options)


templates.env.globals["bar_chart"] = _bar_chart
templates.env.globals["time_series"] = _time_series
templates.env.filters["http_url"] = link_filter
templates.env.tests["http_url"] = lambda value: http_url(value) is not None
templates.env.filters["highlighted"] = highlighted
templates.env.filters["leaf_subjects"] = leaf_subjects


def page_url(request: Request, **changes: str | None) -> str:
    """This page's path and query with some parameters replaced (``None`` removes one)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    kept += [(k, v) for k, v in changes.items() if v is not None]
    query = urlencode(kept)
    return request.url.path + (f"?{query}" if query else "")


def _public_base(request: Request) -> str:
    state = getattr(request.app.state, "coursefed", None)
    if state is not None:
        return str(state.settings.resolved_public_url).rstrip("/")
    return str(request.base_url).rstrip("/")


def language_links(request: Request, lang: str) -> dict[str, Any]:
    """The switch to the other language, the canonical URL and the ``hreflang`` alternates.

    The Chinese page's address is the plain one (it is also what a visitor without a
    preference gets, so it is ``x-default`` too); the English page adds ``lang=en``.
    """
    base = _public_base(request)
    other = "en" if lang == "zh" else "zh"
    versions = {
        "zh": base + page_url(request, lang=None),
        "en": base + page_url(request, lang="en"),
    }
    return {
        "lang": lang,
        "html_lang": i18n.HTML_LANG[lang],
        "other_lang": other,
        "other_html_lang": i18n.HTML_LANG[other],
        "switch_url": page_url(request, lang=other),
        **address_links(versions, lang),
    }


def address_links(versions: Mapping[str, str], lang: str) -> dict[str, Any]:
    """A page's canonical URL in ``lang`` and its ``hreflang`` alternates, from its address
    in each language (the Chinese one is also ``x-default``)."""
    return {
        "canonical_url": versions[lang],
        "alternates": [
            (i18n.HTML_LANG["zh"], versions["zh"]),
            (i18n.HTML_LANG["en"], versions["en"]),
            ("x-default", versions["zh"]),
        ],
    }


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page in the request's language (see the module)."""
    lang = i18n.request_language(request)
    values = {**i18n.bound_gettext(lang), **language_links(request, lang), **(context or {})}
    response = templates.TemplateResponse(
        request, name, values, status_code=status_code, headers=dict(headers or {})
    )
    response.headers["Content-Language"] = i18n.HTML_LANG[lang]
    response.headers.add_vary_header("Accept-Language")
    response.headers.add_vary_header("Cookie")
    chosen = i18n.chosen_language(request)
    if chosen and request.cookies.get(i18n.COOKIE) != chosen:
        response.set_cookie(
            i18n.COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=_public_base(request).startswith("https://"),
        )
    return response

"""The quality page ``/quality``: what the profile requires, what the quality score counts,
and every issue code with its meaning and its fix in IEEE LOM and oai_dc.

The explanations are data (``app.web.quality_guide``); each code's severity and short
name come from ``metadata.issue_codes``, the words the source pages use too.  Each code
has its anchor (``/quality#unknown_license``), so other pages link straight to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.web import i18n
from app.web.quality_guide import GUIDES, SCORED_FIELDS, Example, Guide
from app.web.templating import render
from metadata.issue_codes import issue_code
from metadata.validate import DROPPED_VALUE_ERRORS
from metadata.vocabularies import EDUCATION_LEVELS, RESOURCE_TYPES

router = APIRouter(include_in_schema=False)

Language = Annotated[Literal["zh", "en"] | None, Query()]


@dataclass(frozen=True)
class ShownExample:
    """An example in the page's language: its note translated, its XML as it is."""

    after: str
    before: str | None
    arises: bool
    note: str


@dataclass(frozen=True)
class Explained:
    """One issue code as the page shows it, its words in the page's language.

    Translated here rather than by the template's ``_()``: the template's translations
    are trusted markup, and these texts name XML elements (``<metadata>``) that must be
    shown, so they go to the template as text, which it escapes.
    """

    code: str
    name: str  # its short name
    severity: str  # "error", "dropped" (an error on a value we dropped) or "warning"
    meaning: str
    fix: str
    lom: ShownExample | None
    dc: ShownExample | None


def issue_name(code: str, lang: str) -> str:
    """An issue code's short name in ``lang`` (``metadata.issue_codes``), as a heading
    writes it ("No title"); the code itself when it has none (a code from a newer
    upstream)."""
    known = issue_code(code)
    name = (known.meaning_zh if lang == "zh" else known.meaning_en) or code
    return name if name == code else name[:1].upper() + name[1:]


def severity(code: str) -> str:
    """``error``, ``dropped`` (an error whose value was dropped: the record is still
    published) or ``warning``; ``""`` for a code we do not know."""
    if code in DROPPED_VALUE_ERRORS:
        return "dropped"
    return issue_code(code).severity or ""


def _shown(example: Example | None, lang: str) -> ShownExample | None:
    if example is None:
        return None
    note = i18n.gettext(lang, example.note) if example.note else ""
    return ShownExample(example.after, example.before, example.arises, note)


def explained(guide: Guide, lang: str) -> Explained:
    """``guide`` with its words in ``lang``."""
    return Explained(
        code=guide.code,
        name=issue_name(guide.code, lang),
        severity=severity(guide.code),
        meaning=i18n.gettext(lang, guide.meaning),
        fix=i18n.gettext(lang, guide.fix),
        lom=_shown(guide.lom, lang),
        dc=_shown(guide.dc, lang),
    )


@router.api_route("/quality", methods=["GET", "HEAD"], response_class=HTMLResponse)
def quality_page(request: Request, lang: Language = None) -> Response:
    page_lang = i18n.request_language(request)
    return render(
        request,
        "quality.html",
        {
            "issues": [explained(guide, page_lang) for guide in GUIDES],
            "scored": [
                (i18n.gettext(page_lang, field.label), field.lom, field.dc)
                for field in SCORED_FIELDS
            ],
            "levels": [(value, i18n.level_name(value, page_lang)) for value in EDUCATION_LEVELS],
            "types": [(value, i18n.type_name(value, page_lang)) for value in RESOURCE_TYPES],
        },
    )

"""The pages' language: which one a request gets, the message catalogues, and value words.

Two languages, ``zh`` (the default) and ``en``, one at a time.  A request's language is
``?lang=`` (the page then remembers it in a cookie), else that cookie, else the
``Accept-Language`` header negotiated by Babel, else ``zh``.

Messages have English msgids; the catalogues are ``locale/<locale>/LC_MESSAGES/messages.po``,
compiled in memory when this module is imported, so a checkout and an installed wheel
behave the same and no compiled file can fall behind its source.  Templates call them
through Jinja2's i18n extension (``{{ _("…") }}``, ``{% trans %}``); the language is read
from the template's context, so one environment serves every request at once.

Values are shown as words in the page's language: language names from Babel's locale
data, levels, resource types and disciplines from ``metadata.vocabularies``, licence names
and meanings from ``metadata.licences``, durations, dates, times, file sizes, numbers and
percentages formatted by Babel.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale, negotiate_locale
from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from babel.units import format_unit
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.requests import Request

from metadata.languages import guess_text_language
from metadata.licences import licence_info
from metadata.vocabularies import (
    DISCIPLINE_CATEGORIES,
    DISCIPLINES,
    EDUCATION_LEVELS,
    RESOURCE_TYPES,
    Labels,
)

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
COOKIE = "lang"
LOCALES: dict[str, Locale] = {"zh": Locale.parse("zh_CN"), "en": Locale.parse("en")}
CATALOGUES = {"zh": "zh_CN", "en": "en"}
"""The folder of each language's catalogue under ``locale/``."""
HTML_LANG = {"zh": "zh-CN", "en": "en"}
"""The ``lang`` attribute of a page in each language."""
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

# An Accept-Language header names a handful of languages; more is noise or an attack.
_MAX_PREFERENCES = 20
_LANGUAGE_RANGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


def _compiled(lang: str) -> Translations:
    """The ``.po`` catalogue of ``lang``, compiled in memory (untranslated ids fall back)."""
    path = LOCALE_DIR / CATALOGUES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=LOCALES[lang], domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


TRANSLATIONS: dict[str, Translations] = {lang: _compiled(lang) for lang in LANGUAGES}


# --- which language ---------------------------------------------------------------------


def preferred_languages(header: str) -> list[str]:
    """The language ranges of an ``Accept-Language`` header, most wanted first."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:_MAX_PREFERENCES]):
        tag, _, parameters = part.strip().partition(";")
        tag = tag.strip()
        if not _LANGUAGE_RANGE.fullmatch(tag):
            continue
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
        if weight > 0:
            ranked.append((-weight, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiated_language(header: str) -> str:
    """The language an ``Accept-Language`` header asks for, among ours (else the default)."""
    chosen = negotiate_locale(preferred_languages(header), LANGUAGES, sep="-")
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def chosen_language(request: Request) -> str | None:
    """The language named by ``?lang=``, when it is one of ours."""
    value = request.query_params.get("lang")
    return value if value in LANGUAGES else None


def request_language(request: Request) -> str:
    """The language of the page answering ``request``: ``?lang=``, cookie, header, zh."""
    chosen = chosen_language(request)
    if chosen:
        return chosen
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    return negotiated_language(request.headers.get("accept-language", ""))


# --- messages ---------------------------------------------------------------------------


def gettext(lang: str, message: str) -> str:
    return TRANSLATIONS[lang].gettext(message)


def ngettext(lang: str, singular: str, plural: str, n: int) -> str:
    return TRANSLATIONS[lang].ngettext(singular, plural, n)


def context_language(context: Context | Mapping[str, Any]) -> str:
    """The page language a template renders in (its context's ``lang``)."""
    lang = context.get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@pass_context
def _gettext(context: Context, message: str) -> str:
    return gettext(context_language(context), message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return ngettext(context_language(context), singular, plural, n)


@pass_context
def _pgettext(context: Context, msgctxt: str, message: str) -> str:
    return str(TRANSLATIONS[context_language(context)].pgettext(msgctxt, message))


@pass_context
def _npgettext(context: Context, msgctxt: str, singular: str, plural: str, n: int) -> str:
    return str(TRANSLATIONS[context_language(context)].npgettext(msgctxt, singular, plural, n))


def bound_gettext(lang: str) -> dict[str, Any]:
    """The gettext callables of one language, for a page's context (they shadow the
    environment's, which look the language up in the context on every call).

    They behave as Jinja's "newstyle" gettext with autoescaping on (our pages always
    escape): the translation becomes markup and ``%`` fills in the escaped variables.
    """
    return _BOUND[lang]


def _bind(translations: Translations) -> dict[str, Any]:
    def gettext(message: str, **variables: Any) -> Markup:
        return Markup(translations.gettext(message)) % variables  # noqa: S704 - our catalogue

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("num", num)
        return Markup(translations.ngettext(singular, plural, num)) % variables  # noqa: S704

    def pgettext(context: str, message: str, **variables: Any) -> Markup:
        variables.setdefault("context", context)
        return Markup(translations.pgettext(context, message)) % variables  # noqa: S704

    def npgettext(context: str, singular: str, plural: str, num: int, **variables: Any) -> Markup:
        variables.setdefault("context", context)
        variables.setdefault("num", num)
        text = translations.npgettext(context, singular, plural, num)
        return Markup(text) % variables  # noqa: S704

    return {
        "_": gettext,
        "gettext": gettext,
        "ngettext": ngettext,
        "pgettext": pgettext,
        "npgettext": npgettext,
    }


_BOUND = {lang: _bind(translations) for lang, translations in TRANSLATIONS.items()}


# --- value words ------------------------------------------------------------------------


def _label(vocabulary: Mapping[str, Labels], value: str | None, lang: str) -> str:
    if not value:
        return ""
    labels = vocabulary.get(value)
    if labels is None:
        return value
    return labels[0] if lang == "zh" else labels[1]


def level_name(value: str | None, lang: str) -> str:
    """An education level (``undergraduate``) as words: 本科教育 / Undergraduate education."""
    return _label(EDUCATION_LEVELS, value, lang)


def type_name(value: str | None, lang: str) -> str:
    """A resource type (``video``) as words: 视频类素材 / Video material."""
    return _label(RESOURCE_TYPES, value, lang)


def discipline_name(code: str | None, lang: str) -> str:
    """A discipline code as words: a category (``08``) or a first-level discipline (``0812``);
    a longer code is named by its first-level discipline."""
    if not code:
        return ""
    if len(code) <= 2:
        return _label(DISCIPLINE_CATEGORIES, code, lang)
    return _label(DISCIPLINES, code[:4], lang) if code[:4] in DISCIPLINES else code


def licence_name(licence_id: str | None, lang: str) -> str:
    """A licence id (``CC-BY-4.0``, ``all-rights-reserved``) as its name in ``lang``
    (``metadata.licences``); an id we do not know is shown as it is."""
    info = licence_info(licence_id) if licence_id else None
    if info is None:
        return licence_id or ""
    return (info.name_zh if lang == "zh" else info.name_en) or info.short or licence_id or ""


def licence_meaning(licence_id: str | None, lang: str) -> str:
    """What a licence lets a learner do, in one line in ``lang``; ``""`` when unknown."""
    info = licence_info(licence_id) if licence_id else None
    if info is None:
        return ""
    return (info.meaning_zh if lang == "zh" else info.meaning_en) or ""


@lru_cache(maxsize=1024)
def language_name(code: str | None, lang: str) -> str:
    """A language tag (``en``, ``zh-Hans``) named in the page's language (Babel's CLDR data)."""
    if not code:
        return ""
    names = LOCALES[lang].languages
    tag = code.replace("-", "_")
    return names.get(tag) or names.get(tag.split("_")[0].lower()) or code


def text_language(code: str | None) -> str:
    """The primary language subtag of a tag (``zh-Hans`` → ``zh``), lower case."""
    return (code or "").split("-")[0].split("_")[0].lower()


_DURATION = re.compile(
    r"P(?:(?P<year>\d+(?:[.,]\d+)?)Y)?(?:(?P<month>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<week>\d+(?:[.,]\d+)?)W)?(?:(?P<day>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hour>\d+(?:[.,]\d+)?)H)?(?:(?P<minute>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<second>\d+(?:[.,]\d+)?)S)?)?",
    re.IGNORECASE,
)


def duration(value: str | None, lang: str) -> str:
    """An ISO 8601 duration as words: ``PT54H`` → 54小时 / 54 hours, ``PT1H30M`` →
    1小时30分钟 / 1 hour, 30 minutes.  A value that is no such duration is shown as it is."""
    if not value:
        return ""
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        return value
    locale = LOCALES[lang]
    parts = [
        format_unit(float(amount.replace(",", ".")), f"duration-{unit}", "long", locale=locale)
        for unit, amount in match.groupdict().items()
        if amount and float(amount.replace(",", ".")) > 0
    ]
    return format_list(parts, style="unit", locale=locale) if parts else value


def date_words(value: date | datetime | str | None, lang: str) -> str:
    """A date in the page's language (2025年3月1日 / March 1, 2025); ISO text is read first,
    a bare year or year-month stays as precise as it was given."""
    if value is None or value == "":
        return ""
    locale = LOCALES[lang]
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}", text):
            return text
        if re.fullmatch(r"\d{4}-\d{2}", text):
            try:
                parsed = date.fromisoformat(text + "-01")
            except ValueError:
                return text
            return format_skeleton("yMMMM", parsed, locale=locale)
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                value = date.fromisoformat(text[:10])
            except ValueError:
                return text
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, "long", locale=locale)


_SIZE_UNITS = (
    (1000**4, "digital-terabyte"),
    (1000**3, "digital-gigabyte"),
    (1000**2, "digital-megabyte"),
    (1000, "digital-kilobyte"),
)


def file_size(size: int | float | None, lang: str) -> str:
    """A size in bytes as a short number and unit (1.2 MB), decimal units as browsers show."""
    if size is None:
        return ""
    locale = LOCALES[lang]
    for factor, unit in _SIZE_UNITS:
        if size >= factor:
            return format_unit(size / factor, unit, "short", format="#,##0.#", locale=locale)
    return format_unit(size, "digital-byte", "short", format="#,##0", locale=locale)


@lru_cache(maxsize=4096)
def number(value: int | float | None, lang: str) -> str:
    """A number with the page's grouping (12,345)."""
    if value is None:
        return ""
    return format_decimal(value, locale=LOCALES[lang])


def percent(share: float | None, lang: str) -> str:
    """A share in [0, 1] as a percentage to one decimal at most (82.3%); ``""`` for None."""
    if share is None:
        return ""
    return format_percent(share, format="#,##0.#%", locale=LOCALES[lang])


def moment(value: datetime | None, lang: str) -> str:
    """A stored time as a date and a time of day in UTC (2026年3月1日 08:05 UTC)."""
    if value is None:
        return ""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    locale = LOCALES[lang]
    day = format_skeleton("yMMMd", utc, locale=locale)
    return f"{day} {format_time(utc, 'HH:mm', tzinfo=UTC, locale=locale)} UTC"


# --- text in another language -----------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text and the language it is written in (``""`` when unknown)."""

    text: str
    lang: str

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


def pick(texts: Mapping[str, str] | None, lang: str) -> Text:
    """From texts by language, the one in ``lang``, else Chinese, else English, else any."""
    if not texts:
        return Text("", "")
    for wanted in (lang, "zh", "en"):
        for tag, text in texts.items():
            if text and text_language(tag) == wanted:
                return Text(text, tag)
    tag, text = next(((tag, text) for tag, text in texts.items() if text), ("", ""))
    return Text(text, tag)


_TAG = re.compile(r"<[^>]*>")


def guessed_language(text: str | None) -> str:
    """The language a text reads as (``zh``, ``en``, …; ``""`` when there is no telling);
    markup such as ``<mark>`` is not counted."""
    text = text or ""
    # Names (institutions, teachers) come back on every page: remember the short ones.
    return _guessed_name(text) if len(text) <= 100 else _guessed(text)


def _guessed(text: str) -> str:
    lang = guess_text_language(html.unescape(_TAG.sub("", text)))
    return "" if lang == "und" else lang


_guessed_name = lru_cache(maxsize=4096)(_guessed)


def foreign(text: Text, page_lang: str) -> Text:
    """The text with its language kept only when it is not the page's (``lang`` empty
    otherwise), ready for ``lang="…"`` where a template finds one."""
    if text.lang and text_language(text.lang) != page_lang:
        return text
    return Text(text.text, "")


def lang_attribute(text_lang: str | None, page_lang: str) -> Markup:
    """`` lang="…"`` for text in a language other than the page's; nothing otherwise."""
    if not text_lang or text_language(text_lang) == page_lang:
        return Markup("")
    return Markup(' lang="{}"').format(text_lang)


# --- Jinja ------------------------------------------------------------------------------


def _with_language(function: Any) -> Any:
    """A Jinja filter calling ``function(value, lang)`` with the template's language."""

    @pass_context
    def jinja_filter(context: Context, value: Any) -> Any:
        return function(value, context_language(context))

    jinja_filter.__name__ = function.__name__
    return jinja_filter


@pass_context
def _pick(context: Context, texts: Mapping[str, str] | None) -> Text:
    return pick(texts, context_language(context))


@pass_context
def _lang_attribute(context: Context, text_lang: str | None) -> Markup:
    return lang_attribute(text_lang, context_language(context))


@pass_context
def _in_language(context: Context, value: Any, text_lang: str | None = None) -> Markup:
    """``text`` in a ``<span lang>`` when its language is not the page's (a ``Text`` knows
    its own), otherwise the escaped text alone."""
    lang = text_lang if text_lang is not None else getattr(value, "lang", "")
    attribute = lang_attribute(lang, context_language(context))
    if not attribute:
        return escape(str(value))
    return Markup("<span{}>{}</span>").format(attribute, str(value))


def install(env: Environment) -> None:
    """Give a Jinja environment our catalogues and value-word filters."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    for function in (
        level_name,
        type_name,
        discipline_name,
        language_name,
        licence_name,
        licence_meaning,
        duration,
        file_size,
        number,
        percent,
        moment,
    ):
        env.filters[function.__name__] = _with_language(function)
    env.filters["date_words"] = _with_language(date_words)
    env.filters["lang_attr"] = _lang_attribute
    env.filters["in_language"] = _in_language
    env.filters["text_lang"] = guessed_language
    env.globals["pick"] = _pick

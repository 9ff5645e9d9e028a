"""The institutions' pages: ``/institutions`` (every school with courses) and
``/institutions/{id}`` (one school: its names, its courses by discipline and level, the
newest of them, and the way into all of them on the results page).

A school's name is shown in the page's language, its other name beside it.  The list is
in name order — pinyin for Chinese names (pypinyin), the alphabet for English ones —
grouped by initial, or by number of courses with ``?sort=courses``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pypinyin import Style, lazy_pinyin
from starlette.responses import Response

from app.auth import rate_limited
from app.deps import SessionDep, StateDep
from app.errors import ServiceUnavailable
from app.institutions import service as institutions
from app.publication import links as publication
from app.search import service as search
from app.search.gateway import SearchError
from app.web import i18n, results
from app.web.errors import render_error
from app.web.i18n import Text
from app.web.templating import render

router = APIRouter(include_in_schema=False)

Language = Annotated[Literal["zh", "en"] | None, Query()]
NEWEST = 12


@dataclass(frozen=True)
class School:
    id: str
    name: Text  # in the page's language when it has one
    other: Text  # the name in the other language, if any
    count: int
    initial: str  # the letter it is listed under

    @property
    def href(self) -> str:
        return f"/institutions/{self.id}"


def sort_key(name: str) -> str:
    """A name's place in order: Chinese by its pinyin (tone-less), others as written."""
    return " ".join(lazy_pinyin(name, style=Style.NORMAL, errors="default")).casefold()


def school(summary: institutions.InstitutionSummary, lang: str) -> School:
    names = {"zh": summary.name_zh or "", "en": summary.name_en or ""}
    name = i18n.pick(names, lang) if any(names.values()) else Text(summary.id, "")
    other_lang = "en" if name.lang == "zh" else "zh"
    other = Text(names.get(other_lang, ""), other_lang)
    initial = sort_key(name.text)[:1].upper()
    return School(
        id=summary.id,
        name=i18n.foreign(name, lang),
        other=i18n.foreign(other, lang),
        count=summary.count,
        initial=initial if initial.isascii() and initial.isalpha() else "#",
    )


@router.api_route(
    "/institutions",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def institutions_page(
    request: Request,
    session: SessionDep,
    sort: Annotated[Literal["name", "courses"], Query()] = "name",
    lang: Language = None,
) -> Response:
    page_lang = i18n.request_language(request)
    schools = [
        school(summary, page_lang)
        for summary in institutions.list_institutions(session, with_courses_only=True)
    ]
    if sort == "courses":
        schools.sort(key=lambda s: (-s.count, sort_key(s.name.text)))
        groups = [("", schools)] if schools else []
    else:
        schools.sort(key=lambda s: (s.initial == "#", sort_key(s.name.text)))
        groups = []
        for item in schools:
            if not groups or groups[-1][0] != item.initial:
                groups.append((item.initial, []))
            groups[-1][1].append(item)
    return render(
        request,
        "institutions.html",
        {
            "groups": groups,
            "sort": sort,
            "school_count": len(schools),
            "course_count": sum(s.count for s in schools),
        },
    )


@router.api_route(
    "/institutions/{institution_id}",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def institution_page(
    request: Request,
    institution_id: str,
    session: SessionDep,
    state: StateDep,
    lang: Language = None,
) -> Response:
    summary = institutions.get_institution(session, institution_id)
    if summary is None:
        return render_error(request, 404, what="institution")
    page_lang = i18n.request_language(request)
    chosen = {"institution": [summary.id]}
    try:
        answer = search.faceted_search(
            state.search,
            state.settings.meili_index,
            q="",
            page=1,
            per_page=NEWEST,
            filters=chosen,
            sort="newest",
        )
    except SearchError as exc:
        raise ServiceUnavailable("search is unavailable", headers={"Retry-After": "30"}) from exc
    within = results.SearchState(filters={"institution": (summary.id,)}, lang=lang)
    return render(
        request,
        "institution.html",
        {
            "school": school(summary, page_lang),
            "aliases": summary.aliases,
            "total": answer.total,
            "all_url": within.url(),
            "disciplines": [
                (
                    results.value_label("subject", v.value, v.label, page_lang),
                    v.count,
                    within.with_filter("subject", [v.value]).url(),
                )
                for v in answer.facets.get("subject", [])
                if len(v.value) == 2
            ],
            "levels": [
                (
                    results.value_label("level", v.value, v.label, page_lang),
                    v.count,
                    within.with_filter("level", [v.value]).url(),
                )
                for v in answer.facets.get("level", [])
            ],
            "newest": [results.card(hit, page_lang) for hit in answer.hits],
            "feed_url": publication.feed_url(filters=chosen, lang=page_lang),
            "download_url": publication.file_url("csv", filters=chosen),
        },
    )

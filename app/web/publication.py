"""``/catalogue``: the catalogue files, one per month with the courses first harvested in
it (newest first, with how many) and one of every course, each as CSV and JSON, and the
feed of new courses to subscribe to (``app.publication``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from app.auth import rate_limited
from app.deps import SessionDep
from app.publication import links
from app.publication import service as publication
from app.web import i18n
from app.web.templating import render

router = APIRouter(include_in_schema=False)

Language = Annotated[Literal["zh", "en"] | None, Query()]


@router.api_route(
    "/catalogue",
    methods=["GET", "HEAD"],
    response_class=HTMLResponse,
    dependencies=[rate_limited("search")],
)
def catalogue_page(request: Request, session: SessionDep, lang: Language = None) -> Response:
    page_lang = i18n.request_language(request)
    return render(
        request,
        "catalogue.html",
        {
            "months": publication.monthly_files(session),
            "total": publication.catalogue_size(session),
            "all_csv": links.file_url("csv"),
            "all_json": links.file_url("json"),
            "feed_url": links.feed_url(lang=page_lang),
            "example_csv": links.file_url("csv", filters={"subject": ["0812"]}),
        },
    )

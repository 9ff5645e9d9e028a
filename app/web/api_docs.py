"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc): the API's documentation, every asset ours.

The pages are our templates; the Swagger UI and ReDoc bundles come from the
``fastapi-standalone-docs`` package (its ``static/`` folder: Swagger UI under its Apache-2.0
licence, ReDoc under MIT, each with its licence file) and are served from ``/docs/…`` and
``/redoc/…``.  Nothing is loaded from another origin and no page has an inline script:
Swagger UI is started by ``/static/api-docs.js``, ReDoc starts itself on its ``<redoc>``
element.  FastAPI's own docs routes are switched off in ``create_app``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
BUNDLES = Path(str(files("fastapi_standalone_docs") / "static"))
# ReDoc styles itself with <style> elements it writes at run time (styled-components), so
# its page alone allows inline style; scripts still come only from us, and the page shows
# nothing but our own OpenAPI document.  Its search index runs in a worker made from a blob.
REDOC_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@router.api_route(DOCS_URL, methods=["GET", "HEAD"], response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "api_docs.html", {"openapi_url": request.app.openapi_url, "assets": DOCS_URL}
    )


@router.api_route(REDOC_URL, methods=["GET", "HEAD"], response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "redoc.html",
        {"openapi_url": request.app.openapi_url, "assets": REDOC_URL},
        headers={"Content-Security-Policy": REDOC_POLICY},
    )


def mount_assets(app: FastAPI) -> None:
    """Serve the bundles under the pages' own paths (``/docs/swagger-ui-bundle.js``, and
    ``/redoc/logo-mini.svg``, where the packaged ReDoc looks for its logo)."""
    app.mount(DOCS_URL, StaticFiles(directory=BUNDLES / "swagger"), name="swagger-ui")
    app.mount(REDOC_URL, StaticFiles(directory=BUNDLES / "redoc"), name="redoc")

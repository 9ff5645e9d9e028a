"""``/docs`` and ``/redoc``: every asset from us, no inline script, and they render."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import html
from playwright.sync_api import Browser, ConsoleMessage

from app.main import create_app
from app.security import CONTENT_SECURITY_POLICY
from app.settings import Settings
from tests.services_plugin import serving

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def assets_of(page: str) -> list[str]:
    tree = html.fromstring(page)
    return [*tree.xpath("//script/@src"), *tree.xpath("//link/@href")]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_load_only_our_own_assets(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    tree = html.fromstring(page.text)
    assert tree.xpath("//script[not(@src)]") == [], "no inline script"
    assets = assets_of(page.text)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        parts = urlsplit(asset)
        assert not parts.scheme and not parts.netloc, f"{asset} is not from this origin"
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        suffix = parts.path[parts.path.rfind(".") :]
        if suffix in ASSET_TYPES:
            assert answer.headers["content-type"].startswith(ASSET_TYPES[suffix]), asset
    spec = client.get(
        tree.xpath("string(//*[@data-openapi-url]/@data-openapi-url | //redoc/@spec-url)")
    )
    assert spec.json()["openapi"].startswith("3.1")


def test_swagger_ui_runs_under_the_site_policy(client: TestClient) -> None:
    assert client.get("/docs").headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_redoc_may_style_inline_but_runs_only_our_scripts(client: TestClient) -> None:
    header = client.get("/redoc").headers["content-security-policy"]
    policy = {name: values for name, *values in map(str.split, header.split(";"))}
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_docs_of_fastapi_are_gone(client: TestClient) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 404


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/docs", "#swagger-ui .opblock"), ("/redoc", "li[data-item-id]")],
)
def test_docs_render_their_operations_in_chromium(
    settings: Settings, browser: Browser, path: str, rendered: str
) -> None:
    """Offline like a learner behind a firewall: any request leaving the app fails."""
    with serving(create_app(settings)) as url:
        page = browser.new_page()
        elsewhere: list[str] = []
        refused: list[str] = []

        def note(message: ConsoleMessage) -> None:
            if "Content Security Policy" in message.text or message.type == "error":
                refused.append(message.text)

        page.on("console", note)
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(url)
                else (elsewhere.append(route.request.url), route.abort())
            ),
        )
        page.goto(url + path)
        page.wait_for_selector(rendered)
        assert page.locator(rendered).count() > 10, "the operations are listed"
        assert elsewhere == [], elsewhere
        assert refused == [], refused
        page.close()

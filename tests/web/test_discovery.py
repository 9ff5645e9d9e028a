"""What browsers and crawlers ask for: the icon, robots.txt, the OpenSearch description,
and the links every page's head carries to them."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html
from protego import Protego

from app.main import create_app
from app.settings import Settings
from app.web.discovery import templates

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BASE = "https://courses.example.edu.cn"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"public_url": BASE + "/"}))
    with TestClient(app) as test_client:
        yield test_client


def test_favicon_is_an_icon_of_pngs(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    data = response.content
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1) and count >= 2
    sizes = []
    for n in range(count):
        width, _h, _c, _r, _p, _b, size, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * n)
        assert data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
        assert offset + size <= len(data)
        sizes.append(width)
    assert {16, 32} <= set(sizes)
    assert client.head("/favicon.ico").headers["content-length"] == str(len(data))


def test_svg_icon_is_served_as_svg(client: TestClient) -> None:
    response = client.get("/static/favicon.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = etree.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 32 32"


def test_robots_lets_pages_be_crawled_but_not_the_api_files_or_searches(
    client: TestClient,
) -> None:
    response = client.get("/robots.txt")
    assert response.headers["content-type"].startswith("text/plain")
    robots = Protego.parse(response.text)
    assert list(robots.sitemaps) == [f"{BASE}/sitemap.xml"]
    crawled = ["/", "/?lang=en", "/courses/demo-1", "/courses/demo-1?lang=en", "/institutions"]
    crawled += ["/static/site.css", "/sitemap.xml", "/favicon.ico"]
    for path in crawled:
        assert robots.can_fetch(BASE + path, "Googlebot"), path
    kept_out = ["/?q=数据", "/?lang=en&q=data", "/api/v1/search?q=x", "/api/v1/objects/" + "a" * 64]
    kept_out += ["/api/v1/resources/demo-1/raw", "/oai?verb=ListRecords", "/docs", "/healthz"]
    for path in kept_out:
        assert not robots.can_fetch(BASE + path, "Googlebot"), path


def test_opensearch_description_points_at_the_search_page(client: TestClient) -> None:
    response = client.get("/opensearch.xml")
    assert response.headers["content-type"] == "application/opensearchdescription+xml"
    root = etree.fromstring(response.content)
    assert root.tag == f"{OPENSEARCH}OpenSearchDescription"
    short_name = root.findtext(f"{OPENSEARCH}ShortName") or ""
    assert 0 < len(short_name) <= 16  # the spec's limit
    urls = {url.get("type"): url.get("template") for url in root.iter(f"{OPENSEARCH}Url")}
    assert urls["text/html"] == BASE + "/search?q={searchTerms}"
    assert urls["application/opensearchdescription+xml"] == BASE + "/opensearch.xml"
    query = urls["application/json"].replace("{searchTerms}", "x").removeprefix(BASE)
    assert client.get(query).status_code in {200, 503}, "an API route (search is down here)"


def test_head_links_name_the_icons_and_the_search_description(client: TestClient) -> None:
    head = html.fragment_fromstring(
        templates.get_template("_head_links.html").render(), create_parent="head"
    )
    links = {(link.get("rel"), link.get("type")): link.get("href") for link in head}
    search = links[("search", "application/opensearchdescription+xml")]
    assert client.get(search).status_code == 200
    for (rel, _type), href in links.items():
        if rel in {"icon", "apple-touch-icon"}:
            assert client.get(href).status_code == 200, href
    assert links[("icon", "image/svg+xml")] == "/static/favicon.svg"
    assert not any(link.get("hreflang") or link.get("rel") == "canonical" for link in head)


@pytest.mark.parametrize("path", ["/favicon.ico", "/robots.txt", "/opensearch.xml"])
def test_crawler_files_stay_out_of_the_api_schema_and_the_rate_limits(
    settings: Settings, path: str
) -> None:
    limited = settings.model_copy(update={"rate_limit_search": "1/minute"})
    with TestClient(create_app(limited)) as client:
        assert path not in client.get("/openapi.json").json()["paths"]
        assert [client.get(path).status_code for _ in range(5)] == [200] * 5

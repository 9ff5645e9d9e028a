"""Files served by nginx straight from S3 (``objects_serve=accel``, ``X-Accel-Redirect``),
with deploy/nginx.conf as shipped: real nginx, real uvicorn, real SeaweedFS.

nginx runs unprivileged from a temporary directory on free ports; ``make nginx`` installs
Debian's package where it is missing (``make test`` does).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.objects.store import ObjectStore, content_key
from app.settings import Settings
from tests.app.test_objects_api import ADMIN, objects_settings, sha, source_id
from tests.services_plugin import free_port, serving

__all__ = ["objects_settings", "source_id"]  # fixtures shared with the API tests

# nginx in front of the app is the same whatever the database behind it.
pytestmark = [
    pytest.mark.services,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

DEPLOYED = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
LARGE = b"%PDF-1.7\n" + hashlib.shake_256(b"lecture behind nginx").digest(3 * 1024 * 1024 + 5)
# Headers the app sends with a file: through nginx they must be the same.
FILE_HEADERS = (
    "content-type",
    "content-disposition",
    "etag",
    "cache-control",
    "accept-ranges",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "content-security-policy",
    "access-control-allow-origin",
    "access-control-expose-headers",
)


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if found is None:
        pytest.skip("nginx is not installed (`make nginx` installs Debian's package)")
    return found


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"nginx did not start: {log.read_text()}") from None
            time.sleep(0.05)


@contextlib.contextmanager
def nginx(directory: Path, *, app: str, s3: str) -> Iterator[str]:
    """nginx with deploy/nginx.conf, its app and S3 addresses (host:port) put in; yields
    its base URL.  Between it and S3 sits a second server of its own that logs the headers
    S3 is sent (``s3-requests.log``) and passes the requests on unchanged."""
    binary = nginx_binary()
    port, recorder = free_port(), free_port()
    site = DEPLOYED.read_text(encoding="utf-8")
    assert "server s3:8333;" in site and "Host s3:8333;" in site, "deploy/nginx.conf changed"
    site = (
        site.replace("coursefed:8000", app)
        .replace("server s3:8333;", f"server 127.0.0.1:{recorder};")
        .replace("Host s3:8333;", f"Host {s3};")
        .replace("listen 80;", f"listen 127.0.0.1:{port};")
    )
    (directory / "coursefed.conf").write_text(site, encoding="utf-8")
    temp = " ".join(
        f"{kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = f"""
        daemon off;
        worker_processes 1;
        pid {directory / "nginx.pid"};
        error_log {directory / "error.log"} warn;
        events {{ worker_connections 256; }}
        http {{
            access_log off;
            {temp}
            include {directory / "coursefed.conf"};
            log_format s3_request escape=json
                '{{"request":"$request","host":"$http_host","range":"$http_range",'
                '"authorization":"$http_authorization","cookie":"$http_cookie",'
                '"if_range":"$http_if_range","if_none_match":"$http_if_none_match"}}';
            server {{
                listen 127.0.0.1:{recorder};
                access_log {directory / "s3-requests.log"} s3_request;
                location / {{
                    proxy_pass http://{s3};
                    proxy_set_header Host $http_host;
                    proxy_buffering off;
                }}
            }}
        }}
    """
    config = directory / "nginx.conf"
    config.write_text(main, encoding="utf-8")
    checked = subprocess.run(
        [binary, "-t", "-p", str(directory), "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    log = directory / "error.log"
    process = subprocess.Popen([binary, "-p", str(directory), "-c", str(config)])
    try:
        wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@dataclass
class Deployment:
    settings: Settings
    app: str  # the app itself
    nginx: str  # nginx in front of it
    directory: Path

    def url(self, data: bytes) -> str:
        return f"/api/v1/objects/{sha(data)}"

    def s3_requests(self) -> list[dict[str, str]]:
        """The requests S3 was sent, as nginx logged them (a line once a request ends)."""
        log = self.directory / "s3-requests.log"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return [json.loads(line) for line in lines]


@pytest.fixture
def deployment(objects_settings: Settings, source_id: int, tmp_path: Path) -> Iterator[Deployment]:
    settings = objects_settings.model_copy(update={"objects_serve": "accel"})
    s3 = urlsplit(settings.resolved_s3_endpoint).netloc
    with serving(create_app(settings)) as app:
        answer = httpx.post(
            f"{app}/api/v1/sources/{source_id}/objects",
            files={"file": ("数据结构 第1讲.pdf", LARGE, "application/pdf")},
            headers=ADMIN,
        )
        assert answer.status_code == 201, answer.text
        with nginx(tmp_path, app=urlsplit(app).netloc, s3=s3) as front:
            yield Deployment(settings, app, front, tmp_path)


def test_the_app_answers_with_the_internal_location_and_the_headers(
    deployment: Deployment,
) -> None:
    answer = httpx.get(deployment.app + deployment.url(LARGE))
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["etag"] == f'"{sha(LARGE)}"'
    bucket = deployment.settings.s3_bucket
    target = answer.headers["x-accel-redirect"]
    path, _, query = target.partition("?")
    assert path == f"/_s3/{bucket}/{content_key(sha(LARGE))}"
    signed = parse_qs(query)
    assert signed["X-Amz-Expires"] == ["60"]
    assert "X-Amz-Signature" in signed
    # The file's headers, signed for S3 to send with the bytes.
    assert signed["response-content-type"] == ["application/pdf"]
    assert signed["response-content-disposition"] == [
        "inline; filename=\"1.pdf\"; filename*=UTF-8''"
        "%E6%95%B0%E6%8D%AE%E7%BB%93%E6%9E%84%20%E7%AC%AC1%E8%AE%B2.pdf"
    ]
    assert signed["response-cache-control"] == ["public, max-age=86400"]
    # Nothing nginx would keep for an error: the file's headers come with the file only.
    for kept in ("content-type", "content-disposition", "cache-control"):
        assert kept not in answer.headers, kept


def test_nginx_serves_the_exact_bytes_with_the_app_headers(deployment: Deployment) -> None:
    proxied = deployment.settings.model_copy(update={"objects_serve": "proxy"})
    with TestClient(create_app(proxied)) as app:
        expected = app.get(deployment.url(LARGE))
    assert expected.content == LARGE
    answer = httpx.get(deployment.nginx + deployment.url(LARGE))
    assert answer.status_code == 200
    assert "x-accel-redirect" not in answer.headers
    assert answer.headers["content-length"] == str(len(LARGE))
    assert sha(answer.content) == sha(LARGE)
    for name in FILE_HEADERS:
        assert answer.headers.get(name) == expected.headers.get(name), name
    assert not [name for name in answer.headers if name.startswith(("x-amz", "seaweed"))]


RANGES = [
    ("bytes=0-0", 0, 0),
    ("bytes=1048576-3145727", 1048576, 3145727),
    ("bytes=-10", len(LARGE) - 10, len(LARGE) - 1),
    ("bytes=3145000-", 3145000, len(LARGE) - 1),
]


def test_ranges_through_nginx_are_exact(deployment: Deployment) -> None:
    with httpx.Client(base_url=deployment.nginx) as client:
        for header, first, last in RANGES:
            answer = client.get(deployment.url(LARGE), headers={"Range": header})
            assert answer.status_code == 206, header
            assert answer.headers["content-range"] == f"bytes {first}-{last}/{len(LARGE)}"
            assert answer.content == LARGE[first : last + 1], header
            assert answer.headers["etag"] == f'"{sha(LARGE)}"'
        # A resumed download names our ETag; S3 knows only its own: the range still holds.
        resumed = client.get(
            deployment.url(LARGE), headers={"Range": "bytes=5-9", "If-Range": f'"{sha(LARGE)}"'}
        )
        assert (resumed.status_code, resumed.content) == (206, LARGE[5:10])
        # A partial copy of other bytes gets the whole file.
        other = client.get(
            deployment.url(LARGE), headers={"Range": "bytes=5-9", "If-Range": '"other"'}
        )
        assert (other.status_code, sha(other.content)) == (200, sha(LARGE))


def test_conditionals_and_bad_ranges_are_the_apps_answers(deployment: Deployment) -> None:
    with httpx.Client(base_url=deployment.nginx) as client:
        url = deployment.url(LARGE)
        cached = client.get(url, headers={"If-None-Match": f'"{sha(LARGE)}"'})
        assert (cached.status_code, cached.content) == (304, b"")
        past = client.get(url, headers={"Range": f"bytes={len(LARGE)}-"})
        assert past.status_code == 416
        assert past.json()["error"] == "range_not_satisfiable"
        head = client.head(url)
        assert head.status_code == 200
        assert head.headers["content-length"] == str(len(LARGE))
        several = client.get(url, headers={"Range": "bytes=0-1,5-6"})
        assert (several.status_code, sha(several.content)) == (200, sha(LARGE))


def test_s3_is_sent_the_signed_query_and_range_and_nothing_of_the_clients(
    deployment: Deployment,
) -> None:
    """A mirror sends its API key: S3 must see only the presigned query (AWS refuses a
    request with two kinds of authentication), and no condition on S3's own ETag."""
    headers = {
        **ADMIN,
        "Cookie": "session=1",
        "Range": "bytes=5-9",
        "If-Range": f'"{sha(LARGE)}"',
    }
    answer = httpx.get(deployment.nginx + deployment.url(LARGE), headers=headers)
    assert (answer.status_code, answer.content) == (206, LARGE[5:10])
    deadline = time.monotonic() + 10
    while not (seen := deployment.s3_requests()):
        assert time.monotonic() < deadline, "nginx logged no request to S3"
        time.sleep(0.05)
    (request,) = seen
    assert request["request"].startswith(f"GET /{deployment.settings.s3_bucket}/sha256/")
    assert "X-Amz-Signature=" in request["request"]
    assert request["host"] == urlsplit(deployment.settings.resolved_s3_endpoint).netloc
    assert request["range"] == "bytes=5-9"
    assert (request["authorization"], request["cookie"], request["if_range"]) == ("", "", "")


def test_bytes_missing_from_s3_are_a_503_not_s3s_error(deployment: Deployment) -> None:
    ObjectStore(deployment.settings).delete(sha(LARGE))
    answer = httpx.get(deployment.nginx + deployment.url(LARGE))
    assert answer.status_code == 503
    assert answer.json() == {
        "error": "service_unavailable",
        "detail": "object store: unreachable; try again shortly",
    }
    assert answer.headers["retry-after"] == "10"
    assert answer.headers["content-type"] == "application/json"
    assert "content-disposition" not in answer.headers
    assert "cache-control" not in answer.headers
    assert deployment.settings.s3_bucket not in answer.text

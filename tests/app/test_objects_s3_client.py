"""The store's S3 client where no live S3 is needed: signing with each kind of credentials,
and an S3 stand-in that fails midway.  (The real SeaweedFS: tests/app/test_objects_store.py.)"""

from __future__ import annotations

import hashlib
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from app.objects import store as store_module
from app.objects.store import ObjectStore, ObjectStoreError, content_key
from app.settings import Settings

SHA = hashlib.sha256(b"syllabus").hexdigest()
# The shapes of temporary credentials from AWS STS (made up).
TEMPORARY_KEY = "ASIAEXAMPLETEMPORARY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+example=="


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def presigned(settings: Settings) -> str:
    return ObjectStore(settings).presigned_get(
        SHA, file_name="讲义.pdf", media_type="application/pdf", expires=300
    )


def test_temporary_credentials_sign_urls_with_their_session_token() -> None:
    """STS credentials are refused by S3 unless their token travels with the signature."""
    settings = Settings(
        s3_access_key=TEMPORARY_KEY,
        s3_secret_key=SecretStr("temporary-secret"),
        s3_session_token=SecretStr(TOKEN),
    )
    signed = query(presigned(settings))
    assert signed["X-Amz-Security-Token"] == [TOKEN]
    assert signed["X-Amz-Credential"][0].startswith(f"{TEMPORARY_KEY}/")
    assert "X-Amz-Security-Token" not in query(presigned(Settings()))


def test_without_an_access_key_boto3_finds_the_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An instance or container role: no key in our settings, boto3's own chain finds one."""
    monkeypatch.setattr(store_module, "_SESSION", None)  # the chain is read once per session
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEMPORARY_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-environment")
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    signed = query(presigned(Settings(s3_access_key="")))
    assert signed["X-Amz-Credential"][0].startswith(f"{TEMPORARY_KEY}/")
    assert signed["X-Amz-Security-Token"] == [TOKEN]


def test_production_needs_no_secret_when_boto3_finds_the_credentials() -> None:
    with pytest.raises(ValueError, match="COURSEFED_S3_SECRET_KEY"):
        Settings(env="production", admin_token="a" * 40, meili_key="m" * 40)
    Settings(env="production", admin_token="a" * 40, meili_key="m" * 40, s3_access_key="")


def test_presigned_urls_have_the_settings_lifetime_type_and_name() -> None:
    settings = Settings(s3_public_endpoint="https://files.example.edu.cn")
    url = ObjectStore(settings).presigned_get(
        SHA, file_name="讲义.pdf", media_type="application/pdf", expires=77
    )
    assert url.startswith(f"https://files.example.edu.cn/{settings.s3_bucket}/{content_key(SHA)}?")
    signed = query(url)
    assert signed["X-Amz-Expires"] == ["77"]
    assert signed["response-content-type"] == ["application/pdf"]
    assert signed["response-content-disposition"] == [
        "inline; filename=\"download.pdf\"; filename*=UTF-8''%E8%AE%B2%E4%B9%89.pdf"
    ]


def test_urls_for_nginx_are_signed_for_the_s3_endpoint_itself() -> None:
    """nginx fetches them from S3 directly: the public endpoint is not the host signed."""
    settings = Settings(
        s3_endpoint="http://s3:8333", s3_public_endpoint="https://files.example.edu.cn"
    )
    url = ObjectStore(settings).presigned_get(
        SHA,
        file_name=None,
        media_type="video/mp4",
        expires=60,
        cache_control="public, max-age=86400",
        internal=True,
    )
    assert url.startswith(f"http://s3:8333/{settings.s3_bucket}/{content_key(SHA)}?")
    signed = query(url)
    assert signed["X-Amz-SignedHeaders"] == ["host"]
    assert signed["response-cache-control"] == ["public, max-age=86400"]
    assert signed["response-content-type"] == ["video/mp4"]


class CutShort:
    """An S3 stand-in: answers every GET with the headers of ``size`` bytes, sends ``sent``
    of them, then closes the connection."""

    def __init__(self, size: int, sent: int) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.size, self.sent = size, sent
        threading.Thread(target=self._answer, daemon=True).start()

    def _answer(self) -> None:
        with self.server:
            connection, _ = self.server.accept()
            with connection:
                connection.recv(65536)
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                    f"Content-Length: {self.size}\r\n\r\n"
                )
                connection.sendall(head.encode() + b"%" * self.sent)


def test_s3_closing_midway_is_an_error_not_a_short_file() -> None:
    cut = CutShort(size=3 * 1024 * 1024, sent=1024 * 1024)
    stream = ObjectStore(Settings(s3_endpoint=cut.endpoint)).open_range(SHA)
    assert stream.total == 3 * 1024 * 1024
    received = 0
    with pytest.raises(ObjectStoreError):
        for chunk in stream.chunks(65536):
            received += len(chunk)
    assert received == 1024 * 1024
    assert stream.closed

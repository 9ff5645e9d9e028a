"""Our own SigV4 presigner: byte for byte what botocore signs, and accepted by real S3."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import httpx
import pytest
from pydantic import SecretStr

from app.objects.http import content_disposition
from app.objects.presign import Presigner
from app.objects.store import ObjectStore, content_key
from app.settings import Settings
from tests.app.test_objects_store import remove_bucket

SHA = hashlib.sha256(b"syllabus").hexdigest()
NAME = "数据结构 第1讲 (final) ~'*.pdf"
AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def signer(settings: Settings, endpoint: str | None = None) -> Presigner:
    return Presigner(
        endpoint or settings.resolved_s3_endpoint,
        bucket=settings.s3_bucket,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
    )


def response_params(media_type: str | None) -> dict[str, str]:
    params = {"response-content-disposition": content_disposition(NAME, media_type, SHA)}
    if media_type:
        params["response-content-type"] = media_type
    return params


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8333",
        "https://files.example.edu.cn",
        "https://files.example.edu.cn:443/s3/",  # the scheme's port is not signed; a prefix is
        "http://[::1]:9000",
    ],
)
@pytest.mark.parametrize("media_type", ["application/pdf", None])
def test_urls_are_the_ones_botocore_signs(
    endpoint: str, media_type: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(s3_endpoint=endpoint, s3_region="cn-north-1")
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: AT.replace(tzinfo=None))
    client = ObjectStore(settings)._client
    theirs = client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.s3_bucket,
            "Key": content_key(SHA),
            "ResponseContentDisposition": content_disposition(NAME, media_type, SHA),
            **({"ResponseContentType": media_type} if media_type else {}),
        },
        ExpiresIn=300,
    )
    ours = signer(settings).url(
        content_key(SHA), expires=300, params=response_params(media_type), now=AT
    )
    mine, other = urlsplit(ours), urlsplit(theirs)
    assert (mine.scheme, mine.netloc, mine.path) == (other.scheme, other.netloc, other.path)
    # The same parameters and so the same signature; only their order in the URL differs.
    assert dict(parse_qsl(mine.query)) == dict(parse_qsl(other.query))
    assert ("X-Amz-Signature", dict(parse_qsl(other.query))["X-Amz-Signature"]) in parse_qsl(
        mine.query
    )


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:8333", "https://files.example.edu.cn:443/s3/"]
)
def test_puts_are_signed_as_botocore_signs_them(
    endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(s3_endpoint=endpoint, s3_region="cn-north-1")
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: AT.replace(tzinfo=None))
    body = b"%PDF-1.7 syllabus"
    digest = hashlib.sha256(body).hexdigest()
    path, headers = signer(settings).put_request(
        content_key(digest), sha256=digest, size=len(body), media_type="application/pdf", now=AT
    )
    origin = endpoint.rstrip("/").removesuffix("/s3")
    request = botocore.awsrequest.AWSRequest(
        method="PUT",
        url=origin.replace(":443", "") + path,
        data=body,
        headers={"Content-Type": "application/pdf", "Content-Length": str(len(body))},
    )
    credentials = botocore.credentials.Credentials(
        settings.s3_access_key, settings.s3_secret_key.get_secret_value()
    )
    botocore.auth.S3SigV4Auth(credentials, "s3", "cn-north-1").add_auth(request)
    assert headers["authorization"] == request.headers["Authorization"]
    assert headers["x-amz-content-sha256"] == request.headers["X-Amz-Content-SHA256"] == digest


def test_lifetimes_s3_refuses_are_refused_here() -> None:
    presigner = signer(Settings())
    for expires in (0, -5, 7 * 24 * 3600 + 1):
        with pytest.raises(ValueError, match="1 to 604800 seconds"):
            presigner.url(content_key(SHA), expires=expires)


def test_an_endpoint_must_be_an_http_url() -> None:
    for endpoint in ("127.0.0.1:8333", "ftp://files.example.edu.cn", "http://"):
        with pytest.raises(ValueError, match="not an http"):
            signer(Settings(), endpoint)


# --- against SeaweedFS ------------------------------------------------------------------------


@pytest.fixture
def stored(live_services: Settings) -> Iterator[tuple[Settings, bytes]]:
    """A bucket of this test's own holding one object, and that object's bytes."""
    settings = live_services.model_copy(update={"s3_bucket": f"presign-{uuid.uuid4().hex[:12]}"})
    store = ObjectStore(settings)
    store.ensure_bucket()
    data = b"%PDF-1.4 syllabus " + uuid.uuid4().bytes
    store.put_file(hashlib.sha256(data).hexdigest(), io.BytesIO(data), len(data), "text/plain")
    yield settings, data
    remove_bucket(settings)


@pytest.mark.services
def test_s3_serves_a_url_we_sign_with_our_name_and_type(stored: tuple[Settings, bytes]) -> None:
    settings, data = stored
    digest = hashlib.sha256(data).hexdigest()
    params = {
        "response-content-disposition": content_disposition(NAME, "application/pdf", digest),
        "response-content-type": "application/pdf",
    }
    answer = httpx.get(signer(settings).url(content_key(digest), expires=60, params=params))
    assert answer.status_code == 200, answer.text
    assert answer.content == data
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == params["response-content-disposition"]


@pytest.mark.services
def test_s3_refuses_an_expired_url(stored: tuple[Settings, bytes]) -> None:
    settings, data = stored
    key = content_key(hashlib.sha256(data).hexdigest())
    presigner = signer(settings)
    lapsed = presigner.url(key, expires=60, now=datetime.now(UTC) - timedelta(minutes=10))
    assert httpx.get(lapsed).status_code == 403
    alive = presigner.url(key, expires=900, now=datetime.now(UTC) - timedelta(minutes=10))
    assert httpx.get(alive).status_code == 200


@pytest.mark.services
def test_s3_refuses_a_tampered_url(stored: tuple[Settings, bytes]) -> None:
    settings, data = stored
    digest = hashlib.sha256(data).hexdigest()
    params = {"response-content-type": "text/plain"}
    url = signer(settings).url(content_key(digest), expires=60, params=params)
    assert httpx.get(url).status_code == 200
    for tampered in (
        url.replace("text%2Fplain", "text%2Fhtml"),  # a type we did not sign
        url.replace("X-Amz-Expires=60", "X-Amz-Expires=3600"),
        url.replace(content_key(digest), content_key(hashlib.sha256(b"other").hexdigest())),
        url[:-4] + ("0000" if not url.endswith("0000") else "1111"),  # the signature itself
    ):
        assert tampered != url
        assert httpx.get(tampered).status_code == 403, tampered


@pytest.mark.services
def test_s3_refuses_a_url_signed_with_another_secret(stored: tuple[Settings, bytes]) -> None:
    settings, data = stored
    wrong = settings.model_copy(update={"s3_secret_key": SecretStr("not-the-secret")})
    url = signer(wrong).url(content_key(hashlib.sha256(data).hexdigest()), expires=60)
    assert httpx.get(url).status_code == 403

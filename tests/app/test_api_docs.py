"""What the API publishes about itself: OpenAPI and the profile's JSON Schema."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

pytestmark = pytest.mark.services


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = {"/api/v1/search", "/api/v1/resources/{resource_id}", "/readyz"}
    assert paths <= set(spec["paths"])
    objects = spec["paths"]["/api/v1/objects/{sha256}"]
    assert {objects["get"]["operationId"], objects["head"]["operationId"]} == {
        "get_object",
        "head_object",
    }
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_profile_schema_is_published(client: TestClient) -> None:
    response = client.get("/api/v1/profile.schema.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/schema+json")
    schema = response.json()
    assert schema["title"] == "coursefed course-resource profile"
    for field in ("title", "education_level", "resource_type", "objects", "provenance"):
        assert field in schema["properties"]
    assert schema["required"] == ["id"]

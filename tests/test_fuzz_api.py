"""Every API operation fuzzed from our own OpenAPI schema (schemathesis), in process.

The app runs on real Meilisearch and S3 with a harvested source and a stored file, so
requests reach real rows as well as missing ones.  Each operation gets a bounded number
of generated requests (random values, and the real ids of the data), with the admin
token; every response must be no 5xx and match what the schema declares for its status.
Generation is derandomized, so a run is repeatable.  Source registrations are pointed at
a demo repository on loopback: a fuzzer must never make the app call out to arbitrary
addresses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.demo.corpus import generate_corpus
from app.demo.server import DemoRepositoryServer
from app.jobs import run_harvest
from app.main import create_app
from app.settings import Settings
from app.sources import service as sources

pytestmark = pytest.mark.services

ADMIN = {"Authorization": f"Bearer {Settings().admin_token.get_secret_value()}"}
PDF = b"%PDF-1.4\n" + b"fuzz" * 64 + b"\n%%EOF\n"
EXAMPLES = 25  # per operation and kind: the whole test stays around a minute
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_request_makes_a_server_error_or_breaks_its_schema(
    live: Settings, live_engine: Engine
) -> None:
    with DemoRepositoryServer(generate_corpus(12)) as repository:
        with session_scope(live_engine) as session:
            source = sources.add_source(
                session, slug="demo", base_url=repository.base_url, allow_private_network=True
            )
            source_id = source.id
        assert source_id is not None
        assert run_harvest(live_engine, live, source_id).status == "succeeded"
        app = create_app(live)
        with TestClient(app) as client:
            uploaded = client.post(
                "/api/v1/sources/demo/objects",
                files={"file": ("notes.pdf", PDF, "application/pdf")},
                headers=ADMIN,
            )
            assert uploaded.status_code == 201, uploaded.text
            resource_id = client.get("/api/v1/changes?since=0&limit=1").json()["entries"][0]["id"]
        known = {
            "resource_id": resource_id,
            "reference": "demo",
            "sha256": hashlib.sha256(PDF).hexdigest(),
        }
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        failures: list[str] = []
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15
        for operation in operations:
            own = {name: value for name, value in known.items() if f"{{{name}}}" in operation.path}
            strategy = operation.as_strategy()
            if own:
                strategy = st.one_of(strategy, operation.as_strategy(path_parameters=own))
            try:
                exercise(strategy, lambda case: send(case, repository.base_url))
            except Exception as exc:  # every operation is tried; all failures are reported
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
        assert not failures, "\n\n".join(failures)


def exercise(strategy: st.SearchStrategy[Any], call: Callable[[Any], None]) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        call(case)

    run()


def send(case: Any, repository_url: str) -> None:
    registers = case.operation.method.upper() == "POST" and case.operation.path == "/api/v1/sources"
    if registers and isinstance(case.body, dict):
        # Only ever our loopback demo repository (and allowed as such).
        case.body = {**case.body, "base_url": repository_url, "allow_private_network": True}
    case.call_and_validate(headers=ADMIN, checks=CHECKS)

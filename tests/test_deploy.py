"""docker-compose.yml runs the scaled-out topology of docs/deploy.md, and agrees with
deploy/nginx.conf and the coursefed command line.

Read as YAML: ``docker compose config`` needs Docker, which CI does not have.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def test_every_part_runs_as_a_service_of_its_own(compose: dict[str, Any]) -> None:
    assert set(_services(compose)) == {
        "migrate", "coursefed", "worker", "nginx", "postgres", "meilisearch", "redis",
        "seaweed-master", "seaweed-volume-1", "seaweed-volume-2", "seaweed-filer", "s3",
    }  # fmt: skip


def test_apps_and_workers_are_replicated_and_parse_as_coursefed_commands(
    compose: dict[str, Any],
) -> None:
    services = _services(compose)
    for name in ("coursefed", "worker"):
        assert "replicas" in services[name]["deploy"], name
    parser = cli.build_parser()
    serve = parser.parse_args(
        [
            part.replace("${COURSEFED_HTTP_WORKERS:-2}", "2")
            for part in services["coursefed"]["command"][1:]
        ]
    )
    assert serve.handler is cli.cmd_serve
    assert serve.no_scheduler, "background work belongs to the workers"
    assert serve.workers == 2
    worker = parser.parse_args(services["worker"]["command"][1:])
    assert worker.handler is cli.cmd_worker and not worker.once


def test_the_schema_is_migrated_once_before_apps_and_workers_start(
    compose: dict[str, Any],
) -> None:
    services = _services(compose)
    assert services["migrate"]["command"] == ["coursefed", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    for name in ("coursefed", "worker"):
        needs = services[name]["depends_on"]["migrate"]
        assert needs == {"condition": "service_completed_successfully"}, name


def test_every_process_shares_one_database_index_store_and_rate_limit(
    compose: dict[str, Any],
) -> None:
    services = _services(compose)
    environments = {
        name: services[name]["environment"] for name in ("migrate", "coursefed", "worker")
    }
    first = environments["migrate"]
    for env in environments.values():
        assert {name: env[name] for name in first} == first
    assert "@postgres:5432/" in first["COURSEFED_DATABASE_URL"]
    assert first["COURSEFED_MEILI_URL"] == "http://meilisearch:7700"
    assert first["COURSEFED_REDIS_URL"].startswith("redis://redis:")
    assert first["COURSEFED_S3_ENDPOINT"] == "http://s3:8333"


def test_nginx_sends_requests_to_the_app_replicas_and_files_from_s3(
    compose: dict[str, Any],
) -> None:
    site = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    servers = dict(re.findall(r"upstream (\w+) \{\s*server ([\w.-]+:\d+);", site))
    services = _services(compose)
    app_host, app_port = servers["coursefed_app"].split(":")
    assert app_host in services and f"{app_port}" in services[app_host]["expose"]
    s3_host, s3_port = servers["coursefed_s3"].split(":")
    assert s3_host in services and f"-port={s3_port}" in services[s3_host]["command"]


def test_each_seaweed_volume_server_keeps_its_own_storage(compose: dict[str, Any]) -> None:
    services = _services(compose)
    volumes = [name for name in services if name.startswith("seaweed-volume-")]
    assert len(volumes) >= 2
    mounts = [services[name]["volumes"][0].split(":")[0] for name in volumes]
    assert len(set(mounts)) == len(volumes)
    for name in volumes:
        assert f"-ip={name}" in services[name]["command"], "each registers under its own name"
    assert "-defaultReplication=001" in services["seaweed-master"]["command"]
    assert set(mounts) <= set(compose["volumes"])


def test_the_http_processes_of_a_replica_count_metrics_together(compose: dict[str, Any]) -> None:
    """prometheus-client's multiprocess mode wants a directory emptied before the processes
    start: a tmpfs is empty whenever its container starts."""
    app = _services(compose)["coursefed"]
    assert app["environment"]["PROMETHEUS_MULTIPROC_DIR"] in app["tmpfs"]

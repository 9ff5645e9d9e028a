"""Meilisearch as a managed service: its command line, environment and health check."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.services.base import LOOPBACK, ManagedService, Port, http_failure, inherited_environment
from app.services.binaries import find_meilisearch


class Meilisearch(ManagedService):
    """The search engine, on loopback, with our master key (passed in its environment)."""

    name = "meilisearch"
    title = "Meilisearch"
    external_setting = "COURSEFED_MEILI_URL"

    @property
    def managed(self) -> bool:
        return self.settings.meili_managed

    @property
    def url(self) -> str:
        return self.settings.resolved_meili_url

    def ports(self) -> list[Port]:
        return [Port(self.settings.meili_port, "Meilisearch HTTP", "COURSEFED_MEILI_PORT")]

    def find_binary(self) -> Path:
        return find_meilisearch(self.settings)

    def command(self, binary: Path) -> list[str]:
        return [
            str(binary),
            "--db-path",
            str(self.data_dir / "data.ms"),
            "--dump-dir",
            str(self.data_dir / "dumps"),
            "--snapshot-dir",
            str(self.data_dir / "snapshots"),
            "--http-addr",
            f"{LOOPBACK}:{self.settings.meili_port}",
            "--env",
            self.settings.env,
            "--no-analytics",
        ]

    def environment(self) -> dict[str, str]:
        # Meilisearch reads every option from MEILI_* too; stray ones must not change it.
        env = inherited_environment(drop_prefixes=("MEILI_",))
        env["MEILI_MASTER_KEY"] = self.settings.meili_key.get_secret_value()
        return env

    def probe(self, http: httpx.Client) -> str | None:
        key = self.settings.meili_key.get_secret_value()
        try:
            health = http.get(f"{self.url}/health")
            body = health.json() if health.status_code == 200 else None
            if not isinstance(body, dict) or body.get("status") != "available":
                return f"/health answered {health.status_code} {health.text[:120]!r}"
            version = http.get(f"{self.url}/version", headers={"Authorization": f"Bearer {key}"})
        except httpx.HTTPError as exc:
            return f"does not answer on {self.url} ({http_failure(exc)})"
        except ValueError:
            return "/health did not answer JSON"
        if version.status_code in {401, 403}:
            return (
                "answers, but rejects COURSEFED_MEILI_KEY (it was started with another key): "
                "run `coursefed services down`, then `up`"
            )
        if version.status_code != 200:
            return f"/version answered {version.status_code}"
        return None

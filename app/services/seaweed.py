"""SeaweedFS (`weed mini`) as the managed S3 service, and the bucket coursefed needs in it."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from app.objects.store import ObjectStore, ObjectStoreError
from app.services.base import LOOPBACK, ManagedService, Port, http_failure, inherited_environment
from app.services.binaries import find_weed
from app.services.errors import ServiceStartError
from app.settings import Settings

# SeaweedFS binds a gRPC port at each HTTP port + 10000.
GRPC_OFFSET = 10000
# sun_path holds 108 bytes with its NUL; past that SeaweedFS keeps its sockets in /tmp.
_MAX_SOCKET_PATH = 100
_SEAWEED_SOCKET_DIR = Path("/tmp")  # noqa: S108 - where SeaweedFS itself puts them, fixed


class SeaweedS3(ManagedService):
    """All of SeaweedFS in one process, loopback only; its S3 accepts only our credentials."""

    name = "s3"
    title = "SeaweedFS S3"
    external_setting = "COURSEFED_S3_ENDPOINT"

    @property
    def managed(self) -> bool:
        return self.settings.s3_managed

    @property
    def url(self) -> str:
        return self.settings.resolved_s3_endpoint

    def ports(self) -> list[Port]:
        s = self.settings
        ports: list[Port] = []
        for number, role, setting in (
            (s.weed_master_port, "SeaweedFS master", "COURSEFED_WEED_MASTER_PORT"),
            (s.weed_volume_port, "SeaweedFS volume", "COURSEFED_WEED_VOLUME_PORT"),
            (s.weed_filer_port, "SeaweedFS filer", "COURSEFED_WEED_FILER_PORT"),
            (s.s3_port, "SeaweedFS S3", "COURSEFED_S3_PORT"),
            (s.weed_admin_port, "SeaweedFS admin", "COURSEFED_WEED_ADMIN_PORT"),
        ):
            ports.append(Port(number, role, setting))
            ports.append(
                Port(
                    number + GRPC_OFFSET,
                    f"{role} gRPC",
                    f"{setting} (its gRPC port is that + {GRPC_OFFSET})",
                )
            )
        return ports

    def find_binary(self) -> Path:
        return find_weed(self.settings)

    def command(self, binary: Path) -> list[str]:
        s = self.settings
        argv = [
            str(binary),
            # glog would otherwise also write a file per run into /tmp; one log is enough.
            "-logtostderr",
            "mini",
            f"-dir={self.data_dir}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            f"-master.port={s.weed_master_port}",
            f"-volume.port={s.weed_volume_port}",
            f"-filer.port={s.weed_filer_port}",
            f"-s3.port={s.s3_port}",
            f"-admin.port={s.weed_admin_port}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
        ]
        # By default these sockets go to /tmp/seaweedfs-*-PORT.sock and the S3 one is left
        # behind on exit; inside the data dir they are ours and go away with it.
        if len(str(self.data_dir / "filer.sock")) <= _MAX_SOCKET_PATH:
            argv += [
                f"-filer.localSocket={self.data_dir / 'filer.sock'}",
                f"-s3.localSocket={self.data_dir / 's3.sock'}",
            ]
        return argv

    def environment(self) -> dict[str, str]:
        # `weed mini` turns AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY into its only S3 identity.
        # Without one it accepts any request, signed or not; with ours, only our clients get in.
        env = inherited_environment(drop_prefixes=("AWS_", "S3_BUCKET"))
        env["AWS_ACCESS_KEY_ID"] = self.settings.s3_access_key
        env["AWS_SECRET_ACCESS_KEY"] = self.settings.s3_secret_key.get_secret_value()
        return env

    def probe(self, http: httpx.Client) -> str | None:
        try:
            response = http.get(f"{self.url}/healthz")
        except httpx.HTTPError as exc:
            return f"does not answer on {self.url} ({http_failure(exc)})"
        if response.status_code != 200:
            return f"/healthz answered {response.status_code}"
        return None

    def after_ready(self) -> None:
        ensure_bucket(self.settings)

    def after_stop(self) -> None:
        # Its gRPC sockets are always /tmp/seaweedfs-NAME-grpc-PORT.sock, and some outlive a
        # clean exit.  Remove only ours (by port) that nothing listens on any more.
        for port in self.ports():
            for path in _SEAWEED_SOCKET_DIR.glob(f"seaweedfs-*-{port.number}.sock"):
                if not _unix_socket_listening(path):
                    path.unlink(missing_ok=True)


def ensure_bucket(settings: Settings) -> None:
    """Create ``settings.s3_bucket`` unless it exists (S3's errors become ``ServiceStartError``)."""
    try:
        ObjectStore(settings, connect_timeout=5).ensure_bucket()
    except ObjectStoreError as exc:
        raise ServiceStartError(f"S3 is up, but {exc}") from exc


def _unix_socket_listening(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True

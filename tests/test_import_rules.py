"""Imports flow one way: harvest → normalise → app (read from the source with ``ast``).

* ``metadata/`` imports nothing of ours but ``metadata`` itself, and no library that
  does I/O: it is pure functions from parsed records to the profile.
* ``harvesters/`` may import ``metadata/``, never ``app/``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
OUR_PACKAGES = {"app", "harvesters", "metadata", "migrations", "tests", "bench"}
ALLOWED = {"metadata": {"metadata"}, "harvesters": {"harvesters", "metadata"}}
# Libraries that talk to the network, disks or databases: not for pure mapping code.
IO_LIBRARIES = {
    "boto3", "botocore", "fastapi", "httpx", "psycopg", "requests", "socket", "sqlalchemy",
    "sqlmodel", "subprocess", "urllib.request", "harvesters",
}  # fmt: skip


def imported_modules(path: Path, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    # ``pkg/__init__.py`` counts as a module inside ``pkg``: ``from . import x`` is pkg.x.
    module_parts = [package, *path.relative_to(REPO_ROOT / package).with_suffix("").parts]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_parts[: len(module_parts) - node.level]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            yield node.lineno, name


def violations(package: str) -> list[str]:
    found = []
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        for line, name in imported_modules(path, package):
            top = name.split(".")[0]
            where = f"{path.relative_to(REPO_ROOT)}:{line} imports {name}"
            if top in OUR_PACKAGES and top not in ALLOWED[package]:
                found.append(where)
            if package == "metadata" and any(
                name == lib or name.startswith(lib + ".") for lib in IO_LIBRARIES
            ):
                found.append(where + " (metadata does no I/O)")
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_flow_one_way(package: str) -> None:
    assert (REPO_ROOT / package).is_dir()
    assert violations(package) == []


def test_the_rule_catches_a_forbidden_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "metadata"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "bad.py").write_text(
        "from harvesters.xml import parse_xml\nfrom . import profile\nimport app.db\n"
    )
    monkeypatch.setattr(f"{__name__}.REPO_ROOT", tmp_path)
    assert violations("metadata") == [
        "metadata/bad.py:1 imports harvesters.xml",
        "metadata/bad.py:1 imports harvesters.xml (metadata does no I/O)",
        "metadata/bad.py:3 imports app.db",
    ]

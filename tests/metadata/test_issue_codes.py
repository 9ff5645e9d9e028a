"""Every issue code a reader or validation can emit has words for colleges, in both languages."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from metadata.issue_codes import ISSUE_CODES, issue_code
from metadata.urls import URL_NOT_HTTP

REPO_ROOT = Path(__file__).resolve().parents[2]


def emitted_codes() -> Iterator[tuple[str, str, str]]:
    """(code, severity, where) of every ``Issue(code=..., severity=...)`` and reader
    ``warn("code", ...)`` written in our source with literal values."""
    for package in ("metadata", "app"):
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                where = f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
                func = node.func
                if isinstance(func, ast.Name) and func.id == "Issue":
                    values = {k.arg: k.value for k in node.keywords}
                    code, severity = values.get("code"), values.get("severity")
                    if isinstance(severity, ast.Constant):
                        if isinstance(code, ast.Constant):
                            yield str(code.value), str(severity.value), where
                        elif isinstance(code, ast.Name) and code.id == "URL_NOT_HTTP":
                            yield URL_NOT_HTTP, str(severity.value), where
                elif (
                    isinstance(func, ast.Attribute)
                    and func.attr == "warn"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    yield node.args[0].value, "warning", where


def test_every_emitted_code_is_explained_with_its_severity() -> None:
    found = list(emitted_codes())
    assert len(found) > 15, "the scan must find the readers' and validation's issues"
    for code, severity, where in found:
        explained = ISSUE_CODES.get(code)
        assert explained is not None, f"{where}: {code!r} has no entry in ISSUE_CODES"
        assert explained.severity == severity, f"{where}: {code!r} is a {severity}"


def test_every_entry_says_what_it_means_and_how_to_fix_it_in_both_languages() -> None:
    for code, entry in ISSUE_CODES.items():
        assert entry.code == code
        for text in (entry.meaning_zh, entry.meaning_en, entry.fix_zh, entry.fix_en):
            assert text and text.strip(), f"{code} lacks words"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in entry.meaning_zh or ""), code


def test_an_unknown_code_has_no_words_and_no_severity() -> None:
    unknown = issue_code("from_a_newer_upstream")
    assert unknown.code == "from_a_newer_upstream"
    assert unknown.severity is None and unknown.meaning_en is None

"""``coursefed normalize``: what a college sees before asking to be harvested."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.demo.corpus import generate_corpus
from app.demo.repository import DemoRepository
from app.demo.xml import render_lom, to_bytes
from tests.conftest import CommandLine, Ran

COURSEFED = str(Path(sys.executable).with_name("coursefed"))


ENV = {"COURSEFED_DATA_DIR": "/nonexistent-not-needed"}


def normalize_process(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    """The real command, reading a pipe on its stdin."""
    return subprocess.run(
        [COURSEFED, "normalize", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, **ENV},
    )


@pytest.fixture
def normalize(coursefed: CommandLine) -> Callable[..., Ran]:
    """``coursefed normalize ARGS``, run in this process."""
    return lambda *args: coursefed("normalize", *args, env=ENV)


@pytest.fixture(scope="module")
def corpus_page() -> bytes:
    repository = DemoRepository(generate_corpus(40), "http://demo.example/oai", page_size=40)
    return repository.handle({"verb": ["ListRecords"], "metadataPrefix": ["lom"]})


def test_a_page_of_lom_records_prints_profile_json_and_issues(
    corpus_page: bytes, tmp_path: Path, normalize: Callable[..., Ran]
) -> None:
    page = tmp_path / "page.xml"
    page.write_bytes(corpus_page)
    result = normalize(str(page))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    records = report["records"]
    assert report["summary"]["records"] == 40 == len(records)
    deleted = [r for r in records if r.get("deleted")]
    assert (
        report["summary"]["deleted"]
        == len(deleted)
        == sum(1 for r in generate_corpus(40) if r.deleted)
    )
    first = next(r for r in records if not r.get("deleted"))
    assert first["identifier"].startswith("oai:demo.coursefed.example:")
    assert first["record"]["title"]
    assert 0 <= first["quality_score"] <= 1
    assert isinstance(first["missing_recommended"], list)
    assert isinstance(first["issues"], list)


def test_a_bare_record_with_an_explicit_format(
    tmp_path: Path, normalize: Callable[..., Ran]
) -> None:
    record = tmp_path / "lom.xml"
    record.write_bytes(to_bytes(render_lom(generate_corpus(1)[0])))
    result = normalize(str(record), "--format", "lom")
    assert result.returncode == 0, result.stderr
    (only,) = json.loads(result.stdout)["records"]
    assert only["record"]["title"] == {"zh": "计算机科学导论"}


def test_a_record_without_title_exits_1(tmp_path: Path, normalize: Callable[..., Ran]) -> None:
    record = tmp_path / "dc.xml"
    record.write_text(
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject>0812</dc:subject></oai_dc:dc>',
        encoding="utf-8",
    )
    result = normalize(str(record))
    assert result.returncode == 1
    issues = json.loads(result.stdout)["records"][0]["issues"]
    assert {"severity": "error", "code": "missing_title"}.items() <= issues[0].items()


def test_stdin_and_unreadable_input(tmp_path: Path, normalize: Callable[..., Ran]) -> None:
    result = normalize_process("-", stdin=b"<not-closed>")
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    assert result.stderr.startswith(b"coursefed: error:")
    missing = normalize(str(tmp_path / "missing.xml"))
    assert missing.returncode == 1
    assert "No such file" in missing.stderr


def test_an_unknown_format_is_refused(tmp_path: Path, normalize: Callable[..., Ran]) -> None:
    record = tmp_path / "mods.xml"
    record.write_text('<mods xmlns="http://www.loc.gov/mods/v3"><titleInfo/></mods>')
    result = normalize(str(record))
    assert result.returncode == 1
    issue = json.loads(result.stdout)["records"][0]["issues"][0]
    assert issue["code"] == "unsupported_format"


def test_format_must_be_one_we_read(tmp_path: Path, normalize: Callable[..., Ran]) -> None:
    result = normalize(str(tmp_path / "x.xml"), "--format", "marc21")
    assert result.returncode == 2
    assert "invalid choice: 'marc21'" in result.stderr

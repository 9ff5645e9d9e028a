"""The demo repository's stand-in course files: real types, served over HTTP."""

from __future__ import annotations

import httpx
import pytest

from app.demo.corpus import generate_corpus
from app.demo.files import demo_file
from app.demo.server import DemoRepositoryServer
from app.objects.sniff import is_allowed, sniff


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/files/00012/reading.pdf", "application/pdf"), ("/files/7/lecture.mp4", "video/mp4")],
)
def test_demo_files_are_what_they_claim(path: str, media_type: str) -> None:
    found = demo_file(path)
    assert found is not None
    data, declared = found
    assert declared == media_type
    assert sniff(data, declared, complete=True).media_type == media_type
    assert is_allowed(media_type)
    assert demo_file(path) == found, "the same path always serves the same bytes"


def test_a_demo_pdf_is_well_formed() -> None:
    found = demo_file("/files/1/slides.pdf")
    assert found is not None
    data = found[0]
    assert data.startswith(b"%PDF-1.4\n") and data.endswith(b"%%EOF\n")
    start = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert data[start:].startswith(b"xref\n"), "startxref points at the cross-reference table"


def boxes(data: bytes) -> list[bytes]:
    """The types of an ISO base media file's top-level boxes, checking their sizes add up."""
    types, offset = [], 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        assert size >= 8, f"box at {offset} has size {size}"
        types.append(data[offset + 4 : offset + 8])
        offset += size
    assert offset == len(data), "the last box ends where the file ends"
    return types


def test_a_demo_video_is_a_whole_mp4_distinct_per_course() -> None:
    first, second = demo_file("/files/1/lecture.mp4"), demo_file("/files/2/lecture.mp4")
    assert first is not None and second is not None
    assert boxes(first[0]) == [b"ftyp", b"moov", b"free", b"mdat", b"free"]
    assert first[0].index(b"moov") < first[0].index(b"mdat"), "index first: plays while loading"
    assert first[0] != second[0]


def test_other_paths_are_not_files() -> None:
    assert demo_file("/files/1/setup.exe") is None
    assert demo_file("/oai") is None


def test_the_server_serves_files_only_when_asked() -> None:
    records = generate_corpus(3)
    with DemoRepositoryServer(records, serve_files=True) as server:
        origin = server.base_url.removesuffix("/oai")
        answer = httpx.get(f"{origin}/files/1/lecture.mp4")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "video/mp4"
        assert answer.content[4:8] == b"ftyp"
    with DemoRepositoryServer(records) as server:
        origin = server.base_url.removesuffix("/oai")
        assert httpx.get(f"{origin}/files/1/lecture.mp4").status_code == 404

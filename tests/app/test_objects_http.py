"""Byte ranges, ETags and Content-Disposition for served files: pure header logic."""

from __future__ import annotations

import pytest

from app.objects.http import (
    ByteRange,
    Unsatisfiable,
    ascii_file_name,
    content_disposition,
    default_file_name,
    etag_matches,
    parse_range,
)

SHA = "ab" * 32


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-9", 100, ByteRange(0, 9)),
        ("bytes=90-", 100, ByteRange(90, 99)),
        ("bytes=-5", 100, ByteRange(95, 99)),
        ("bytes=-500", 100, ByteRange(0, 99)),
        ("bytes=50-5000", 100, ByteRange(50, 99)),
        ("BYTES=1-1", 100, ByteRange(1, 1)),
        (" bytes = 1 - 2 ", 100, ByteRange(1, 2)),
        (None, 100, None),
        ("", 100, None),
        ("bytes=0-1, 4-5", 100, None),  # several ranges: the whole file
        ("bytes=5-1", 100, None),  # backwards: ignored
        ("bytes=-", 100, None),
        ("lines=0-1", 100, None),
        ("bytes=0x10-20", 100, None),
        ("bytes=" + "9" * 40 + "-", 100, None),  # absurd digits: ignored, not a crash
    ],
)
def test_parse_range(header: str | None, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),
        ("bytes=100-200", 100),
        ("bytes=-0", 100),
        ("bytes=0-", 0),
        ("bytes=-1", 0),
    ],
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, size)


def test_content_range() -> None:
    assert ByteRange(95, 99).content_range(100) == "bytes 95-99/100"
    assert ByteRange(95, 99).length == 5


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (f'"{SHA}"', True),
        (f'W/"{SHA}"', True),
        (f'"x", "{SHA}"', True),
        ("*", True),
        ('"x"', False),
        (SHA, False),  # an entity tag is quoted
        (None, False),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert etag_matches(header, f'"{SHA}"') is matches


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("notes.pdf", "notes.pdf"),
        ("Café résumé.pdf", "Cafe resume.pdf"),
        ("讲义.pdf", "download.pdf"),
        ("讲义", "download"),
        ('quote" back\\slash;semi,comma%.pdf', "quote_ back_slash_semi_comma_.pdf"),
        ("ﬁle.txt", "file.txt"),  # compatibility ligature folded
    ],
)
def test_ascii_fallback_name(name: str, fallback: str) -> None:
    assert ascii_file_name(name) == fallback


def test_content_disposition_carries_both_names() -> None:
    header = content_disposition("第1讲 课件.pdf", "application/pdf", SHA)
    assert header == (
        "inline; filename=\"1.pdf\"; filename*=UTF-8''%E7%AC%AC1%E8%AE%B2%20%E8%AF%BE%E4%BB%B6.pdf"
    )
    assert header.isascii()


@pytest.mark.parametrize(
    ("media_type", "kind"),
    [
        ("application/pdf", "inline"),
        ("video/mp4", "inline"),
        ("audio/mpeg", "inline"),
        ("image/png", "inline"),
        ("text/plain; charset=utf-8", "inline"),
        ("text/html", "attachment"),
        ("image/svg+xml", "attachment"),
        ("application/zip", "attachment"),
        (None, "attachment"),
    ],
)
def test_only_inert_types_are_shown_in_place(media_type: str | None, kind: str) -> None:
    assert content_disposition("f", media_type, SHA).startswith(f"{kind}; ")


def test_unnamed_bytes_are_named_by_hash_and_type() -> None:
    assert default_file_name(SHA, "application/pdf") == f"{SHA[:16]}.pdf"
    assert default_file_name(SHA, None) == SHA[:16]
    assert 'filename="abababababababab.pdf"' in content_disposition(None, "application/pdf", SHA)

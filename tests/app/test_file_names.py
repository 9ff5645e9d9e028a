"""The one file-name sanitiser, and the names read from Content-Disposition headers and URLs.

Names come from colleges' servers (downloads), browsers (uploads) and records (declared
names, sent back in our own Content-Disposition): all of them pass the same rules.
"""

from __future__ import annotations

import httpx
import pytest

from app.filenames import (
    MAX_BYTES,
    clean_file_name,
    file_name_from_disposition,
    file_name_from_url,
)
from app.objects.http import content_disposition

SHA = "ab" * 32


# --- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("notes.pdf", "notes.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\li\\Desktop\\notes.pdf", "notes.pdf"),
        ("uploads/2024/", None),
        ("..\\..\\boot.ini", "boot.ini"),
    ],
)
def test_path_separators_leave_the_last_segment_only(sent: str, kept: str | None) -> None:
    assert clean_file_name(sent) == kept


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("a\x00b\r\n.pdf", "ab.pdf"),
        ("tab\there.txt", "tabhere.txt"),
        ("bell\x07\x1b[31m.txt", "bell[31m.txt"),  # no terminal escapes either
        ("line\u2028break.txt", "linebreak.txt"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("\ufeffbom.txt", "bom.txt"),
    ],
)
def test_control_and_invisible_characters_are_removed(sent: str, kept: str) -> None:
    assert clean_file_name(sent) == kept


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("report\u202egpj.exe", "reportgpj.exe"),  # shows as "reportexe.jpg"
        ("invoice\u202dfdp.scr", "invoicefdp.scr"),
        ("\u2067photo\u2069.exe", "photo.exe"),  # isolates
        ("a\u200fb\u200e.txt", "ab.txt"),  # right-to-left and left-to-right marks
    ],
)
def test_bidirectional_overrides_cannot_disguise_an_extension(sent: str, kept: str) -> None:
    assert clean_file_name(sent) == kept


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("Nul.tar.gz", "_Nul.tar.gz"),
        ("COM1.pdf", "_COM1.pdf"),
        ("lpt9", "_lpt9"),
        ("COM¹.txt", "_COM¹.txt"),
        ("AUX .pdf", "_AUX .pdf"),
        ("console.txt", "console.txt"),
        ("CONTRACT.pdf", "CONTRACT.pdf"),
        ("COM10.pdf", "COM10.pdf"),
        ("notes.pdf.", "notes.pdf"),  # Windows drops trailing dots and spaces
        ("notes.pdf . ", "notes.pdf"),
    ],
)
def test_windows_device_names_and_trailing_dots(sent: str, kept: str) -> None:
    assert clean_file_name(sent) == kept


@pytest.mark.parametrize(
    "sent", [None, "", " ", "  ..  ", ".", "..", "/", "a/", "\u202e", "\x00\x01", "\u3000.\u3000"]
)
def test_nothing_left_is_no_name(sent: str | None) -> None:
    assert clean_file_name(sent) is None


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("第一章 导论.pdf", "第一章 导论.pdf"),
        ("课件（第2版）.pptx", "课件（第2版）.pptx"),
        ("Café résumé.docx", "Café résumé.docx"),
        ("Cafe\u0301.txt", "Café.txt"),  # NFC: one é, whichever way it was sent
        ("محاضرة.pdf", "محاضرة.pdf"),  # right-to-left letters are letters, not overrides
        (".htaccess", "htaccess"),  # no hidden files
        ("  spaced.pdf  ", "spaced.pdf"),
        ("Lecture 1: intro?.pdf", "Lecture 1: intro?.pdf"),  # the browser adapts these on save
    ],
)
def test_names_in_any_script_are_kept(sent: str, kept: str) -> None:
    assert clean_file_name(sent) == kept


def test_long_names_are_cut_to_what_file_systems_take_keeping_the_extension() -> None:
    ascii_name = clean_file_name("x" * 400 + ".pdf")
    assert ascii_name == "x" * (MAX_BYTES - 4) + ".pdf"
    chinese = clean_file_name("长" * 400 + ".mp4")
    assert chinese is not None
    assert len(chinese.encode()) <= MAX_BYTES
    assert chinese == "长" * 83 + ".mp4"  # 249 + 4 bytes: a character is never cut in half
    no_extension = clean_file_name("x" * 300 + "." + "y" * 40)
    assert no_extension is not None and len(no_extension) == MAX_BYTES
    assert no_extension.startswith("x")
    assert clean_file_name("长" * 85) == "长" * 85  # exactly 255 bytes: kept whole


# --- where names come from ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('attachment; filename="lecture 1.pdf"', "lecture 1.pdf"),
        ("attachment; filename=slides.pptx", "slides.pptx"),
        (
            "attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%E8%AF%BE%E4%BB%B6.pdf",
            "课件.pdf",
        ),
        ("attachment; filename*=utf-8'zh'%E7%AC%AC%E4%B8%80%E7%AB%A0.docx", "第一章.docx"),
        ("attachment; filename*=iso-8859-1''caf%E9.txt", "café.txt"),
        ('attachment; filename="a \\"quoted\\" name.pdf"', 'a "quoted" name.pdf'),
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\\\Windows\\\\evil.exe"', "evil.exe"),
        ('attachment; filename=".htaccess"', "htaccess"),
        ("attachment; filename*=UTF-8''report%E2%80%AEfdp.exe", "reportfdp.exe"),
        ('attachment; filename="CON.pdf"', "_CON.pdf"),
        ("attachment", None),
        ('attachment; filename=""', None),
        ("inline; name=x", None),
    ],
)
def test_file_name_from_content_disposition(header: str, expected: str | None) -> None:
    assert file_name_from_disposition(header) == expected


def test_percent_encoded_utf8_in_plain_filename_is_decoded() -> None:
    # Servers that cannot send UTF-8 headers percent-encode the name in filename= itself.
    header = 'attachment; filename="%E8%AF%BE%E4%BB%B6.pdf"'
    assert file_name_from_disposition(header) == "课件.pdf"
    assert file_name_from_disposition('attachment; filename="100%25 done.pdf"') == (
        "100%25 done.pdf"  # ASCII after decoding: not the quirk, keep as sent
    )


def test_rfc2047_encoded_word_in_filename_is_decoded() -> None:
    header = 'attachment; filename="=?UTF-8?B?6K++5Lu2LnBkZg==?="'
    assert file_name_from_disposition(header) == "课件.pdf"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/files/%E8%AF%BE%E4%BB%B6%201.pdf?download=1#page=2", "课件 1.pdf"),
        ("http://h/files/notes.pdf", "notes.pdf"),
        ("http://h/files/", None),
        ("http://h/", None),
        ("http://h/a/..%2F..%2Fetc%2Fpasswd", "passwd"),
        ("http://h/a/%00evil%0A.txt", "evil.txt"),
        ("http://h/a/nul.txt", "_nul.txt"),
    ],
)
def test_file_name_from_url(url: str, expected: str | None) -> None:
    assert file_name_from_url(httpx.URL(url)) == expected


def test_a_name_a_record_declared_is_cleaned_before_we_send_it() -> None:
    header = content_disposition("../slides\u202eexe.pdf", "application/pdf", SHA)
    assert header == "inline; filename=\"slidesexe.pdf\"; filename*=UTF-8''slidesexe.pdf"
    unnamed = content_disposition("\u202e", "application/pdf", SHA)
    assert 'filename="abababababababab.pdf"' in unnamed

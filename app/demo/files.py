"""Small stand-in files for the demo courses: a real one-page PDF, a real two-second video.

The demo corpus declares realistic sizes (lectures of hundreds of megabytes); the demo
repository serves these few-kilobyte files in their place, so ``coursefed demo`` shows
the whole object pipeline (fetch, sniff, store in S3, serve, play) without filling the disk.
Each file is generated from its path, so the same URL always serves the same bytes.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

FILES_PATH = "/files/"
# H.264 baseline and AAC in MP4, index first: what every browser plays, phones included.
_LECTURE = Path(__file__).with_name("lecture.mp4")


def demo_file(path: str) -> tuple[bytes, str] | None:
    """(bytes, media type) for a demo file path such as ``/files/12/lecture.mp4``."""
    if not path.startswith(FILES_PATH):
        return None
    name = path.removeprefix(FILES_PATH)
    if name.endswith(".pdf"):
        return _pdf(f"coursefed demo {name}"), "application/pdf"
    if name.endswith(".mp4"):
        return _mp4(name), "video/mp4"
    return None


def _pdf(title: str) -> bytes:
    """A minimal, well-formed one-page PDF showing ``title`` (ASCII)."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, content in enumerate(objects, 1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(body)


def _mp4(name: str) -> bytes:
    """The demo lecture clip, then a ``free`` box of filler derived from ``name``.

    Players skip ``free`` boxes, so every file plays; the filler makes each course's file
    its own (a distinct sha256), as real lectures would be.
    """
    free = b"free" + hashlib.shake_256(name.encode()).digest(32_000)
    return _lecture() + (len(free) + 4).to_bytes(4, "big") + free


@cache
def _lecture() -> bytes:
    return _LECTURE.read_bytes()

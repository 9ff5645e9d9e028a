"""S3 is reached one way: boto3, inside app/objects/store.py (read from the source with ``ast``)."""

from __future__ import annotations

from tests.test_import_rules import REPO_ROOT, imported_modules

S3_LIBRARIES = ("boto3", "botocore", "s3transfer")
STORE = "app/objects/store.py"


def importers(libraries: tuple[str, ...]) -> set[str]:
    """The modules of app/ that import any of ``libraries``."""
    found = set()
    for path in sorted((REPO_ROOT / "app").rglob("*.py")):
        for _, name in imported_modules(path, "app"):
            if name.split(".")[0] in libraries:
                found.add(str(path.relative_to(REPO_ROOT)))
    return found


def test_only_the_store_speaks_to_s3() -> None:
    assert importers(S3_LIBRARIES) == {STORE}


def test_no_http_pool_of_our_own_beside_boto3s() -> None:
    """S3 reads, writes and signatures go through boto3 and its own HTTP client."""
    assert importers(("urllib3",)) == set()

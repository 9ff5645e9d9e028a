"""The catalogue files: ``/api/v1/catalogue.csv`` and ``.json``, on SQLite and PostgreSQL.

Courses are stored as a harvest stores them, with the clock set to the harvest's time,
so "first harvested" is what the store keeps, through later updates, deletions and
returns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.main import create_app
from app.publication import service
from app.publication.selection import Selection
from app.settings import Settings
from metadata.profile import Issue, License
from tests.publication.harvests import Harvest

BASE = "https://courses.example.edu.cn"
NOV = datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
NOV_LAST = datetime(2026, 11, 30, 23, 59, 59, 999999, tzinfo=UTC)
DEC_FIRST = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
OCT = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
HELD_BACK = Issue(severity="error", code="missing_title", message="no title")
ARR = License(text="版权所有，保留一切权利")


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"public_url": BASE}))) as test_client:
        yield test_client


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf"), "a byte order mark, so Excel reads UTF-8"
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline="")))


def read_json(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = json.loads(response.content)
    assert document["count"] == len(document["courses"])
    return document


@pytest.fixture
def november(harvest: Harvest) -> dict[str, list[str]]:
    """Courses first harvested in and around November 2026 (UTC), some changed since."""
    inside = [
        harvest.store(1, NOV),
        harvest.store(2, NOV_LAST),
        # Updated in December: it was still first harvested in November.
        harvest.store(3, NOV),
    ]
    harvest.store(3, DEC_FIRST, revision=1, title={"zh": "课程3（修订）"})
    # Deleted in December, then harvested again in January: its first harvest stays.
    inside.append(harvest.store(4, NOV))
    harvest.delete(inside[-1], DEC_FIRST)
    harvest.store(4, datetime(2027, 1, 2, tzinfo=UTC), revision=2)
    gone = harvest.store(5, NOV)
    harvest.delete(gone, NOV_LAST)
    held_back = harvest.store(6, NOV, issues=[HELD_BACK])
    before = harvest.store(7, OCT)
    after = harvest.store(8, DEC_FIRST)
    return {"inside": inside, "outside": [gone, held_back, before, after]}


def test_a_monthly_file_lists_exactly_the_live_courses_first_harvested_that_month(
    client: TestClient, november: dict[str, list[str]]
) -> None:
    rows = read_csv(client.get("/api/v1/catalogue.csv?month=2026-11"))
    assert sorted(row["id"] for row in rows) == sorted(november["inside"])
    document = read_json(client.get("/api/v1/catalogue.json?month=2026-11"))
    assert sorted(course["id"] for course in document["courses"]) == sorted(november["inside"])
    assert document["month"] == "2026-11"
    firsts = [row["first_harvested"] for row in rows]
    assert firsts == sorted(firsts), "oldest first harvest first"
    assert set(firsts) == {"2026-11-05T08:00:00Z", "2026-11-30T23:59:59Z"}


def test_the_months_around_hold_their_own_courses_and_every_month_adds_up(
    client: TestClient, november: dict[str, list[str]]
) -> None:
    october = read_csv(client.get("/api/v1/catalogue.csv?month=2026-10"))
    december = read_csv(client.get("/api/v1/catalogue.csv?month=2026-12"))
    everything = read_csv(client.get("/api/v1/catalogue.csv"))
    assert [row["id"] for row in october] == [november["outside"][2]]
    assert [row["id"] for row in december] == [november["outside"][3]]
    assert len(everything) == 1 + len(november["inside"]) + 1
    assert read_csv(client.get("/api/v1/catalogue.csv?month=2027-01")) == []
    listing = client.get("/api/v1/catalogue/files").json()
    assert listing["total"] == len(everything)
    assert [(m["month"], m["count"]) for m in listing["months"]] == [
        ("2026-12", 1),
        ("2026-11", 4),
        ("2026-10", 1),
    ]
    assert listing["months"][1]["csv"] == f"{BASE}/api/v1/catalogue.csv?month=2026-11"
    assert listing["months"][1]["json"] == f"{BASE}/api/v1/catalogue.json?month=2026-11"


def test_a_row_names_the_course_its_school_disciplines_licence_and_both_links(
    client: TestClient, harvest: Harvest
) -> None:
    rid = harvest.store(1, NOV, subjects=("08", "0812", "0701"))
    (row,) = read_csv(client.get("/api/v1/catalogue.csv?month=2026-11"))
    (school,) = client.get("/api/v1/institutions").json()["institutions"]
    assert row == {
        "id": rid,
        "title_zh": "课程1",
        "title_en": "Course 1",
        "institution_id": school["id"],
        "institution_zh": "江澜大学",
        "institution_en": "",
        "discipline_codes": "0812; 0701",
        "discipline_zh": "计算机科学与技术; 数学",
        "discipline_en": "Computer Science and Technology; Mathematics",
        "level": "undergraduate",
        "license": "CC-BY-4.0",
        "license_open": "true",
        "url": f"{BASE}/courses/{rid}",
        "source_url": "https://college.example.edu.cn/c/1",
        "first_harvested": "2026-11-05T08:00:00Z",
    }


def test_csv_and_json_list_the_same_courses_with_the_same_facts(
    client: TestClient, harvest: Harvest
) -> None:
    harvest.store(1, NOV, subjects=("0812", "0701"))
    bare = harvest.store(2, NOV, institution=None, subjects=(), licence=None, url="javascript:x")
    odd = harvest.store(3, NOV, title={"en": '=HYPERLINK("http://evil.example")'}, licence=ARR)
    rows = read_csv(client.get("/api/v1/catalogue.csv"))
    courses = read_json(client.get("/api/v1/catalogue.json"))["courses"]
    assert len(rows) == len(courses) == 3

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value)
        return "'" + text if text[:1] in {"=", "+", "-", "@"} else text

    for row, course in zip(rows, courses, strict=True):
        school = course["institution"] or {}
        flat = {
            "id": course["id"],
            "title_zh": course["title_zh"],
            "title_en": course["title_en"],
            "institution_id": school.get("id"),
            "institution_zh": school.get("name_zh"),
            "institution_en": school.get("name_en"),
            "discipline_codes": "; ".join(d["code"] for d in course["disciplines"]),
            "discipline_zh": "; ".join(d["name_zh"] or "" for d in course["disciplines"]),
            "discipline_en": "; ".join(d["name_en"] or "" for d in course["disciplines"]),
            "level": course["level"],
            "license": course["license"],
            "license_open": course["license_open"],
            "url": course["url"],
            "source_url": course["source_url"],
            "first_harvested": course["first_harvested"],
        }
        assert row == {name: cell(value) for name, value in flat.items()}
    by_id = {course["id"]: course for course in courses}
    assert by_id[bare]["source_url"] is None, "only http(s) links"
    assert by_id[bare]["institution"] is None
    assert by_id[bare]["license"] is None
    assert by_id[odd]["license"] == "all-rights-reserved"
    assert by_id[odd]["title_zh"] is None


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_cells_a_spreadsheet_would_run_as_formulas_are_text(
    client: TestClient, harvest: Harvest, start: str
) -> None:
    harvest.store(1, NOV, title={"zh": f"{start}1+2", "en": f"{start}cmd|'/C calc'!A0"})
    (row,) = read_csv(client.get("/api/v1/catalogue.csv"))
    assert row["title_zh"] == f"'{start}1+2"
    assert row["title_en"] == f"'{start}cmd|'/C calc'!A0"
    (course,) = read_json(client.get("/api/v1/catalogue.json"))["courses"]
    assert course["title_zh"] == f"{start}1+2", "JSON keeps the value as it is"


def test_filters_keep_what_the_search_api_would(client: TestClient, harvest: Harvest) -> None:
    maths = harvest.store(1, NOV, subjects=("0701",), level="higher_vocational", licence=ARR)
    computing = harvest.store(2, NOV, subjects=("081201",), institution="东湖学院")
    english = harvest.store(3, NOV, subjects=("0812",), languages=("en",))

    def ids(query: str) -> set[str]:
        return {row["id"] for row in read_csv(client.get(f"/api/v1/catalogue.csv?{query}"))}

    assert ids("subject=08") == {computing, english}, "a category holds its disciplines"
    assert ids("subject=0812&subject=0701") == {maths, computing, english}
    assert ids("level=higher_vocational") == {maths}
    assert ids("open=true") == {computing, english}
    assert ids("license=all-rights-reserved") == {maths}
    assert ids("language=en") == {english}
    assert ids("institution=东湖学院") == {computing}, "a school by its name"
    (school,) = [s for s in client.get("/api/v1/institutions").json()["institutions"]
                 if s["name_zh"] == "东湖学院"]  # fmt: skip
    assert ids(f"institution={school['id']}") == {computing}, "and by its id"
    assert ids("institution=无名学院") == set()
    assert ids("source=college&month=2026-11") == {maths, computing, english}
    assert ids("source=elsewhere") == set()
    assert ids("subject=0812&institution=江澜大学") == {english}


def test_a_file_has_a_name_and_is_a_download(client: TestClient, harvest: Harvest) -> None:
    harvest.store(1, NOV)
    monthly = client.get("/api/v1/catalogue.csv?month=2026-11")
    assert monthly.headers["content-disposition"] == (
        'attachment; filename="coursefed-catalogue-2026-11.csv"'
    )
    assert monthly.headers["content-type"].startswith("text/csv; charset=utf-8")
    every = client.get("/api/v1/catalogue.json")
    assert every.headers["content-disposition"] == 'attachment; filename="coursefed-catalogue.json"'


def test_a_file_is_sent_as_it_is_read(engine: Engine, harvest: Harvest) -> None:
    """Pages of two courses: the file comes a page at a time, in order, none lost, none
    twice, though all were first harvested at the same moment (the id breaks the tie)."""
    stored_ids = [harvest.store(n, NOV) for n in range(1, 8)]
    for fmt in ("csv", "json"):
        current = service.CatalogueFile(engine, Selection(), base=BASE, batch_size=2)
        chunks = list(current.chunks(fmt))
        assert len(chunks) >= 4, "a chunk a page"
        body = b"".join(chunks)
        if fmt == "json":
            listed = [course["id"] for course in json.loads(body)["courses"]]
        else:
            listed = [row["id"] for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))]
        assert listed == sorted(stored_ids)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("month=2026-13", "month"),
        ("month=26-11", "month"),
        ("month=november", "month"),
        ("subject=computing", "subject"),
        ("level=kindergarten", "level"),
        ("license=WTFPL-9", "license"),
        ("open=maybe", "open"),
        ("q=数据", "q"),
        ("sort=newest", "sort"),
        ("month=2026-11&month=2026-12", "month"),
    ],
)
def test_bad_parameters_are_a_422_in_json(
    client: TestClient, harvest: Harvest, query: str, parameter: str
) -> None:
    for fmt in ("csv", "json"):
        response = client.get(f"/api/v1/catalogue.{fmt}?{query}")
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body["error"] == "invalid_parameter"
        assert parameter in {problem["parameter"] for problem in body["detail"]}

"""The quality guide (``/quality``) explains every issue code the readers and validation
can emit, and its examples are true: read by our readers, each "before" shows its issue
and each "after" does not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html

from app.catalogue.normalise import normalise_document
from app.main import create_app
from app.web.quality import issue_name
from app.web.quality_guide import DC_NS, GUIDE, GUIDES, LOM_NS, OAI_DC_NS, SCORED_FIELDS, Example
from metadata.issue_codes import ISSUE_CODES
from metadata.validate import RECOMMENDED
from metadata.vocabularies import EDUCATION_LEVELS
from tests.conftest import make_settings
from tests.metadata.test_issue_codes import emitted_codes

PREFIX = {"lom": "lom", "dc": "oai_dc"}
# How the tests give each kind of example to the reader, by format.
FRAGMENT = {
    "lom": f'<lom xmlns="{LOM_NS}">{{}}</lom>',
    "dc": f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}">{{}}</oai_dc:dc>',
}
RESPONSE = (
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
    "<responseDate>2026-03-01T00:00:00Z</responseDate>"
    '<request verb="ListRecords" metadataPrefix="{prefix}">https://mooc.example.edu.cn/oai</request>'
    "<ListRecords>{record}</ListRecords></OAI-PMH>"
)
# What a record holding only the example still lacks: the fix must add nothing else.
EMPTY_RECORD = {"missing_title", "missing_language", "missing_description", "missing_license"}
# A record in a format we do not read arrives under a prefix we do not know.
HARVESTED_AS = {"unsupported_format": "marc21"}


def issue_codes(example: Example, xml: str | None, fmt: str, code: str) -> set[str]:
    """The codes our readers and validation give ``xml`` (None: the element left out)."""
    prefix = HARVESTED_AS.get(code, PREFIX[fmt])
    if example.kind == "fragment":
        document = FRAGMENT[fmt].format(xml or "")
    elif example.kind == "record":
        document = RESPONSE.format(prefix=prefix, record=xml)
    else:
        document = xml or ""
    results = normalise_document(document.encode(), prefix)
    return {issue.code for result in results for issue in result.issues}


def examples() -> list[tuple[str, str, Example]]:
    return [
        (guide.code, fmt, example)
        for guide in GUIDES
        for fmt, example in (("lom", guide.lom), ("dc", guide.dc))
        if example is not None
    ]


def test_every_code_the_readers_and_validation_emit_is_explained() -> None:
    emitted = {code for code, _severity, _where in emitted_codes()}
    assert len(emitted) > 15
    assert emitted <= set(GUIDE), emitted - set(GUIDE)
    assert set(GUIDE) == set(ISSUE_CODES), "the guide and metadata.issue_codes name the same codes"
    assert len(GUIDE) == len(GUIDES)


def test_errors_come_first() -> None:
    severities = [ISSUE_CODES[guide.code].severity for guide in GUIDES]
    assert severities == sorted(severities, key=lambda s: s != "error")


def test_every_code_has_an_example_in_at_least_one_format() -> None:
    for guide in GUIDES:
        assert guide.lom or guide.dc, guide.code
        assert guide.meaning.strip() and guide.fix.strip(), guide.code


@pytest.mark.parametrize(
    ("code", "fmt", "example"), examples(), ids=[f"{c}-{f}" for c, f, _ in examples()]
)
def test_each_example_shows_its_issue_before_and_not_after(
    code: str, fmt: str, example: Example
) -> None:
    after = issue_codes(example, example.after, fmt, code)
    assert code not in after
    assert after <= EMPTY_RECORD, f"the fix brings issues of its own: {after - EMPTY_RECORD}"
    if not example.arises:
        assert example.note, "say why this format never carries the issue"
        if example.before is not None:
            assert code not in issue_codes(example, example.before, fmt, code)
        return
    before = issue_codes(example, example.before, fmt, code)
    assert code in before, f"the example before the fix does not show {code}"


def test_invalid_url_examples_are_read_as_url_not_http() -> None:
    for example in (GUIDE["invalid_url"].lom, GUIDE["invalid_url"].dc):
        assert example is not None
        fmt = "lom" if example is GUIDE["invalid_url"].lom else "dc"
        assert "url_not_http" in issue_codes(example, example.before, fmt, "invalid_url")


def test_the_score_explained_is_the_score_counted() -> None:
    assert [field.name for field in SCORED_FIELDS] == [name for name, _ in RECOMMENDED]


# --- the page -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app with Meilisearch and S3 at a closed port: the guide needs neither."""
    with TestClient(create_app(make_settings(tmp_path_factory.mktemp("quality")))) as client:
        yield client


def test_the_quality_page_explains_each_code_at_its_anchor(offline: TestClient) -> None:
    response = offline.get("/quality?lang=en")
    assert response.status_code == 200
    tree = html.fromstring(response.text)
    for guide in GUIDES:
        (section,) = tree.xpath(f"//section[@id='{guide.code}']")
        heading = section.xpath("h3")[0].text_content()
        assert guide.code in heading
        assert issue_name(guide.code, "en") in heading
        assert heading.lower().startswith(str(ISSUE_CODES[guide.code].meaning_en).lower())
        text = section.text_content()
        assert guide.fix.split(".")[0].replace("\n", " ") in " ".join(text.split())
    index = tree.xpath("//ul[@id='issue-index']//a/@href")
    assert index == [f"#{guide.code}" for guide in GUIDES]


def test_the_examples_are_shown_as_code_not_markup(offline: TestClient) -> None:
    page = offline.get("/quality?lang=en").text
    tree = html.fromstring(page)
    (section,) = tree.xpath("//section[@id='unknown_license']")
    shown = [code.text_content() for code in section.xpath(".//pre/code")]
    lom, dc = GUIDE["unknown_license"].lom, GUIDE["unknown_license"].dc
    assert lom is not None and dc is not None
    assert shown == [lom.before, lom.after, dc.before, dc.after]
    assert "&lt;dc:rights&gt;" in page
    # Texts that name an element show it, never as a tag.
    assert "<metadata>" not in page.split('id="unreadable_record"', 1)[1].split("<pre>", 1)[0]
    (fix,) = tree.xpath("//section[@id='unreadable_record']/p[strong]")
    assert "<metadata>" in fix.text_content()


def test_the_quality_page_lists_the_scored_fields_and_the_profile_values(
    offline: TestClient,
) -> None:
    tree = html.fromstring(offline.get("/quality?lang=zh").text)
    rows = tree.xpath("//table[@id='scored-fields']/tbody/tr")
    assert len(rows) == len(RECOMMENDED)
    assert rows[0].xpath("th[@scope='row']")[0].text_content() == "标题"
    levels = tree.xpath("//table[@id='education-levels']//td/code/text()")
    assert levels == list(EDUCATION_LEVELS)
    assert tree.xpath("//table[@id='resource-types']//tr[td/code='web_course']/th/text()") == [
        "网络课程"
    ]


@pytest.mark.parametrize(("lang", "heading"), [("zh", "记录质量"), ("en", "Record quality")])
def test_the_quality_page_speaks_each_language(
    offline: TestClient, lang: str, heading: str
) -> None:
    tree = html.fromstring(offline.get(f"/quality?lang={lang}").text)
    assert tree.xpath("//h1")[0].text_content().startswith(heading)
    (severity,) = tree.xpath("//section[@id='missing_title']/p[contains(@class, 'severity')]")
    assert severity.text_content().startswith("错误" if lang == "zh" else "Error")


def test_every_page_links_the_sources_and_the_guide_from_its_footer(offline: TestClient) -> None:
    tree = html.fromstring(offline.get("/quality").text)
    assert {"/sources", "/quality"} <= set(tree.xpath("//footer//a/@href"))

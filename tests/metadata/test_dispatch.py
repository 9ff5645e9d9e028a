"""Choosing a reader: by metadataPrefix, else by the record's root element, else an error."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from lxml import etree

from metadata.readers import (
    READERS,
    LazyReader,
    UnsupportedFormat,
    detect_format,
    read_record,
)
from metadata.readers.oai_dc import read_oai_dc
from metadata.readers.qdc import read_qdc
from tests.fixtures.samples import REPO_ROOT, fixture

OAI = "http://www.openarchives.org/OAI/2.0/"
LOM_AVAILABLE = importlib.util.find_spec("metadata.readers.lom") is not None
needs_lom = pytest.mark.skipif(
    not LOM_AVAILABLE, reason="metadata.readers.lom (IEEE LOM reader) does not exist yet"
)

OAI_DC = (
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title></oai_dc:dc>'
)
IEEE_LOM = (
    '<lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general><title>'
    '<string language="en">Minimal LOM</string></title></general></lom>'
)
IMS_LOM = (
    '<lom xmlns="http://www.imsglobal.org/xsd/imsmd_v1p2"><general><title>'
    '<langstring xml:lang="en">IMS LOM</langstring></title></general></lom>'
)
MARC = '<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam</leader></record>'


def element(xml: str) -> etree._Element:
    # Test input is our own, trusted XML: the hardened parser is for harvested bytes.
    return etree.fromstring(xml.encode())


def wrapped(inner: str, wrapper: str) -> etree._Element:
    """``inner`` inside an OAI ``<metadata>`` (and ``<record>``) as a harvest hands it over."""
    body = f'<metadata xmlns="{OAI}">{inner}</metadata>'
    if wrapper == "record":
        body = f'<record xmlns="{OAI}"><header><identifier>x</identifier></header>{body}</record>'
    return element(body)


# --- READERS -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "function"),
    [
        ("oai_dc", "read_oai_dc"),
        *((p, "read_qdc") for p in ("qdc", "dcterms", "nsdl_dc", "oai_qdc")),
        *(
            (p, "read_lom")
            for p in ("lom", "oai_lom", "oai_lom-de", "lom_ims", "ims_lom", "nl_lom", "oai_lre")
        ),
        ("lre", "read_lom"),
    ],
)
def test_every_prefix_has_its_reader(prefix: str, function: str) -> None:
    reader = READERS[prefix]
    assert isinstance(reader, LazyReader)
    assert repr(reader).endswith(f".{function}>")


def test_dublin_core_readers_resolve_to_the_functions() -> None:
    assert isinstance(READERS["oai_dc"], LazyReader)
    assert READERS["oai_dc"].resolve() is read_oai_dc
    assert isinstance(READERS["nsdl_dc"], LazyReader)
    assert READERS["nsdl_dc"].resolve() is read_qdc


def test_a_missing_reader_module_is_an_unsupported_format() -> None:
    reader = LazyReader("metadata.readers.no_such_format", "read_it")
    with pytest.raises(UnsupportedFormat, match="no_such_format is missing"):
        reader(element(OAI_DC))


@pytest.mark.parametrize(
    "module", ["metadata.readers", "metadata.readers.oai_dc", "metadata.readers.qdc"]
)
def test_each_reader_module_imports_first_without_a_cycle(module: str) -> None:
    # A fresh interpreter: whichever module is imported first, no partial-import error.
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}; import metadata.readers as r; r.READERS"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@needs_lom
def test_the_lom_module_imports_first_without_a_cycle() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import metadata.readers.lom"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- detect_format -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (OAI_DC, "oai_dc"),
        ("<dc><title>No namespaces</title></dc>", "oai_dc"),
        (fixture("dc/bilingual_course.xml").decode(), "oai_dc"),
        (fixture("dc/nsdl_dc_education_level.xml").decode(), "nsdl_dc"),
        (fixture("dc/qdc_dcterms_schemes.xml").decode(), "qdc"),
        (IEEE_LOM, "lom"),
        ('<lom xmlns="http://www.example.org/not-ieee"/>', "lom"),  # LOM under another ns
        (IMS_LOM, "lom_ims"),
        (MARC, None),
        ('<itemRecord xmlns="http://adn.dlese.org"/>', None),
        ('<mets xmlns="http://www.loc.gov/METS/"/>', None),
    ],
)
def test_format_is_detected_from_the_root(xml: str, expected: str | None) -> None:
    root = element(xml.split("?>", 1)[-1] if xml.startswith("<?xml") else xml)
    assert detect_format(root) == expected


def test_oai_dc_holding_dcterms_refinements_is_read_as_qualified() -> None:
    xml = OAI_DC.replace(
        "</oai_dc:dc>",
        '<dcterms:abstract xmlns:dcterms="http://purl.org/dc/terms/">A</dcterms:abstract>'
        "</oai_dc:dc>",
    )
    assert detect_format(element(xml)) == "qdc"


@pytest.mark.parametrize("wrapper", ["metadata", "record"])
def test_the_oai_wrappers_are_looked_through(wrapper: str) -> None:
    assert detect_format(wrapped(OAI_DC, wrapper)) == "oai_dc"
    assert detect_format(wrapped(IEEE_LOM, wrapper)) == "lom"


def test_empty_metadata_has_no_format() -> None:
    assert detect_format(element(f'<metadata xmlns="{OAI}"/>')) is None
    assert detect_format(element(f'<record xmlns="{OAI}"><header/></record>')) is None


# --- read_record ---------------------------------------------------------------------------


def test_known_prefix_chooses_the_reader() -> None:
    resource, _ = read_record(element(OAI_DC), "oai_dc")
    assert resource.title == {"en": "T"}


def test_prefix_is_matched_case_insensitively() -> None:
    resource, _ = read_record(element(OAI_DC), "OAI_DC")
    assert resource.title == {"en": "T"}


def test_unknown_prefix_falls_back_to_detection() -> None:
    resource, _ = read_record(element(OAI_DC), "oai_dc_custom")
    assert resource.title == {"en": "T"}


def test_the_reader_gets_the_record_root_not_the_envelope() -> None:
    # An envelope in no namespace (invenio's edited arXiv capture): the header's
    # <identifier> must not be taken for a dc:identifier.
    record = element(
        "<record><header><identifier>oai:x:1</identifier></header><metadata>"
        "<dc><title>T</title><identifier>http://x.org/1</identifier></dc></metadata></record>"
    )
    resource, _ = read_record(record, "oai_dc")
    assert resource.identifiers == ["http://x.org/1"]


def test_no_prefix_detects_qualified_dc() -> None:
    resource, _ = read_record(element(fixture("dc/nsdl_dc_education_level.xml").decode()))
    assert resource.education_level == "undergraduate"  # read by read_qdc


def test_no_reader_raises_a_clear_unsupported_format() -> None:
    with pytest.raises(UnsupportedFormat) as caught:
        read_record(element(MARC), "marc21")
    message = str(caught.value)
    assert "'marc21'" in message and "{http://www.loc.gov/MARC21/slim}record" in message
    assert "oai_dc" in message  # the prefixes we can read
    assert isinstance(caught.value, ValueError)


def test_no_prefix_and_no_format() -> None:
    with pytest.raises(UnsupportedFormat, match="no metadataPrefix"):
        read_record(element('<arXiv xmlns="http://arxiv.org/OAI/arXiv/"/>'))


@needs_lom
@pytest.mark.parametrize("prefix", ["lom", "oai_lom", None])
def test_ieee_lom_is_read_by_the_lom_reader(prefix: str | None) -> None:
    resource, _ = read_record(element(IEEE_LOM), prefix)
    assert resource.title == {"en": "Minimal LOM"}


@needs_lom
def test_ims_lom_is_read_by_the_lom_reader() -> None:
    resource, _ = read_record(element(IMS_LOM), "nl_lom")
    assert resource.title == {"en": "IMS LOM"}

"""Every Dublin Core record of the shared samples normalises; one record per folder in detail.

The third-party captures are read in place (``COURSEFED_SAMPLES_DIR``, never copied).
Each folder's ``*.xml`` files are taken apart as a harvest would: OAI-PMH responses
(ListRecords, GetRecord) by ``harvesters.oai.records``, a bare ``<record>`` by
``parse_raw_record``, an OAI static repository by its ListRecords, any other document
as one record.  Each record is dispatched by
its root element (``read_record`` without a prefix).  Records in formats the DC readers
do not read (MARC, ADN, METS, arXiv, DataCite, xoai ...) are counted and reported as a
skip, so the summary shows what was left out.  The LOM folders belong to the LOM tests.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from harvesters.oai.errors import HarvestError
from harvesters.oai.records import parse_page, parse_raw_record, parse_response
from harvesters.xml import parse_xml
from metadata.profile import Contributor, CourseResource, DigitalObjectRef, Issue, License
from metadata.readers import detect_format, read_record
from metadata.validate import validate
from metadata.writers.jsonld import write_jsonld
from metadata.writers.oai_dc import write_oai_dc
from tests.fixtures.samples import missing_reason, require_samples, samples_dir

LOM_FOLDERS = frozenset(
    {"lom-quebec-lom2mlr", "lom-imsmd-kennisnet-pylom", "lom-vocabularies-licef-comete"}
)
DC_FORMATS = frozenset({"oai_dc", "qdc", "nsdl_dc"})
OAI_NAMESPACES = {"http://www.openarchives.org/OAI/2.0/", None}
OAI = "{http://www.openarchives.org/OAI/2.0/}"
STATIC_REPOSITORY = "http://www.openarchives.org/OAI/2.0/static-repository"
RECORD_VERBS = ("ListRecords", "GetRecord")

# Dublin Core records per folder (a record listed on two pages counts twice).
EXPECTED_DC_RECORDS = {
    "arxiv-arXivOAIHarvester": 0,
    "czech-nusl-dspace-cuni": 0,
    "dlese-adn-joai": 0,
    "dspace-mit": 59,
    "invenio-oaiharvester": 2,
    "oaipmh-scythe-zenodo": 210,
    "paperhive-nock": 0,
    "perl-oai-lib-citebase": 4,
    "phpoaipmh": 164,
    "pyoai": 98,
    "sickle": 6,
}


@dataclass
class Folder:
    records: list[tuple[str, etree._Element]] = field(default_factory=list)
    other_formats: Counter[str] = field(default_factory=Counter)  # root element → records
    other_files: Counter[str] = field(default_factory=Counter)  # why a file held no record


def _folders() -> list[str]:
    folder = samples_dir()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in LOM_FOLDERS)


def folder_params() -> list[object]:
    names = _folders()
    if not names:
        return [pytest.param(None, marks=pytest.mark.skip(reason=missing_reason()))]
    return names  # type: ignore[return-value]


def _candidates(path: Path, found: Folder) -> list[tuple[str, etree._Element]]:
    """(where, metadata element) of every record in one file."""
    data = path.read_bytes()
    try:
        root = parse_xml(data)
    except HarvestError:
        found.other_files["not well-formed XML"] += 1
        return []
    qname = etree.QName(root)
    if qname.namespace == STATIC_REPOSITORY:  # records of every format, in one file
        return [
            (f"{path.name} {record.findtext(f'{OAI}header/{OAI}identifier')}", metadata[0])
            for record in root.iterfind(f"{{{STATIC_REPOSITORY}}}ListRecords/{OAI}record")
            if (metadata := record.find(f"{OAI}metadata")) is not None and len(metadata)
        ]
    if qname.namespace not in OAI_NAMESPACES:
        return [(path.name, root)]  # a metadata document on its own
    if qname.localname == "record":
        bare = parse_raw_record(data)
        return [] if bare.metadata is None else [(f"{path.name} {bare.identifier}", bare.metadata)]
    return _response_records(path, data, found)


def _response_records(path: Path, data: bytes, found: Folder) -> list[tuple[str, etree._Element]]:
    try:
        response = parse_response(data)
    except HarvestError:
        found.other_files["not an OAI-PMH response"] += 1
        return []
    verb = etree.QName(response.body).localname if response.body is not None else "error"
    if response.errors or verb not in RECORD_VERBS:
        found.other_files[verb] += 1
        return []
    page = parse_page(data, verb=verb)
    found.other_files["deleted records without metadata"] += sum(
        1 for r in page.records if r.metadata is None
    )
    return [
        (f"{path.name} {r.identifier}", r.metadata) for r in page.records if r.metadata is not None
    ]


@cache
def scan(name: str) -> Folder:
    found = Folder()
    for path in sorted((require_samples() / name).rglob("*.xml")):
        for where, element in _candidates(path, found):
            if detect_format(element) in DC_FORMATS:
                found.records.append((where, element))
            else:
                found.other_formats[f"<{etree.QName(element).text}>"] += 1
    return found


def record(folder: str, file_name: str, identifier: str = "") -> CourseResource:
    """The one record of ``folder`` read from ``file_name`` (whose identifier starts so)."""
    found = [
        element
        for where, element in scan(folder).records
        if where.split(" ", 1)[0] == file_name and where.partition(" ")[2].startswith(identifier)
    ]
    assert found, f"no DC record {identifier!r} in {folder}/{file_name}"
    resource, issues = read_record(found[0])
    assert all(i.severity == "warning" for i in issues)
    return resource


def issues_of(folder: str, file_name: str) -> list[Issue]:
    element = next(e for w, e in scan(folder).records if w.split(" ", 1)[0] == file_name)
    return read_record(element)[1]


# --- every record --------------------------------------------------------------------------


@pytest.mark.parametrize("folder", folder_params())
def test_every_dublin_core_record_normalises(folder: str) -> None:
    found = scan(folder)
    assert len(found.records) == EXPECTED_DC_RECORDS.get(folder, len(found.records))
    if not found.records:
        pytest.skip(f"{folder}: no Dublin Core record (other formats: {_describe(found)})")
    for where, element in found.records:
        resource, issues = read_record(element)
        assert resource.title, where
        assert all(i.severity == "warning" for i in issues), where
        for text in [*resource.title.values(), *resource.description.values()]:
            assert "&lt;" not in text and "<p>" not in text, where
        assert not any(i.severity == "error" for i in validate(resource)), where
        # and what we publish of it is valid: oai_dc that reads back, JSON-LD that dumps
        back, _ = read_record(write_oai_dc(resource), "oai_dc")
        assert back.title == resource.title, where
        json.dumps(write_jsonld(resource))


@pytest.mark.parametrize("folder", folder_params())
def test_records_in_other_formats_are_counted(folder: str) -> None:
    found = scan(folder)
    if found.other_formats:
        total = sum(found.other_formats.values())
        pytest.skip(f"{folder}: {total} record(s) not Dublin Core: {_describe(found)}")


def _describe(found: Folder) -> str:
    parts = [f"{root} ×{n}" for root, n in sorted(found.other_formats.items())]
    return ", ".join(parts) or "none"


def test_the_samples_hold_hundreds_of_dc_records() -> None:
    require_samples()
    total = sum(len(scan(folder).records) for folder in _folders())
    assert total == sum(EXPECTED_DC_RECORDS.values()) == 543


# --- one record per folder, in detail ------------------------------------------------------


def test_dspace_mit_thesis() -> None:
    # Leftover xmlns:doc (xoai) inside oai_dc, CR entities, a rightsstatements.org URL.
    resource = record(
        "dspace-mit", "get-records-two-errors__00_GetRecord_200.xml", "oai:dspace.mit.edu"
    )
    assert resource.title == {"en": "Studying Electronic Textures with Coherent Lensless Imaging"}
    assert resource.languages == []
    assert resource.contributors[:2] == [
        Contributor(name="Levitan, Abraham Lewis", role="author"),
        Contributor(name="Comin, Riccardo", role="contributor"),
    ]
    assert resource.institution == "Massachusetts Institute of Technology"
    assert resource.license == License(
        spdx="all-rights-reserved",
        url="https://rightsstatements.org/page/InC-EDU/1.0/",
        text="In Copyright - Educational Use Permitted; Copyright retained by author(s)",
    )
    assert (resource.resource_type, resource.resource_types) == ("document", ["Thesis"])
    assert resource.description["en"].endswith("electronic texture.\n\nPh.D.")
    assert "\r" not in resource.description["en"]
    assert resource.created == "2023-06"
    assert resource.url == "https://hdl.handle.net/1721.1/152958"
    assert resource.objects == []


def test_invenio_arxiv_oai_dc() -> None:
    resource = record("invenio-oaiharvester", "sample_oai_dc_response.xml")
    assert resource.title == {
        "en": "The Distribution of Star Formation and Metals in the Low Surface "
        "Brightness Galaxy UGC 628"
    }
    assert [c.name for c in resource.contributors] == [
        "Young, J. E.",
        "de Naray, Rachel Kuzio",
        "Wang, Sharon X.",
    ]
    assert resource.keywords == ["Astrophysics - Astrophysics of Galaxies"]
    assert resource.description["en"].endswith("\n\nComment: 13 pages, 7 figures")
    assert resource.resource_type == "text"
    assert (resource.license, resource.languages) == (None, [])
    assert resource.url == "http://arxiv.org/abs/1507.03011"


def test_zenodo_software_record() -> None:
    # HTML escaped twice; rights mixing an access URI, a licence name and its URL.
    file_name = "get_record__02_GetRecord_200_identifier-oaizenodo.o_metadataPrefix-oai_dc.xml"
    resource = record("oaipmh-scythe-zenodo", file_name)
    assert resource.title == {"en": "Research Data Management Organiser (RDMO)"}
    assert resource.description["en"].startswith("RDMO 2.1.0 (Dec 11, 2023) Refactor progress")
    assert "<" not in resource.description["en"]
    assert Contributor(name="Schröder, Max", role="author") in resource.contributors
    assert resource.institution == "Zenodo"
    assert resource.license == License(
        spdx="Apache-2.0",
        url="http://www.apache.org/licenses/LICENSE-2.0",
        text="info:eu-repo/semantics/openAccess; Apache License 2.0",
    )
    assert resource.cost is False
    assert resource.identifiers == [
        "https://doi.org/10.5281/zenodo.10357859",
        "oai:zenodo.org:10357859",
    ]
    assert len(resource.relations) == 3
    (issue,) = issues_of("oaipmh-scythe-zenodo", file_name)
    assert (issue.code, issue.path) == ("unmapped_vocabulary", "dc:type[1]")


def test_static_repository_url_wrapped_over_two_lines() -> None:
    resource = record("perl-oai-lib-citebase", "repository.xml", "oai:perseus")
    assert resource.title == {"en": "Germany and its Tribes"}
    assert (
        resource.url == "http://www.perseus.tufts.edu/cgi-bin/ptext?doc=Perseus:text:1999.02.0083"
    )
    assert resource.contributors == [Contributor(name="Tacitus", role="author")]


def test_citebase_record_and_its_copy_with_bad_bytes() -> None:
    resource = record("perl-oai-lib-citebase", "getrecord.xml")
    repaired = record("perl-oai-lib-citebase", "badbytes.xml")
    assert resource.title == repaired.title == {"en": "Compactification, Geometry and Duality: N=2"}
    assert resource.contributors == [Contributor(name="Aspinwall, Paul S.", role="author")]
    assert (resource.created, resource.dates) == ("1999-12-31", ["2000-01-17"])
    assert "N>2 theories" in resource.description["en"]
    assert resource.url == "http://arXiv.org/abs/hep-th/0001001"


def test_nsdl_record_in_nsdl_dc() -> None:
    resource = record("phpoaipmh", "GoodResponseSingleRecord.xml")
    assert resource.title == {"en": "Molecular Structure of Dinitrophenol"}
    assert resource.languages == ["en"]  # written "English"
    assert resource.keywords[:2] == ["diet pill", "dyes"]
    assert (resource.resource_type, resource.resource_types[:2]) == (
        "document",
        ["Dataset", "Interactive Simulation"],
    )
    assert resource.contributors[0] == Contributor(name="Common molecules", role="contributor")
    assert resource.url == "http://www.reciprocalnet.org/recipnet/showsample.jsp?sampleId=27344140"
    assert "hdl:2200/20061003062336249T" in resource.identifiers  # nsdl_dc:MetadataHandle
    assert resource.license is None
    assert "Not ready" not in resource.model_dump_json()  # lar:readiness is ignored


def test_eur_record_with_a_file_url_in_dc_format() -> None:
    resource = record("pyoai", "00002.xml", "hdl:1765/633")
    assert resource.title["en"].startswith("Social inequality and classes in the Netherlands")
    assert resource.languages == ["other"]  # kept as received, with a warning
    assert resource.objects == [
        DigitalObjectRef(
            url="https://ep.eur.nl/retrieve/1004/BSK007.pdf",
            format="application/pdf",
            name="BSK007.pdf",
        )
    ]
    assert resource.formats == ["application/pdf"]
    assert Contributor(name="Steijn, A.J.", role="author") in resource.contributors
    assert (resource.resource_type, resource.created) == ("document", "1997")
    assert resource.url == "http://hdl.handle.net/1765/633"


def test_sickle_record_with_a_cjk_creator() -> None:
    resource = record("sickle", "GetRecord_utf8test.xml")
    assert resource.title == {"en": "Sample Title"}
    assert resource.languages == ["en"]
    assert resource.contributors == [
        Contributor(name="某人", role="author"),
        Contributor(name="Sample Publisher", role="publisher"),
    ]
    assert (resource.resource_type, resource.sources) == ("text", ["Sample Source"])
    assert resource.url == "http://test.example.com/publication/1996652"

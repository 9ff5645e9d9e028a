"""Read qualified Dublin Core (``qdc``, ``oai_qdc``, ``dcterms``, NSDL ``nsdl_dc``).

Simple DC plus the DCMI Terms: this module only adds the terms to ``metadata.readers.oai_dc``'s
table, so one value means the same in both formats.  The mapping is docs/mapping-dc.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from metadata.profile import CourseResource, Issue
from metadata.readers.oai_dc import DC_TERMS, DCTERMS_NS, Term, read_dublin_core

NSDL_DC_NS = "http://ns.nsdl.org/nsdl_dc_v1.02/"
LAR_NS = "http://ns.nsdl.org/schemas/dc/lar"

_RELATION_TERMS = (
    "isPartOf", "hasPart", "isVersionOf", "hasVersion", "isFormatOf", "hasFormat",
    "references", "isReferencedBy", "requires", "isRequiredBy", "replaces", "isReplacedBy",
    "conformsTo",
)  # fmt: skip
_DATE_TERMS = (
    "created", "modified", "issued", "available", "dateAccepted", "dateCopyrighted",
    "dateSubmitted", "valid",
)  # fmt: skip

# DCMI Terms refinement → (slot, qualifier).
_REFINEMENTS: dict[str, tuple[str, str | None]] = {
    "alternative": ("title", "alternative"),
    "abstract": ("description", "abstract"),
    "tableOfContents": ("description", "tableOfContents"),
    "educationLevel": ("level", None),
    "audience": ("audience", None),
    "mediator": ("audience", "mediator"),
    "license": ("rights", "license"),
    "accessRights": ("rights", "accessRights"),
    "extent": ("format", "extent"),
    "medium": ("format", "medium"),
    "spatial": ("coverage", "spatial"),
    "temporal": ("coverage", "temporal"),
    **{name: ("date", name) for name in _DATE_TERMS},
    **{name: ("relation", name.lower()) for name in _RELATION_TERMS},
}


def _qdc_terms() -> dict[str, Term]:
    terms = dict(DC_TERMS)
    for name, (slot, qualifier) in _REFINEMENTS.items():
        terms[f"{{{DCTERMS_NS}}}{name}"] = Term(slot, qualifier, "dcterms", name)
    return terms


QDC_TERMS: Mapping[str, Term] = _qdc_terms()
"""Element tag (Clark notation) → ``Term`` for qualified Dublin Core."""

REFINEMENTS = frozenset(_REFINEMENTS)
"""Local names of the DCMI Terms this reader understands beyond DC's 15."""


def read_qdc(element: etree._Element) -> tuple[CourseResource, list[Issue]]:
    """Map one qualified DC record to a ``CourseResource`` and the issues found reading it."""
    return read_dublin_core(element, QDC_TERMS)

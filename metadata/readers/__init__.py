"""Readers: one module per input format, each ``read_<format>(element) -> (resource, issues)``.

* ``metadata.readers.oai_dc`` – simple Dublin Core (``oai_dc``)
* ``metadata.readers.qdc`` – qualified Dublin Core (``qdc``, ``oai_qdc``, NSDL ``nsdl_dc``)
* ``metadata.readers.lom`` – IEEE LOM and its IMS binding (``lom``, ``oai_lom``, ``nl_lom`` ...)

``read_record`` picks the reader: by the harvest's ``metadataPrefix`` when it is one
of ``READERS``, else by the record's root element (``detect_format``), else it raises
``UnsupportedFormat``.  Reader modules are imported on first use, so that they can
import the helpers below without an import cycle.

This package module also holds the interpretation shared by every reader: licences
(``recognise_license``), dates (``normalise_date``) and which language a string is in
(``choose_language``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from lxml import etree

from metadata import licences
from metadata.languages import guess_text_language, normalise_language
from metadata.profile import CourseResource, Issue

# --- languages of strings --------------------------------------------------------------


def choose_language(text: str, declared: str | None, record_language: str | None) -> str:
    """The language key for one string of a language map.

    ``declared`` (an ``xml:lang`` or LOM ``language`` attribute) wins when it is
    recognisable.  Otherwise the record's single language is used unless the text
    clearly says otherwise (Chinese text in a record that says ``en`` is Chinese), and
    without either, the language is guessed from the text.
    """
    if declared:
        normalised = normalise_language(declared)
        if normalised and normalised not in {"zxx", "mul"}:
            return normalised
    return guess_text_language(text, hint=record_language)


# --- dates -----------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ]\S*)?$")
_CHINESE_DATE = re.compile(r"^(\d{4})\s*年\s*(?:(\d{1,2})\s*月\s*(?:(\d{1,2})\s*[日号])?)?$")


def date_key(value: str) -> tuple[int, int, int] | None:
    """(year, month, day) of an ISO 8601 or Chinese (``2019年3月5日``) date; None if neither."""
    value = value.strip()
    match = _ISO_DATE.match(value) or _CHINESE_DATE.match(value)
    if match is None:
        return None
    year, month, day = (int(g) if g else 0 for g in match.groups())
    if not (0 <= month <= 12 and 0 <= day <= 31):
        return None
    return year, month, day


def normalise_date(value: str) -> str:
    """ISO 8601 for a Chinese date (``2019年3月`` → ``2019-03``); anything else unchanged."""
    value = value.strip()
    match = _CHINESE_DATE.match(value)
    if match is None:
        return value
    year, month, day = match.groups()
    parts = [year] + [f"{int(p):02d}" for p in (month, day) if p]
    return "-".join(parts)


# --- licences --------------------------------------------------------------------------

# Recognising a licence statement is ``metadata.licences``' job; readers import it from here.
recognise_license = licences.recognise_license

# --- choosing a reader -----------------------------------------------------------------

Reader = Callable[[etree._Element], tuple[CourseResource, list[Issue]]]


class UnsupportedFormat(ValueError):
    """No reader for this record: an unknown metadataPrefix and an unrecognised root."""


class LazyReader:
    """A reader function imported from its module on first call (see the module docstring)."""

    __slots__ = ("_function", "_module", "_reader")

    def __init__(self, module: str, function: str) -> None:
        self._module = module
        self._function = function
        self._reader: Reader | None = None

    def resolve(self) -> Reader:
        """The reader function itself; ``UnsupportedFormat`` if its module is missing."""
        if self._reader is None:
            try:
                module = importlib.import_module(self._module)
            except ModuleNotFoundError as exc:
                if exc.name != self._module:
                    raise
                raise UnsupportedFormat(f"the reader module {self._module} is missing") from exc
            self._reader = getattr(module, self._function)
        return self._reader

    def __call__(self, element: etree._Element) -> tuple[CourseResource, list[Issue]]:
        reader = self._reader or self.resolve()
        return reader(element)

    def __repr__(self) -> str:
        return f"<reader {self._module}.{self._function}>"


_OAI_DC = LazyReader("metadata.readers.oai_dc", "read_oai_dc")
_QDC = LazyReader("metadata.readers.qdc", "read_qdc")
_LOM = LazyReader("metadata.readers.lom", "read_lom")

READERS: dict[str, Reader] = {
    "oai_dc": _OAI_DC,
    **dict.fromkeys(("qdc", "dcterms", "nsdl_dc", "oai_qdc"), _QDC),
    **dict.fromkeys(
        ("lom", "oai_lom", "oai_lom-de", "lom_ims", "ims_lom", "nl_lom", "oai_lre", "lre"), _LOM
    ),
}
"""metadataPrefix → reader.  ``detect_format`` answers with one of these keys."""

_OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
_DC_NS = "http://purl.org/dc/elements/1.1/"
_DCTERMS_NS = "http://purl.org/dc/terms/"
_NSDL_DC_NS = "http://ns.nsdl.org/nsdl_dc_v1.02/"
_LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
_OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_OAI_NAMESPACES = frozenset({_OAI_NS, None})
_OAI_METADATA = frozenset({(_OAI_NS, "metadata"), (None, "metadata")})
_QDC_ROOTS = frozenset({"qualifieddc", "qdc", "dcterms"})
_DC_NAMES = frozenset({
    "title", "creator", "subject", "description", "publisher", "contributor", "date",
    "type", "format", "identifier", "source", "language", "relation", "coverage", "rights",
})  # fmt: skip


def _split(tag: str) -> tuple[str | None, str]:
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def _record_root(element: etree._Element) -> etree._Element | None:
    """The metadata root inside an OAI ``<record>`` or ``<metadata>``; else ``element``."""
    if not isinstance(element.tag, str):
        return None
    namespace, local = _split(element.tag)
    if namespace not in _OAI_NAMESPACES:  # a MARC <record> is a record, not a wrapper
        return element
    if local == "record":
        found = [c for c in _elements(element) if _split(c.tag) in _OAI_METADATA]
        if not found:
            return None
        element, local = found[0], "metadata"
    if local == "metadata":
        inner = _elements(element)
        return inner[0] if inner else None
    return element


def detect_format(element: etree._Element) -> str | None:
    """A ``READERS`` key for a record's metadata, judged by its root element; else None.

    ``oai_dc:dc`` (or a ``dc`` root in no namespace) is ``oai_dc`` unless it holds
    DCMI Terms refinements (then ``qdc``); ``nsdl_dc:nsdl_dc`` is ``nsdl_dc``; a
    ``qualifieddc`` root is ``qdc``; ``lom`` is ``lom`` in the IEEE namespace (or any
    other) and ``lom_ims`` in an IMS metadata namespace.  Also accepts the OAI
    ``<record>`` or ``<metadata>`` around the record.
    """
    root = _record_root(element)
    if root is None:
        return None
    namespace, local = _split(root.tag)
    if namespace == _NSDL_DC_NS:
        return "nsdl_dc"
    if local == "lom" or namespace == _LOM_NS:
        ims = namespace is not None and ("imsglobal.org" in namespace or "imsmd" in namespace)
        return "lom_ims" if ims else "lom"
    if namespace == _OAI_DC_NS or local in _QDC_ROOTS or (namespace is None and local == "dc"):
        children = [_split(c.tag) for c in _elements(root)]
        refined = any(ns == _DCTERMS_NS and name not in _DC_NAMES for ns, name in children)
        return "qdc" if refined or local in _QDC_ROOTS else "oai_dc"
    return None


def read_record(
    element: etree._Element, metadata_prefix: str | None = None
) -> tuple[CourseResource, list[Issue]]:
    """Read one record's metadata with the reader of its prefix, else of its root element.

    ``element`` may be the OAI ``<record>`` or ``<metadata>``: the reader is handed the
    record's own root.  Raises ``UnsupportedFormat`` when neither the prefix nor the
    root says which reader applies (MARC, ADN, METS ... have none).
    """
    reader = None
    if metadata_prefix:
        reader = READERS.get(metadata_prefix) or READERS.get(metadata_prefix.lower())
    if reader is None:
        detected = detect_format(element)
        reader = READERS.get(detected) if detected else None
    root = _record_root(element)
    if reader is None:
        what = _split(root.tag) if root is not None else (None, "nothing")
        name = f"{{{what[0]}}}{what[1]}" if what[0] else what[1]
        prefix = f"metadataPrefix {metadata_prefix!r}" if metadata_prefix else "no metadataPrefix"
        raise UnsupportedFormat(
            f"no reader for {prefix} and a record whose root is <{name}>; "
            f"readable prefixes: {', '.join(sorted(READERS))}"
        )
    # The reader gets the record's root, not the OAI envelope around it.
    return reader(root if root is not None else element)

"""Write a profile record as XML in our own namespace (OAI-PMH prefix ``coursefed``).

The lossless format for one coursefed harvesting another: every field of
``ResourceRecord`` becomes one element named exactly as the JSON field, in the model's
order, so the XML says what the JSON says and ``read_profile_xml`` gives the record back.

* a text, number or flag: the element's text (``true``/``false``; numbers as JSON writes
  them); a field that is ``None`` is left out, and so is an empty list or map;
* a language map (``title``, ``description``, a subject's ``label``): one ``<value
  xml:lang="…">`` child per language, in the map's order;
* a list: one ``<item>`` child per entry, holding text or the entry's own fields;
* a nested object (``license``, ``provenance``): its fields as children.

The root is ``<record xmlns="https://coursefed.org/ns/profile/1.0" profile="1.0">``.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from lxml import etree

from metadata.profile import PROFILE_VERSION, ResourceRecord

PROFILE_NS = "https://coursefed.org/ns/profile/1.0"
PROFILE_SCHEMA = "https://coursefed.org/ns/profile/1.0/profile.xsd"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# Characters XML 1.0 cannot carry at all (lxml refuses them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Fields whose value is a language map, not an object (every dict of the profile is one).
_LANG_MAPS = frozenset({"title", "description", "label"})


def _name(local: str) -> str:
    return f"{{{PROFILE_NS}}}{local}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    return json.dumps(value)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | dict) and not value)


def _fill(element: etree._Element, field: str, value: Any) -> None:
    if field in _LANG_MAPS and isinstance(value, dict):
        for language, text in value.items():
            child = etree.SubElement(element, _name("value"))
            child.set(XML_LANG, language)
            child.text = _text(text)
    elif isinstance(value, list):
        for entry in value:
            _fill(etree.SubElement(element, _name("item")), "item", entry)
    elif isinstance(value, dict):
        _object(element, value)
    else:
        element.text = _text(value)


def _object(element: etree._Element, values: dict[str, Any]) -> None:
    for field, value in values.items():
        if not _empty(value):
            _fill(etree.SubElement(element, _name(field)), field, value)


def write_profile_xml(record: ResourceRecord) -> etree._Element:
    """The record as a ``<record>`` element in ``PROFILE_NS`` (see the module docstring)."""
    # lxml-stubs type nsmap keys as str, but None (the default namespace) is valid.
    root = etree.Element(_name("record"), nsmap=cast("dict[str, str]", {None: PROFILE_NS}))
    root.set("profile", PROFILE_VERSION)
    _object(root, record.model_dump(mode="json"))
    return root


def _read(element: etree._Element, field: str) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    if field in _LANG_MAPS and all(etree.QName(c).localname == "value" for c in children):
        return {child.get(XML_LANG, "und"): child.text or "" for child in children}
    if children and all(etree.QName(c).localname == "item" for c in children):
        return [_read(child, "item") for child in children]
    if children:
        return {etree.QName(c).localname: _read(c, etree.QName(c).localname) for c in children}
    return element.text or ""


def read_profile_xml(root: etree._Element) -> ResourceRecord:
    """The record ``write_profile_xml`` wrote (pydantic turns texts back into numbers)."""
    values = {
        etree.QName(child).localname: _read(child, etree.QName(child).localname)
        for child in root
        if isinstance(child.tag, str)
    }
    return ResourceRecord.model_validate(values)

"""The metadata formats our OAI-PMH provider disseminates: prefix → schema, namespace, writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from metadata.profile import ResourceRecord
from metadata.readers.lom import LOM_NS
from metadata.readers.oai_dc import OAI_DC_NS
from metadata.urls import screen_urls
from metadata.writers.lom import LOM_SCHEMA_LOCATION, write_lom
from metadata.writers.oai_dc import OAI_DC_SCHEMA, write_oai_dc
from metadata.writers.profile_xml import PROFILE_NS, PROFILE_SCHEMA, write_profile_xml

Writer = Callable[[ResourceRecord], etree._Element]


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    write: Writer


def _screened(write: Callable[[ResourceRecord], etree._Element]) -> Writer:
    """``write`` applied to the record without values that break the URL rule: records
    stored before the rule existed are disseminated as a harvest would store them now."""

    def screened(record: ResourceRecord) -> etree._Element:
        return write(screen_urls(record)[0])

    return screened


FORMATS: dict[str, MetadataFormat] = {
    fmt.prefix: fmt
    for fmt in (
        MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS, _screened(write_oai_dc)),
        MetadataFormat("lom", LOM_SCHEMA_LOCATION, LOM_NS, _screened(write_lom)),
        MetadataFormat("coursefed", PROFILE_SCHEMA, PROFILE_NS, _screened(write_profile_xml)),
    )
}
"""Every format is offered for every record: all are written from the stored profile."""

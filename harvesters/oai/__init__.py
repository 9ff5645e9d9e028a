"""HARVEST over OAI-PMH 2.0: the client, its response parsing and its error family.

* ``harvesters.oai.client``  – ``OAIClient``: verbs, paging, retries, ``Retry-After``
* ``harvesters.oai.records`` – responses → ``RawRecord``, ``Page``, ``Identify`` ...
* ``harvesters.oai.errors``  – one exception class per failure (re-exported here)

Only the errors are re-exported: ``harvesters.xml`` imports them, and importing the
client here would make ``import harvesters.xml`` circular.
"""

from harvesters.oai.errors import (
    OAI_ERROR_CLASSES,
    AddressNotAllowed,
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    DeadlineExceeded,
    DocumentTooLarge,
    HarvestError,
    HTTPStatusError,
    IdDoesNotExist,
    MalformedXML,
    NetworkError,
    NoMetadataFormats,
    NoRecordsMatch,
    NoSetHierarchy,
    NotOAIPMH,
    OAIError,
    ProtocolError,
    ResumptionTokenLoop,
    TimeoutError,
    TransportError,
    UnknownOAIError,
    UnsafeXML,
    XMLError,
    oai_error_class,
    public_description,
)

__all__ = [
    "OAI_ERROR_CLASSES",
    "AddressNotAllowed",
    "BadArgument",
    "BadResumptionToken",
    "BadVerb",
    "CannotDisseminateFormat",
    "DeadlineExceeded",
    "DocumentTooLarge",
    "HTTPStatusError",
    "HarvestError",
    "IdDoesNotExist",
    "MalformedXML",
    "NetworkError",
    "NoMetadataFormats",
    "NoRecordsMatch",
    "NoSetHierarchy",
    "NotOAIPMH",
    "OAIError",
    "ProtocolError",
    "ResumptionTokenLoop",
    "TimeoutError",
    "TransportError",
    "UnknownOAIError",
    "UnsafeXML",
    "XMLError",
    "oai_error_class",
    "public_description",
]

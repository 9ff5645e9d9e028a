"""Writers: one module per output format, each turning a profile record into a document.

* ``metadata.writers.lom`` – IEEE LOM (1484.12.3 binding, valid against lomLoose.xsd):
  ``write_lom(record) -> lxml element``, ``lom_bytes(record) -> bytes``
* ``metadata.writers.oai_dc`` – simple Dublin Core (``oai_dc``)
* ``metadata.writers.jsonld`` – schema.org ``Course`` JSON-LD

Writers are pure like readers: a record in, a document out, no I/O.  Each writer is
designed with its reader so that reading what it wrote gives the record back wherever
the format can carry it (see each module for what it cannot).
"""

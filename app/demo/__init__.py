"""The demo college repository: a course corpus, served over OAI-PMH on loopback.

It plays a third party that coursefed harvests.  The corpus and its XML (oai_dc, LOM)
stand alone (standard library and lxml only, nothing from ``harvesters`` or
``metadata``), so what is harvested cannot share a bug with the code that reads it; the
protocol is our one provider (``app.oai.provider``) over an in-memory store.
"""

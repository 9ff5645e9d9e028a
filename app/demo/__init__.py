"""The demo college repository: a course corpus, an OAI-PMH provider and its HTTP server.

It plays a third party that coursefed harvests, so the corpus, rendering, protocol and
server modules stand alone (standard library and lxml only, nothing from
``harvesters`` or ``metadata``) and cannot share a bug with the code they test.
"""

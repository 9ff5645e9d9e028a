"""Public statistics of the catalogue: ``/api/v1/stats`` (JSON and CSV) and the ``/stats`` page."""

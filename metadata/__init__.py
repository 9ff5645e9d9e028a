"""NORMALISE: pure functions from raw source records to the course-resource profile.

Nothing here performs I/O or imports from ``harvesters`` or ``app``.
"""

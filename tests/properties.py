"""How many examples a property test tries, by Hypothesis profile.

``make test`` (and so CI) runs the ``ci`` profile: every property test tries the number of
examples it asks for. A plain ``pytest`` run, the inner loop, loads the ``dev`` profile,
which tries a tenth of them. ``HYPOTHESIS_PROFILE`` picks the profile.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=100)
settings.register_profile("dev", max_examples=10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def examples(full: int) -> int:
    """``full`` in the ``ci`` profile; in the ``dev`` profile a tenth of it, at least 5."""
    return max(5, full * settings.default.max_examples // 100)

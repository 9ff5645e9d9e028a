"""Shared fixtures of the publication tests."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from tests.publication.harvests import Harvest


@pytest.fixture
def harvest(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Harvest:
    return Harvest(engine, monkeypatch)

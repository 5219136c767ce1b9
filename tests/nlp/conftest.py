"""One analyzer per test session: loading Sudachi/GiNZA and the model takes ~2 s."""

from __future__ import annotations

import pytest

import nlp


@pytest.fixture(scope="session")
def analyzer() -> nlp.Analyzer:
    return nlp.load()

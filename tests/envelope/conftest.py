"""Fixtures for the envelope tests (offline keys only; no AWS, no endpoint)."""

from __future__ import annotations

import pytest

from tests.envelope.envelope_testkit import Parties, make_parties


@pytest.fixture
def parties() -> Parties:
    return make_parties()

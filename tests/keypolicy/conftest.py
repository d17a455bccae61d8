"""The app's synthesized template, once per session, as `cdk synth` would produce it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.keypolicy.keypolicy_least_privilege import synthesize


@pytest.fixture(scope="session")
def app_template() -> dict[str, Any]:
    return synthesize()

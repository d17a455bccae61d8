"""The app's synthesized template, once per session, as `cdk synth` would produce it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

ACCOUNT = "123456789012"
REGION = "us-east-1"


def synthesize(context: Mapping[str, object] | None = None) -> dict[str, Any]:
    """The stack's template from `stacks.app.create_app` (cdk.json's context, then `context`)."""
    from stacks.app import create_app

    assembly = create_app(context).synth()
    (stack,) = assembly.stacks
    return stack.template


@pytest.fixture(scope="session")
def app_template() -> dict[str, Any]:
    return synthesize()

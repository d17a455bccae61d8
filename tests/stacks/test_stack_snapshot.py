"""The reviewed snapshot of the synthesized templates.

Any change to the template fails here until the snapshot is regenerated and the diff reviewed:

    UPDATE_STACK_SNAPSHOTS=1 .venv/bin/python -m pytest tests/stacks/test_stack_snapshot.py
    git diff tests/stacks/snapshots/
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("UPDATE_STACK_SNAPSHOTS") == "1"


def _render(doc):
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize(
    ("fixture", "name"),
    [
        ("default", "KmsSignEncryptStack.template.json"),
        ("configured", "configured.template.json"),
        ("generations", "generations.template.json"),  # issue 15
    ],
)
def test_template_matches_the_reviewed_snapshot(request, fixture, name):
    doc = request.getfixturevalue(fixture).doc
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(_render(doc), encoding="utf-8")
        pytest.skip(f"{path.name} rewritten: review `git diff {path}`")
    assert path.exists(), f"no snapshot {path}: run with UPDATE_STACK_SNAPSHOTS=1"
    assert path.read_text(encoding="utf-8") == _render(doc)


@pytest.mark.parametrize(
    "name",
    [
        "KmsSignEncryptStack.template.json",
        "configured.template.json",
        "generations.template.json",  # issue 15
    ],
)
def test_snapshot_is_stable_text(name):
    """No asset hashes, dates or CDK analytics that would change on every synth or upgrade."""
    text = (SNAPSHOTS / name).read_text(encoding="utf-8")
    assert "CDKMetadata" not in text
    assert "AssetParameters" not in text
    assert "aws:asset" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", text), "a timestamp"
    assert not re.search(r"[0-9a-f]{64}", text), "an asset hash"

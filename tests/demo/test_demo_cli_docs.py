"""Every command has help and a section in docs/DEMO.md; every option is documented there."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kms_sign_encrypt_cli.cli import build_parser, main

DOC = (Path(__file__).resolve().parents[2] / "docs" / "DEMO.md").read_text()


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_there_are_the_issues_commands() -> None:
    assert sorted(commands()) == [
        "access",
        "audit",
        "keygen",
        "preflight",
        "public-keys",
        "receive",
        "run",
        "send",
        "verify",
    ]


@pytest.mark.parametrize("name", sorted(commands()))
def test_each_command_has_help_and_a_documented_section(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main([name, "--help"])
    assert caught.value.code == 0
    assert f"usage: kms-sign-encrypt {name}" in capsys.readouterr().out
    assert f"### `{name}`" in DOC


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_option_is_in_the_docs(name: str) -> None:
    for action in commands()[name]._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert f"`{option}" in DOC or f"{option} " in DOC, f"{name} {option}"

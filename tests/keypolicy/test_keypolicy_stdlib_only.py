"""keypolicy imports only the standard library: the stack's tests, the demo and the local
endpoint all import it, and it must not drag any of their dependencies into the others."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "keypolicy"


def test_every_import_is_stdlib_or_the_package_itself():
    outside = []
    for path in sorted(PACKAGE.rglob("*.py")):  # keypolicy/matrix/ too
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "keypolicy":
                    outside.append(f"{path.name}: {name}")
    assert outside == []


def test_importing_it_loads_no_third_party_module():
    code = (
        "import sys; import keypolicy, keypolicy.matrix, keypolicy.template; "
        "tops = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(tops - set(sys.stdlib_module_names) - {'__main__'}))"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",  # no site: only the standard library and the path given below
            "-c",
            f"import sys; sys.path.insert(0, {str(PACKAGE.parent)!r}); {code}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "['keypolicy']"


def app_words_in(text: str) -> list[str]:
    """This project's names (its stack's outputs, roles and settings) found in ``text``."""
    from stacks.outputs import OUTPUT_NAMES

    words = (*OUTPUT_NAMES, "SenderRole", "ReceiverRole", "sample:", "KmsSignEncrypt")
    return [word for word in words if word in text]


def test_the_generic_package_names_nothing_of_this_project():
    """keypolicy is generic: the rows a reviewer asks about and the stack's output names are
    the application's (kms_sign_encrypt.access_rows)."""
    found = {
        str(path.relative_to(PACKAGE)): app_words_in(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    }
    assert {name: words for name, words in found.items() if words} == {}
    # Not vacuous: the application's module does name them.
    rows = PACKAGE.parent / "kms_sign_encrypt" / "access_rows.py"
    assert "SenderRole" in app_words_in(rows.read_text(encoding="utf-8"))

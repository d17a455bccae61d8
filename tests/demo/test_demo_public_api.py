"""demo/ is written against the public library API only (issue 12, item 3).

Every ``kms_sign_encrypt`` import in demo/*.py must name something in ``kms_sign_encrypt.__all__``;
a public submodule (``seed``, ``seed_transfer``) may be imported from only for the names in its
own ``__all__``. Read from the source (AST), so an import inside a function counts too.
"""

from __future__ import annotations

import ast
import importlib
import re
import textwrap
from pathlib import Path

import kms_sign_encrypt

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = "kms_sign_encrypt"


def _public_submodules() -> dict[str, set[str]]:
    """``kms_sign_encrypt``'s public submodules and the names each exports."""
    found: dict[str, set[str]] = {}
    for name in kms_sign_encrypt.__all__:
        value = getattr(kms_sign_encrypt, name)
        if isinstance(value, type(kms_sign_encrypt)):
            module = importlib.import_module(f"{LIBRARY}.{name}")
            assert hasattr(module, "__all__"), f"public module {name} needs an __all__"
            found[f"{LIBRARY}.{name}"] = set(module.__all__)
    return found


def violations(source: str, filename: str = "<demo>") -> list[str]:
    """Every import in ``source`` of a ``kms_sign_encrypt`` name or module that is not public."""
    public = set(kms_sign_encrypt.__all__)
    submodules = _public_submodules()
    found: list[str] = []
    tree = ast.parse(source, filename)
    # Names bound to the package itself (`import kms_sign_encrypt [as k]`): `k.aws` is reaching in.
    package_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == LIBRARY
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in package_names
            and node.attr not in public
        ):
            found.append(f"{filename}:{node.lineno}: {node.value.id}.{node.attr}")
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(f"{LIBRARY}.") and alias.name not in submodules:
                    found.append(f"{filename}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == LIBRARY:
                allowed = public
            elif node.module in submodules:
                allowed = submodules[node.module]
            elif node.module.startswith(f"{LIBRARY}."):
                allowed = set()
            else:
                continue
            for alias in node.names:
                if alias.name not in allowed:
                    found.append(
                        f"{filename}:{node.lineno}: from {node.module} import {alias.name}"
                    )
    return found


def demo_modules() -> list[Path]:
    paths = sorted((ROOT / "demo").glob("*.py"))
    assert len(paths) >= 4  # __init__, __main__, walkthrough, checks, run_report
    return paths


def test_demo_imports_only_public_library_names() -> None:
    found = [v for path in demo_modules() for v in violations(path.read_text(), path.name)]
    assert found == []


def test_the_demo_does_use_the_library() -> None:
    """Not vacuous: the walkthrough and the checks import from kms_sign_encrypt."""
    for name in ("walkthrough.py", "checks.py", "run_report.py"):
        tree = ast.parse((ROOT / "demo" / name).read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert LIBRARY in modules, name


def test_the_check_catches_each_kind_of_internal_import() -> None:
    """Breaks the property on purpose: each line below reaches past the public API."""
    source = textwrap.dedent(
        """
        from kms_sign_encrypt import Sender, kms
        from kms_sign_encrypt.aws import assume_role
        import kms_sign_encrypt.stack
        from kms_sign_encrypt.seed_transfer import check_free
        from kms_sign_encrypt import seed_transfer, Deployment
        from kms_sign_encrypt.seed import bundle

        def later():
            from kms_sign_encrypt.envelope_transfer import send_envelope

        import kms_sign_encrypt as k
        k.Sender, k.aws.assume_role
        """
    )
    assert violations(source) == [
        "<demo>:2: from kms_sign_encrypt import kms",
        "<demo>:3: from kms_sign_encrypt.aws import assume_role",
        "<demo>:4: import kms_sign_encrypt.stack",
        "<demo>:5: from kms_sign_encrypt.seed_transfer import check_free",
        "<demo>:10: from kms_sign_encrypt.envelope_transfer import send_envelope",
        "<demo>:13: k.aws",
    ]


def test_every_public_name_resolves_and_is_documented() -> None:
    """``__all__`` is the promise: each name exists and docs/LIBRARY.md names it."""
    library_doc = (ROOT / "docs" / "LIBRARY.md").read_text()
    for name in kms_sign_encrypt.__all__:
        assert hasattr(kms_sign_encrypt, name), name
        assert re.search(rf"\b{name}\b", library_doc), f"{name} is not in docs/LIBRARY.md"

"""The CDK app: two asymmetric KMS keys, their aliases, a sender and a receiver role.

`stacks.KmsSignEncrypt` is the reusable construct (docs/STACK.md), `stacks.StackConfig` its
typed settings, `stacks.KmsSignEncryptStack` this project's stack around it. They are loaded
on first use, so `import stacks.config` does not start the CDK's Node.js process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stacks.config import ConfigError, StackConfig
    from stacks.construct import KmsSignEncrypt
    from stacks.kms_sign_encrypt_stack import KmsSignEncryptStack

__all__ = ["ConfigError", "KmsSignEncrypt", "KmsSignEncryptStack", "StackConfig"]

_HOMES = {
    "ConfigError": "stacks.config",
    "StackConfig": "stacks.config",
    "KmsSignEncrypt": "stacks.construct",
    "KmsSignEncryptStack": "stacks.kms_sign_encrypt_stack",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'stacks' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)

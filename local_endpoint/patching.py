"""The patch registry: named, reversible monkeypatches that install when their module loads.

Each fidelity patch in the :mod:`local_endpoint.patches` package is a small function registered with
:func:`Registry.patch` under a name and the moto module it changes. An installer gets a
:class:`Patcher` and uses it to replace attributes; the patcher remembers the originals so that
an installation can be undone (tests install a registry in process, with or without one patch).

moto's server imports a service's modules on the first request for that service, and
``moto.cloudformation`` alone costs about two seconds (it imports every resource model). So an
installation applies each patch as soon as its module is imported: at install time for what is
loaded already, and after moto builds each service's app (:meth:`Installation.wrap_app_factory`).
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()


class UnknownPatchError(ValueError):
    """A patch name that the registry does not have."""


@dataclass(frozen=True)
class Patch:
    """One fidelity fix: ``installer`` changes ``module`` so moto behaves as ``summary`` says."""

    name: str
    module: str
    summary: str
    installer: Callable[[Patcher], None]


@dataclass
class Patcher:
    """Replaces attributes and remembers the originals, newest first, for :meth:`undo`."""

    _originals: list[tuple[Any, str, Any]] = field(default_factory=list)

    def replace(self, owner: Any, attribute: str, new: Any) -> Any:
        """Set ``owner.attribute = new``; return what the attribute resolved to before."""
        previous = getattr(owner, attribute)
        own = owner.__dict__.get(attribute, _MISSING) if hasattr(owner, "__dict__") else _MISSING
        self._originals.append((owner, attribute, own))
        setattr(owner, attribute, new)
        return previous

    def undo(self) -> None:
        while self._originals:
            owner, attribute, own = self._originals.pop()
            if own is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, own)


class Registry:
    """An ordered set of named patches."""

    def __init__(self) -> None:
        self._patches: dict[str, Patch] = {}

    def patch(self, name: str, *, module: str) -> Callable[[Callable[[Patcher], None]], Patch]:
        """Register the decorated installer; its docstring is the AWS behaviour it restores."""

        def register(installer: Callable[[Patcher], None]) -> Patch:
            if name in self._patches:
                raise ValueError(f"patch {name!r} is registered twice")
            summary = (installer.__doc__ or "").strip().splitlines()[0]
            self._patches[name] = Patch(name, module, summary, installer)
            return self._patches[name]

        return register

    @property
    def names(self) -> list[str]:
        return list(self._patches)

    def __iter__(self) -> Any:
        return iter(self._patches.values())

    def __getitem__(self, name: str) -> Patch:
        return self._patches[name]

    def check_names(self, names: Iterable[str]) -> None:
        unknown = sorted(set(names) - set(self._patches))
        if unknown:
            raise UnknownPatchError(
                f"unknown patch name(s) {', '.join(unknown)}; known: {', '.join(self.names)}"
            )

    def install(
        self, *, disabled: Iterable[str] = (), eager: bool = False, preload: Iterable[str] = ()
    ) -> Installation:
        """Apply every patch but ``disabled``.

        ``eager`` imports every patched module first; ``preload`` imports only those named
        (the server preloads the cheap ones, so their patches apply at once and in order).
        """
        disabled = set(disabled)
        self.check_names(disabled)
        installation = Installation([p for p in self if p.name not in disabled])
        modules = [p.module for p in installation.pending] if eager else list(preload)
        for module in modules:
            importlib.import_module(module)
        installation.apply_ready()
        return installation


class Installation:
    """Patches applied so far, and those waiting for their module to be imported."""

    def __init__(self, patches: list[Patch]) -> None:
        self.pending = list(patches)
        self.applied: list[str] = []
        self._patcher = Patcher()
        self._lock = threading.Lock()

    def apply_ready(self) -> None:
        """Apply each pending patch whose module is imported by now."""
        with self._lock:
            waiting = []
            for patch in self.pending:
                if patch.module in sys.modules:
                    patch.installer(self._patcher)
                    self.applied.append(patch.name)
                else:
                    waiting.append(patch)
            self.pending = waiting

    def wrap_app_factory(self, create_app: Callable[[str], Any]) -> Callable[[str], Any]:
        """Wrap moto's per-service app factory so that new modules get their patches first."""

        def create_patched_app(service: str) -> Any:
            app = create_app(service)
            self.apply_ready()
            return app

        return create_patched_app

    def undo(self) -> None:
        with self._lock:
            self._patcher.undo()
            self.applied.clear()

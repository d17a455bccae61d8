"""Key generations on the receive side: which of the deployment's keys an envelope is for.

A deployment with several key generations (docs/ROTATION.md) publishes each generation's ARN
and state in its outputs (`EncryptionKeyGenerations`, `EncryptionKeyGeneration<NAME>Arn`, the
same for the signing key; `kms_sign_encrypt.stack` reads them). The receiver then:

- picks its encryption key from the envelope's header: the generation whose ARN the header
  names. A header naming a retired generation, or no generation of this deployment, is
  refused before any KMS call, with a reason that names the generation, and nothing is written;
- trusts as sender exactly the signing generations that are not retired. A statement that
  names a retired signing generation is refused, naming it, without a Verify call (the key is
  disabled anyway) and with nothing written. Any other sender stays the one opaque
  authentication failure (`envelope.unseal`).

A deployment without generation outputs has one generation per key: the current key, as
before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from envelope.format import read_header
from envelope.inputs import open_regular
from kms_sign_encrypt import kms
from kms_sign_encrypt.aws import AwsSession
from kms_sign_encrypt.errors import InputRefusedError

if TYPE_CHECKING:
    from envelope.keys import SignatureVerifier
    from kms_sign_encrypt.stack import Resources

ACTIVE: Final = "active"
RETIRED: Final = "retired"
DELETED: Final = "deleted"
STATES: Final = (ACTIVE, RETIRED, DELETED)


@dataclass(frozen=True)
class Generation:
    """One generation of one of the deployment's keys. ``arn`` is None once deleted."""

    name: str
    state: str  # ACTIVE, RETIRED or DELETED
    arn: str | None

    @property
    def usable(self) -> bool:
        return self.state == ACTIVE and self.arn is not None


class GenerationRefusedError(InputRefusedError):
    """The envelope is for a key generation this receiver does not accept: a retired one, or
    none of this deployment's. ``generation`` names it (None: no generation of this
    deployment), ``key_arn`` is the key the envelope names."""

    def __init__(self, message: str, *, generation: str | None, key_arn: str) -> None:
        super().__init__(message)
        self.generation = generation
        self.key_arn = key_arn


def parse_generations(listing: str) -> list[tuple[str, str]]:
    """(name, state) of each entry of a generations output, ``1:retired 2027``.

    Raises ValueError on an entry that is not NAME or NAME:STATE with a known state.
    """
    entries = []
    for entry in listing.split():
        name, _, state = entry.partition(":")
        state = state or ACTIVE
        if not name.isalnum() or state not in STATES:
            raise ValueError(f"{entry!r} is not NAME, NAME:retired or NAME:deleted")
        entries.append((name, state))
    return entries


def _describe(generations: tuple[Generation, ...]) -> str:
    return ", ".join(f"{g.name} ({g.state})" for g in generations) or "none"


def encryption_key_for(
    generations: tuple[Generation, ...], header_recipients: tuple[str, ...]
) -> Generation:
    """The active encryption generation the header names; refused if it names a retired one
    and no active one, or none of ``generations``."""
    by_arn = {g.arn: g for g in generations if g.arn is not None}
    named = [by_arn[arn] for arn in header_recipients if arn in by_arn]
    for generation in named:
        if generation.usable:
            return generation
    if named:
        retired = named[0]
        raise GenerationRefusedError(
            f"refused: this envelope is for encryption key generation {retired.name}, which is "
            f"{retired.state}; the sender must send it again with the current generation "
            f"({_current(generations)})",
            generation=retired.name,
            key_arn=str(retired.arn),
        )
    addressed = ", ".join(header_recipients)
    raise GenerationRefusedError(
        f"refused: this envelope is for key {addressed}, not a generation of this deployment's "
        f"encryption key (its generations: {_describe(generations)})",
        generation=None,
        key_arn=header_recipients[0] if header_recipients else "",
    )


def header_recipients(source: Path) -> tuple[str, ...]:
    """The recipient key ids in the envelope header of ``source`` (no KMS call)."""
    with open_regular(source) as raw:
        return read_header(raw).recipient_key_ids


def _current(generations: tuple[Generation, ...]) -> str:
    return generations[-1].name if generations else "unknown"


@dataclass(frozen=True)
class RetiredSender:
    """A trusted-sender entry for a retired signing generation: ``envelope.unseal`` reaches
    ``verify`` only for a statement that names this key as its sender (and binds this
    receiver), and then the envelope is refused with the generation's name, not verified."""

    key_id: str
    generation: str
    state: str

    def verify(self, message: bytes, signature: bytes) -> bool:
        raise GenerationRefusedError(
            f"refused: this envelope is signed by signing key generation {self.generation}, "
            f"which is {self.state}: its signatures are no longer accepted",
            generation=self.generation,
            key_arn=self.key_id,
        )


def older_senders(
    session: AwsSession, resources: Resources, current_signing_arn: str
) -> list[SignatureVerifier] | None:
    """The trusted-sender entries for the signing generations other than the current one:
    KMS Verify for an active one, `RetiredSender` for a retired one (a deleted one is not
    trusted at all). None when the deployment has a single signing generation."""
    entries: list[SignatureVerifier] = []
    for generation in resources.signing_generations:
        if generation.arn is None or generation.arn == current_signing_arn:
            continue
        if generation.usable:
            entries.append(kms.KmsVerifier(session, generation.arn, generation.arn))
        else:
            entries.append(RetiredSender(generation.arn, generation.name, generation.state))
    return entries or None


# -- what a deploy may change (the preflight's check against the deployed stack) -------------

_ORDER = {ACTIVE: 0, RETIRED: 1, DELETED: 2}


def change_problem(
    key: str, deployed: list[tuple[str, str]] | None, new: list[tuple[str, str]]
) -> str | None:
    """Why deploying the generations ``new`` over ``deployed`` is refused, or None.

    ``deployed`` None: the deployed stack has no generation outputs (the default, one
    generation whose name it never published). The lists are append-only: every deployed
    generation stays, in its place; a generation is deleted only after a deploy that retired
    it; a deleted one stays deleted. A retired one may become active again (it is enabled).
    """
    if deployed is None:
        deployed_names = None
        deployed = [(new[0][0], ACTIVE)] if new else []
    else:
        deployed_names = [name for name, _ in deployed]
    new_names = [name for name, _ in new]
    if deployed_names is not None and new_names[: len(deployed_names)] != deployed_names:
        missing = [n for n in deployed_names if n not in new_names]
        if missing:
            return (
                f"{key} generation {missing[0]} is deployed but not in the new list: keep every "
                f"generation in the list, oldest first (mark it {missing[0]}:retired, then "
                f"{missing[0]}:deleted)"
            )
        return (
            f"the new {key} generations {' '.join(new_names)} do not start with the deployed "
            f"ones {' '.join(deployed_names)}: add new generations at the end only"
        )
    for (name, before), (_, after) in zip(deployed, new, strict=False):
        if before == ACTIVE and after == DELETED:
            return (
                f"{key} generation {name} is active and would be deleted: retire it first "
                f"({name}:retired), deploy, wait until nothing needs it, then delete it"
            )
        if before == DELETED and after != DELETED:
            return f"{key} generation {name} is deleted: a deleted generation stays deleted"
    return None

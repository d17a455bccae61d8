"""Find the deployed resources: the stack's outputs, from DescribeStacks or a CDK outputs file.

Explicit options win over the outputs; the outputs are only read when an option is missing,
so a receiver on another machine can run with nothing but key and role options.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kms_sign_encrypt.aws import AwsSession, translated
from kms_sign_encrypt.errors import NotDeployedError, RegionMismatchError, UsageError
from kms_sign_encrypt.generations import Generation, parse_generations

DEFAULT_STACK_NAME = "KmsSignEncryptStack"
OUTPUT_NAMES = (
    "EncryptionKeyArn",
    "EncryptionKeyAlias",
    "SigningKeyArn",
    "SigningKeyAlias",
    "SenderRoleArn",
    "ReceiverRoleArn",
)
MAX_OUTPUTS_FILE_BYTES = 1 << 20
# Stack states whose outputs are current (CloudFormation User Guide, "Stack status codes"):
DEPLOYED_STATUSES = frozenset(
    {
        "CREATE_COMPLETE",  # created
        "UPDATE_COMPLETE",  # updated
        # the update is done; only resources it replaced are still being deleted
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",  # a failed update rolled back: the previous version stands
        # that rollback is done; only resources the failed update made are being deleted
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "IMPORT_COMPLETE",  # resources imported; the outputs are the new template's
        "IMPORT_ROLLBACK_COMPLETE",  # a failed import rolled back: the previous version stands
    }
)
# Not usable: *_IN_PROGRESS otherwise (outputs change under way), ROLLBACK_COMPLETE (a failed
# first create: nothing remains), CREATE_FAILED/UPDATE_FAILED (rollback disabled: resources
# half-made), UPDATE_ROLLBACK_FAILED and IMPORT_ROLLBACK_FAILED (stack inconsistent),
# DELETE_* and REVIEW_IN_PROGRESS (a change set never executed).


@dataclass(frozen=True)
class Resources:
    """What the demo works with. Keys may be ARNs or aliases (``alias/...``)."""

    encryption_key: str
    signing_key: str
    sender_role_arn: str
    receiver_role_arn: str
    encryption_key_arn: str | None = None
    signing_key_arn: str | None = None
    source: str = "options"
    # issue 15: every generation of each key, oldest first, the last current (from the
    # generation outputs); empty: one generation, the key above.
    encryption_generations: tuple[Generation, ...] = ()
    signing_generations: tuple[Generation, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "encryption_key": self.encryption_key,
            "encryption_key_arn": self.encryption_key_arn,
            "signing_key": self.signing_key,
            "signing_key_arn": self.signing_key_arn,
            "sender_role_arn": self.sender_role_arn,
            "receiver_role_arn": self.receiver_role_arn,
            "source": self.source,
        }
        if self.encryption_generations or self.signing_generations:
            document["key_generations"] = {
                purpose: [{"name": g.name, "state": g.state, "arn": g.arn} for g in generations]
                for purpose, generations in (
                    ("encryption", self.encryption_generations),
                    ("signing", self.signing_generations),
                )
            }
        return document


@dataclass(frozen=True)
class ResourceOptions:
    """The command line's explicit values; None means "from the stack outputs"."""

    stack_name: str | None = None  # None: from name_prefix, or the outputs file's only stack
    outputs_file: Path | None = None
    name_prefix: str | None = None  # sample:namePrefix of the deployment
    encryption_key: str | None = None
    signing_key: str | None = None
    sender_role_arn: str | None = None
    receiver_role_arn: str | None = None


def stack_name_for(options: ResourceOptions) -> str | None:
    """The stack an explicit stack name or name prefix names (None: neither given).

    The stack is named `{sample:namePrefix}KmsSignEncryptStack` (stacks/config.py), so the
    prefix alone is enough.
    """
    if options.stack_name:
        return options.stack_name
    if options.name_prefix is not None:
        return f"{options.name_prefix}{DEFAULT_STACK_NAME}"
    return None


def as_alias(name: str) -> str:
    """Alias outputs may come with or without the ``alias/`` prefix; KMS wants it."""
    return name if name.startswith(("alias/", "arn:")) else f"alias/{name}"


def outputs_from_file(path: Path, stack_name: str | None) -> dict[str, str]:
    """The outputs of ``stack_name`` in a ``cdk deploy`` outputs JSON file.

    With ``stack_name`` None, the file's only stack (a file of several names none of them).
    """
    try:
        with path.open("rb") as handle:  # at most the cap: never all of a huge or endless file
            raw = handle.read(MAX_OUTPUTS_FILE_BYTES + 1)
    except FileNotFoundError:
        raise NotDeployedError(
            f"outputs file {path} not found: deploy first with "
            f"cdk deploy --outputs-file {path}, or read the stack itself",
            setting="outputs_file",
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot read outputs file {path}: {exc.strerror}") from None
    if len(raw) > MAX_OUTPUTS_FILE_BYTES:
        raise UsageError(f"outputs file {path} is larger than {MAX_OUTPUTS_FILE_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"outputs file {path} is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise UsageError(f"outputs file {path} must hold a JSON object of stacks")
    if stack_name is None and not document:
        stack_name = DEFAULT_STACK_NAME  # nothing deployed: said below
    if stack_name is None:
        if len(document) != 1:
            found = ", ".join(sorted(document)) or "none"
            raise UsageError(
                f"outputs file {path} holds {len(document)} stacks ({found}): "
                "name the stack (or its name prefix) to choose one",
                setting="stack",
            )
        (stack_name,) = document
    if stack_name not in document:
        found = ", ".join(sorted(document)) or "none"
        raise NotDeployedError(
            f"stack {stack_name!r} is not in outputs file {path} (stacks found: {found}): "
            "deploy it first, or name another stack",
            setting="stack",
        )
    outputs = document[stack_name]
    if not isinstance(outputs, dict) or not all(isinstance(v, str) for v in outputs.values()):
        raise UsageError(f"outputs of {stack_name!r} in {path} must map names to strings")
    return dict(outputs)


def outputs_from_stack(session: AwsSession, stack_name: str) -> dict[str, str]:
    """The outputs of a deployed stack, from CloudFormation DescribeStacks."""
    with translated(session, "cloudformation:DescribeStacks", stack_name):
        answer = session.client("cloudformation").describe_stacks(StackName=stack_name)
    stacks = answer.get("Stacks", [])
    if not stacks:
        raise NotDeployedError(f"stack {stack_name!r} not found: deploy it first")
    stack = stacks[0]
    status = stack.get("StackStatus", "")
    if status not in DEPLOYED_STATUSES:
        raise NotDeployedError(
            f"stack {stack_name!r} is {status}, not deployed: finish or repeat the deploy first"
        )
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def check_outputs(outputs: Mapping[str, str], where: str) -> None:
    missing = [name for name in OUTPUT_NAMES if not outputs.get(name)]
    if missing:
        raise NotDeployedError(
            f"{where} lacks the outputs {', '.join(missing)}: deploy the current stack first "
            "(cdk deploy)"
        )


def check_region(resources: Resources, region: str) -> None:
    """Keys live in one region; a session in another cannot use them (wrong-region error)."""
    for arn in (
        resources.encryption_key_arn,
        resources.signing_key_arn,
        resources.encryption_key,
        resources.signing_key,
    ):
        if arn and arn.startswith("arn:"):
            parts = arn.split(":")
            if len(parts) > 3 and parts[3] and parts[3] != region:
                raise RegionMismatchError(
                    f"wrong region: the keys are in {parts[3]} but the session uses {region}; "
                    f"use region {parts[3]}",
                    setting="region",
                )


RESOURCE_FIELDS = {
    "encryption_key": "EncryptionKeyAlias",
    "signing_key": "SigningKeyAlias",
    "sender_role_arn": "SenderRoleArn",
    "receiver_role_arn": "ReceiverRoleArn",
}
ALL_FIELDS = tuple(RESOURCE_FIELDS)


def discover(
    options: ResourceOptions,
    session: AwsSession | None,
    needed: tuple[str, ...] = ALL_FIELDS,
) -> Resources:
    """Explicit options, with what ``needed`` lacks filled in from the stack's outputs.

    The outputs are read only if a needed value is missing or an outputs file is given, so
    a party on another machine can work from options alone, without DescribeStacks.
    """
    missing = [name for name in needed if getattr(options, name) is None]
    outputs: dict[str, str] = {}
    source = "options"
    if missing or options.outputs_file is not None:
        stack_name = stack_name_for(options)
        if options.outputs_file is not None:
            outputs = outputs_from_file(options.outputs_file, stack_name)
            where = f"outputs file {options.outputs_file}"
        else:
            if session is None:
                raise UsageError(
                    "give an outputs file or the keys and roles", setting="outputs_file"
                )
            stack_name = stack_name or DEFAULT_STACK_NAME
            outputs = outputs_from_stack(session, stack_name)
            where = f"stack {stack_name!r}"
        check_outputs(outputs, where)
        source = where

    def value(name: str) -> str:
        explicit = getattr(options, name)
        if explicit is not None:
            return explicit
        output = outputs.get(RESOURCE_FIELDS[name], "")
        return as_alias(output) if output and name.endswith("_key") else output

    resources = Resources(
        encryption_key=value("encryption_key"),
        signing_key=value("signing_key"),
        sender_role_arn=value("sender_role_arn"),
        receiver_role_arn=value("receiver_role_arn"),
        encryption_key_arn=_arn_for(options.encryption_key, outputs, "EncryptionKey"),
        signing_key_arn=_arn_for(options.signing_key, outputs, "SigningKey"),
        source=source,
        encryption_generations=(
            generations_from_outputs(outputs, "EncryptionKey", source)
            if options.encryption_key is None
            else ()
        ),
        signing_generations=(
            generations_from_outputs(outputs, "SigningKey", source)
            if options.signing_key is None
            else ()
        ),
    )
    if session is not None:
        check_region(resources, session.region)
    return resources


def _arn_for(explicit: str | None, outputs: Mapping[str, str], key: str) -> str | None:
    """The key ARN: the explicit value if it is one, else the output's unless overridden."""
    output_arn = outputs.get(f"{key}Arn")
    output_alias = outputs.get(f"{key}Alias")
    if explicit is None or explicit == output_arn:
        return output_arn
    if output_alias and explicit == as_alias(output_alias):
        return output_arn
    if explicit.startswith("arn:") and ":alias/" not in explicit:
        return explicit
    return None


# -- key generations (issue 15): outputs a deployment with several generations adds ----------

GENERATION_LIST_OUTPUTS = ("EncryptionKeyGenerations", "SigningKeyGenerations")


def generation_arn_output(key: str, name: str) -> str:
    """`EncryptionKeyGeneration2027Arn` (stacks.outputs names them the same way)."""
    return f"{key}Generation{name}Arn"


def generations_from_outputs(
    outputs: Mapping[str, str], key: str, where: str
) -> tuple[Generation, ...]:
    """The generations of ``key`` (``EncryptionKey`` or ``SigningKey``) the outputs list, or
    () when they list none (a deployment with the default single generation)."""
    listing = outputs.get(f"{key}Generations")
    if listing is None:
        return ()
    try:
        entries = parse_generations(listing)
    except ValueError as exc:
        raise NotDeployedError(f"{where}: output {key}Generations: {exc}") from None
    generations = []
    for name, state in entries:
        arn = outputs.get(generation_arn_output(key, name)) or None
        if arn is None and state != "deleted":
            raise NotDeployedError(
                f"{where} lacks the output {generation_arn_output(key, name)}: deploy the "
                "current stack first (cdk deploy)"
            )
        generations.append(Generation(name, state, arn))
    if not generations or generations[-1].arn != outputs.get(f"{key}Arn"):
        raise NotDeployedError(
            f"{where}: the last of {key}Generations is not {key}Arn: deploy the current "
            "stack first (cdk deploy)"
        )
    return tuple(generations)

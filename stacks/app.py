"""Build the CDK app: `cdk.json`'s context, overrides on top, validated once, one stack."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from aws_cdk import (
    App,
    DefaultStackSynthesizer,
    IStackSynthesizer,
    LegacyStackSynthesizer,
    Validations,
)
from cdk_nag import AwsSolutionsChecks

from stacks.config import CONTEXT_PREFIX, ConfigError, StackConfig
from stacks.kms_sign_encrypt_stack import KmsSignEncryptStack
from stacks.topology import SETTINGS as TOPOLOGY_SETTINGS
from stacks.topology import Topology

CDK_JSON: Final = Path(__file__).resolve().parent.parent / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, object]:
    """The `context` object of `cdk.json`: the `sample:*` defaults and the feature flags."""
    return dict(json.loads(path.read_text(encoding="utf-8"))["context"])


def create_app(
    context: Mapping[str, object] | None = None, *, builtin_validation: bool = True
) -> App:
    """The app with `KmsSignEncryptStack` (or `{namePrefix}KmsSignEncryptStack`).

    Context precedence, lowest first: `cdk.json`, the CDK CLI's context (`-c` values, passed in
    CDK_CONTEXT_JSON), then `context`. Raises `stacks.config.ConfigError` on a bad value.

    `builtin_validation=False` skips the CDK's built-in CloudFormation validation at synth.
    It costs seconds the first time in a process; fast test suites that lint the template
    themselves (cfn-lint) may turn it off. `cdk synth` always runs it.
    """
    app = App(
        context=cdk_json_context(),
        post_cli_context=dict(context or {}),
        builtin_cloud_formation_validation=builtin_validation,
    )
    context_values = _sample_context(app)
    topology_context = {k: context_values.pop(k) for k in TOPOLOGY_SETTINGS if k in context_values}
    config = StackConfig.from_context(context_values)
    topology = Topology.from_context(topology_context, config.name_prefix)
    if topology is None:
        KmsSignEncryptStack(app, config.stack_name, config=config, synthesizer=_synthesizer(config))
    else:
        _add_account_stacks(app, config, topology)
    return app


# -- parties in their own accounts (issue 13) -------------------------------------------------


def _add_account_stacks(app: App, config: StackConfig, topology: Topology) -> None:
    """The key-owner stack and one party stack per party, each in its own account."""
    from aws_cdk import Environment

    from stacks.key_owner_stack import KeyOwnerStack
    from stacks.party_stack import PartyStack

    for setting, principals in (
        ("sample:senderPrincipals", config.sender_principals),
        ("sample:receiverPrincipals", config.receiver_principals),
    ):
        if principals:
            raise ConfigError(
                setting,
                "[] with sample:keyOwnerAccount",
                [p.arn for p in principals],
                message=(
                    f"{setting} must be [] with sample:keyOwnerAccount (each party's role "
                    "trusts its own account's workload role); got "
                    f"{[p.arn for p in principals]!r}"
                ),
            )
    for setting, generations in (
        ("sample:encryptionKeyGenerations", config.encryption_key_generations),
        ("sample:signingKeyGenerations", config.signing_key_generations),
    ):
        if len(generations) > 1:  # the key-owner stack has one key per role and receiver
            raise ConfigError(
                setting,
                "a single generation with sample:keyOwnerAccount",
                [g.name for g in generations],
                message=(
                    f"{setting} must name a single generation with sample:keyOwnerAccount (key "
                    "generations are not built across accounts yet; docs/ROTATION.md); got "
                    f"{len(generations)} generations"
                ),
            )
    region = os.environ.get("CDK_DEFAULT_REGION")

    def env(account: str) -> Environment:
        return Environment(account=account, region=region)

    prefix = config.name_prefix
    KeyOwnerStack(
        app,
        topology.stack_name(prefix),
        config=config,
        topology=topology,
        env=env(topology.key_owner_account),
        synthesizer=_synthesizer(config),
    )
    receivers = list(topology.receivers)
    if topology.receiver_stackset:
        # One environment-agnostic template for every receiver account, needing no
        # bootstrap: CloudFormation StackSets rolls it out (docs/STACK.md).
        receiver = topology.stackset_receiver()
        PartyStack(
            app,
            topology.stack_name(prefix, receiver),
            config=config,
            topology=topology,
            party=receiver,
            parameters=True,
            synthesizer=LegacyStackSynthesizer(),
        )
        receivers = []
    # One PartyStack per party; the StackSets receiver above differs in parameters and synthesizer
    # (duplicates D39).
    for party in (topology.sender, *receivers):
        PartyStack(
            app,
            topology.stack_name(prefix, party),
            config=config,
            topology=topology,
            party=party,
            env=env(party.account),
            synthesizer=_synthesizer(config),
        )


def add_compliance_checks(app: App) -> App:
    """Run cdk-nag's AwsSolutions pack when `app` synthesizes: a finding fails the synth.

    `app.py` calls this, so `cdk synth` and `cdk deploy` of an edited stack stop before
    CloudFormation sees it, exactly as the tests do. No finding is acknowledged.
    """
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def _sample_context(app: App) -> dict[str, object]:
    all_context = app.node.get_all_context()
    return {k: v for k, v in all_context.items() if k.startswith(CONTEXT_PREFIX)}


def _synthesizer(config: StackConfig) -> IStackSynthesizer:
    """The default synthesizer (needs `cdk bootstrap`), or one that needs no bootstrap at all.

    The stack has no assets, so the template can travel inline and the CLI can deploy with its
    own credentials. `LegacyStackSynthesizer` does exactly that: no deploy or execution role, no
    asset bucket, no bootstrap-version rule. (`BootstraplessSynthesizer` still names the default
    bootstrap roles: the CLI then tries to assume a deploy role that does not exist, and a real
    CloudFormation refuses the missing execution role.)
    """
    if config.bootstrapless:
        return LegacyStackSynthesizer()
    return DefaultStackSynthesizer()

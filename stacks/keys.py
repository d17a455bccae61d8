"""The asymmetric KMS key construct: one key, its alias and an explicit key policy."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.config import KeyRemoval


@dataclass(frozen=True)
class _KeyKind:
    spec: kms.KeySpec
    usage: kms.KeyUsage
    description: str


class KeyPurpose(enum.Enum):
    """What a key is for; each purpose fixes the key spec and usage (a table, not nested ifs)."""

    ENCRYPTION = _KeyKind(
        kms.KeySpec.RSA_4096,
        kms.KeyUsage.ENCRYPT_DECRYPT,
        "Sample asymmetric encryption key: the sender encrypts, the receiver decrypts "
        "(RSAES_OAEP_SHA_256)",
    )
    SIGNING = _KeyKind(
        kms.KeySpec.ECC_NIST_P521,
        kms.KeyUsage.SIGN_VERIFY,
        "Sample asymmetric signing key: the sender signs, the receiver verifies (ECDSA_SHA_512)",
    )


# RETAIN_ON_UPDATE_OR_DELETE is CloudFormation's DeletionPolicy RetainExceptOnCreate: the key
# survives `cdk destroy` and replacement, but a rollback of the stack's first create deletes it
# (it was never in use), so a failed first deploy leaves no orphaned key behind.
REMOVAL_POLICIES = {
    KeyRemoval.RETAIN: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    KeyRemoval.DESTROY: RemovalPolicy.DESTROY,
}


class AsymmetricKey(Construct):
    """An asymmetric KMS key with an alias, whose key policy is exactly `statements`.

    The key policy is passed whole (`policy=`), so CDK's default root `kms:*` statement is
    never added. With `alias_name` None the key has no alias of its own (a key generation that
    is not the first: the first generation's construct holds the alias, see `key_alias`).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        purpose: KeyPurpose,
        alias_name: str | None,
        statements: Sequence[iam.PolicyStatement],
        removal: KeyRemoval,
        pending_window_days: int,
        enabled: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        kind = purpose.value
        self.key = kms.Key(
            self,
            "Key",
            key_spec=kind.spec,
            key_usage=kind.usage,
            description=kind.description,
            policy=iam.PolicyDocument(statements=list(statements)),
            removal_policy=REMOVAL_POLICIES[removal],
            pending_window=Duration.days(pending_window_days),
            # A retired generation (issue 15): `Enabled: false`, the key kept. An enabled key
            # leaves the property out, as it always has (the template stays the same).
            **({} if enabled else {"enabled": False}),
        )
        self.alias_name = alias_name
        if alias_name is not None:
            self.alias = key_alias(self, alias_name, self.key)


def key_alias(scope: Construct, alias_name: str, target: kms.IKey) -> kms.Alias:
    """The alias `scope/Alias` naming `target`. Always destroyed with the stack, so a new
    deployment can take the name again even when the key itself is retained. Its construct
    path, and so its logical ID, stays put when `target` changes (a new key generation): the
    update is then UpdateAlias, not a second alias of the same name."""
    return kms.Alias(
        scope,
        "Alias",
        alias_name=alias_name,
        target_key=target,
        removal_policy=RemovalPolicy.DESTROY,
    )

"""Configuration: every `sample:*` value is validated once, and a bad one fails synth with one
line naming the setting, what is allowed and the value received."""

from __future__ import annotations

import pytest

from stacks.app import cdk_json_context
from stacks.config import ConfigError, KeyRemoval, PartyPrincipal, StackConfig

ACCOUNT_ROOT = "arn:aws:iam::123456789012:root"

PRINCIPALS_ALLOWED = (
    "a list of IAM principal ARNs (arn:aws:iam::123456789012:root, :role/NAME or :user/NAME), "
    "as JSON or comma-separated"
)
PREFIX_ALLOWED = "empty, or up to 32 letters, digits and hyphens starting with a letter"
ALIAS_ALLOWED = (
    "an alias name like alias/my-key (letters, digits, /, _ and -), "
    "not in the reserved alias/aws/ namespace"
)
ROLE_ALLOWED = "an IAM role name of 1-64 characters from A-Z a-z 0-9 +=,.@_-"
EXTERNAL_ID_ALLOWED = "absent (no external id), or 2-1224 characters from A-Z a-z 0-9 +=,.@:/_-"
PARTY_ALLOWED = (
    "a list of IAM role or user ARNs (arn:aws:iam::123456789012:role/NAME or :user/NAME, not an "
    'account root), each a string or {"arn": ARN, "externalId": ID}, as JSON or comma-separated'
)
ADMIN_ASSUMABLE = (
    "principals that administrators cannot assume at will (not an SSO permission-set role, "
    "OrganizationAccountAccessRole, AWSControlTowerExecution or a CDK bootstrap role)"
)
PARTNER = "arn:aws:iam::111122223333:role/PartnerSender"
WINDOW_ALLOWED = "a whole number of days from 7 to 30"
TAGS_ALLOWED = (
    "a JSON object of up to 50 string tags (keys 1-128 characters, values up to 256, letters, "
    "digits, spaces and _.:/=+-@; keys not starting with aws:)"
)
SETTINGS = (
    "sample:namePrefix, sample:encryptionKeyAlias, sample:signingKeyAlias, "
    "sample:senderRoleName, sample:receiverRoleName, sample:senderPrincipals, "
    "sample:receiverPrincipals, sample:adminPrincipals, sample:keyRemoval, "
    "sample:pendingWindowDays, sample:tags, sample:bootstrapless, sample:roleNames, "
    "sample:alarmEmail, sample:encryptionKeyGenerations, sample:signingKeyGenerations"
)

# (overrides on top of cdk.json, the exact message)
INVALID = {
    "prefix-starts-with-digit": (
        {"sample:namePrefix": "1dev"},
        f"sample:namePrefix must be {PREFIX_ALLOWED}; got '1dev'",
    ),
    "prefix-underscore": (
        {"sample:namePrefix": "dev_"},
        f"sample:namePrefix must be {PREFIX_ALLOWED}; got 'dev_'",
    ),
    "prefix-too-long": (
        {"sample:namePrefix": "a" * 33},
        f"sample:namePrefix must be {PREFIX_ALLOWED}; got '{'a' * 33}'",
    ),
    "prefix-not-text": (
        {"sample:namePrefix": 5},
        f"sample:namePrefix must be {PREFIX_ALLOWED}; got 5",
    ),
    "alias-without-alias-slash": (
        {"sample:encryptionKeyAlias": "sample-key"},
        f"sample:encryptionKeyAlias must be {ALIAS_ALLOWED}; got 'sample-key'",
    ),
    "alias-reserved-aws-namespace": (
        {"sample:encryptionKeyAlias": "alias/aws/s3"},
        f"sample:encryptionKeyAlias must be {ALIAS_ALLOWED}; got 'alias/aws/s3'",
    ),
    "alias-with-space": (
        {"sample:signingKeyAlias": "alias/my key"},
        f"sample:signingKeyAlias must be {ALIAS_ALLOWED}; got 'alias/my key'",
    ),
    "alias-same-for-both-keys": (
        {"sample:signingKeyAlias": "alias/sample-encrypt-decrypt-key"},
        "sample:signingKeyAlias must be different from sample:encryptionKeyAlias; "
        "got 'alias/sample-encrypt-decrypt-key'",
    ),
    "prefixed-alias-too-long": (
        {"sample:namePrefix": "p" * 32, "sample:signingKeyAlias": "alias/" + "s" * 220},
        "sample:signingKeyAlias must be at most 256 characters including sample:namePrefix; "
        f"got 'alias/{'p' * 32}{'s' * 220}'",
    ),
    "role-name-with-space": (
        {"sample:senderRoleName": "Sender Role"},
        f"sample:senderRoleName must be {ROLE_ALLOWED}; got 'Sender Role'",
    ),
    "role-name-too-long": (
        {"sample:receiverRoleName": "R" * 65},
        f"sample:receiverRoleName must be {ROLE_ALLOWED}; got '{'R' * 65}'",
    ),
    "role-name-same-for-both-roles": (
        {"sample:receiverRoleName": "SenderRole"},
        "sample:receiverRoleName must be different from sample:senderRoleName; got 'SenderRole'",
    ),
    "prefixed-role-name-too-long": (
        {"sample:namePrefix": "p" * 32, "sample:senderRoleName": "R" * 40},
        "sample:senderRoleName must be at most 64 characters including sample:namePrefix; "
        f"got '{'p' * 32}{'R' * 40}'",
    ),
    "removed-trusted-principals": (
        {"sample:trustedPrincipals": []},
        "sample:trustedPrincipals is replaced by sample:senderPrincipals and "
        "sample:receiverPrincipals (one trust per party, disjoint lists); got []",
    ),
    "removed-external-id": (
        {"sample:externalId": "partner-7f3a"},
        "sample:externalId is replaced by a per-principal externalId in sample:senderPrincipals "
        'and sample:receiverPrincipals, e.g. [{"arn": "...", "externalId": "..."}]; '
        "got 'partner-7f3a'",
    ),
    "party-account-id-not-arn": (
        {"sample:senderPrincipals": "123456789012"},
        f"sample:senderPrincipals must be {PARTY_ALLOWED}; got '123456789012'",
    ),
    "party-account-root": (
        {"sample:receiverPrincipals": ACCOUNT_ROOT},
        f"sample:receiverPrincipals must be {PARTY_ALLOWED}; got '{ACCOUNT_ROOT}'",
    ),
    "party-seed-doubled-colon": (
        {"sample:senderPrincipals": "arn:aws:iam::111122223333::role/SenderRole"},
        f"sample:senderPrincipals must be {PARTY_ALLOWED}; "
        "got 'arn:aws:iam::111122223333::role/SenderRole'",
    ),
    "party-broken-json": (
        {"sample:senderPrincipals": f'["{PARTNER}"'},
        f"""sample:senderPrincipals must be {PARTY_ALLOWED}; got '["{PARTNER}"'""",
    ),
    "party-json-object": (
        {"sample:senderPrincipals": '{"a": 1}'},
        f"""sample:senderPrincipals must be {PARTY_ALLOWED}; got '{{"a": 1}}'""",
    ),
    "party-unknown-field": (
        {"sample:senderPrincipals": [{"arn": PARTNER, "externalID": "abc"}]},
        f"sample:senderPrincipals must be {PARTY_ALLOWED}; "
        f"got {{'arn': '{PARTNER}', 'externalID': 'abc'}}",
    ),
    "party-duplicate": (
        {"sample:senderPrincipals": f"{PARTNER},{PARTNER}"},
        f"sample:senderPrincipals must be a list without duplicate ARNs; got '{PARTNER},{PARTNER}'",
    ),
    "party-in-both-lists": (
        {"sample:senderPrincipals": [PARTNER], "sample:receiverPrincipals": [PARTNER]},
        "sample:receiverPrincipals must be disjoint from sample:senderPrincipals (separation of "
        "duties: one principal holding both roles could forge the sender's signature); "
        f"got '{PARTNER}'",
    ),
    "party-the-other-party-role": (
        {"sample:senderPrincipals": "arn:aws:iam::123456789012:role/ReceiverRole"},
        "sample:senderPrincipals must be principals other than the stack's own SenderRole and "
        "ReceiverRole (a party role trusting a party role joins the parties); "
        "got 'arn:aws:iam::123456789012:role/ReceiverRole'",
    ),
    "party-sso-admin-role": (
        {
            "sample:receiverPrincipals": "arn:aws:iam::123456789012:role/aws-reserved/"
            "sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_0123456789abcdef"
        },
        f"sample:receiverPrincipals must be {ADMIN_ASSUMABLE}; got 'arn:aws:iam::123456789012:"
        "role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_"
        "0123456789abcdef'",
    ),
    "party-organization-access-role": (
        {"sample:senderPrincipals": "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"},
        f"sample:senderPrincipals must be {ADMIN_ASSUMABLE}; "
        "got 'arn:aws:iam::123456789012:role/OrganizationAccountAccessRole'",
    ),
    "party-cdk-exec-role": (
        {
            "sample:senderPrincipals": "arn:aws:iam::123456789012:role/"
            "cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1"
        },
        f"sample:senderPrincipals must be {ADMIN_ASSUMABLE}; got 'arn:aws:iam::123456789012:"
        "role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1'",
    ),
    "external-id-too-short": (
        {"sample:senderPrincipals": [{"arn": PARTNER, "externalId": "x"}]},
        f"sample:senderPrincipals externalId must be {EXTERNAL_ID_ALLOWED}; got 'x'",
    ),
    "external-id-with-space": (
        {"sample:receiverPrincipals": [{"arn": PARTNER, "externalId": "partner id"}]},
        f"sample:receiverPrincipals externalId must be {EXTERNAL_ID_ALLOWED}; got 'partner id'",
    ),
    "admin-wildcard": (
        {"sample:adminPrincipals": "arn:aws:iam::123456789012:role/*"},
        f"sample:adminPrincipals must be {PRINCIPALS_ALLOWED}; "
        "got 'arn:aws:iam::123456789012:role/*'",
    ),
    "admin-session-arn": (
        {"sample:adminPrincipals": ["arn:aws:sts::123456789012:assumed-role/Admin/me"]},
        f"sample:adminPrincipals must be {PRINCIPALS_ALLOWED}; "
        "got 'arn:aws:sts::123456789012:assumed-role/Admin/me'",
    ),
    "removal-unknown": (
        {"sample:keyRemoval": "delete"},
        "sample:keyRemoval must be 'retain' or 'destroy'; got 'delete'",
    ),
    "removal-wrong-case": (
        {"sample:keyRemoval": "RETAIN"},
        "sample:keyRemoval must be 'retain' or 'destroy'; got 'RETAIN'",
    ),
    "window-too-short": (
        {"sample:pendingWindowDays": "3"},
        f"sample:pendingWindowDays must be {WINDOW_ALLOWED}; got '3'",
    ),
    "window-too-long": (
        {"sample:pendingWindowDays": 31},
        f"sample:pendingWindowDays must be {WINDOW_ALLOWED}; got 31",
    ),
    "window-fraction": (
        {"sample:pendingWindowDays": "7.5"},
        f"sample:pendingWindowDays must be {WINDOW_ALLOWED}; got '7.5'",
    ),
    "window-boolean": (
        {"sample:pendingWindowDays": True},
        f"sample:pendingWindowDays must be {WINDOW_ALLOWED}; got True",
    ),
    "tags-not-json": (
        {"sample:tags": "team=platform"},
        f"sample:tags must be {TAGS_ALLOWED}; got 'team=platform'",
    ),
    "tags-json-list": (
        {"sample:tags": '["team"]'},
        f"""sample:tags must be {TAGS_ALLOWED}; got '["team"]'""",
    ),
    "tags-reserved-prefix": (
        {"sample:tags": '{"aws:team": "x"}'},
        f"sample:tags must be {TAGS_ALLOWED}; got {{'aws:team': 'x'}}",
    ),
    "tags-number-value": (
        {"sample:tags": '{"team": 1}'},
        f"sample:tags must be {TAGS_ALLOWED}; got {{'team': 1}}",
    ),
    "tags-bad-character": (
        {"sample:tags": {"team": "a<b"}},
        f"sample:tags must be {TAGS_ALLOWED}; got {{'team': 'a<b'}}",
    ),
    "bootstrapless-yes": (
        {"sample:bootstrapless": "yes"},
        "sample:bootstrapless must be true or false; got 'yes'",
    ),
    "alarm-email-not-an-address": (
        {"sample:alarmEmail": "security-team"},
        "sample:alarmEmail must be empty (no subscription) or one e-mail address of up to 254 "
        "characters; got 'security-team'",
    ),
    "alarm-email-two-addresses": (
        {"sample:alarmEmail": "a@example.com,b@example.com"},
        "sample:alarmEmail must be empty (no subscription) or one e-mail address of up to 254 "
        "characters; got 'a@example.com,b@example.com'",
    ),
    "unknown-setting": (
        {"sample:pendingWindowDay": "7"},
        f"sample:pendingWindowDay is not a setting (the settings are {SETTINGS}); got '7'",
    ),
}


def _config(overrides):
    context = {k: v for k, v in cdk_json_context().items() if k.startswith("sample:")}
    return StackConfig.from_context({**context, **overrides})


@pytest.mark.parametrize(("overrides", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid_value_names_setting_allowed_values_and_value(overrides, message):
    with pytest.raises(ConfigError) as caught:
        _config(overrides)
    assert str(caught.value) == message


def test_cdk_json_defaults_are_the_seeds():
    assert _config({}) == StackConfig(
        name_prefix="",
        encryption_key_alias="alias/sample-encrypt-decrypt-key",
        signing_key_alias="alias/sample-sign-verify-key",
        sender_role_name="SenderRole",
        receiver_role_name="ReceiverRole",
        sender_principals=(),
        receiver_principals=(),
        admin_principals=(),
        key_removal=KeyRemoval.RETAIN,
        pending_window_days=30,
        tags={"project": "kms-asymmetric-sign-encrypt"},
        bootstrapless=False,
    )


@pytest.mark.parametrize(
    ("setting", "given", "field", "parsed"),
    [
        ("sample:pendingWindowDays", "7", "pending_window_days", 7),
        ("sample:pendingWindowDays", " 30 ", "pending_window_days", 30),
        ("sample:pendingWindowDays", 7, "pending_window_days", 7),
        ("sample:bootstrapless", "true", "bootstrapless", True),
        ("sample:bootstrapless", "false", "bootstrapless", False),
        ("sample:keyRemoval", "destroy", "key_removal", KeyRemoval.DESTROY),
        ("sample:senderPrincipals", "", "sender_principals", ()),
        ("sample:receiverPrincipals", "[]", "receiver_principals", ()),
        (
            "sample:senderPrincipals",
            "arn:aws:iam::123456789012:role/a, arn:aws-cn:iam::123456789012:user/b",
            "sender_principals",
            (
                PartyPrincipal("arn:aws:iam::123456789012:role/a"),
                PartyPrincipal("arn:aws-cn:iam::123456789012:user/b"),
            ),
        ),
        (
            "sample:receiverPrincipals",
            f'[{{"arn": "{PARTNER}", "externalId": "partner-7f3a"}}]',
            "receiver_principals",
            (PartyPrincipal(PARTNER, "partner-7f3a"),),
        ),
        (
            "sample:adminPrincipals",
            '["arn:aws:iam::123456789012:role/path/KeyAdmin"]',
            "admin_principals",
            ("arn:aws:iam::123456789012:role/path/KeyAdmin",),
        ),
        ("sample:tags", '{"b": "2", "a": "1"}', "tags", {"a": "1", "b": "2"}),
    ],
)
def test_cli_strings_are_parsed(setting, given, field, parsed):
    assert getattr(_config({setting: given}), field) == parsed


def test_config_is_immutable():
    config = _config({})
    with pytest.raises(AttributeError):
        config.pending_window_days = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.tags["project"] = "other"  # type: ignore[index]


def test_name_prefix_reaches_stack_roles_and_aliases():
    config = _config({"sample:namePrefix": "dev-"})
    assert config.stack_name == "dev-KmsSignEncryptStack"
    assert config.sender_role_full_name == "dev-SenderRole"
    assert config.receiver_role_full_name == "dev-ReceiverRole"
    assert config.encryption_key_alias_name == "alias/dev-sample-encrypt-decrypt-key"
    assert config.signing_key_alias_name == "alias/dev-sample-sign-verify-key"

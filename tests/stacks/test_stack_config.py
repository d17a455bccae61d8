"""Configuration: every `sample:*` value is validated once, and a bad one fails synth with one
line naming the setting, what is allowed and the value received."""

from __future__ import annotations

import pytest

from stacks.app import cdk_json_context
from stacks.config import ConfigError, KeyRemoval, StackConfig

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
EXTERNAL_ID_ALLOWED = "empty (no external id), or 2-1224 characters from A-Z a-z 0-9 +=,.@:/_-"
WINDOW_ALLOWED = "a whole number of days from 7 to 30"
TAGS_ALLOWED = (
    "a JSON object of up to 50 string tags (keys 1-128 characters, values up to 256, letters, "
    "digits, spaces and _.:/=+-@; keys not starting with aws:)"
)
SETTINGS = (
    "sample:namePrefix, sample:encryptionKeyAlias, sample:signingKeyAlias, "
    "sample:senderRoleName, sample:receiverRoleName, sample:trustedPrincipals, "
    "sample:externalId, sample:adminPrincipals, sample:keyRemoval, sample:pendingWindowDays, "
    "sample:tags, sample:bootstrapless, sample:alarmEmail"
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
    "trusted-account-id-not-arn": (
        {"sample:trustedPrincipals": "123456789012"},
        f"sample:trustedPrincipals must be {PRINCIPALS_ALLOWED}; got '123456789012'",
    ),
    "trusted-seed-doubled-colon": (
        {"sample:trustedPrincipals": "arn:aws:iam::111122223333::role/SenderRole"},
        f"sample:trustedPrincipals must be {PRINCIPALS_ALLOWED}; "
        "got 'arn:aws:iam::111122223333::role/SenderRole'",
    ),
    "trusted-broken-json": (
        {"sample:trustedPrincipals": '["arn:aws:iam::123456789012:root"'},
        f"sample:trustedPrincipals must be {PRINCIPALS_ALLOWED}; "
        """got '["arn:aws:iam::123456789012:root"'""",
    ),
    "trusted-json-object": (
        {"sample:trustedPrincipals": '{"a": 1}'},
        f"""sample:trustedPrincipals must be {PRINCIPALS_ALLOWED}; got '{{"a": 1}}'""",
    ),
    "trusted-duplicate": (
        {"sample:trustedPrincipals": f"{ACCOUNT_ROOT},{ACCOUNT_ROOT}"},
        "sample:trustedPrincipals must be a list without duplicates; "
        "got 'arn:aws:iam::123456789012:root,arn:aws:iam::123456789012:root'",
    ),
    "external-id-too-short": (
        {"sample:externalId": "x"},
        f"sample:externalId must be {EXTERNAL_ID_ALLOWED}; got 'x'",
    ),
    "external-id-with-space": (
        {"sample:externalId": "partner id"},
        f"sample:externalId must be {EXTERNAL_ID_ALLOWED}; got 'partner id'",
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
        trusted_principals=(),
        external_id=None,
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
        ("sample:externalId", "", "external_id", None),
        ("sample:trustedPrincipals", "", "trusted_principals", ()),
        ("sample:trustedPrincipals", "[]", "trusted_principals", ()),
        (
            "sample:trustedPrincipals",
            "arn:aws:iam::123456789012:root, arn:aws-cn:iam::123456789012:user/a",
            "trusted_principals",
            ("arn:aws:iam::123456789012:root", "arn:aws-cn:iam::123456789012:user/a"),
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

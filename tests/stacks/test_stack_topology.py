"""Parties in their own accounts (issue 13): the topology settings, the key-owner stack and
the party stacks. Each check here fails if its property is broken (see the mutation tests)."""

from __future__ import annotations

import copy
import json

import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from keypolicy import accounts as account_matrix
from kms_sign_encrypt.access_rows import reach_rows
from stacks.app import create_app
from stacks.config import ConfigError

OWNER, SENDER, RECEIVER_A, RECEIVER_B = (
    "123456789012",
    "111122223333",
    "444455556666",
    "777788889999",
)
KEY = "arn:aws:kms:us-east-1:123456789012:key/"
SIGNING_ARN = KEY + "11111111-1111-4111-8111-111111111111"
KEY_A = KEY + "aaaaaaaa-1111-4111-8111-111111111111"
KEY_B = KEY + "bbbbbbbb-1111-4111-8111-111111111111"
RECEIVERS = [
    {"name": "A", "account": RECEIVER_A, "principal": "ReceiverRole"},
    {"name": "B", "account": RECEIVER_B, "principal": "ReceiverRole"},
]
TOPOLOGY = {
    "sample:keyOwnerAccount": OWNER,
    "sample:senderAccount": SENDER,
    "sample:senderPrincipal": "SenderRole",
    "sample:receivers": json.dumps(RECEIVERS),
}
OUTPUTS = {"SigningKeyArn": SIGNING_ARN, "EncryptionKeyArnA": KEY_A, "EncryptionKeyArnB": KEY_B}
WITH_KEYS = {**TOPOLOGY, "sample:keyOwnerOutputs": json.dumps(OUTPUTS)}
ROLE = "arn:aws:iam::{}:role/{}"
SENDER_ROLE = ROLE.format(SENDER, "SenderRole")
ROLE_A = ROLE.format(RECEIVER_A, "ReceiverRole")
ROLE_B = ROLE.format(RECEIVER_B, "ReceiverRole")


def _docs(context):
    app = create_app(context, builtin_validation=False)
    stacks = [c for c in app.node.children if isinstance(c, Stack)]
    return app, {s.stack_name: (s.account, Template.from_stack(s).to_json()) for s in stacks}


@pytest.fixture(scope="module")
def deployed():
    return _docs(WITH_KEYS)


@pytest.fixture(scope="module")
def roles_only():
    return _docs(TOPOLOGY)


def _keys(doc):
    """The asymmetric keys (the alarm topic's key is the single-account stack's)."""
    return {
        k: v
        for k, v in doc["Resources"].items()
        if v["Type"] == "AWS::KMS::Key" and "KeySpec" in v["Properties"]
    }


def _party_statements(key):
    return [
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if s["Sid"] != "KeyAdministration"
    ]


def _principals(statement):
    value = statement["Principal"]["AWS"]
    return sorted([value] if isinstance(value, str) else value)


# --- the stacks, each in its own account --------------------------------------------------


def test_one_stack_per_account(deployed):
    _app, docs = deployed
    assert {name: account for name, (account, _doc) in docs.items()} == {
        "KmsSignEncryptKeyOwnerStack": OWNER,
        "KmsSignEncryptSenderStack": SENDER,
        "KmsSignEncryptReceiverAStack": RECEIVER_A,
        "KmsSignEncryptReceiverBStack": RECEIVER_B,
    }


def test_key_policies_name_the_party_roles_exactly(deployed):
    _app, docs = deployed
    keys = _keys(docs["KmsSignEncryptKeyOwnerStack"][1])
    by_id = {k.rstrip("0123456789ABCDEF"): v for k, v in keys.items()}
    signing = {s["Sid"]: s for s in _party_statements(by_id["SigningKey"])}
    assert {
        sid: (_principals(s), s["Action"], s.get("Condition")) for sid, s in signing.items()
    } == {
        "SenderSign": (
            [SENDER_ROLE],
            "kms:Sign",
            {"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_512"}},
        ),
        "ReceiverVerify": (
            [ROLE_A, ROLE_B],
            "kms:Verify",
            {"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_512"}},
        ),
        "ReceiverGetPublicKey": ([ROLE_A, ROLE_B], "kms:GetPublicKey", None),
    }
    for name, role in (("A", ROLE_A), ("B", ROLE_B)):
        key = next(v for k, v in keys.items() if k.startswith(f"EncryptionKey{name}"))
        statements = {s["Sid"]: s for s in _party_statements(key)}
        condition = {"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}}
        assert {
            sid: (_principals(s), s["Action"], s.get("Condition")) for sid, s in statements.items()
        } == {
            "SenderEncrypt": ([SENDER_ROLE], "kms:Encrypt", condition),
            "SenderGetPublicKey": ([SENDER_ROLE], "kms:GetPublicKey", None),
            "ReceiverDecrypt": ([role], "kms:Decrypt", condition),
        }


def test_no_party_statement_names_a_root_or_grants_kms_star(deployed):
    _app, docs = deployed
    text = json.dumps(docs["KmsSignEncryptKeyOwnerStack"][1])
    for key in _keys(docs["KmsSignEncryptKeyOwnerStack"][1]).values():
        for statement in _party_statements(key):
            assert not any(p.endswith(":root") for p in _principals(statement))
    assert '"kms:*"' not in text
    for name, (_account, doc) in deployed[1].items():
        assert '"kms:*"' not in json.dumps(doc), name


def test_administration_stays_administrative_in_the_key_owner_account(deployed):
    _app, docs = deployed
    for key in _keys(docs["KmsSignEncryptKeyOwnerStack"][1]).values():
        admin = key["Properties"]["KeyPolicy"]["Statement"][0]
        assert admin["Sid"] == "KeyAdministration"
        assert not {"kms:Decrypt", "kms:Sign", "kms:Encrypt", "kms:CreateGrant"} & set(
            admin["Action"]
        )


def _inline(doc):
    (role,) = [r for r in doc["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    return role


def test_sender_role_has_exactly_its_cross_account_actions(deployed):
    role = _inline(deployed[1]["KmsSignEncryptSenderStack"][1])
    (policy,) = role["Properties"]["Policies"]
    statements = {
        s["Sid"]: (s["Action"], s["Resource"]) for s in policy["PolicyDocument"]["Statement"]
    }
    assert statements == {
        "CrossAccountSenderSign": ("kms:Sign", SIGNING_ARN),
        "CrossAccountSenderEncrypt": ("kms:Encrypt", [KEY_A, KEY_B]),
        "CrossAccountSenderGetPublicKey": ("kms:GetPublicKey", [KEY_A, KEY_B]),
    }
    assert role["Properties"]["RoleName"] == "SenderRole"
    assert "ManagedPolicyArns" not in role["Properties"]


def test_each_receiver_role_reaches_only_its_own_encryption_key(deployed):
    for name, key in (("A", KEY_A), ("B", KEY_B)):
        role = _inline(deployed[1][f"KmsSignEncryptReceiver{name}Stack"][1])
        (policy,) = role["Properties"]["Policies"]
        statements = {
            s["Sid"]: (s["Action"], s["Resource"]) for s in policy["PolicyDocument"]["Statement"]
        }
        assert statements == {
            "CrossAccountReceiverDecrypt": ("kms:Decrypt", key),
            "CrossAccountReceiverVerify": ("kms:Verify", SIGNING_ARN),
            "CrossAccountReceiverGetPublicKey": ("kms:GetPublicKey", SIGNING_ARN),
        }


def test_party_role_trusts_only_its_own_accounts_workload(deployed):
    role = _inline(deployed[1]["KmsSignEncryptReceiverAStack"][1])
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": ROLE.format(RECEIVER_A, "ReceiverWorkload")}
    }


def test_party_stacks_output_what_a_party_deployment_needs(deployed):
    outputs = deployed[1]["KmsSignEncryptReceiverBStack"][1]["Outputs"]
    values = {k: v["Value"] for k, v in outputs.items()}
    assert values["EncryptionKeyArn"] == KEY_B
    assert values["EncryptionKeyAlias"] == KEY_B  # aliases do not work across accounts
    assert values["SigningKeyArn"] == values["SigningKeyAlias"] == SIGNING_ARN
    assert values["SenderRoleArn"] == SENDER_ROLE


def test_before_the_keys_exist_party_stacks_hold_only_their_roles(roles_only):
    _app, docs = roles_only
    for name in ("KmsSignEncryptSenderStack", "KmsSignEncryptReceiverAStack"):
        role = _inline(docs[name][1])
        assert "Policies" not in role["Properties"]


@pytest.mark.parametrize("fixture", ["deployed", "roles_only"])
def test_aws_solutions_pack_finds_nothing(request, fixture):
    app, _docs = request.getfixturevalue(fixture)
    report = AwsSolutionsChecks().validate_scope(app)
    assert [v.rule_name for v in report.violations] == []


def test_cfn_lint_finds_nothing(background, deployed):
    lint = background.cfn_lint.result(timeout=120)
    for name, (_account, doc) in deployed[1].items():
        assert lint(doc) == [], name


def test_the_default_is_the_single_account_stack():
    app = create_app(builtin_validation=False)
    assert [c.node.id for c in app.node.children if isinstance(c, Stack)] == ["KmsSignEncryptStack"]


# --- the access matrix across accounts ----------------------------------------------------


def _reach(docs):
    parties = {account: doc for name, (account, doc) in docs.items() if "KeyOwner" not in name}
    return account_matrix.from_templates(
        (OWNER, docs["KmsSignEncryptKeyOwnerStack"][1]),
        parties,
        region="us-east-1",
        standard_rows=reach_rows,
        key_arns={
            "alias/sample-sign-verify-key": SIGNING_ARN,
            "alias/sample-encrypt-decrypt-key-a": KEY_A,
            "alias/sample-encrypt-decrypt-key-b": KEY_B,
        },
    )


def _who(reach, action, key_prefix):
    return sorted({p.principal for p in reach.uses(action=action) if p.key.startswith(key_prefix)})


def test_matrix_across_accounts(deployed):
    reach = _reach(deployed[1])
    # Each party role, and (by AssumeRole) the workload role its trust policy names.
    assert _who(reach, "kms:Sign", "alias/sample-sign") == [
        f"{SENDER} role SenderRole",
        "SenderWorkload",
    ]
    for key, account in (("a", RECEIVER_A), ("b", RECEIVER_B)):
        paths = [
            p for p in reach.uses(action="kms:Decrypt") if p.key.endswith(f"decrypt-key-{key}")
        ]
        assert {p.principal for p in paths} == {f"{account} role ReceiverRole", "ReceiverWorkload"}
        assert {p.hops[0].role_arn for p in paths if p.hops} == {
            ROLE.format(account, "ReceiverRole")
        }
    decrypters = {p.principal for p in reach.uses(action="kms:Decrypt")}
    assert not any(OWNER in p or SENDER in p for p in decrypters)
    assert not any(p.startswith(OWNER) for p in {x.principal for x in reach.uses()})
    assert reach.both == ()


def test_matrix_needs_the_callers_identity_policy_across_accounts(deployed):
    """Without its inline policy the sender role reaches nothing, though the key policy
    names it: across accounts both policies must allow."""
    docs = copy.deepcopy(deployed[1])
    _inline(docs["KmsSignEncryptSenderStack"][1])["Properties"].pop("Policies")
    reach = _reach(docs)
    assert _who(reach, "kms:Sign", "alias/sample-sign") == []


def test_matrix_catches_a_receiver_named_on_the_other_receivers_key(deployed):
    docs = copy.deepcopy(deployed[1])
    owner = docs["KmsSignEncryptKeyOwnerStack"][1]
    key_a = next(v for k, v in _keys(owner).items() if k.startswith("EncryptionKeyA"))
    decrypt = next(s for s in _party_statements(key_a) if s["Sid"] == "ReceiverDecrypt")
    decrypt["Principal"]["AWS"] = [ROLE_A, ROLE_B]
    role_b = _inline(docs["KmsSignEncryptReceiverBStack"][1])
    role_b["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"] = [
        KEY_A,
        KEY_B,
    ]
    reach = _reach(docs)
    assert f"{RECEIVER_B} role ReceiverRole" in _who(
        reach, "kms:Decrypt", "alias/sample-encrypt-decrypt-key-a"
    )


# --- bad input: one line each --------------------------------------------------------------


def _refusal(**changes):
    context = {**TOPOLOGY, **changes}
    with pytest.raises(ConfigError) as caught:
        create_app(context, builtin_validation=False)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_same_account_as_sender_and_receiver_is_refused():
    receivers = [{"name": "A", "account": SENDER, "principal": "ReceiverRole"}]
    message = _refusal(**{"sample:receivers": json.dumps(receivers)})
    assert message == (
        "sample:receivers A must be an account other than sample:senderPrincipal's (each party "
        "in its own account; set sample:allowSharedAccounts=true to share one); got "
        "'111122223333'"
    )


def test_a_shared_account_is_allowed_explicitly_but_never_the_same_principal():
    receivers = [{"name": "A", "account": SENDER, "principal": "ReceiverRole"}]
    create_app(
        {
            **TOPOLOGY,
            "sample:receivers": json.dumps(receivers),
            "sample:allowSharedAccounts": "true",
        },
        builtin_validation=False,
    )
    same = [{"name": "A", "account": SENDER, "principal": "SenderRole"}]
    message = _refusal(
        **{"sample:receivers": json.dumps(same), "sample:allowSharedAccounts": "true"}
    )
    assert message.startswith("sample:receivers A must be a principal other than ")
    assert "separation of duties" in message


def test_a_receiver_principal_outside_its_account_is_refused():
    receivers = [{"name": "A", "account": RECEIVER_A, "principal": ROLE_B}]
    assert _refusal(**{"sample:receivers": json.dumps(receivers)}) == (
        "sample:receivers A principal must be a role in the receiver's account 444455556666 "
        f"(the principal acts in its own account); got '{ROLE_B}'"
    )


@pytest.mark.parametrize("bad", ["12345678901", "1234567890123", "12345678901a", ""])
def test_an_account_id_that_is_not_12_digits_is_refused(bad):
    assert _refusal(**{"sample:senderAccount": bad}) == (
        f"sample:senderAccount must be a 12-digit AWS account ID; got {bad!r}"
    )


def test_a_bad_key_owner_account_is_refused():
    assert _refusal(**{"sample:keyOwnerAccount": "1234"}) == (
        "sample:keyOwnerAccount must be a 12-digit AWS account ID; got '1234'"
    )


def test_a_key_arn_outside_the_key_owner_account_is_refused():
    outputs = {**OUTPUTS, "EncryptionKeyArnB": KEY_B.replace(OWNER, RECEIVER_B)}
    message = _refusal(**{"sample:keyOwnerOutputs": json.dumps(outputs)})
    assert message.startswith(
        "sample:keyOwnerOutputs EncryptionKeyArnB must be a KMS key ARN in the key-owner "
        "account 123456789012; got"
    )


def test_topology_settings_without_a_key_owner_are_refused():
    with pytest.raises(ConfigError, match="sample:senderAccount needs sample:keyOwnerAccount"):
        create_app({"sample:senderAccount": SENDER}, builtin_validation=False)


def test_synth_fails_with_one_line_and_status_2(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    context = {**TOPOLOGY, "sample:senderAccount": "42"}
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=repo,
        env={
            **__import__("os").environ,
            "CDK_CONTEXT_JSON": json.dumps(context),
            "CDK_OUTDIR": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines == ["error: sample:senderAccount must be a 12-digit AWS account ID; got '42'"]
    assert "Traceback" not in result.stderr


# --- the StackSets path: one receiver template for every receiver account -----------------

STACKSET = {**TOPOLOGY, "sample:receiverDeployment": "stackset"}


@pytest.fixture(scope="module")
def stackset():
    return _docs(STACKSET)


def test_stackset_mode_has_one_receiver_template_and_no_receiver_stacks(stackset):
    _app, docs = stackset
    assert sorted(docs) == [
        "KmsSignEncryptKeyOwnerStack",
        "KmsSignEncryptReceiverStackSet",
        "KmsSignEncryptSenderStack",
    ]
    account, doc = docs["KmsSignEncryptReceiverStackSet"]
    assert account.startswith("${Token[")  # environment-agnostic: each instance's account
    assert set(doc["Parameters"]) == {"SigningKey", "EncryptionKey"}  # no bootstrap version
    pattern = doc["Parameters"]["EncryptionKey"]["AllowedPattern"]
    assert f":{OWNER}:key/" in pattern  # only keys of the key-owner account


def test_stackset_template_grants_exactly_the_receiver_actions_on_its_parameters(stackset):
    role = _inline(stackset[1]["KmsSignEncryptReceiverStackSet"][1])
    (policy,) = role["Properties"]["Policies"]
    statements = {
        s["Sid"]: (s["Action"], s["Resource"]) for s in policy["PolicyDocument"]["Statement"]
    }
    assert statements == {
        "CrossAccountReceiverDecrypt": ("kms:Decrypt", {"Ref": "EncryptionKey"}),
        "CrossAccountReceiverVerify": ("kms:Verify", {"Ref": "SigningKey"}),
        "CrossAccountReceiverGetPublicKey": ("kms:GetPublicKey", {"Ref": "SigningKey"}),
    }
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert {"Ref": "AWS::AccountId"} in trust["Condition"]["ArnEquals"]["aws:PrincipalArn"][
        "Fn::Join"
    ][1]


def test_stackset_templates_pass_cdk_nag_and_cfn_lint(background, stackset):
    app, docs = stackset
    report = AwsSolutionsChecks().validate_scope(app)
    assert [v.rule_name for v in report.violations] == []
    lint = background.cfn_lint.result(timeout=120)
    for name, (_account, doc) in docs.items():
        assert lint(doc) == [], name


def test_stackset_needs_one_role_name_for_every_receiver():
    receivers = [dict(RECEIVERS[0]), {**RECEIVERS[1], "principal": "OtherRole"}]
    message = _refusal(
        **{"sample:receivers": json.dumps(receivers), "sample:receiverDeployment": "stackset"}
    )
    assert message.startswith(
        "sample:receivers must be principals of one role name in every receiver account"
    )


def test_a_bad_receiver_deployment_is_refused():
    assert _refusal(**{"sample:receiverDeployment": "pipeline"}) == (
        "sample:receiverDeployment must be stacks or stackset; got 'pipeline'"
    )


@pytest.mark.parametrize(
    "setting", ["sample:encryptionKeyGenerations", "sample:signingKeyGenerations"]
)
def test_key_generations_across_accounts_are_refused_not_ignored(setting):
    """The key-owner stack builds one key per role and receiver: a second generation would be
    silently dropped, so synth refuses it in one line."""
    message = _refusal(**{setting: json.dumps(["2026:retired", "2027"])})
    assert message == (
        f"{setting} must name a single generation with sample:keyOwnerAccount (key generations "
        "are not built across accounts yet; docs/ROTATION.md); got 2 generations"
    )

"""The transitive access matrix: who reaches each key action through sts:AssumeRole chains.

The intended matrix of the default template is written out by hand below. Each mutation of
the issue (root trust without condition, `Principal: "*"`, the same principal in both lists, a
dropped external-id condition, an identity policy granting sts:AssumeRole on ReceiverRole to
an extra principal) is applied to a copy of the template (or of the account details) and must
make the comparison fail.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from keypolicy import reach
from kms_sign_encrypt.access_rows import reach_from_template, reach_rows
from tests.keypolicy.keypolicy_least_privilege import synthesize

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENC = "alias/sample-encrypt-decrypt-key"
SIG = "alias/sample-sign-verify-key"
TOPIC_KEY = "KeyChangeAlarmsTopicKeyE23E93FB"  # the alarm topic's key: no alias, no party use
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
SENDER_WORKLOAD = f"arn:aws:iam::{ACCOUNT}:role/SenderWorkload"
RECEIVER_WORKLOAD = f"arn:aws:iam::{ACCOUNT}:role/ReceiverWorkload"
RECEIVER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ReceiverRole"
ENC_ALG = "kms:EncryptionAlgorithm = RSAES_OAEP_SHA_256"
SIG_ALG = "kms:SigningAlgorithm = ECDSA_SHA_512"
REPO = Path(__file__).resolve().parents[2]

# (principal, ((role, trust conditions, identity), ...), key, action, conditions, certain)
IF_IAM = reach.IF_IAM_ALLOWS
INTENDED_USES = {
    ("role SenderRole", (), ENC, "kms:Encrypt", (ENC_ALG,), True),
    ("role SenderRole", (), ENC, "kms:GetPublicKey", (), True),
    ("role SenderRole", (), SIG, "kms:Sign", (SIG_ALG,), True),
    ("role ReceiverRole", (), ENC, "kms:Decrypt", (ENC_ALG,), True),
    ("role ReceiverRole", (), SIG, "kms:Verify", (SIG_ALG,), True),
    ("role ReceiverRole", (), SIG, "kms:GetPublicKey", (), True),
    ("SenderWorkload", (("SenderRole", (), IF_IAM),), ENC, "kms:Encrypt", (ENC_ALG,), False),
    ("SenderWorkload", (("SenderRole", (), IF_IAM),), ENC, "kms:GetPublicKey", (), False),
    ("SenderWorkload", (("SenderRole", (), IF_IAM),), SIG, "kms:Sign", (SIG_ALG,), False),
    ("ReceiverWorkload", (("ReceiverRole", (), IF_IAM),), ENC, "kms:Decrypt", (ENC_ALG,), False),
    ("ReceiverWorkload", (("ReceiverRole", (), IF_IAM),), SIG, "kms:Verify", (SIG_ALG,), False),
    ("ReceiverWorkload", (("ReceiverRole", (), IF_IAM),), SIG, "kms:GetPublicKey", (), False),
}
_ADMIN_TARGETS = {
    (ENC, "kms:PutKeyPolicy"),
    (SIG, "kms:PutKeyPolicy"),
    (TOPIC_KEY, "kms:PutKeyPolicy"),
    ("SenderRole", "iam:UpdateAssumeRolePolicy"),
    ("ReceiverRole", "iam:UpdateAssumeRolePolicy"),
    ("SenderWorkload", "iam:CreateRole"),
    ("ReceiverWorkload", "iam:CreateRole"),
}
# (principal, target, action, certain): certain for AdministratorAccess and the root user;
# "only if its IAM policies allow" for principals whose policies are not in the template.
INTENDED_ADMINISTRATIVE = {
    (principal, target, action, certain)
    for principal, certain in (
        ("Account admins", True),
        ("Account root user", True),
        ("Other in account", False),
        ("SenderWorkload", False),
        ("ReceiverWorkload", False),
    )
    for target, action in _ADMIN_TARGETS
}


def summary(result: reach.Reach) -> dict[str, Any]:
    return {
        "uses": {
            (
                p.principal,
                tuple((h.role, h.conditions + h.identity_conditions, h.identity) for h in p.hops),
                p.key,
                p.action,
                p.conditions,
                p.certain,
            )
            for p in result.uses()
        },
        "administrative": {
            (p.principal, p.key, p.action, p.certain) for p in result.administrative()
        },
        "latent": {(x.principal, x.role) for x in result.latent},
        "both": result.both,
    }


INTENDED = {
    "uses": INTENDED_USES,
    "administrative": INTENDED_ADMINISTRATIVE,
    "latent": set(),
    "both": (),
}


def check(result: reach.Reach) -> None:
    """The comparison with the intended matrix (raises AssertionError on any difference)."""
    got = summary(result)
    for part, intended in INTENDED.items():
        assert got[part] == intended, f"{part}: {got[part] ^ set(intended)}"


def of(template: dict[str, Any]) -> reach.Reach:
    return reach_from_template(template, account=ACCOUNT, region=REGION)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return synthesize()


def _role(template: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Role" and r["Properties"]["RoleName"] == name
    ]
    return found


def _trust_statements(template: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return _role(template, name)["Properties"]["AssumeRolePolicyDocument"]["Statement"]


def test_the_default_template_matches_the_intended_transitive_matrix(template) -> None:
    check(of(template))


def test_no_administrator_reaches_a_use_without_being_named(template) -> None:
    """AdministratorAccess, sts:AssumeRole on *, the root user: no use, no hop, on either key."""
    result = of(template)
    for row in ("Account admins", "AssumeRole-on-* role", "Account root user", "Anyone"):
        assert [p for p in result.uses() if p.principal == row] == []
    assert result.separation_line.startswith("Separation of duties: holds.")


# --- mutations: each must make the comparison fail -----------------------------------------


def _root_without_condition(t: dict[str, Any]) -> None:
    del _trust_statements(t, "ReceiverRole")[0]["Condition"]


def _principal_star(t: dict[str, Any]) -> None:
    statement = _trust_statements(t, "SenderRole")[0]
    statement["Principal"] = "*"
    del statement["Condition"]


def _same_principal_in_both(t: dict[str, Any]) -> None:
    _trust_statements(t, "ReceiverRole")[0]["Condition"]["ArnEquals"]["aws:PrincipalArn"] = (
        _trust_statements(t, "SenderRole")[0]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    )


def _extra_identity_policy(t: dict[str, Any]) -> None:
    t["Resources"]["Intruder"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": "Intruder",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": "p",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Resource": RECEIVER_ROLE,
                            }
                        ],
                    },
                }
            ],
        },
    }


MUTATIONS = {
    "root trust without a condition": _root_without_condition,
    "Principal * in a trust policy": _principal_star,
    "the same principal in both lists": _same_principal_in_both,
    "an identity policy granting sts:AssumeRole on ReceiverRole": _extra_identity_policy,
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_makes_the_comparison_fail(template, name) -> None:
    mutated = copy.deepcopy(template)
    MUTATIONS[name](mutated)
    with pytest.raises(AssertionError):
        check(of(mutated))


def test_root_trust_without_condition_gives_an_administrator_decrypt(template) -> None:
    mutated = copy.deepcopy(template)
    _root_without_condition(mutated)
    decrypters = {p.principal for p in of(mutated).uses(ENC, "kms:Decrypt") if p.certain}
    assert {"Account admins", "AssumeRole-on-* role"} <= decrypters


def test_the_same_principal_in_both_lists_breaks_separation_of_duties(template) -> None:
    mutated = copy.deepcopy(template)
    _same_principal_in_both(mutated)
    result = of(mutated)
    assert result.both == ("SenderWorkload",)
    assert result.separation_line.startswith("Separation of duties: BROKEN.")


def test_principal_star_lets_anyone_sign(template) -> None:
    mutated = copy.deepcopy(template)
    _principal_star(mutated)
    signers = {p.principal for p in of(mutated).uses(SIG, "kms:Sign") if p.certain}
    assert {"Anyone", "Account admins"} <= signers
    # Across accounts AssumeRole also needs the caller's own IAM permission (issue 13):
    # another account's role gets there only if its IAM policies allow.
    uncertain = {p.principal for p in of(mutated).uses(SIG, "kms:Sign") if not p.certain}
    assert "Another account" in uncertain


def test_an_extra_identity_policy_shows_as_a_latent_grant(template) -> None:
    mutated = copy.deepcopy(template)
    _extra_identity_policy(mutated)
    assert ("role Intruder", "ReceiverRole") in summary(of(mutated))["latent"]


# --- the external id: configured principals -------------------------------------------------

PARTNER = "arn:aws:iam::111122223333:role/PartnerSender"
CONFIGURED = {
    "sample:senderPrincipals": [{"arn": PARTNER, "externalId": "partner-7f3a"}],
    "sample:receiverPrincipals": [f"arn:aws:iam::{ACCOUNT}:role/Reader"],
}


@pytest.fixture(scope="module")
def configured() -> dict[str, Any]:
    return synthesize(CONFIGURED)


def _partner_hops(result: reach.Reach) -> set[tuple[str, ...]]:
    return {h.conditions for p in result.uses() if p.principal == "PartnerSender" for h in p.hops}


def test_a_partner_reaches_the_sender_role_only_with_its_external_id(configured) -> None:
    result = of(configured)
    assert _partner_hops(result) == {("sts:ExternalId = partner-7f3a",)}
    assert {p.action for p in result.uses() if p.principal == "PartnerSender"} == {
        "kms:Encrypt",
        "kms:GetPublicKey",
        "kms:Sign",
    }


def test_a_dropped_external_id_condition_changes_the_matrix(configured) -> None:
    mutated = copy.deepcopy(configured)
    del _trust_statements(mutated, "SenderRole")[0]["Condition"]["StringEquals"]
    assert _partner_hops(of(mutated)) == {()}
    assert _partner_hops(of(mutated)) != _partner_hops(of(configured))


# --- the deployed form: iam:GetAccountAuthorizationDetails ----------------------------------


def _details(template: dict[str, Any]) -> dict[str, Any]:
    roles = reach.roles_from_template(template, account=ACCOUNT, region=REGION)
    user_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": SENDER_WORKLOAD}],
    }
    workload_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/SenderRole",
            }
        ],
    }
    user = f"arn:aws:iam::{ACCOUNT}:user/sender-workload"
    workload_trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole"}],
    }
    return {
        "RoleDetailList": [
            *(
                {
                    "RoleName": r.label,
                    "Arn": r.arn,
                    "AssumeRolePolicyDocument": json.dumps(r.trust),
                    "RolePolicyList": [],
                    "AttachedManagedPolicies": [],
                }
                for r in roles
            ),
            {
                "RoleName": "SenderWorkload",
                "Arn": SENDER_WORKLOAD,
                "AssumeRolePolicyDocument": workload_trust,
                "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": workload_policy}],
                "AttachedManagedPolicies": [],
            },
        ],
        "UserDetailList": [
            {
                "UserName": "sender-workload",
                "Arn": user,
                "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": user_policy}],
                "AttachedManagedPolicies": [],
                "GroupList": [],
            },
            {
                "UserName": "ops",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/ops",
                "UserPolicyList": [],
                "AttachedManagedPolicies": [
                    {"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}
                ],
                "GroupList": [],
            },
        ],
        "GroupDetailList": [],
        "Policies": [],
    }


def _deployed(template: dict[str, Any], details: dict[str, Any]) -> reach.Reach:
    from keypolicy.template import extract_key_policies

    keys = extract_key_policies(template, account=ACCOUNT, region=REGION)
    return reach.from_authorization_details(
        details, {k.label: (None, k.policy) for k in keys.values()}, rows=reach_rows(ACCOUNT)
    )


def test_deployed_chain_user_to_workload_role_to_sender_role(template) -> None:
    result = _deployed(template, _details(template))
    (sign,) = [p for p in result.uses(SIG, "kms:Sign") if p.principal == "user sender-workload"]
    assert [h.role for h in sign.hops] == ["SenderWorkload", "SenderRole"]
    assert sign.certain
    # an AdministratorAccess user: administrative paths only, never a use
    assert [p for p in result.uses() if p.principal == "user ops"] == []
    assert ("user ops", ENC, "kms:PutKeyPolicy", True) in summary(result)["administrative"]
    assert ("user ops", "SenderWorkload", "iam:UpdateAssumeRolePolicy", True) in summary(result)[
        "administrative"
    ]
    assert result.both == ()


def test_deployed_identity_policy_on_receiver_role_for_an_extra_principal(template) -> None:
    details = _details(template)
    before = summary(_deployed(template, details))
    details["UserDetailList"][1]["UserPolicyList"] = [
        {
            "PolicyName": "extra",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": RECEIVER_ROLE}
                ],
            },
        }
    ]
    details["UserDetailList"][1]["AttachedManagedPolicies"] = []
    after = summary(_deployed(template, details))
    assert after != before
    assert ("user ops", "ReceiverRole") in after["latent"]


# --- the CLI and the docs -------------------------------------------------------------------


def test_access_template_reports_decrypt_for_another_principal_when_trust_is_widened(
    template, tmp_path
) -> None:
    """Done means: widen ReceiverRole's trust to the bare account root, and `python -m demo
    access --template` reports a Decrypt path for a principal other than the receiver."""

    def decrypters(document: dict[str, Any]) -> set[str]:
        path = tmp_path / "t.json"
        path.write_text(json.dumps(document))
        done = subprocess.run(
            [sys.executable, "-m", "demo", "access", "--json", "--template", str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        paths = json.loads(done.stdout)["matrix"]["transitive"]["paths"]
        return {
            p["principal"] for p in paths if p["action"] == "kms:Decrypt" and p["kind"] == "use"
        }

    assert decrypters(template) == {"role ReceiverRole", "ReceiverWorkload"}
    widened = copy.deepcopy(template)
    statement = _trust_statements(widened, "ReceiverRole")[0]
    del statement["Condition"]
    assert statement["Principal"]["AWS"]["Fn::Join"][1][-1] == ":root"
    assert "Account admins" in decrypters(widened)


def test_the_diagram_in_the_docs_is_the_apps(template) -> None:
    text = (REPO / "docs" / "ACCESS-MATRIX.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert blocks, "docs/ACCESS-MATRIX.md embeds no mermaid diagram"
    assert blocks[0] == reach.render_mermaid(of(template)), (
        "the diagram drifted: paste `python -m demo access --template ... --mermaid`"
    )


def test_the_mermaid_diagram_carries_the_conditions(template) -> None:
    diagram = reach.render_mermaid(of(template))
    assert diagram.startswith("flowchart LR\n")
    assert f'|"{ENC_ALG}"|' in diagram
    assert '-.->|"AssumeRole: if its IAM policies allow"|' in diagram
    assert "==>" in diagram  # administrative paths


def test_the_printed_matrix_in_the_docs_is_the_apps(template) -> None:
    text = (REPO / "docs" / "ACCESS-MATRIX.md").read_text(encoding="utf-8")
    assert reach.render_text(of(template)) in text, (
        "the transitive matrix in docs/ACCESS-MATRIX.md drifted: paste `python -m demo access "
        "--template ...`"
    )

"""`kms-sign-encrypt preflight`: read-only checks that a deploy to this account and region works.

Each check prints one line, ``PASS``, ``FAIL`` or ``SKIP`` (could not be checked with these
credentials, not a failure), with what to do. It reads the synthesized template (`cdk synth`
writes it to ``cdk.out/<stack>.template.json``) and the account, and changes nothing: every
call is a Describe, Get, List or Simulate (the tests assert it).

Sources: CDK bootstrapping guide (the bootstrap stack ``CDKToolkit`` and its
``BootstrapVersion`` output, the template's ``CheckBootstrapVersion`` rule); IAM
(role names are unique per account, in every region); KMS quotas (a key policy is at most
32 KB); IAM SimulatePrincipalPolicy.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from kms_sign_encrypt.aws import AwsSession, role_of
from kms_sign_encrypt.errors import UsageError

KEY_POLICY_MAX_BYTES = 32 * 1024
BOOTSTRAP_STACK = "CDKToolkit"
# An intrinsic (Fn::GetAtt of a role ARN, Ref AWS::AccountId) is measured as this many bytes:
# an IAM role ARN with a 64-character name and a short path.
_INTRINSIC_BYTES = 128
LOCAL_EXPORTS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_STS")
BOOTSTRAPLESS_DEPLOY_ACTIONS = (
    "cloudformation:CreateChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DescribeStacks",
    "iam:CreateRole",
    "iam:TagRole",
    "kms:CreateKey",
    "kms:TagResource",
    "kms:CreateAlias",
    "kms:PutKeyPolicy",
)
BOOTSTRAPPED_DEPLOY_ACTIONS = ("sts:AssumeRole", "cloudformation:DescribeStacks")


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: str
    outcome: str  # PASS, FAIL or SKIP
    detail: str

    @property
    def line(self) -> str:
        return f"{self.outcome} {self.name}: {self.detail}"


def _pass(name: str, detail: str) -> Check:
    return Check(name, "PASS", detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, "FAIL", detail)


def _skip(name: str, detail: str) -> Check:
    return Check(name, "SKIP", detail)


@dataclass(frozen=True)
class Target:
    """What is about to be deployed, and where."""

    stack_name: str
    template: Mapping[str, Any]
    local: bool = False  # the target is the local endpoint, not AWS


def load_template(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"template {path} not found: run `npx cdk synth` first, or name the template"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read template {path}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise UsageError(f"template {path} is not a CloudFormation template (no Resources)")
    return document


def run_checks(
    session: AwsSession, target: Target, environ: Mapping[str, str] | None = None
) -> list[Check]:
    """Every check, in the order printed. Nothing here writes anything anywhere."""
    environ = os.environ if environ is None else environ
    identity = _identity(session)
    checks = [
        check_exports(target, environ),
        check_region(session, environ),
        check_bootstrap(session, target),
        check_deploy_permissions(session, target, identity),
        *check_names(session, target),
        *check_principals(session, target, identity),
        *check_key_policy_sizes(target),
        *check_generations(session, target),  # issue 15
    ]
    return checks


# -- the checks ---------------------------------------------------------------------------------


def check_exports(target: Target, environ: Mapping[str, str]) -> Check:
    name = "shell"
    left = [v for v in LOCAL_EXPORTS if environ.get(v)]
    left += [
        f"{v}=/dev/null"
        for v in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
        if environ.get(v) == "/dev/null"
    ]
    if target.local:
        return _pass(name, f"the target is the local endpoint ({environ.get('AWS_ENDPOINT_URL')})")
    if left:
        return _fail(
            name,
            f"local-endpoint exports are set ({', '.join(left)}): the deploy would not reach "
            f"AWS; `unset {' '.join(v.split('=')[0] for v in left)}` "
            "(or run the checks for the local endpoint)",
        )
    return _pass(name, "no local-endpoint exports: the target is AWS")


def check_region(session: AwsSession, environ: Mapping[str, str]) -> Check:
    name = "region"
    region = session.region
    if not region:
        return _fail(name, "no region: name a region or export AWS_REGION")
    others = {
        variable: environ[variable]
        for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "CDK_DEFAULT_REGION")
        if environ.get(variable) and environ[variable] != region
    }
    if others:
        listed = ", ".join(f"{k}={v}" for k, v in others.items())
        return _fail(
            name,
            f"the session uses {region} but {listed}: the CDK would deploy elsewhere; "
            f"export AWS_REGION={region} AWS_DEFAULT_REGION={region}",
        )
    return _pass(name, f"{region} (every region setting agrees)")


def check_bootstrap(session: AwsSession, target: Target) -> Check:
    name = "bootstrap"
    required = _required_bootstrap_version(target.template)
    if required is None:
        return _pass(
            name,
            "the template is bootstrapless (sample:bootstrapless=true): no bootstrap stack "
            "needed; CloudFormation runs with your own credentials",
        )
    try:
        stacks = (
            session.client("cloudformation")
            .describe_stacks(StackName=BOOTSTRAP_STACK)
            .get("Stacks", [])
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationError":
            return _fail(
                name,
                f"no {BOOTSTRAP_STACK} stack in {session.region}: run `npx cdk bootstrap "
                f"aws://ACCOUNT/{session.region}`, or deploy with -c sample:bootstrapless=true",
            )
        return _skip(name, f"cannot read the {BOOTSTRAP_STACK} stack: {_why(error)}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    version = int(outputs.get("BootstrapVersion", "0") or 0)
    if version < required:
        return _fail(
            name,
            f"{BOOTSTRAP_STACK} is version {version}, the template needs {required}: run "
            f"`npx cdk bootstrap` again",
        )
    return _pass(name, f"{BOOTSTRAP_STACK} version {version} (the template needs {required})")


def check_deploy_permissions(
    session: AwsSession, target: Target, identity: Mapping[str, str]
) -> Check:
    name = "permissions"
    if target.local:
        return _skip(name, "the local endpoint does not offer iam:SimulatePrincipalPolicy")
    source = _policy_source(identity.get("Arn", ""))
    if source is None:
        return _skip(name, f"cannot simulate for {identity.get('Arn', 'the caller')}")
    bootstrapless = _required_bootstrap_version(target.template) is None
    actions = BOOTSTRAPLESS_DEPLOY_ACTIONS if bootstrapless else BOOTSTRAPPED_DEPLOY_ACTIONS
    try:
        answer = session.client("iam").simulate_principal_policy(
            PolicySourceArn=source, ActionNames=list(actions)
        )
    except (ClientError, BotoCoreError, ResponseParserError) as error:
        # Not allowed for these credentials, or not offered (the local endpoint lacks it).
        return _skip(name, f"iam:SimulatePrincipalPolicy is not allowed or failed: {_why(error)}")
    denied = [
        r["EvalActionName"]
        for r in answer.get("EvaluationResults", [])
        if r.get("EvalDecision") != "allowed"
    ]
    if denied:
        return _fail(
            name,
            f"{source} may not call {', '.join(denied)}: deploy with credentials that may "
            "(an administrator, the first time)",
        )
    return _pass(name, f"{source} may call {', '.join(actions)}")


def check_names(session: AwsSession, target: Target) -> Iterator[Check]:
    """Each fixed role and alias name is free, or is this stack's own resource."""
    owned = _stack_physical_ids(session, target.stack_name)
    roles = _named(target.template, "AWS::IAM::Role", "RoleName")
    if not roles:
        yield _pass("role names", "CloudFormation generates them (sample:roleNames=generated)")
    iam = session.client("iam")
    for role_name in roles:
        name = f"role {role_name}"
        try:
            iam.get_role(RoleName=role_name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                yield _pass(name, "the name is free in this account (role names span regions)")
            else:
                yield _skip(name, f"cannot look it up: {_why(error)}")
            continue
        if role_name in owned:
            yield _pass(name, f"belongs to stack {target.stack_name}")
        else:
            yield _fail(
                name,
                "exists and is not this stack's (role names are global to the account, so a "
                "deployment in another region counts): deploy with -c sample:namePrefix=<other> "
                "or -c sample:roleNames=generated",
            )
    aliases = set(_named(target.template, "AWS::KMS::Alias", "AliasName"))
    existing: set[str] = set()
    if aliases:
        try:
            for page in session.client("kms").get_paginator("list_aliases").paginate():
                existing.update(a["AliasName"] for a in page.get("Aliases", []))
        except ClientError as error:
            yield _skip("alias names", f"cannot list aliases: {_why(error)}")
            return
    for alias in sorted(aliases):
        name = f"alias {alias}"
        if alias not in existing:
            yield _pass(name, "the name is free in this region")
        elif alias in owned:
            yield _pass(name, f"belongs to stack {target.stack_name}")
        else:
            yield _fail(
                name,
                "exists and is not this stack's: deploy with -c sample:namePrefix=<other>, or "
                "delete the old alias (aws kms delete-alias) if it is a leftover",
            )


def check_principals(
    session: AwsSession, target: Target, identity: Mapping[str, str]
) -> Iterator[Check]:
    """Each principal ARN the template names literally exists (KMS and IAM refuse it else)."""
    account = identity.get("Account", "")
    iam = session.client("iam")
    for arn in sorted(_literal_principals(target.template)):
        name = f"principal {arn}"
        parts = arn.split(":", 5)
        if len(parts) != 6:
            yield _fail(name, "is not an ARN")
            continue
        owner, resource = parts[4], parts[5]
        if resource == "root":
            yield _pass(name, "an account root always exists")
            continue
        if owner != account:
            yield _skip(name, f"in account {owner}: ask its owner to confirm it exists")
            continue
        kind, _, path_name = resource.partition("/")
        short = path_name.rsplit("/", 1)[-1]
        try:
            if kind == "role":
                found = iam.get_role(RoleName=short)["Role"]["Arn"]
            elif kind == "user":
                found = iam.get_user(UserName=short)["User"]["Arn"]
            else:
                yield _fail(name, f"is a {kind}, which a key or trust policy cannot name")
                continue
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchEntity":
                yield _fail(
                    name,
                    "does not exist: KMS and IAM refuse a policy naming it (invalid "
                    "principals); fix sample:adminPrincipals or the trusted principals",
                )
            else:
                yield _skip(name, f"cannot look it up: {_why(error)}")
            continue
        if found != arn:
            yield _fail(name, f"the {kind} is {found} (its path differs): use that ARN")
        else:
            yield _pass(name, "exists")


def check_key_policy_sizes(target: Target) -> Iterator[Check]:
    for logical_id, resource in sorted(target.template["Resources"].items()):
        if resource.get("Type") != "AWS::KMS::Key":
            continue
        size = key_policy_bytes(resource.get("Properties", {}).get("KeyPolicy", {}))
        name = f"key policy {logical_id}"
        if size >= KEY_POLICY_MAX_BYTES:
            yield _fail(
                name,
                f"{size} bytes, over the {KEY_POLICY_MAX_BYTES}-byte limit: fewer "
                "principals (sample:adminPrincipals) or statements",
            )
        else:
            yield _pass(
                name,
                f"{size} bytes of {KEY_POLICY_MAX_BYTES} (estimated with each "
                f"reference as a {_INTRINSIC_BYTES}-byte ARN)",
            )


def check_generations(session: AwsSession, target: Target) -> Iterator[Check]:
    """Key generations (issue 15): the template's lists against the deployed stack's, which
    synth cannot see. Removing a generation, or deleting one that was not retired first, FAILs.
    """
    from kms_sign_encrypt.generations import change_problem, parse_generations

    outputs = target.template.get("Outputs", {})
    try:
        answer = session.client("cloudformation").describe_stacks(StackName=target.stack_name)
        deployed = {
            o["OutputKey"]: o["OutputValue"] for o in answer["Stacks"][0].get("Outputs", [])
        }
    except (ClientError, IndexError):
        deployed = None  # a new deployment: nothing to compare with
    except BotoCoreError as exc:
        yield _skip("key generations", f"cannot read the deployed stack: {_why(exc)}")
        return
    for key in ("EncryptionKey", "SigningKey"):
        name = f"{key[:-3].lower()} key generations"
        value = outputs.get(f"{key}Generations", {}).get("Value")
        new = parse_generations(value) if isinstance(value, str) else [("1", "active")]
        if deployed is None:
            yield _pass(name, f"{' '.join(n for n, _ in new)}: a new deployment")
            continue
        listing = deployed.get(f"{key}Generations")
        problem = change_problem(
            key[:-3].lower(), parse_generations(listing) if listing else None, new
        )
        if problem:
            yield _fail(name, problem)
        else:
            yield _pass(name, f"{listing or 'one generation'} -> {value or 'one generation'}")


# -- helpers ------------------------------------------------------------------------------------


def key_policy_bytes(policy: Any) -> int:
    """The policy's size as KMS counts it (JSON), with each intrinsic as a long ARN."""

    def resolved(value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
                return "x" * _INTRINSIC_BYTES
            return {k: resolved(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolved(v) for v in value]
        return value

    return len(json.dumps(resolved(policy), separators=(",", ":")).encode())


def _required_bootstrap_version(template: Mapping[str, Any]) -> int | None:
    """The bootstrap version the template's CheckBootstrapVersion rule asks for, or None."""
    if "BootstrapVersion" not in template.get("Parameters", {}):
        return None
    rule = json.dumps(template.get("Rules", {}).get("CheckBootstrapVersion", {}))
    numbers = [int(n) for n in re.findall(r'"(\d+)"', rule)]
    return max(numbers) if numbers else 6


def _identity(session: AwsSession) -> dict[str, str]:
    try:
        answer = session.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError):
        return {}
    return {"Arn": answer.get("Arn", ""), "Account": answer.get("Account", "")}


def _policy_source(arn: str) -> str | None:
    """The ARN SimulatePrincipalPolicy takes: a user or role ARN (not a session's)."""
    if ":assumed-role/" in arn:
        return role_of(arn)
    if ":user/" in arn or ":role/" in arn:
        return arn
    return None


def _stack_physical_ids(session: AwsSession, stack_name: str) -> set[str]:
    try:
        answer = session.client("cloudformation").describe_stack_resources(StackName=stack_name)
    except ClientError:
        return set()  # no such stack yet
    return {r.get("PhysicalResourceId", "") for r in answer.get("StackResources", [])}


def _named(template: Mapping[str, Any], cfn_type: str, prop: str) -> list[str]:
    return [
        r["Properties"][prop]
        for r in template["Resources"].values()
        if r.get("Type") == cfn_type and isinstance(r.get("Properties", {}).get(prop), str)
    ]


def _literal_principals(template: Mapping[str, Any]) -> set[str]:
    """Principal ARNs written as strings in key policies and trust policies."""
    found: set[str] = set()
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        for document in (properties.get("KeyPolicy"), properties.get("AssumeRolePolicyDocument")):
            if not isinstance(document, dict):
                continue
            for statement in document.get("Statement", []):
                principal = statement.get("Principal") if isinstance(statement, dict) else None
                values = principal.get("AWS", []) if isinstance(principal, dict) else []
                for value in [values] if not isinstance(values, list) else values:
                    if isinstance(value, str) and value.startswith("arn:"):
                        found.add(value)
    return found


def _why(error: Exception) -> str:
    if isinstance(error, ClientError):
        return f"{error.response['Error'].get('Code')}: {error.response['Error'].get('Message')}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def report(checks: list[Check], say: Callable[[str], None]) -> bool:
    """Print one line per check; True if none failed."""
    for check in checks:
        say(check.line)
    failed = sum(c.outcome == "FAIL" for c in checks)
    say(
        f"preflight: {len(checks) - failed} of {len(checks)} checks passed or skipped, "
        f"{failed} failed"
    )
    return failed == 0

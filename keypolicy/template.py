"""Key policies from a synthesized CloudFormation template.

Resolves the intrinsic functions the CDK emits in key policies: `Ref` to the pseudo
parameters `AWS::Partition`, `AWS::AccountId`, `AWS::Region` and `AWS::URLSuffix`,
`Fn::Join`, `Fn::Sub` over those pseudo parameters, and `Fn::GetAtt [Role, Arn]` (and
`[User, Arn]`) for a role or user whose name is a literal. Anything else (a parameter, a
condition, an import, a generated name) is a `TemplateError`: the extractor never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import PolicyError

KEY_TYPE = "AWS::KMS::Key"
ALIAS_TYPE = "AWS::KMS::Alias"
_IAM_NAMED = {"AWS::IAM::Role": ("role", "RoleName"), "AWS::IAM::User": ("user", "UserName")}
_URL_SUFFIXES = {"aws-cn": "amazonaws.com.cn"}
_SUB_VARIABLE = re.compile(r"\$\{([^}!]*)\}")


class TemplateError(PolicyError):
    """The template holds a key policy value the extractor cannot resolve exactly."""


@dataclass(frozen=True, slots=True)
class TemplateKey:
    logical_id: str
    aliases: tuple[str, ...]
    policy: dict[str, Any]
    key_spec: str | None
    key_usage: str | None

    @property
    def label(self) -> str:
        """The key's alias when it has exactly one, else its logical ID."""
        return self.aliases[0] if len(self.aliases) == 1 else self.logical_id


class Resolver:
    """Resolves the values of one template for one account, region and partition."""

    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        account: str,
        region: str,
        partition: str = "aws",
    ) -> None:
        if not re.fullmatch(r"\d{12}", account or ""):
            raise TemplateError(f"account must be a 12-digit account ID, got {account!r}")
        if not isinstance(region, str) or not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
            raise TemplateError(f"region must be like 'us-east-1', got {region!r}")
        resources = template.get("Resources") if isinstance(template, Mapping) else None
        if not isinstance(resources, Mapping):
            raise TemplateError("the template has no Resources map")
        self.resources: Mapping[str, Any] = resources
        self.pseudo = {
            "AWS::Partition": partition,
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::URLSuffix": _URL_SUFFIXES.get(partition, "amazonaws.com"),
        }

    def resolve(self, value: Any, where: str = "value") -> Any:
        """The value with every intrinsic function replaced by what it stands for."""
        if isinstance(value, str | int | float | bool) or value is None:
            return value
        if isinstance(value, list):
            return [self.resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, Mapping):
            raise TemplateError(f"{where}: unexpected {type(value).__name__}")
        intrinsic = [k for k in value if k == "Ref" or k.startswith("Fn::")]
        if not intrinsic:
            return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        if len(value) != 1:
            raise TemplateError(f"{where}: an intrinsic function must be alone, got {dict(value)}")
        name, argument = next(iter(value.items()))
        if name == "Ref":
            return self._ref(argument, where)
        if name == "Fn::Join":
            return self._join(argument, where)
        if name == "Fn::GetAtt":
            return self._get_att(argument, where)
        if name == "Fn::Sub":
            return self._sub(argument, where)
        raise TemplateError(f"{where}: cannot resolve {name} without deploying")

    def _ref(self, argument: Any, where: str) -> str:
        if argument in self.pseudo:
            return self.pseudo[argument]
        raise TemplateError(f"{where}: cannot resolve Ref {argument!r} without deploying")

    def _join(self, argument: Any, where: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            raise TemplateError(f"{where}: Fn::Join takes [separator, [values]]")
        parts = self.resolve(argument[1], where)
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise TemplateError(f"{where}: Fn::Join values must resolve to strings")
        return argument[0].join(parts)

    def _sub(self, argument: Any, where: str) -> str:
        if not isinstance(argument, str):
            raise TemplateError(f"{where}: only the one-string form of Fn::Sub is supported")

        def replace(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in self.pseudo:
                return self.pseudo[name]
            if name.endswith(".Arn"):
                return self._get_att([name.removesuffix(".Arn"), "Arn"], where)
            raise TemplateError(f"{where}: cannot resolve ${{{name}}} in Fn::Sub")

        return _SUB_VARIABLE.sub(replace, argument)

    def _get_att(self, argument: Any, where: str) -> str:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not (isinstance(argument, list) and len(argument) == 2):
            raise TemplateError(f"{where}: Fn::GetAtt takes [LogicalId, Attribute]")
        logical_id, attribute = argument
        resource = self.resources.get(logical_id)
        if not isinstance(resource, Mapping):
            raise TemplateError(f"{where}: Fn::GetAtt names unknown resource {logical_id!r}")
        kind = _IAM_NAMED.get(resource.get("Type", ""))
        if attribute != "Arn" or kind is None:
            raise TemplateError(
                f"{where}: cannot resolve Fn::GetAtt {logical_id}.{attribute} "
                f"({resource.get('Type')}) without deploying"
            )
        noun, name_property = kind
        properties = resource.get("Properties") or {}
        if name_property not in properties:
            raise TemplateError(
                f"{where}: {logical_id} has no {name_property}; CloudFormation generates "
                "one at deploy time, so its ARN is unknown"
            )
        name = self.resolve(properties[name_property], f"{logical_id}.{name_property}")
        path = self.resolve(properties.get("Path", "/"), f"{logical_id}.Path")
        if not isinstance(name, str) or not isinstance(path, str):
            raise TemplateError(f"{where}: {logical_id}'s name and path must be strings")
        partition, account = self.pseudo["AWS::Partition"], self.pseudo["AWS::AccountId"]
        return f"arn:{partition}:iam::{account}:{noun}{path}{name}"


def _target_logical_id(target: Any) -> str | None:
    if isinstance(target, Mapping) and len(target) == 1:
        if "Ref" in target and isinstance(target["Ref"], str):
            return target["Ref"]
        att = target.get("Fn::GetAtt")
        if isinstance(att, list) and len(att) == 2 and att[1] == "Arn":
            return att[0]
    return None


def extract_key_policies(
    template: Mapping[str, Any],
    *,
    account: str,
    region: str,
    partition: str = "aws",
) -> dict[str, TemplateKey]:
    """Every `AWS::KMS::Key` of the template with its resolved key policy, by logical ID."""
    resolver = Resolver(template, account=account, region=region, partition=partition)
    aliases: dict[str, list[str]] = {}
    for resource in resolver.resources.values():
        if isinstance(resource, Mapping) and resource.get("Type") == ALIAS_TYPE:
            properties = resource.get("Properties") or {}
            target = _target_logical_id(properties.get("TargetKeyId"))
            name = properties.get("AliasName")
            if target is not None and isinstance(name, str):
                aliases.setdefault(target, []).append(name)
    keys: dict[str, TemplateKey] = {}
    for logical_id, resource in resolver.resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != KEY_TYPE:
            continue
        properties = resource.get("Properties") or {}
        if "KeyPolicy" not in properties:
            raise TemplateError(f"{logical_id} has no KeyPolicy (KMS would apply its default)")
        policy = resolver.resolve(properties["KeyPolicy"], f"{logical_id}.KeyPolicy")
        if not isinstance(policy, dict):
            raise TemplateError(f"{logical_id}.KeyPolicy must be a JSON object")
        keys[logical_id] = TemplateKey(
            logical_id=logical_id,
            aliases=tuple(sorted(aliases.get(logical_id, ()))),
            policy=policy,
            key_spec=properties.get("KeySpec"),
            key_usage=properties.get("KeyUsage"),
        )
    if not keys:
        raise TemplateError(f"the template has no {KEY_TYPE} resource")
    return keys


def resolve_output(
    template: Mapping[str, Any],
    name: str,
    *,
    account: str,
    region: str,
    partition: str = "aws",
) -> str:
    """The value of one stack output (by its name), resolved without deploying."""
    outputs = template.get("Outputs") or {}
    if name not in outputs:
        raise TemplateError(f"the template has no output {name!r}")
    resolver = Resolver(template, account=account, region=region, partition=partition)
    value = resolver.resolve(outputs[name].get("Value"), f"Outputs.{name}")
    if not isinstance(value, str):
        raise TemplateError(f"output {name!r} does not resolve to a string")
    return value

"""CloudFormation YAML and the intrinsic functions the local stack needs to resolve.

The short-form tags (``!Ref``, ``!GetAtt``, ``!Sub``...) become the long-form dicts
(``{"Ref": ...}``, ``{"Fn::GetAtt": [...]}``) so the rest of the code sees one shape.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"


class TemplateError(ValueError):
    """The template cannot be read or resolved for local use."""


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form tags as long-form intrinsics."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in ("Ref", "Condition"):
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (YAML or JSON) into plain dicts."""
    try:
        with open(path, encoding="utf-8") as stream:
            document = yaml.load(stream, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as error:
        raise TemplateError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{path}: no Resources section")
    return document


class _NoValue:
    """AWS::NoValue: the property is dropped."""


NO_VALUE = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsics against local stand-ins: parameters take their override or Default, tables
    their local name, other resources a stack-prefixed name, ARNs are fake but well formed."""

    def __init__(
        self,
        template: dict[str, Any],
        region: str,
        stack_name: str,
        table_names: dict[str, str],
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.resources: dict[str, Any] = template.get("Resources") or {}
        self.parameters: dict[str, Any] = template.get("Parameters") or {}
        self.overrides = dict(overrides or {})  # parameter values given on the command line
        unknown = set(self.overrides) - set(self.parameters)
        if unknown:
            raise TemplateError(f"no such parameter: {', '.join(sorted(unknown))}")
        self.conditions: dict[str, Any] = template.get("Conditions") or {}
        self.region = region
        self.stack_name = stack_name
        self.table_names = table_names
        self.pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key.startswith("Fn::") or key == "Condition":
                return self._intrinsic(key, argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.overrides:
            return self.overrides[name]
        if name in self.parameters:
            parameter = self.parameters[name]
            if "Default" not in parameter:
                raise TemplateError(f"parameter {name} has no Default to use locally")
            default = parameter["Default"]
            return default if isinstance(default, list) else str(default)
        if name in self.table_names:
            return self.table_names[name]
        if name in self.resources:
            return f"{self.stack_name}-{name}"
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def get_att(self, name: str, attribute: str) -> str:
        resource = self.resources.get(name)
        if resource is None:
            raise TemplateError(f"!GetAtt {name}.{attribute}: no such resource")
        physical = self.ref(name)
        arn = f"arn:aws:{{}}:{self.region}:{ACCOUNT_ID}:{{}}"
        known = {
            ("AWS::DynamoDB::Table", "Arn"): arn.format("dynamodb", f"table/{physical}"),
            ("AWS::DynamoDB::Table", "StreamArn"): arn.format("dynamodb", f"table/{physical}/stream/local"),
            ("AWS::SQS::Queue", "Arn"): arn.format("sqs", physical),
            ("AWS::SQS::Queue", "QueueName"): physical,
            ("AWS::SQS::Queue", "QueueUrl"): f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{physical}",
            ("AWS::Serverless::Function", "Arn"): arn.format("lambda", f"function:{physical}"),
            ("AWS::Lambda::Function", "Arn"): arn.format("lambda", f"function:{physical}"),
            ("AWS::Logs::LogGroup", "Arn"): arn.format("logs", f"log-group:{physical}:*"),
        }
        return known.get((resource.get("Type", ""), attribute), arn.format("local", f"{name}/{attribute}"))

    def _intrinsic(self, key: str, argument: Any) -> Any:  # noqa: PLR0911 - one branch per intrinsic
        if key == "Fn::GetAtt":
            name, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return self.get_att(name, self.resolve(attribute))
        if key == "Fn::Sub":
            return self._sub(argument)
        if key == "Fn::Join":
            delimiter, items = self.resolve(argument)
            return str(delimiter).join(str(item) for item in items)
        if key == "Fn::Select":
            index, items = self.resolve(argument)
            return items[int(index)]
        if key == "Fn::Split":
            delimiter, text = self.resolve(argument)
            return str(text).split(delimiter)
        if key == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
            return self._boolean(key, argument)
        raise TemplateError(f"{key} is not supported by the local stack")

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise TemplateError(f"condition {name} is not defined")
        return bool(self.resolve(self.conditions[name]))

    def _boolean(self, key: str, argument: Any) -> bool:
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::Equals":
            left, right = self.resolve(argument)
            return str(left) == str(right)
        values = [bool(self.resolve(item)) for item in argument]
        if key == "Fn::Not":
            return not values[0]
        return all(values) if key == "Fn::And" else any(values)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        variables = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self.get_att(resource, attribute)
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

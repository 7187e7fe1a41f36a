"""Lint the template as CloudFormation will see it: ``python -m local.template_check template.yaml``.

cfn-lint on the SAM template validates it un-transformed and misses, among others, a bad
Runtime in Globals, a !Ref to a missing resource inside environment variables or policy
templates, and ``rate(5 minute)``. Running the SAM transform offline first (aws-sam-translator,
with placeholder S3 locations for local code) and linting the CloudFormation JSON it produces
catches them. Exit status 1 on any error-level finding or a transform failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

_LOCAL_URI_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri")


class _NoManagedPolicies:
    """The translator asks for AWS managed-policy ARNs only for policy names; offline, none."""

    def load(self) -> dict[str, str]:
        return {}


def transform(template_path: Path) -> dict[str, Any]:
    """The CloudFormation template SAM would deploy (local code paths become s3:// placeholders)."""
    from samtranslator.translator.transform import transform as sam_transform
    from samtranslator.yaml_helper import yaml_parse

    document = yaml_parse(template_path.read_text(encoding="utf-8"))
    for resource in (document.get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        for key in _LOCAL_URI_PROPERTIES:
            value = properties.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                properties[key] = "s3://placeholder/" + value.strip("/") + ".zip"
    return dict(sam_transform(document, {}, _NoManagedPolicies()))


def lint(cloudformation: Path, region: str) -> list[Any]:
    from cfnlint.api import ManualArgs, lint_file

    return lint_file(cloudformation, ManualArgs(regions=[region]))


def check(template_path: Path, output: Path | None = None) -> int:
    """Print the findings; 0 when there is no error-level one."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # the translator needs a region
    region = os.environ["AWS_DEFAULT_REGION"]
    from samtranslator.model.exceptions import InvalidDocumentException

    try:
        cloudformation = transform(template_path)
    except InvalidDocumentException as error:
        print(f"{template_path}: the SAM transform failed:", file=sys.stderr)
        for cause in error.causes:
            print(f"  {cause.message}", file=sys.stderr)
        return 1
    except Exception as error:  # YAML syntax and other unreadable templates
        print(f"{template_path}: cannot transform: {error}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        target = output or Path(scratch) / "template.json"
        target.write_text(json.dumps(cloudformation, indent=2), encoding="utf-8")
        findings = lint(target, region)
    errors = 0
    for finding in findings:
        where = "/".join(str(part) for part in getattr(finding, "path", []) or [])
        severity = str(getattr(finding.rule, "severity", "error")).lower()
        errors += severity == "error"
        message = finding.message if len(finding.message) <= 300 else finding.message[:300] + "..."
        print(f"{finding.rule.id} [{severity}] {message}  ({where or 'template'})")
    print(f"{template_path}: {len(findings)} finding(s), {errors} error(s) after the SAM transform")
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.template_check", description=__doc__.split("\n")[0])
    parser.add_argument("template", type=Path, nargs="?", default=Path("template.yaml"))
    parser.add_argument("--output", type=Path, help="also keep the transformed CloudFormation JSON here")
    args = parser.parse_args(argv)
    return check(args.template, args.output)


if __name__ == "__main__":
    sys.exit(main())

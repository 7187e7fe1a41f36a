"""`sam local invoke --env-vars events/env.json` reaches the local stack's moto (offline).

SAM gives a container only the variables the template declares for the function: a value in
events/env.json for an undeclared one is dropped without a word. So every function declares
AWS_ENDPOINT_URL, events/env.json points it (and TABLE_NAME) at the local stack for every
function, and the deployed template leaves it out, so that real AWS clients keep AWS's endpoints.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from local.__main__ import SAM_LOCAL_MOTO_PORT, main
from local.cfn import Resolver, load_yaml
from local.template import load_template
from local.template_check import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ENV_JSON = ROOT / "events" / "env.json"
README = ROOT / "README.md"
REGION = "us-east-1"
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
CONTAINER_ENDPOINT = f"http://host.docker.internal:{SAM_LOCAL_MOTO_PORT}"


@cache
def _document() -> dict[str, Any]:
    return load_yaml(TEMPLATE)


def declared_variables() -> dict[str, set[str]]:
    """Each function's variable names as SAM sees them: Globals merged with its own."""
    document = _document()
    globals_ = ((document.get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    shared = set(globals_.get("Variables") or {})
    return {
        logical_id: shared | set(((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {})
        for logical_id, resource in document["Resources"].items()
        if resource.get("Type") == SERVERLESS_FUNCTION
    }


def env_json() -> dict[str, dict[str, str]]:
    return json.loads(ENV_JSON.read_text())


def overrides_for(logical_id: str) -> dict[str, str]:
    """What SAM's --env-vars gives one function: "Parameters" for all, then its own section."""
    given = env_json()
    return {**given.get("Parameters", {}), **given.get(logical_id, {})}


def test_the_template_has_functions() -> None:
    assert len(declared_variables()) >= 10


@pytest.mark.parametrize("logical_id", sorted(declared_variables()))
def test_every_function_declares_the_endpoint_variable(logical_id: str) -> None:
    assert "AWS_ENDPOINT_URL" in declared_variables()[logical_id]


@pytest.mark.parametrize("logical_id", sorted(declared_variables()))
def test_env_json_points_every_function_at_the_local_stack(logical_id: str) -> None:
    (table,) = load_template(TEMPLATE, region=REGION).tables
    overrides = overrides_for(logical_id)
    assert overrides.get("AWS_ENDPOINT_URL") == CONTAINER_ENDPOINT
    assert overrides.get("TABLE_NAME") == table.name


def test_env_json_sets_only_variables_sam_passes_on() -> None:
    """A section names a function of the template; each value it sets is one the function (or,
    for "Parameters", some function) declares. Anything else SAM silently drops."""
    declared = declared_variables()
    everywhere = set().union(*declared.values())
    for section, values in env_json().items():
        assert isinstance(values, dict) and all(isinstance(v, str) for v in values.values()), section
        if section == "Parameters":
            assert set(values) <= everywhere, f"declared by no function: {sorted(set(values) - everywhere)}"
        else:
            assert section in declared, f"{section}: no such function"
            assert set(values) <= declared[section], f"{section}: {sorted(set(values) - declared[section])}"


def _deployed_variables(parameters: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Each Lambda function's variables in the CloudFormation that SAM deploys, resolved with the
    parameters' defaults (or the given values)."""
    cloudformation = transform(TEMPLATE)
    resolver = Resolver(cloudformation, REGION, "omnistock", {}, parameters)
    return {
        logical_id: resolver.resolve(resource["Properties"]["Environment"]["Variables"])
        for logical_id, resource in cloudformation["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def _endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variables: dict[str, Any]) -> str:
    """The endpoint botocore picks for a DynamoDB client in an environment holding these variables
    (and no configuration file or endpoint variable of this machine's)."""
    import os

    import boto3

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    for name, value in variables.items():
        monkeypatch.setenv(name, str(value))
    client = boto3.session.Session().client(
        "dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y"
    )
    return str(client.meta.endpoint_url)


def test_deployed_functions_keep_aws_endpoints(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    deployed = _deployed_variables()
    assert len(deployed) == len(declared_variables())
    aws = _endpoint(monkeypatch, tmp_path, {})
    assert aws == f"https://dynamodb.{REGION}.amazonaws.com"
    for logical_id, variables in deployed.items():
        assert "AWS_ENDPOINT_URL" not in variables, logical_id
        assert variables.get("TABLE_NAME"), logical_id  # resolved, not dropped with it
        assert _endpoint(monkeypatch, tmp_path, variables) == aws, logical_id


def test_the_parameter_sets_the_endpoint_when_given(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The check above can fail: a value for LocalEndpointUrl does reach every function."""
    deployed = _deployed_variables({"LocalEndpointUrl": "http://emulator.test:4566"})
    assert {variables.get("AWS_ENDPOINT_URL") for variables in deployed.values()} == {"http://emulator.test:4566"}
    any_function = next(iter(deployed.values()))
    assert _endpoint(monkeypatch, tmp_path, any_function) == "http://emulator.test:4566"


def test_the_local_stack_keeps_its_moto_endpoint() -> None:
    """The local stack gives functions its moto's URL, then the template's variables: a declared
    value (even an empty one) would replace it."""
    for spec in load_template(TEMPLATE, region=REGION).functions:
        assert "AWS_ENDPOINT_URL" not in spec.environment, spec.logical_id


def test_host_reaches_the_moto_bind_address(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """`python -m local --host 0.0.0.0` makes moto listen on every interface, where a container
    reaches it."""
    import logging
    import signal

    import local.stack

    bound: list[tuple[str, int]] = []

    class Recorder:
        def __init__(self, host: str, port: int) -> None:
            bound.append((host, port))

        def start(self) -> None:
            raise OSError("not starting moto in a unit test")

    monkeypatch.setattr(local.stack, "MotoServer", Recorder)
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    botocore_logger = logging.getLogger("botocore")
    monkeypatch.setattr(botocore_logger, "level", botocore_logger.level)
    assert main(["--host", "0.0.0.0", "--moto-port", str(SAM_LOCAL_MOTO_PORT), "--no-sandbox"]) == 1
    assert bound == [("0.0.0.0", SAM_LOCAL_MOTO_PORT)]
    assert "not starting moto" in capsys.readouterr().err


def _docker_section() -> str:
    text = README.read_text()
    start = text.index("## `sam local` with Docker")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_commands_match() -> None:
    """The README's Docker commands: the stack listens where containers reach it, on the port of
    events/env.json, and each invocation names a real function and passes events/env.json."""
    commands = re.sub(r"\\\n\s*", " ", _docker_section())
    (start,) = re.findall(r"^.*python -m local .*$", commands, re.MULTILINE)
    assert "--host 0.0.0.0" in start
    assert f"--moto-port {SAM_LOCAL_MOTO_PORT}" in start
    assert urlsplit(CONTAINER_ENDPOINT).port == SAM_LOCAL_MOTO_PORT
    invocations = re.findall(r"^sam local invoke (\w+) (.*)$", commands, re.MULTILINE)
    assert {"AdminApiFunction", "HoldExpiryFunction"} <= {name for name, _ in invocations}
    for name, arguments in invocations:
        assert name in declared_variables(), name
        assert "--env-vars events/env.json" in arguments, name
        event = re.search(r"-e (\S+)", arguments)
        assert event is not None and (ROOT / event.group(1)).is_file(), name

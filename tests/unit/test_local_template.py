"""The local stack's reading of template.yaml (offline)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from local.cfn import TemplateError, load_yaml
from local.lambdas import _environment
from local.template import load_template, table_definition, ttl_attribute

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_short_form_tags_become_long_form_intrinsics(tmp_path):
    path = _write(
        tmp_path,
        """
        Resources:
          R:
            Type: X
            Properties:
              A: !Ref Thing
              B: !GetAtt Table.StreamArn
              C: !Sub "${AWS::Region}-x"
              D: !Join [",", [a, !Ref B]]
              E: !If [IsProd, 1, 2]
              F: !Select [0, !Split [",", "a,b"]]
        """,
    )
    props = load_yaml(path)["Resources"]["R"]["Properties"]
    assert props["A"] == {"Ref": "Thing"}
    assert props["B"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert props["C"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert props["D"] == {"Fn::Join": [",", ["a", {"Ref": "B"}]]}
    assert props["E"] == {"Fn::If": ["IsProd", 1, 2]}
    assert props["F"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}


def test_table_definition_from_the_real_template():
    definition = table_definition(TEMPLATE, "t-1")
    assert definition["TableName"] == "t-1"
    assert definition["BillingMode"] == "PAY_PER_REQUEST"
    assert definition["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    indexes = {gsi["IndexName"]: gsi for gsi in definition["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"gsi1", "gsi2"}
    assert indexes["gsi1"]["Projection"]["NonKeyAttributes"] == ["sku", "location", "qty", "source"]
    assert definition["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert "SSESpecification" not in definition
    assert ttl_attribute(TEMPLATE) == "purge_at"


def test_table_definition_creates_a_moto_table():
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws

    from local.template import create_table

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TEMPLATE, "t-2")
        table = client.describe_table(TableName="t-2")["Table"]
        assert table["LatestStreamArn"]
        ttl = client.describe_time_to_live(TableName="t-2")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "purge_at"


def test_functions_of_the_real_template():
    template = load_template(TEMPLATE)
    raw = load_yaml(TEMPLATE)["Resources"]
    declared = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for resource in raw.values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in (resource["Properties"].get("Events") or {}).values()
        if event["Type"] == "HttpApi"
    }
    assert {(r.method, r.path) for r in template.routes} == declared
    # Every route takes the API's default authorizer except the webhooks, which platforms sign
    # instead, and the console's, whose users sign in.
    open_routes = {route.path for route in template.routes if route.auth is None}
    assert open_routes == {
        "/webhooks/shopify",
        "/webhooks/commentsold",
        "/webhooks/lightspeed",
        "/webhooks/unleashed",
        "/shipstation",
        "/console",  # the console's page and files; its data routes need a signed-in user
        "/console/{asset}",
    }
    console_routes = {route.path for route in template.routes if route.auth == "ConsoleUsers"}
    assert console_routes == {"/console/api/{proxy+}", "/console/api/connections"}
    assert all(route.auth == "AWS_IAM" for route in template.routes if route.path not in open_routes | console_routes)
    assert template.problems == []
    for function in template.functions:
        assert function.environment["TABLE_NAME"] == "omnistock-local"
        assert function.handler_file.is_file()
        assert (ROOT / "shared") in function.layers
    assert {stream.function for stream in template.streams} == {
        "MovementLogFunction",
        "PushFunction",
        "FulfillmentFunction",
        "PosSalesFunction",
        "ErpOrdersFunction",
    }
    for stream in template.streams:
        assert stream.table == "StockTable"
        assert stream.report_batch_item_failures
        assert stream.filters  # each consumer sees only the items it acts on
    assert {s.function for s in template.schedules} == {
        "CommentSoldPollFunction",
        "ErpOrdersFunction",
        "HoldExpiryFunction",
        "LightspeedPollFunction",
        "PosSalesFunction",
        "ReconcileFunction",
        "UnleashedPollFunction",
        "ShopifyPollFunction",
        "ShopifySubscriptionsFunction",
    }
    assert all(schedule.expression.startswith("rate(") for schedule in template.schedules)


def test_each_function_gets_its_own_environment():
    functions = {f.logical_id: f for f in load_template(TEMPLATE).functions}
    environments = {name: _environment(spec) for name, spec in functions.items()}
    assert {env["TABLE_NAME"] for env in environments.values()} == {"omnistock-local"}
    services = {env["POWERTOOLS_SERVICE_NAME"] for env in environments.values()}
    assert len(services) == len(functions)
    assert all("shared" in env["PYTHONPATH"] for env in environments.values())


_SMALL = """
    Parameters:
      Level: {Type: String, Default: DEBUG}
      Days: {Type: Number, Default: 7}
    Conditions:
      IsDebug: !Equals [!Ref Level, DEBUG]
    Globals:
      Function:
        Runtime: python3.12
        Timeout: 5
        Environment:
          Variables:
            TABLE: !Ref Data
            LEVEL: !Ref Level
    Resources:
      Data:
        Type: AWS::DynamoDB::Table
        Properties:
          KeySchema: [{AttributeName: pk, KeyType: HASH}]
          AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      Api:
        Type: AWS::Serverless::HttpApi
        Properties:
          Auth: {DefaultAuthorizer: AWS_IAM, EnableIamAuthorizer: true}
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: fn/
          Handler: app.handler
          Timeout: 9
          Environment:
            Variables:
              DAYS: !Ref Days
              ARN: !GetAtt Data.Arn
              WHERE: !Sub "${AWS::Region}/${Data}/${!Literal}"
              MODE: !If [IsDebug, verbose, quiet]
              GONE: !Ref AWS::NoValue
          Events:
            Private: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: get, Path: "/things/{id}"}}
            Public:
              Type: HttpApi
              Properties: {ApiId: !Ref Api, Method: POST, Path: /open, Auth: {Authorizer: NONE}}
            Tick: {Type: ScheduleV2, Properties: {ScheduleExpression: "cron(0 12 * * ? *)"}}
            Queue: {Type: SQS, Properties: {Queue: arn}}
"""


def test_intrinsics_globals_and_auth(tmp_path):
    template = load_template(_write(tmp_path, _SMALL), region="eu-west-1")
    (function,) = template.functions
    assert function.timeout == 9
    assert function.runtime == "python3.12"
    assert function.environment == {
        "TABLE": "omnistock-local",
        "LEVEL": "DEBUG",
        "DAYS": "7",
        "ARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/omnistock-local",
        "WHERE": "eu-west-1/omnistock-local/${Literal}",
        "MODE": "verbose",
    }
    routes = {route.event: route for route in function.routes}
    assert routes["Private"].auth == "AWS_IAM"
    assert routes["Private"].route_key == "GET /things/{id}"
    assert routes["Public"].auth is None
    assert function.schedules[0].expression == "cron(0 12 * * ? *)"
    assert any("SQS" in problem for problem in template.problems)


def test_unknown_reference_is_an_error(tmp_path):
    path = _write(tmp_path, _SMALL.replace("TABLE: !Ref Data", "TABLE: !Ref Dta"))
    with pytest.raises(TemplateError, match="Dta"):
        load_template(path)


def test_invalid_yaml_names_the_file(tmp_path):
    path = _write(tmp_path, "Resources:\n  A: {Path: /x/{id} }\n")
    with pytest.raises(TemplateError, match="not valid YAML"):
        load_yaml(path)


def test_parameters_given_locally_override_their_defaults():
    template = load_template(TEMPLATE, parameters={"PushRaiseGraceSeconds": "3"})
    assert {f.environment["PUSH_RAISE_GRACE_SECONDS"] for f in template.functions} == {"3"}
    assert {f.environment["PUSH_RAISE_GRACE_SECONDS"] for f in load_template(TEMPLATE).functions} == {"120"}
    with pytest.raises(TemplateError, match="no such parameter"):
        load_template(TEMPLATE, parameters={"NotAParameter": "1"})

"""Every function's IAM role grants what its code calls, and nothing more.

The grants are read from the role SAM deploys (template.yaml through the SAM transform, so
policies SAM adds for events count too). The calls are recorded: each handler runs its main
paths in moto (and against the channel sandboxes where a path needs a platform), and a botocore
hook on every client built meanwhile notes each operation as the IAM actions and resources it
needs (a transaction needs the action of each of its items; a query on an index, the index).
"""

from __future__ import annotations

import json
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from functools import cache
from types import ModuleType
from typing import Any, NamedTuple
from urllib.parse import urlencode

import boto3
import botocore.session
import httpx
import pytest
from moto import mock_aws

from local.cfn import ACCOUNT_ID, Resolver, load_yaml
from local.filters import any_filter_matches
from local.sandbox import ShopifySandbox
from local.sandbox.commentsold import CommentSoldSandbox
from local.sandbox.lightspeed import WEB_PAYMENT_TYPE, WEB_USER, LightspeedSandbox
from local.sandbox.unleashed import UnleashedSandbox
from local.send_webhook import LOCAL_WEBHOOK_SECRET, deliver
from local.stack import LOCAL_COMMENTSOLD_SECRET, LOCAL_LIGHTSPEED_OUTLETS, LOCAL_SHIPSTATION_CREDENTIALS, SANDBOX_SHOP
from local.streams import lambda_record
from local.template import STACK_NAME, FunctionSpec, load_template, table_definition
from local.template_check import transform
from omnistock import runtime
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.channels.lightspeed.web_order_settings import settings_of
from omnistock.channels.shopify import payloads
from omnistock.channels.shopify import wiring as shopify
from omnistock.channels.shopify.intake import Delivery
from omnistock.channels.unleashed import wiring as unleashed
from omnistock.channels.unleashed.signing import webhook_signature
from omnistock.models import Job, SyncEntry
from omnistock.orders import ChannelOrder, OrderLine
from omnistock.policy import SkuPolicy
from omnistock.store import keys
from omnistock.store.job_store import JobStore
from omnistock.wiring import build
from tests import log_scan
from tests.helpers import ROOT, TEMPLATE, FakeContext, http_event, load_function
from tests.integration.conftest import TABLE, StreamReader
from tests.reliability import record

REGION = "us-east-1"
FIXTURES = ROOT / "tests" / "fixtures"
SHOP_LOCATION = "gid://shopify/Location/9001"
MANAGED = "arn:aws:iam::aws:policy/"
# Grants no recorded path uses, yet needed: function -> action -> why. Keep it short.
NEEDED_BUT_NOT_EXERCISED: dict[str, dict[str, str]] = {}
OVER_GRANTED: dict[str, str] = {}  # function -> what it is granted that no code path uses (xfail until fixed)


class Need(NamedTuple):
    action: str
    resource: str


# ==================================================================== what the role grants
@cache
def deployed() -> dict[str, Any]:
    """template.yaml as CloudFormation after the SAM transform: the roles SAM generates."""
    return transform(TEMPLATE)


@cache
def functions() -> dict[str, FunctionSpec]:
    return {spec.logical_id: spec for spec in load_template(TEMPLATE, {"StockTable": TABLE}, REGION).functions}


@cache
def raw_template() -> dict[str, Any]:
    return load_yaml(TEMPLATE)


def _resolver(document: dict[str, Any]) -> Resolver:
    return Resolver(document, REGION, STACK_NAME, {"StockTable": TABLE})


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(statements: list[dict[str, Any]], resolver: Resolver) -> list[Need]:
    found = []
    for statement in statements:
        assert statement.get("Effect") == "Allow" and set(statement) <= {"Effect", "Action", "Resource", "Sid"}
        for action in _listed(statement["Action"]):
            found += [Need(action, str(resolver.resolve(r))) for r in _listed(statement["Resource"])]
    return found


def role(function: str) -> dict[str, Any]:
    resources = deployed()["Resources"]
    role_id = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    properties: dict[str, Any] = resources[role_id]["Properties"]
    return properties


def effective_grants(function: str) -> list[Need]:
    """Every inline statement of the deployed role: the template's Policies and SAM's own."""
    policies = role(function).get("Policies") or []
    statements = [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]
    return _grants(statements, _resolver(deployed()))


def template_grants(function: str) -> list[Need]:
    """What the template's own Policies say (inline statements only: anything else is refused)."""
    policies = raw_template()["Resources"][function]["Properties"].get("Policies") or []
    assert all(isinstance(p, dict) and set(p) == {"Statement"} for p in policies), "teach this test that policy form"
    return _grants([s for p in policies for s in p["Statement"]], _resolver(raw_template()))


def lambda_needs(function: str) -> set[Need]:
    """What Lambda itself does with the role: send a stream batch it gives up on to the on-failure queue."""
    events = raw_template()["Resources"][function]["Properties"].get("Events") or {}
    resolver, found = _resolver(raw_template()), set()
    for event in events.values():
        failure = ((event.get("Properties") or {}).get("DestinationConfig") or {}).get("OnFailure") or {}
        if event.get("Type") == "DynamoDB" and failure.get("Type") == "SQS":
            found.add(Need("sqs:SendMessage", str(resolver.resolve(failure["Destination"]))))
    return found


def granted(need: Need, grants: list[Need]) -> bool:
    return any(fnmatchcase(need.action, g.action) and fnmatchcase(need.resource, g.resource) for g in grants)


# ==================================================================== what the code calls
TRANSACT_VERBS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def table_arn(name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def secret_arn(secret_id: str) -> str:
    """Secrets Manager ends a secret's ARN with "-" and six random characters: policies match NAME-??????."""
    if secret_id.startswith("arn:"):
        return secret_id
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{secret_id}-AbCdEf"


def iam_needs(service: str, operation: str, params: dict[str, Any]) -> list[Need]:
    """The IAM actions (and resources) one API call is authorised against."""
    if service == "dynamodb" and operation == "TransactWriteItems":
        items = [next(iter(item.items())) for item in params["TransactItems"]]
        return [Need(f"dynamodb:{TRANSACT_VERBS[verb]}", table_arn(body["TableName"])) for verb, body in items]
    if service == "dynamodb" and operation == "TransactGetItems":
        return [Need("dynamodb:GetItem", table_arn(item["Get"]["TableName"])) for item in params["TransactItems"]]
    if service == "dynamodb" and operation in ("BatchWriteItem", "BatchGetItem"):
        return [Need(f"dynamodb:{operation}", table_arn(name)) for name in params["RequestItems"]]
    if service == "dynamodb":
        return [Need(f"dynamodb:{operation}", table_arn(params["TableName"], params.get("IndexName")))]
    if service == "secretsmanager":
        return [Need(f"secretsmanager:{operation}", secret_arn(params["SecretId"]))]
    return [Need(f"{service}:{operation}", "(unknown resource)")]  # a new service: it must be granted too


@dataclass
class Recorder:
    """A botocore hook: while a handler runs, each call it makes is noted as IAM needs."""

    running: str | None = None
    needs: defaultdict[str, set[Need]] = field(default_factory=lambda: defaultdict(set))

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.running is not None:
            self.needs[self.running].update(iam_needs(model.service_model.service_name, model.name, params))


# ==================================================================== driving a function
def gateway(call: Callable[[dict[str, Any]], dict[str, Any]]) -> httpx.Client:
    """An HTTP client whose requests become API Gateway events for ``call`` (sandboxes deliver webhooks with it)."""

    def answer(request: httpx.Request) -> httpx.Response:
        event = http_event(request.method, request.url.path, request.content.decode(), dict(request.url.params) or None)
        event["headers"] |= {name.lower(): value for name, value in request.headers.items()}
        event["rawQueryString"] = request.url.query.decode()
        result = call(event)
        return httpx.Response(result["statusCode"], text=result.get("body") or "")

    return httpx.Client(transport=httpx.MockTransport(answer), base_url="http://gateway")


class PatientContext(FakeContext):
    """Five minutes left: the polls stop starting pages a minute before their timeout."""

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


@dataclass
class Harness:
    function: str
    recorder: Recorder
    monkeypatch: pytest.MonkeyPatch
    dynamodb: Any
    stream: StreamReader
    module: ModuleType | None = None

    def configure(self, **overrides: str) -> None:
        """The function's environment as the template gives it (defaults), then ``overrides``."""
        for name, value in (functions()[self.function].environment | {"TABLE_NAME": TABLE} | overrides).items():
            self.monkeypatch.setenv(name, value)
        runtime.reset()
        self.module = self.module or load_function(functions()[self.function].code_uri.name)

    def secret(self, variable: str, value: str | dict[str, Any]) -> None:
        """Store ``value`` under the secret name the function's ``variable`` holds."""
        name = functions()[self.function].environment[variable]
        text = value if isinstance(value, str) else json.dumps(value)
        boto3.client("secretsmanager").create_secret(Name=name, SecretString=text)

    def invoke(self, event: dict[str, Any]) -> Any:
        """A cold start each time, so nothing the seeding cached (a secret, say) hides a call."""
        assert self.module is not None, "configure() first"
        runtime.reset()
        self.recorder.running = self.function
        try:
            return self.module.lambda_handler(event, PatientContext())
        finally:
            self.recorder.running = None

    def http(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
        answer = self.invoke(http_event(method, path, body, query))
        return answer["statusCode"], answer.get("body")

    def stream_batch(self) -> dict[str, Any]:
        """The stream records written since the last batch that pass the function's filters."""
        spec = functions()[self.function].streams[0]
        records = [lambda_record(raw, f"{table_arn(TABLE)}/stream/local", REGION) for raw in self.stream.read()]
        return {"Records": [r for r in records if any_filter_matches(spec.filters, r)]}

    def drain_stream(self) -> None:
        self.invoke(self.stream_batch())


def shipstation_date(at: datetime) -> str:
    return at.strftime("%m/%d/%Y %H:%M")


# ---- seeding (not recorded: it runs outside the handler)
def shopify_channel(sku: str, item: str, on_hand: int = 10) -> None:
    ledger = runtime.app().ledger
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=SHOP_LOCATION)
    ledger.upsert_catalog(sku, ["shop"], {"shopify": item}, "Tee")
    ledger.report_count(sku, "shop", on_hand, 1, "pos", f"count-{sku}")


def shopify_env(shop: ShopifySandbox) -> dict[str, str]:
    return {"SHOPIFY_SHOP_DOMAIN": SANDBOX_SHOP, "SHOPIFY_ENDPOINT": shop.graphql_url()}


def commentsold_env(cs: CommentSoldSandbox) -> dict[str, str]:
    return {"COMMENTSOLD_SHOP": cs.shop, "COMMENTSOLD_API_BASE": cs.api_base, "COMMENTSOLD_TOKEN_URL": cs.token_url}


def commentsold_credentials(cs: CommentSoldSandbox) -> dict[str, str]:
    return {"partner_id": cs.partner_id, "private_key": cs.private_key}


def shopify_order(shop: ShopifySandbox, sku: str, item: str, quantity: int = 1) -> dict[str, Any]:
    item_id = int(item.rsplit("/", 1)[1])
    line = {"sku": sku, "quantity": quantity, "inventory_item_id": item_id}
    return shop.orders.create_order([line], location_id=SHOP_LOCATION)


def sample_shopify_order() -> dict[str, Any]:
    """The sample paid order, its SKU in the catalog."""
    order: dict[str, Any] = json.loads((FIXTURES / "shopify" / "orders_paid.json").read_text())
    runtime.app().ledger.upsert_catalog("SOCK-TRAIL-M", ["shop"], {})
    runtime.app().ledger.report_count("SOCK-TRAIL-M", "shop", 10, 1, "pos", "sock-count")
    return order


# ==================================================================== scenarios, one per function
def admin_api(h: Harness) -> None:
    h.configure()
    calls = [
        ("PUT", "/skus/TEE", {"locations": ["shop", "web"], "listings": {"shopify": "1001"}, "title": "Tee"}),
        ("PUT", "/channels/shopify", {"locations": ["shop", "web"], "platform": "shopify", "target_location": "L"}),
        ("POST", "/skus/TEE/counts", {"location": "shop", "on_hand": 10, "version": 1, "event_id": "c1"}),
        ("POST", "/skus/TEE/adjustments", {"location": "shop", "delta": 2, "event_id": "a1"}),
        ("POST", "/skus/TEE/restocks", {"location": "shop", "qty": 1, "event_id": "r1"}),
        ("POST", "/skus/TEE/sales", {"location": "shop", "qty": 1, "event_id": "s1"}),
        ("POST", "/holds", {"hold_id": "h1", "sku": "TEE", "location": "shop", "qty": 1}),
        ("POST", "/holds", {"hold_id": "h2", "sku": "TEE", "location": "shop", "qty": 1}),
        ("GET", "/holds/h1", None),
        ("POST", "/holds/h1/release", {"event_id": "rel-1"}),
        ("POST", "/holds/h2/checkout", {"event_id": "co-1"}),
        ("GET", "/skus/TEE", None),
        ("GET", "/skus", None),
        ("GET", "/channels", None),
        ("GET", "/settings", None),
        ("PUT", "/settings/holds.default_minutes", {"value": 20}),
        ("GET", "/audit", None),
        ("GET", "/skus/TEE/movements", None),
        ("GET", "/channels/shopify/skus/TEE", None),
        ("PUT", "/skus/TEE/channels/shopify", {"buffer": 1}),
        ("PUT", "/skus/TEE", {"locations": ["shop", "web"], "listings": {"shopify": "1002"}, "title": "Tee"}),
        ("GET", "/sync-history", None),
        ("POST", "/sync-now", {"channel": "shopify"}),
        ("POST", "/live-events", {"event_id": "live-1", "channel": "shopify", "allocations": {"TEE": 2}}),
        ("GET", "/live-events/live-1", None),
        ("GET", "/live-events/live-1/board", None),
        ("POST", "/live-events/live-1/end", None),
        ("POST", "/policies", {"channel": "shopify", "skus": ["TEE"], "auto_sync": True}),
        ("GET", "/skus/TEE/channels", None),
        ("GET", "/latency", None),
        ("GET", "/problems/pending-lots", None),
        ("GET", "/sync-now", None),
        ("GET", "/orders", None),
        ("POST", "/policies/jobs", {"channel": "shopify", "prefix": "T", "auto_sync": True}),
    ]
    for method, path, body in calls:
        status, answer = h.http(method, path, body, {"channel": "shopify"} if path == "/sync-history" else None)
        assert status < 300, (method, path, answer)
    for state in ("paused", "auto_sync_off", "push_failed"):  # the inventory narrowed by state
        assert h.http("GET", "/skus", None, {"channel": "shopify", "state": state})[0] == 200
    job = json.loads(h.http("POST", "/sync-now", {"channel": "shopify", "skus": ["TEE"]})[1])["job_id"]
    assert h.http("GET", f"/sync-now/{job}")[0] == 200
    (lot, *_) = json.loads(h.http("GET", "/skus/TEE")[1])["locations"][0]["pending_lots"]
    confirmation = {"location": "shop", "lot": lot["lot"], "applied_version": 2, "event_id": "cf-1"}
    assert h.http("POST", "/skus/TEE/confirmations", confirmation)[0] < 300
    order = sample_shopify_order()
    shopify.intake(runtime.app()).handle(Delivery("orders/paid", order, "w-1"))
    order_path = f"/orders/shopify/{order['id']}"
    assert h.http("GET", order_path)[0] == 200
    shipment = {"shipment_id": "s-1", "carrier": "UPS", "tracking_number": "1Z"}
    assert h.http("POST", f"{order_path}/shipments", shipment)[0] == 201
    assert h.http("POST", f"{order_path}/refresh")[0] == 200
    failed = SyncEntry("TEE", "shopify", "a1", "2026-01-01T00:00:00.000Z", 0, 1, "stock change", "failed", "502")
    runtime.app().pushes.record_sync([failed], runtime.app().clock())
    runtime.app().pushes.note("order:9", "shipstation", "shipnotify", "unknown_order", "unknown", runtime.app().clock())
    problems = json.loads(h.http("GET", "/problems")[1])["problems"]  # a failed push: was it pushed since?
    unknown = next(p for p in problems if p["kind"] == "unknown_order")
    assert h.http("POST", "/problems/dismiss", {"id": unknown["id"]})[0] == 200
    line = OrderLine("l-1", "CAP", "Cap", 1)
    at = "2026-01-01T00:00:00.000Z"
    runtime.app().order_desk.ingest(ChannelOrder("shopify", "o-cap", "#9", at, at, (line,)))
    runtime.app().ledger.upsert_catalog("CAP", ["warehouse"], {}, "Cap")  # not where the channel sells
    unmapped = json.loads(h.http("GET", "/problems", None, {"kind": "unmapped"})[1])["problems"]
    assert h.http("POST", "/problems/retry", {"id": unmapped[0]["id"]})[0] == 409  # its new reason is noted
    runtime.app().ledger.upsert_catalog("CAP", ["shop"], {}, "Cap")
    assert h.http("POST", "/problems/retry", {"id": unmapped[0]["id"]})[0] == 200
    failed_id = next(p["id"] for p in json.loads(h.http("GET", "/problems")[1])["problems"] if p["kind"] == "failed")
    assert h.http("POST", "/problems/retry", {"id": failed_id})[0] == 200  # a Sync Now job


def console(h: Harness) -> None:
    h.configure()
    assert h.invoke({"rawPath": "/console", "pathParameters": None})["statusCode"] == 200
    assert (
        h.invoke({"rawPath": "/console/config.json", "pathParameters": {"asset": "config.json"}})["statusCode"] == 200
    )


def movement_log(h: Harness) -> None:
    h.configure()
    runtime.app().ledger.upsert_catalog("TEE", ["shop"], {})
    runtime.app().ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
    runtime.app().ledger.place_hold("h1", "TEE", "shop", 1, "web", "h1")
    assert h.invoke(h.stream_batch()) == {"batchItemFailures": []}


def hold_expiry(h: Harness) -> None:
    h.configure()
    deployed = runtime.app()
    ledger = deployed.ledger
    ledger.upsert_catalog("TEE", ["shop"], {})
    ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
    five_minutes_ago = lambda: datetime.now(UTC) - timedelta(minutes=5)  # noqa: E731
    earlier = build(deployed.config, deployed.clients, clock=five_minutes_ago).ledger
    earlier.place_hold("h1", "TEE", "shop", 1, "web", "h1", minutes=1)
    earlier.place_hold("h2", "TEE", "shop", 1, "web", "h2", minutes=1)
    legacy = {"pk": {"S": keys.hold_pk("h2")}, "sk": {"S": keys.HOLD_SK}}  # indexed before it carried the source
    h.dynamodb.update_item(
        TableName=TABLE, Key=legacy, UpdateExpression="REMOVE #s", ExpressionAttributeNames={"#s": "source"}
    )
    assert h.invoke({"source": "aws.events", "detail-type": "Scheduled Event"})["expired"] == 2


def push(h: Harness) -> None:
    with ShopifySandbox() as shop, CommentSoldSandbox() as cs:
        h.configure(**shopify_env(shop), **commentsold_env(cs))
        h.secret("SHOPIFY_TOKEN_SECRET_NAME", shop.token)
        h.secret("COMMENTSOLD_API_SECRET_NAME", commentsold_credentials(cs))
        item = shop.add_item(1001)
        shop.stock(item, SHOP_LOCATION, 0)
        cs.stock(501, 0)
        ledger = runtime.app().ledger
        ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=SHOP_LOCATION)
        ledger.set_channel("commentsold", ["shop"], platform="commentsold")
        ledger.upsert_catalog("TEE", ["shop"], {"shopify": item, "commentsold": "501"}, "Tee")
        ledger.report_count("TEE", "shop", 7, 1, "pos", "c1")
        h.drain_stream()  # channel settings, catalog, stock: pushes and one job per channel change
        h.drain_stream()  # the jobs' first chunks
        runtime.app().sync.set_policy("TEE", "shopify", SkuPolicy(buffer=1))
        runtime.app().sync.start("shopify", ["TEE"])
        h.drain_stream()
        assert shop.available(item, SHOP_LOCATION) == 6 and cs.shelf(501) == 7
        runtime.app().sync.set_policies(["TEE"], "commentsold", {"paused": True})
        for state in ("paused", "push_failed", None):  # policy changes over filters, as jobs
            runtime.app().bulk_policies.start("commentsold", {"paused": False}, "", state)
        h.drain_stream()
        h.drain_stream()
        # Catalog imports: the shop (no POS at its location) moves TEE to another listing and
        # counts it; the POS adds its own products with their counts.
        ledger.set_channel(
            "shopify", ["shop"], platform="shopify", target_location=SHOP_LOCATION, master_location="shop"
        )
        moved = shop.catalog.add_product("Tee", [{"sku": "TEE", "item": 1002}])["variants"][0]["item"]
        shop.stock(moved, SHOP_LOCATION, 5)
        runtime.app().imports.start("shopify", add_new=True, check=False)
        for _ in range(4):
            h.drain_stream()
        assert runtime.app().stock.catalog("TEE").listings["shopify"] == moved  # type: ignore[union-attr]
        with LightspeedSandbox() as ls:
            h.configure(
                **shopify_env(shop),
                **commentsold_env(cs),
                LIGHTSPEED_API_BASE=ls.api_base,
                LIGHTSPEED_DOMAIN_PREFIX=ls.domain_prefix,
                LIGHTSPEED_OUTLETS=json.dumps(LOCAL_LIGHTSPEED_OUTLETS),
            )
            h.secret("LIGHTSPEED_TOKEN_SECRET_NAME", ls.initial_tokens() | {"expires_at": 1})  # refreshed first
            ls.add_product("POS-ONLY", {"outlet-shop": 3})
            runtime.app().imports.start("lightspeed", add_new=True, check=False)
            for _ in range(6):
                h.drain_stream()
            assert runtime.app().stock.stock("POS-ONLY", "shop").on_hand == 3  # type: ignore[union-attr]


def reconcile(h: Harness) -> None:
    with ShopifySandbox() as shop, CommentSoldSandbox() as cs:
        h.configure(**shopify_env(shop), **commentsold_env(cs))
        h.secret("SHOPIFY_TOKEN_SECRET_NAME", shop.token)
        h.secret("COMMENTSOLD_API_SECRET_NAME", commentsold_credentials(cs))
        item = shop.add_item(1001)
        shop.stock(item, SHOP_LOCATION, 3)
        cs.stock(501, 3)
        ledger = runtime.app().ledger
        ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=SHOP_LOCATION)
        ledger.set_channel("commentsold", ["shop"], platform="commentsold")
        ledger.upsert_catalog("TEE", ["shop"], {"shopify": item, "commentsold": "501"}, "Tee")
        ledger.report_count("TEE", "shop", 7, 1, "pos", "c1")
        runtime.app().sync.engine.push(["TEE"], "stock change")  # history for reconcile to look at
        shop.set_available(item, SHOP_LOCATION, 9)  # drift: the channel shows more than it may sell
        old = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        JobStore(runtime.app().table).create(Job("a" * 32, "shopify", ("TEE",), "running", 1, 0, 0, 0, "", old, old))
        result = h.invoke({"source": "aws.events"})
        assert set(result) == {"shopify", "commentsold"}, result
        assert shop.available(item, SHOP_LOCATION) == 7


def connections(h: Harness) -> None:
    with ShopifySandbox() as shop:
        connected = {"COMMENTSOLD_SHOP": "demo-shop", "LIGHTSPEED_DOMAIN_PREFIX": "demo"}
        h.configure(**shopify_env(shop), **connected, UNLEASHED_WAREHOUSES=json.dumps({"MAIN": "shop"}))
        h.secret("SHOPIFY_TOKEN_SECRET_NAME", {"client_id": shop.client_id, "client_secret": shop.client_secret})
        h.secret("UNLEASHED_API_SECRET_NAME", {"api_id": "id", "api_key": "key"})
        for variable in (
            "SHOPIFY_WEBHOOK_SECRET_NAME",
            "COMMENTSOLD_API_SECRET_NAME",
            "COMMENTSOLD_WEBHOOK_SECRET_NAME",
            "LIGHTSPEED_TOKEN_SECRET_NAME",
            "LIGHTSPEED_WEBHOOK_SECRET_NAME",
            "SHIPSTATION_SECRET_NAME",
        ):
            h.secret(variable, "stored")
        shopify_channel("TEE", shop.add_item(1001))
        status, body = h.http("GET", "/connections")
        checks = {(check["platform"], check["name"]): check["ok"] for check in json.loads(body)["checks"]}
        assert status == 200 and checks[("shopify", "credentials")] and checks[("shopify", "scopes")], body


def shopify_webhook(h: Harness) -> None:
    h.configure()
    h.secret("SHOPIFY_WEBHOOK_SECRET_NAME", LOCAL_WEBHOOK_SECRET)
    ledger = runtime.app().ledger
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/76683080001")
    ledger.upsert_catalog("SOCK-TRAIL-M", ["shop"], {"shopify": "gid://shopify/InventoryItem/47216940870001"})
    ledger.upsert_catalog("SHELL-RAIN-L", ["shop"], {"shopify": "gid://shopify/InventoryItem/47216940870002"})
    ledger.report_count("SOCK-TRAIL-M", "shop", 10, 1, "pos", "c1")
    ledger.report_count("SHELL-RAIN-L", "shop", 5, 1, "pos", "c2")
    client = gateway(h.invoke)
    topics = {
        "orders/create": "orders_create.json",
        "orders/paid": "orders_paid.json",
        "refunds/create": "refunds_create.json",
        "orders/cancelled": "orders_cancelled.json",
        "inventory_levels/update": "inventory_levels_update.json",
        "products/update": "products_update.json",
    }
    for topic, name in topics.items():
        body = (FIXTURES / "shopify" / name).read_bytes()
        answer = deliver("http://gateway/webhooks/shopify", topic, body, LOCAL_WEBHOOK_SECRET, client=client)
        assert answer.status_code == 200, (topic, answer.text)
    held = json.dumps({"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/1", "status": "on_hold"}}).encode()
    hold = "fulfillment_orders/placed_on_hold"
    assert (
        deliver("http://gateway/webhooks/shopify", hold, held, LOCAL_WEBHOOK_SECRET, client=client).status_code == 200
    )
    assert deliver("http://gateway/webhooks/shopify", "orders/paid", b"{}", "wrong", client=client).status_code == 401


def shopify_poll(h: Harness) -> None:
    h.configure()
    assert h.invoke({"source": "aws.events"}) == {"polled": False}
    with ShopifySandbox() as shop:
        h.configure(**shopify_env(shop))
        h.secret("SHOPIFY_TOKEN_SECRET_NAME", shop.token)
        item = shop.add_item(1001)
        shop.stock(item, SHOP_LOCATION, 10)
        shopify_channel("TEE", item)
        first = shopify_order(shop, "TEE", item, 2)
        shopify_order(shop, "TEE", item, 1)
        result = h.invoke({"source": "aws.events"})
        assert result["polled"] is True and result["orders"] == 2, result
        desk = runtime.app().shipment_desk
        desk.record(
            "shopify", str(first["id"]), "s-1", carrier="UPS", service="Ground", tracking_number="1Z", lines=None
        )
        shop.orders.cancel_order(first["id"])
        result = h.invoke({"source": "aws.events"})  # the cancel, and the shipment no fulfillment carried yet
        assert result["polled"] is True and result["shipments"], result
        shop.orders.hold(first["id"])  # its webhook (a hint) is what the webhook function stores
        held = next(w for w in shop.orders.webhooks() if w["topic"] == "fulfillment_orders/placed_on_hold")
        runtime.app().cursors.hint("shopify:holds", held["body"]["fulfillment_order"]["id"], "2026-11-23T12:00:00Z")
        result = h.invoke({"source": "aws.events"})  # reads the held order, drops the hint
        assert result["holds"] == 1, result


def shopify_subscriptions(h: Harness) -> None:
    with ShopifySandbox() as shop:
        h.configure(**shopify_env(shop))
        h.secret("SHOPIFY_TOKEN_SECRET_NAME", {"client_id": shop.client_id, "client_secret": shop.client_secret})
        assert len(h.invoke({"source": "aws.events"})["created"]) == 11
        shop.catalog.drop_subscription("PRODUCTS_DELETE")
        assert h.invoke({"source": "aws.events"})["created"] == ["PRODUCTS_DELETE"]


def fulfillment(h: Harness) -> None:
    with ShopifySandbox() as shop:
        h.configure(**shopify_env(shop))
        h.secret("SHOPIFY_TOKEN_SECRET_NAME", shop.token)
        item = shop.add_item(1001)
        shop.stock(item, SHOP_LOCATION, 10)
        shopify_channel("TEE", item)
        order = shopify_order(shop, "TEE", item, 2)
        shopify.intake(runtime.app()).handle(Delivery("orders/create", order, "w-1"))
        runtime.app().shipment_desk.record(
            "shopify", str(order["id"]), "s-1", carrier="UPS", service="Ground", tracking_number="1Z", lines=None
        )
        assert h.invoke(h.stream_batch()) == {"batchItemFailures": []}
        assert shop.orders.counters()["fulfillments_created"] == 1


def shipstation(h: Harness) -> None:
    h.configure()
    h.secret("SHIPSTATION_SECRET_NAME", LOCAL_SHIPSTATION_CREDENTIALS)
    order = sample_shopify_order()
    runtime.app().ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="L")
    shopify.intake(runtime.app()).handle(Delivery("orders/paid", order, "w-1"))
    read = payloads.order_from_rest("shopify", order)  # as the poll reads it: not on hold
    runtime.app().order_desk.ingest(replace(read, on_hold=False))
    now = datetime.now(UTC)
    window = {"start_date": shipstation_date(now - timedelta(days=1)), "end_date": shipstation_date(now + timedelta(1))}
    export = json.loads((ROOT / "events" / "shipstation-export.json").read_text())
    export["rawQueryString"] = urlencode({"action": "export", **window})
    answer = h.invoke(export)
    assert answer["statusCode"] == 200 and "<Order>" in answer["body"], answer["body"][:300]
    notice = json.loads((ROOT / "events" / "shipstation-shipnotify.json").read_text())
    assert h.invoke(notice)["statusCode"] == 200
    unknown = notice | {"rawQueryString": notice["rawQueryString"].replace("%231042", "%239999")}
    body = notice["body"].replace("#1042", "#9999").replace("5938001231001", "1")
    assert h.invoke(unknown | {"body": body})["statusCode"] == 400
    assert h.invoke(export | {"headers": {"authorization": "Basic d3Jvbmc6d3Jvbmc="}})["statusCode"] == 401


def commentsold_webhook(h: Harness) -> None:
    h.configure()
    h.secret("COMMENTSOLD_WEBHOOK_SECRET_NAME", LOCAL_COMMENTSOLD_SECRET)
    with CommentSoldSandbox() as cs:
        ledger = runtime.app().ledger
        ledger.set_channel("commentsold", ["shop"], platform="commentsold")
        ledger.upsert_catalog("TEE", ["shop"], {"commentsold": "501"}, "Tee")
        ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
        cs.stock(501, 5)
        cs.stock(502, 5)  # not listed in the catalog: its lines are unmapped
        cs.webhook_client = gateway(h.invoke)
        kept, dropped, unlisted = cs.claim(501, 2), cs.claim(501, 1), cs.claim(502, 1)
        assert kept is not None and dropped is not None and unlisted is not None
        cs.remove(dropped["id"])
        order = cs.checkout([kept["id"], unlisted["id"]])
        cs.refund(order["id"], restock=True)
        cs.cancel(order["id"])
        delivered = cs.deliver_webhooks("http://gateway/webhooks/commentsold", LOCAL_COMMENTSOLD_SECRET)
        assert {d["status"] for d in delivered["deliveries"]} == {200}, delivered


def commentsold_poll(h: Harness) -> None:
    h.configure()
    assert h.invoke({"source": "aws.events"}) == {"polled": False}
    with CommentSoldSandbox() as cs:
        h.configure(**commentsold_env(cs))
        h.secret("COMMENTSOLD_API_SECRET_NAME", commentsold_credentials(cs))
        ledger = runtime.app().ledger
        ledger.set_channel("commentsold", ["shop"], platform="commentsold")
        ledger.upsert_catalog("TEE", ["shop"], {"commentsold": "501"}, "Tee")
        ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
        cs.stock(501, 5)
        cs.stock(502, 5)  # not listed in the catalog: its lines are unmapped
        kept, gone, unlisted = cs.claim(501, 2), cs.claim(501, 1), cs.claim(502, 1)
        assert kept is not None and gone is not None and unlisted is not None
        assert h.invoke({"source": "aws.events"})["claims"] == 2  # carts whose claims never came
        cs.remove(gone["id"])
        order = cs.checkout([kept["id"], unlisted["id"]])
        assert h.invoke({"source": "aws.events"})["orders"] == 1  # checks the holds out; a line is unmapped
        cs.cancel(order["id"])
        assert h.invoke({"source": "aws.events"})["orders"] == 1


def lightspeed_webhook(h: Harness) -> None:
    h.configure(LIGHTSPEED_OUTLETS=json.dumps(LOCAL_LIGHTSPEED_OUTLETS))
    with LightspeedSandbox() as ls:
        h.secret("LIGHTSPEED_WEBHOOK_SECRET_NAME", ls.client_secret)
        ledger = runtime.app().ledger
        ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=SHOP_LOCATION)
        ledger.upsert_catalog("TEE", ["shop"], {}, "Tee")
        product = ls.add_product("TEE", {"outlet-shop": 8})
        ls.add_product("NEW-SKU", {"outlet-shop": 1})
        ls.sell("outlet-shop", [(product, 1)])
        runtime.app().settings.change("lightspeed.shipstation", {"export": True}, "test")  # shop orders shipped
        delivery = ls.sell("outlet-shop", [(product, 1)], status="AWAITING_DISPATCH", customer={"first_name": "Ada"})
        product_update = next(w for w in ls.webhooks() if w["type"] == "product.update")
        ls.webhook_client = gateway(h.invoke)
        statuses = ls.deliver_webhooks("http://gateway/webhooks/lightspeed")
        assert set(statuses) == {200}, statuses
        assert runtime.app().orders.order("lightspeed", delivery["id"]) is not None  # exported for ShipStation
        payload = product_update["payload"] | {"deleted_at": "2026-11-23T12:00:00Z", "version": ls.version() + 1}
        raw, headers = ls.delivery_request(product_update | {"payload": payload})
        assert ls.webhook_client.post("/webhooks/lightspeed", content=raw, headers=headers).status_code == 200


def lightspeed_poll(h: Harness) -> None:
    h.configure()
    assert h.invoke({"source": "aws.events"}) == {"polled": False}
    with LightspeedSandbox() as ls:
        h.configure(
            LIGHTSPEED_API_BASE=ls.api_base,
            LIGHTSPEED_DOMAIN_PREFIX=ls.domain_prefix,
            LIGHTSPEED_OUTLETS=json.dumps(LOCAL_LIGHTSPEED_OUTLETS),
        )
        h.secret("LIGHTSPEED_TOKEN_SECRET_NAME", ls.initial_tokens() | {"expires_at": 1})  # refreshed first
        runtime.app().ledger.upsert_catalog("TEE", ["shop"], {}, "Tee")
        runtime.app().ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
        product = ls.add_product("TEE", {"outlet-shop": 8})
        ls.sell("outlet-shop", [(product, 1)])
        runtime.app().settings.change("lightspeed.shipstation", {"export": True}, "test")  # shop orders shipped
        delivery = ls.sell("outlet-shop", [(product, 1)], status="AWAITING_DISPATCH", customer={"first_name": "Ada"})
        result = h.invoke({"source": "aws.events"})
        assert result["polled"] is True, result
        assert runtime.app().orders.order("lightspeed", delivery["id"]) is not None  # exported for ShipStation


def pos_sales(h: Harness) -> None:
    with LightspeedSandbox() as ls:
        lightspeed_env = {
            "LIGHTSPEED_API_BASE": ls.api_base,
            "LIGHTSPEED_DOMAIN_PREFIX": ls.domain_prefix,
            "LIGHTSPEED_OUTLETS": json.dumps(LOCAL_LIGHTSPEED_OUTLETS),
        }
        h.configure(**lightspeed_env)
        h.secret("LIGHTSPEED_TOKEN_SECRET_NAME", ls.initial_tokens() | {"expires_at": 1})  # refreshed first
        app = runtime.app()
        app.ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=SHOP_LOCATION)
        app.ledger.upsert_catalog("TEE", ["shop"], {}, "Tee")
        app.ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
        ls.add_product("TEE", {"outlet-shop": 5})
        register = ls.registers["outlet-shop"]
        setting = {"mode": "automatic", "registers": {"shop": register}, "user_id": WEB_USER, "shipping_only": False}
        app.settings.change("lightspeed.web_orders", setting | {"payment_type_id": WEB_PAYMENT_TYPE}, "test")
        order = sample_shopify_order()
        order["created_at"] = order["updated_at"] = datetime.now(UTC).isoformat()  # within Shopify's 60 days
        ls.add_product("SOCK-TRAIL-M", {"outlet-shop": 10})
        shopify.intake(app).handle(Delivery("orders/paid", order, "w-0"))  # a line without a SKU: refused
        assert h.invoke(h.stream_batch()) == {"batchItemFailures": []}
        assert ls.sales_from("omnistock") == []
        order["line_items"] = order["line_items"][:1]  # the catalog's (the others refuse the order)
        order["updated_at"] = datetime.now(UTC).isoformat()
        shopify.intake(app).handle(Delivery("orders/updated", order, "w-1"))
        assert h.invoke(h.stream_batch()) == {"batchItemFailures": []}
        assert len(ls.sales_from("omnistock")) == 1
        assert h.invoke({"source": "aws.events"}) == {"results": {}}
        with ShopifySandbox() as shop:  # an import by hand reads Shopify's orders of the last 60 days
            h.configure(**shopify_env(shop), **lightspeed_env)
            h.secret("SHOPIFY_TOKEN_SECRET_NAME", shop.token)
            item = shop.add_item(1001)
            shop.stock(item, SHOP_LOCATION, 10)
            runtime.app().ledger.upsert_catalog("TEE", ["shop"], {"shopify": item}, "Tee")
            shopify_order(shop, "TEE", item, 1)
            chosen = settings_of(runtime.app().settings.value("lightspeed.web_orders"))
            job = lightspeed.import_requests(runtime.app()).start(chosen, "all")
            assert h.invoke(h.stream_batch()) == {"batchItemFailures": []}
            assert lightspeed.import_requests(runtime.app()).job(job.job_id).state == "done"
            assert len(ls.sales_from("omnistock")) == 2


def unleashed_poll(h: Harness) -> None:
    h.configure()
    assert h.invoke({"source": "aws.events"}) == {"polled": False}  # not connected (deployed default)
    with (
        UnleashedSandbox(warehouses=("MAIN", "OUTLET")) as erp,  # OUTLET is mapped nowhere
        ShopifySandbox() as shop,
    ):
        warehouses = json.dumps({"MAIN": "warehouse"})
        h.configure(UNLEASHED_API_BASE=erp.api_base, UNLEASHED_WAREHOUSES=warehouses, **shopify_env(shop))
        h.secret("SHOPIFY_TOKEN_SECRET_NAME", shop.token)
        h.secret("UNLEASHED_API_SECRET_NAME", erp.credentials())
        ledger = runtime.app().ledger
        ledger.upsert_catalog("BOLT", ["warehouse"], {}, "Bolt")
        erp.add_product("BOLT", {"MAIN": 5})
        erp.add_product("NUT", {"MAIN": 2})  # not in the catalog: parked
        result = h.invoke({"source": "aws.events"})
        assert result["polled"] is True and result["applied"] == 1 and result["parked"] == 1, result
        assert result["unmapped"] == 0, result  # one warehouse mapped: only its rows are read
        # a sales order Omnistock sent, dispatched in Unleashed: the next poll records its shipment
        ledger.set_channel("shopify", ["warehouse"], platform="shopify", target_location=SHOP_LOCATION)
        at = "2026-11-23T11:00:00Z"
        line = OrderLine(line_id="1", sku="BOLT", title="Bolt", quantity=1, unit_price="5.00")
        runtime.app().order_desk.ingest(ChannelOrder("shopify", "w-1", "#1", at, at, (line,), financial_status="paid"))
        runtime.app().settings.change("unleashed.sales_orders", {"mode": "automatic", "customer_code": "WEB"}, "t")
        assert unleashed.sales_orders(runtime.app()).sync("shopify", "w-1") == "sent"
        erp.dispatch(erp.sales_orders()[0]["Guid"], tracking="NZ1")
        result = h.invoke({"source": "aws.events"})
        assert result["recorded"] == 1, result
        # Unleashed as product master: a product edited there is made in Shopify and joins the catalog
        runtime.app().settings.change("unleashed.product_master", "unleashed", "t")
        erp.edit_product("NUT", description="Nut M6", price=0.5)
        result = h.invoke({"source": "aws.events"})
        assert result["products"]["written"] == 2, result  # BOLT and NUT
        assert sorted(p["title"] for p in shop.catalog.products()) == ["BOLT", "Nut M6"]


def erp_orders(h: Harness) -> None:
    with UnleashedSandbox() as erp:
        h.configure(UNLEASHED_API_BASE=erp.api_base, UNLEASHED_WAREHOUSES=json.dumps({"MAIN": "shop"}))
        h.secret("UNLEASHED_API_SECRET_NAME", erp.credentials())
        app = runtime.app()
        app.ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=SHOP_LOCATION)
        app.settings.change("unleashed.sales_orders", {"mode": "automatic", "customer_code": "WEB"}, "test")
        order = sample_shopify_order()
        order["line_items"] = order["line_items"][:1]  # the catalog's
        order["total_tax"] = "0.00"
        shopify.intake(app).handle(Delivery("orders/paid", order, "w-1"))
        assert h.invoke(h.stream_batch()) == {"batchItemFailures": []}  # Unleashed lacks the product: refused
        assert erp.sales_orders() == []
        erp.add_product("SOCK-TRAIL-M", {"MAIN": 10})  # fixed; the order's next change sends it
        shopify.intake(app).handle(Delivery("orders/updated", order | {"updated_at": "2030-01-01T00:00:00Z"}, "w-2"))
        assert h.invoke(h.stream_batch()) == {"batchItemFailures": []}
        assert len(erp.sales_orders()) == 1
        assert h.invoke({"source": "aws.events"}) == {"results": {}}


def unleashed_webhook(h: Harness) -> None:
    h.configure()
    h.secret("UNLEASHED_WEBHOOK_SECRET_NAME", "signing-key")
    body = json.dumps(
        {"eventNotificationId": "n-1", "eventType": "salesorder.updated", "data": {"salesOrderGuid": "g"}}
    )
    stamp = str(int(time.time()))
    event = http_event("POST", "/webhooks/unleashed", body)
    event["headers"] |= {
        "x-unleashed-timestamp": stamp,
        "x-unleashed-signature": webhook_signature(stamp, body.encode(), "signing-key"),
    }
    assert h.invoke(event)["statusCode"] == 200
    event["headers"]["x-unleashed-signature"] = "forged"
    assert h.invoke(event)["statusCode"] == 401


SCENARIOS: dict[str, Callable[[Harness], None]] = {
    "AdminApiFunction": admin_api,
    "MovementLogFunction": movement_log,
    "PushFunction": push,
    "ReconcileFunction": reconcile,
    "HoldExpiryFunction": hold_expiry,
    "ShopifyWebhookFunction": shopify_webhook,
    "ShopifyPollFunction": shopify_poll,
    "ShopifySubscriptionsFunction": shopify_subscriptions,
    "ConnectionsFunction": connections,
    "ConsoleFunction": console,
    "FulfillmentFunction": fulfillment,
    "ShipStationFunction": shipstation,
    "CommentSoldWebhookFunction": commentsold_webhook,
    "CommentSoldPollFunction": commentsold_poll,
    "LightspeedWebhookFunction": lightspeed_webhook,
    "LightspeedPollFunction": lightspeed_poll,
    "PosSalesFunction": pos_sales,
    "UnleashedPollFunction": unleashed_poll,
    "ErpOrdersFunction": erp_orders,
    "UnleashedWebhookFunction": unleashed_webhook,
}


@dataclass
class Run:
    """What the scenarios recorded: IAM needs per function, the scenarios that broke, log leaks."""

    needs: defaultdict[str, set[Need]]
    broken: dict[str, str]
    leaks: list[log_scan.Finding]


@pytest.fixture(scope="module")
def run() -> Run:
    """Every scenario once, each on a fresh moto with its own table (under the log scan)."""
    recorder, broken = Recorder(), {}
    with log_scan.capturing() as captured:
        for function, scenario in SCENARIOS.items():
            try:
                with mock_aws(), pytest.MonkeyPatch.context() as monkeypatch:
                    dynamodb = boto3.client("dynamodb")
                    dynamodb.create_table(**table_definition(TEMPLATE, TABLE))
                    session = botocore.session.get_session()  # the session the runtime's clients come from
                    session.register("before-parameter-build", recorder)
                    monkeypatch.setattr(botocore.session, "get_session", lambda shared=session: shared)
                    scenario(Harness(function, recorder, monkeypatch, dynamodb, StreamReader(dynamodb)))
            except Exception:  # reported by the function's own tests
                broken[function] = traceback.format_exc(limit=-3)
            finally:
                runtime.reset()
    return Run(recorder.needs, broken, captured.findings())


def _functions(over_granted_fail: bool = False) -> list[Any]:
    marks = {name: pytest.mark.xfail(strict=True, reason=why) for name, why in OVER_GRANTED.items()}
    return [pytest.param(name, marks=marks.get(name, ()) if over_granted_fail else ()) for name in sorted(SCENARIOS)]


def recorded(run: Run, function: str) -> set[Need]:
    assert function not in run.broken, f"the {function} scenario broke:\n{run.broken[function]}"
    return run.needs[function]


@pytest.mark.suite("security")
@pytest.mark.parametrize("function", _functions())
def test_the_role_grants_every_call_the_code_makes(run: Run, function: str) -> None:
    used, grants = recorded(run, function), effective_grants(function)
    missing = sorted(need for need in used if not granted(need, grants))
    assert not missing, f"{function} calls what its role does not grant (AccessDenied in AWS): {missing}"
    record("security", checks=len(used))


@pytest.mark.suite("security")
@pytest.mark.parametrize("function", _functions(over_granted_fail=True))
def test_the_role_grants_nothing_the_code_does_not_use(run: Run, function: str) -> None:
    """Unless Lambda uses it for the function (an on-failure queue) or it is listed, with why,
    in NEEDED_BUT_NOT_EXERCISED."""
    accounted = recorded(run, function) | lambda_needs(function)
    excused = NEEDED_BUT_NOT_EXERCISED.get(function, {})
    grants = set(template_grants(function))
    unused = sorted(g for g in grants if g.action not in excused and not any(granted(n, [g]) for n in accounted))
    assert not unused, f"{function} is granted what no recorded path uses: {unused}"
    record("security", checks=len(grants))


@pytest.mark.suite("security")
def test_the_scenarios_log_no_secrets(run: Run) -> None:
    assert not run.leaks, "the least-privilege scenarios logged " + "; ".join(map(str, run.leaks))
    record("security", log_scans=1)


def test_every_function_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(functions())


@pytest.mark.suite("security")
def test_no_wildcards_beyond_the_managed_policies_lambda_needs() -> None:
    """Inline grants name their actions and resources (a secret's ``NAME-??????``, exactly Secrets
    Manager's random ARN suffix, aside); the only ``*`` resources come from the AWS managed
    policies SAM attaches, each for a setting the template has."""
    for function in functions():
        for need in effective_grants(function):
            assert "*" not in need.action and "*" not in need.resource, (function, need)
            if ":secret:" in need.resource:
                assert need.resource.endswith("-??????") and need.resource.count("?") == 6, (function, need)
            else:
                assert "?" not in need.resource, (function, need)
        assert set(role(function).get("ManagedPolicyArns") or []) == managed_policies_needed(function), function
    record("security", checks=len(functions()))


@pytest.mark.suite("security")
def test_a_secret_grant_reaches_its_own_secret_and_no_other() -> None:
    """``NAME-*`` also reaches ``NAME-old`` or ``NAME-staging/x``: other secrets whose names start
    the same. Each secret grant must match a secret the function is configured with, and only it."""
    checked = 0
    for function, spec in functions().items():
        names = {value for variable, value in spec.environment.items() if variable.endswith("_SECRET_NAME")}
        for grant in template_grants(function):
            if not grant.action.startswith("secretsmanager:"):
                continue
            own = [name for name in names if fnmatchcase(secret_arn(name), grant.resource)]
            assert own, f"{function}: {grant} reaches none of its secrets {sorted(names)}"
            for other in (f"{name}{tail}" for name in own for tail in ("-old", "-staging/x", "-AbCdEf")):
                assert not fnmatchcase(secret_arn(other), grant.resource), (function, grant, other)
            checked += 1
    assert checked
    record("security", checks=checked)


def managed_policies_needed(function: str) -> set[str]:
    """What SAM must attach: logs always; X-Ray writes with Tracing Active; stream reads
    (by Lambda's poller) with a DynamoDB event."""
    document = raw_template()
    properties = document["Resources"][function]["Properties"]
    tracing = properties.get("Tracing", ((document.get("Globals") or {}).get("Function") or {}).get("Tracing"))
    needed = {f"{MANAGED}service-role/AWSLambdaBasicExecutionRole"}
    if tracing == "Active":
        needed.add(f"{MANAGED}AWSXrayWriteOnlyAccess")
    if any(event.get("Type") == "DynamoDB" for event in (properties.get("Events") or {}).values()):
        needed.add(f"{MANAGED}service-role/AWSLambdaDynamoDBExecutionRole")
    return needed


def test_no_policy_statement_repeats_what_sam_already_grants() -> None:
    """SAM grants sqs:SendMessage on a DynamoDB event's on-failure queue itself; a copy in
    Policies is harmless but reads as if the code sent messages."""
    repeated = {f: sorted(lambda_needs(f) & set(template_grants(f))) for f in functions()}
    assert not {f: r for f, r in repeated.items() if r}

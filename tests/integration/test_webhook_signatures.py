"""Every route that is open to the internet refuses what it cannot authenticate, in process on moto.

The three webhooks (Shopify, CommentSold in both encodings, Lightspeed) are checked with a
catalog set up so that the real, validly signed delivery moves stock: each forged, replayed,
altered or unsigned variant is a 401 with no DynamoDB write and no stock change, and the
genuine delivery sent after it in the same test is applied (so the setup could have moved
stock, and the write counter sees writes). ShipStation is checked the same way for its
credentials and for hostile XML; the admin API (behind IAM, which is not checked here) answers
junk with a 4xx.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import boto3
import pytest

from bench.calls import CallCounter
from local.send_webhook import LOCAL_WEBHOOK_SECRET
from omnistock import runtime
from omnistock.channels.commentsold import webhooks as commentsold
from omnistock.channels.lightspeed import webhooks as lightspeed
from omnistock.channels.shopify import payloads as shopify_payloads
from omnistock.channels.shopify import signature as shopify
from tests.helpers import ROOT, FakeContext, http_event, load_function
from tests.integration.conftest import snapshot
from tests.reliability import record

SUITE = "security"
VARIANT = "123456"  # the CommentSold variant listed for TEE
SHIPSTATION_USER, SHIPSTATION_PASSWORD = "shipstation", "ship pass:1"
SECRETS = {
    "omnistock/shopify-webhook-secret": LOCAL_WEBHOOK_SECRET,  # the sample event is signed with it
    "omnistock/commentsold-webhook-secret": "commentsold-shared-secret",
    "omnistock/lightspeed-client-secret": json.dumps({"client_secret": "lightspeed-client-secret"}),
    "omnistock/shipstation-credentials": json.dumps({"username": SHIPSTATION_USER, "password": SHIPSTATION_PASSWORD}),
}
ENV = {
    "SHOPIFY_WEBHOOK_SECRET_NAME": "omnistock/shopify-webhook-secret",
    "COMMENTSOLD_WEBHOOK_SECRET_NAME": "omnistock/commentsold-webhook-secret",
    "LIGHTSPEED_WEBHOOK_SECRET_NAME": "omnistock/lightspeed-client-secret",
    "LIGHTSPEED_OUTLETS": json.dumps({"outlet-shop": "shop"}),
    "SHIPSTATION_SECRET_NAME": "omnistock/shipstation-credentials",
}
SKUS = ("SOCK-TRAIL-M", "TEE", "TEE-BLK-M")  # moved by Shopify, CommentSold, Lightspeed


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / name).read_text())
    return event


def claim(reservation: int) -> bytes:
    """A CommentSold cart claim of one TEE (it holds a unit)."""
    data = {"id": reservation, "variant_id": int(VARIANT), "quantity": 1}
    return json.dumps({"id": f"d-claim-{reservation}", "topic": "reservation.created", "data": data}).encode()


# ==================================================================== routes
@dataclass(frozen=True)
class SignedRoute:
    """A webhook route: a real delivery that moves stock, another one, and how each is signed."""

    name: str
    function: str
    path: str
    header: str
    body: bytes
    other: bytes
    secret: str
    sign: Callable[[bytes, str], str]
    forged: str  # the signature's format, a value nobody computed
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


SHOPIFY_BODY = sample("shopify-webhook-orders-create.json")["body"].encode()
LIGHTSPEED_BODY = sample("lightspeed-webhook-inventory-update.json")["body"].encode()

ROUTES = (
    SignedRoute(
        name="shopify",
        function="shopify_webhook",
        path="/webhooks/shopify",
        header="x-shopify-hmac-sha256",
        body=SHOPIFY_BODY,
        other=SHOPIFY_BODY.replace(b"5938001231001", b"5938001231002"),
        secret=LOCAL_WEBHOOK_SECRET,
        sign=shopify.sign,
        forged=base64.b64encode(bytes(range(32))).decode(),
        headers={"x-shopify-topic": "orders/create", "x-shopify-webhook-id": "b54557e4"},
    ),
    SignedRoute(
        name="commentsold-hex",
        function="commentsold_webhook",
        path="/webhooks/commentsold",
        header="x-commentsold-signature",
        body=claim(1),
        other=claim(2),
        secret="commentsold-shared-secret",
        sign=lambda raw, secret: commentsold.sign(raw, secret, "hex"),
        forged="ab" * 32,
    ),
    SignedRoute(
        name="commentsold-base64",
        function="commentsold_webhook",
        path="/webhooks/commentsold",
        header="x-cs-hmac",
        body=claim(1),
        other=claim(2),
        secret="commentsold-shared-secret",
        sign=lambda raw, secret: commentsold.sign(raw, secret, "base64"),
        forged=base64.b64encode(b"\x07" * 32).decode(),
        env={"COMMENTSOLD_SIGNATURE_HEADER": "X-Cs-Hmac", "COMMENTSOLD_SIGNATURE_ENCODING": "base64"},
    ),
    SignedRoute(
        name="lightspeed",
        function="lightspeed_webhook",
        path="/webhooks/lightspeed",
        header="x-signature",
        body=LIGHTSPEED_BODY,
        other=LIGHTSPEED_BODY.replace(b"%22count%22%3A12", b"%22count%22%3A99"),
        secret="lightspeed-client-secret",
        sign=lightspeed.signature_header,
        forged=f"signature={'0f' * 32},algorithm=HMAC-SHA256",
        content_type=lightspeed.FORM_TYPE,
    ),
)


def flipped(raw: bytes, at: int) -> bytes:
    """The body with one byte changed (its lowest bit: still ASCII, still the same length)."""
    return raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1 :]


def attacks(route: SignedRoute) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Each way to send this route's delivery without its secret's signature over its bytes:
    the body sent and the signature headers sent with it."""

    def signed(value: str) -> dict[str, str]:
        return {route.header: value}

    body, right = route.body, route.sign(route.body, route.secret)
    found = {
        "missing signature": (body, {}),
        "empty signature": (body, signed("")),
        "forged signature": (body, signed(route.forged)),
        "another secret": (body, signed(route.sign(body, route.secret + "-not"))),
        "another body's signature": (body, signed(route.sign(route.other, route.secret))),
        "first byte changed": (flipped(body, 0), signed(right)),
        "middle byte changed": (flipped(body, len(body) // 2), signed(right)),
        "last byte changed": (flipped(body, len(body) - 1), signed(right)),
        "byte appended": (body + b" ", signed(right)),
        "byte removed": (body[:-1], signed(right)),
        "empty body, the body's signature": (b"", signed(right)),
        "empty body, signed empty": (b"", signed(route.sign(b"", route.secret))),
    }
    for other in ROUTES:  # the right secret, in the header and format of another webhook
        if other.function != route.function:
            found[f"in {other.name}'s header"] = (body, {other.header: other.sign(body, route.secret)})
    return found


# ==================================================================== the world they act on
@dataclass
class World:
    """The handlers' environment on moto: secrets, catalog, stock, and a DynamoDB call counter."""

    counter: CallCounter
    handlers: dict[str, Callable[..., dict[str, Any]]] = field(default_factory=dict)

    def stock(self) -> list[Any]:
        ledger = runtime.app().ledger
        return [snapshot(ledger, sku) for sku in SKUS]

    def send(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """One invocation, counted from zero."""
        if function not in self.handlers:
            self.handlers[function] = load_function(function).lambda_handler
        self.counter.reset()
        answer: dict[str, Any] = self.handlers[function](event, FakeContext())
        return answer


def seed() -> None:
    """Secrets as the stack names them; a catalog where each route's real delivery moves stock."""
    secrets = boto3.client("secretsmanager")
    for name, value in SECRETS.items():
        secrets.create_secret(Name=name, SecretString=value)
    ledger = runtime.app().ledger
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")
    ledger.set_channel("commentsold", ["shop"], platform="commentsold")
    ledger.upsert_catalog("SOCK-TRAIL-M", ["shop"], {})
    ledger.upsert_catalog("TEE", ["shop"], {"commentsold": VARIANT})
    ledger.upsert_catalog("TEE-BLK-M", ["shop"], {})
    for sku in ("SOCK-TRAIL-M", "TEE"):
        ledger.report_count(sku, "shop", 5, 1, "pos", f"{sku}-c1")


def open_world(monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None) -> World:
    """A seeded World, with route-specific environment on top of the stack's (needs handler_env)."""
    for name, value in (ENV | (env or {})).items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    seed()
    return World(CallCounter(runtime.app().clients.dynamodb))


def webhook_event(route: SignedRoute, body: bytes, signature: dict[str, str]) -> dict[str, Any]:
    event = http_event("POST", route.path, body.decode())
    event["headers"].update({"content-type": route.content_type, **route.headers, **signature})
    return event


def genuine(route: SignedRoute) -> dict[str, Any]:
    return webhook_event(route, route.body, {route.header: route.sign(route.body, route.secret)})


def refusal(world: World, function: str, event: dict[str, Any], status: int = 401) -> tuple[dict[str, Any], str]:
    """The answer, and why the request was not refused cleanly (its status, a write, a stock
    change), or "" when it was."""
    before = world.stock()
    answer = world.send(function, event)
    if answer["statusCode"] != status:
        return answer, f"answered {answer['statusCode']}: {answer['body'][:200]}"
    if world.counter.writes:
        return answer, f"wrote: {dict(world.counter.calls)}"
    return answer, "changed stock" if world.stock() != before else ""


# ==================================================================== webhooks
@pytest.mark.suite(SUITE)
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_webhook_refuses_what_its_secret_did_not_sign(
    handler_env: None, monkeypatch: pytest.MonkeyPatch, route: SignedRoute
) -> None:
    """Every unsigned, forged, replayed or altered delivery is a 401 with no write and no stock
    change; then the genuine one is applied (the catalog was ready to move stock all along)."""
    world = open_world(monkeypatch, route.env)
    sent = attacks(route)
    problems = {}
    for attack, (body, signature) in sent.items():
        _, problem = refusal(world, route.function, webhook_event(route, body, signature))
        if problem:
            problems[attack] = problem
    assert not problems

    before = world.stock()
    applied = world.send(route.function, genuine(route))
    assert applied["statusCode"] == 200, applied["body"]
    assert world.counter.writes > 0
    assert world.stock() != before
    record(SUITE, requests=len(sent) + 1, checks=3 * len(sent) + 3)


# ==================================================================== ShipStation
def basic(user: str | bytes, password: str | bytes) -> str:
    raw = (user.encode() if isinstance(user, str) else user) + b":"
    raw += password.encode() if isinstance(password, str) else password
    return "Basic " + base64.b64encode(raw).decode()


VALID_BASIC = basic(SHIPSTATION_USER, SHIPSTATION_PASSWORD)
SHIPNOTIFY = sample("shipstation-shipnotify.json")
NOTICE = SHIPNOTIFY["body"]
CREDENTIALS: dict[str, tuple[str | None, dict[str, str]]] = {  # (Authorization, extra query)
    "missing": (None, {}),
    "wrong user": (basic("shipstation2", SHIPSTATION_PASSWORD), {}),
    "wrong password": (basic(SHIPSTATION_USER, "ship pass:2"), {}),
    "password only a prefix": (basic(SHIPSTATION_USER, "ship pass"), {}),
    "user and password swapped": (basic(SHIPSTATION_PASSWORD, SHIPSTATION_USER), {}),
    "empty user and password": (basic("", ""), {}),
    "scheme alone": ("Basic", {}),
    "scheme and a space": ("Basic ", {}),
    "not base64": ("Basic %%%not-base64%%%", {}),
    "base64 padding broken": (VALID_BASIC.rstrip("=") + "=x", {}),
    "no colon": ("Basic " + base64.b64encode(b"shipstation").decode(), {}),
    "not UTF-8": (basic(b"\xff\xfe", b"\xc3\x28"), {}),
    "bearer token": ("Bearer " + VALID_BASIC[6:], {}),
    "digest": (f'Digest username="{SHIPSTATION_USER}", realm="Omnistock", response="00"', {}),
    "wrong query password": (None, {"SS-UserName": SHIPSTATION_USER, "SS-Password": "nope"}),
    "query user alone": (None, {"SS-UserName": SHIPSTATION_USER}),
    "wrong header, right query": (
        basic(SHIPSTATION_USER, "nope"),
        {"SS-UserName": SHIPSTATION_USER, "SS-Password": SHIPSTATION_PASSWORD},
    ),
}


def shipnotify(body: str = NOTICE, authorization: str | None = VALID_BASIC, **query: str) -> dict[str, Any]:
    """The sample shipment notice for the sample Shopify order, as ShipStation posts it."""
    event = copy.deepcopy(SHIPNOTIFY)
    event["body"] = body
    if query:
        event["rawQueryString"] += "&" + urlencode(query)
    if authorization is None:
        event["headers"].pop("authorization")
    else:
        event["headers"]["authorization"] = authorization
    return event


@pytest.fixture
def shipped_world(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> World:
    """A World where the sample Shopify order exists, so the sample notice would ship it."""
    world = open_world(monkeypatch)
    ordered = world.send("shopify_webhook", genuine(ROUTES[0]))
    assert ordered["statusCode"] == 200, ordered["body"]
    return world


def assert_still_ships(world: World) -> None:
    """The genuine notice records the shipment: the refused one before it recorded nothing."""
    shipped = world.send("shipstation", shipnotify())
    assert (shipped["statusCode"], shipped["body"]) == (200, "recorded")
    assert world.counter.writes > 0


@pytest.mark.suite(SUITE)
def test_shipstation_refuses_bad_credentials(shipped_world: World) -> None:
    """A notice that would ship a real order is a 401 with a Basic challenge and no write,
    whatever form the wrong credentials take; then the genuine notice ships it."""
    problems = {}
    for case, (authorization, query) in CREDENTIALS.items():
        event = shipnotify(authorization=authorization, **query)
        answer, problem = refusal(shipped_world, "shipstation", event)
        challenge = answer["headers"].get("WWW-Authenticate", "")
        if problem or not challenge.startswith("Basic "):
            problems[case] = problem or f"challenge {challenge!r}"
    assert not problems
    assert_still_ships(shipped_world)
    record(SUITE, requests=len(CREDENTIALS) + 1, checks=4 * len(CREDENTIALS) + 2)


def export(authorization: str | None, **query: str) -> dict[str, Any]:
    """An export of every order modified from 2020 to 2030, as ShipStation asks for it."""
    event = shipnotify(authorization=authorization, **query)
    event["requestContext"]["http"]["method"] = "GET"
    window = {"start_date": "01/01/2020 00:00", "end_date": "12/31/2030 00:00"}
    event["rawQueryString"] = urlencode({"action": "export", **window, **query})
    return event


@pytest.mark.suite(SUITE)
def test_shipstation_export_refuses_bad_credentials(shipped_world: World) -> None:
    """The export reads orders (customer data): the same refusals apply to it, and the same
    request with the right credentials does export the order."""
    problems = {}
    for case, (authorization, query) in CREDENTIALS.items():
        answer, problem = refusal(shipped_world, "shipstation", export(authorization, **query))
        if problem or "<Order>" in answer["body"]:
            problems[case] = problem or "exported orders"
    assert not problems
    # The poll reads the order (a webhook's body cannot show a hold): from then on it is exported.
    read = shopify_payloads.order_from_rest("shopify", json.loads(SHOPIFY_BODY))
    runtime.app().order_desk.ingest(replace(read, on_hold=False))
    exported = shipped_world.send("shipstation", export(VALID_BASIC))
    assert exported["statusCode"] == 200 and "<Order>" in exported["body"], exported["body"][:300]
    record(SUITE, requests=len(CREDENTIALS) + 1, checks=3 * len(CREDENTIALS) + 2)


def before_root(text: str, body: str = NOTICE) -> str:
    """The sample notice with ``text`` (a DOCTYPE, a comment) just before its root element."""
    return body.replace("<ShipNotice>", f"{text}<ShipNotice>", 1)


def entity_notice(declarations: str, field_name: str, reference: str) -> str:
    """The sample notice declaring entities in its DOCTYPE and using ``reference`` in one field."""
    start, end = f"<{field_name}>", f"</{field_name}>"
    head, _, rest = NOTICE.partition(start)
    _, _, tail = rest.partition(end)
    return before_root(f"<!DOCTYPE ShipNotice [{declarations}]>", f"{head}{start}{reference}{end}{tail}")


PASSWD = "file:///etc/passwd"
LAUGHS = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
HOSTILE: dict[str, str] = {
    "a DOCTYPE": before_root("<!DOCTYPE ShipNotice>"),
    "an external DTD": before_root(f'<!DOCTYPE ShipNotice SYSTEM "{PASSWD}">'),
    "an internal entity": entity_notice('<!ENTITY carrier "UPS">', "Carrier", "&carrier;"),
    "an external entity": entity_notice(f'<!ENTITY xxe SYSTEM "{PASSWD}">', "TrackingNumber", "&xxe;"),
    "a parameter entity": entity_notice(f'<!ENTITY % p SYSTEM "{PASSWD}"> %p;', "Carrier", "UPS"),
    "billion laughs": entity_notice(LAUGHS, "Service", "&lol9;"),
    "a body over 256 KB": before_root("<!--" + "x" * (256 * 1024) + "-->"),
}


@pytest.mark.suite(SUITE)
def test_shipnotify_refuses_hostile_xml_even_with_credentials(shipped_world: World) -> None:
    """XML that declares a DTD or entities, or is too large, is a 400 with no write, though it
    names a real order (accepting it would have recorded a shipment); nothing of a file it
    names comes back."""
    assert len(HOSTILE["a body over 256 KB"].encode()) > 256 * 1024
    problems = {}
    for case, body in HOSTILE.items():
        event = shipnotify(body)
        answer, problem = refusal(shipped_world, "shipstation", event, status=400)
        if problem or "root:" in answer["body"]:
            problems[case] = problem or "leaked /etc/passwd"
    assert not problems
    assert_still_ships(shipped_world)
    record(SUITE, requests=len(HOSTILE) + 1, checks=4 * len(HOSTILE) + 2)


# ==================================================================== admin API
JUNK: dict[str, tuple[str, str, str | None]] = {  # (method, path, body)
    "unknown route": ("GET", "/nope", None),
    "unknown method": ("DELETE", "/skus/TEE", None),
    "body not JSON": ("POST", "/holds", "{not json"),
    "body a JSON list": ("PUT", "/skus/TEE", "[]"),
    "body a JSON string": ("POST", "/skus/TEE/counts", '"count"'),
    "body empty": ("POST", "/skus/TEE/sales", ""),
    "wrong types": ("POST", "/skus/TEE/counts", json.dumps({"location": 1, "on_hand": "many", "version": None})),
    "negative quantity": ("POST", "/skus/TEE/sales", json.dumps({"location": "shop", "qty": -3, "event_id": "e"})),
    "huge quantity": ("POST", "/holds", json.dumps({"hold_id": "h", "sku": "TEE", "location": "shop", "qty": 10**30})),
    "unknown location": ("POST", "/skus/TEE/sales", json.dumps({"location": "moon", "qty": 1, "event_id": "e2"})),
    "unknown SKU": ("GET", "/skus/NO-SUCH-SKU", None),
    "SKU too long": ("GET", "/skus/" + "A" * 500, None),
    "SKU with a control character": ("GET", "/skus/" + quote("TE\x00E"), None),
    "channel name invalid": ("PUT", "/channels/Not%20A%20Name", json.dumps({"locations": ["shop"]})),
    "job id invalid": ("GET", "/sync-now/not-a-job", None),
    "unknown hold": ("POST", "/holds/nope/release", json.dumps({})),
    "unknown order": ("GET", "/orders/shopify/404", None),
    "query out of range": ("GET", "/skus/TEE/movements?limit=100000", None),
}


def admin_event(method: str, target: str, body: str | None) -> dict[str, Any]:
    path, _, query = target.partition("?")
    event = http_event(method, path, body, dict(parse_qsl(query)) or None)
    event["rawQueryString"] = query
    return event


@pytest.mark.suite(SUITE)
def test_the_admin_api_answers_junk_with_a_4xx(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """IAM guards the admin API in front of the function; behind it, junk is a client error
    with a JSON object for a body (never a 5xx) and changes no stock. (A refused conditional
    transaction is a write call that writes nothing, so calls are not counted here.)"""
    world = open_world(monkeypatch)
    before = world.stock()
    problems = {}
    for case, (method, target, body) in JUNK.items():
        answer = world.send("admin_api", admin_event(method, target, body))
        if not 400 <= answer["statusCode"] < 500 or not isinstance(json.loads(answer["body"]), dict):
            problems[case] = f"answered {answer['statusCode']}: {answer['body'][:200]}"
    assert not problems
    assert world.stock() == before
    record(SUITE, requests=len(JUNK), checks=2 * len(JUNK) + 1)

"""The Lightspeed X-Series sandbox (test equipment), driven in-process: unit tests may not open
sockets, so requests go through ``LightspeedSandbox.handle`` (the server's own entry point) and
webhooks are delivered to an httpx MockTransport."""

from __future__ import annotations

import email.utils
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest

from local.sandbox.lightspeed import LightspeedSandbox
from local.sandbox.server import SandboxResponse
from omnistock.channels.lightspeed import webhooks
from tests.fakes import SecondsClock as FakeClock
from tests.fakes import WebhookReceiver as Receiver

SHOP, WAREHOUSE = "outlet-shop", "outlet-warehouse"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ls(clock: FakeClock) -> LightspeedSandbox:
    return LightspeedSandbox(outlets=(SHOP, WAREHOUSE), clock=clock)


def get(ls: LightspeedSandbox, path: str, token: str | None = None, **query: Any) -> SandboxResponse:
    bearer = token if token is not None else ls.initial_tokens()["access_token"]
    target = f"/api/2.0/{path}" + (f"?{urlencode(query)}" if query else "")
    return ls.handle("GET", target, [("Authorization", f"Bearer {bearer}")], b"")


def refresh(ls: LightspeedSandbox, refresh_token: str, **overrides: str) -> SandboxResponse:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    form |= {"client_id": ls.client_id, "client_secret": ls.client_secret} | overrides
    headers = [("Content-Type", "application/x-www-form-urlencoded")]
    return ls.handle("POST", "/api/1.0/token", headers, urlencode(form).encode())


def control(ls: LightspeedSandbox, method: str, route: str, body: Any = None) -> SandboxResponse:
    return ls.handle(method, f"/_sandbox/lightspeed/{route}", [], b"" if body is None else json.dumps(body).encode())


# ---- identity and tokens ------------------------------------------------------------------------


def test_identity_and_initial_tokens(ls: LightspeedSandbox, clock: FakeClock) -> None:
    assert ls.api_base == ls.url and ls.token_url == ls.url + "/api/1.0/token"
    assert ls.outlets == (SHOP, WAREHOUSE) and ls.registers[SHOP] == "register-outlet-shop"
    tokens = ls.initial_tokens()
    assert set(tokens) == {"access_token", "refresh_token", "expires_at", "client_id", "client_secret", "domain_prefix"}
    assert tokens["expires_at"] == int(clock.now) + 3600 and isinstance(tokens["expires_at"], int)
    assert (tokens["client_id"], tokens["domain_prefix"]) == ("local-lightspeed-client", "omnistock-sandbox")
    assert json.loads(json.dumps(tokens)) == tokens  # what the product stores, as JSON


def test_refresh_tokens_rotate(ls: LightspeedSandbox, clock: FakeClock) -> None:
    first = ls.initial_tokens()
    answer = refresh(ls, first["refresh_token"])
    assert answer.status == 200
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "" and body["domain_prefix"] == ls.domain_prefix
    assert body["expires_in"] == 3600 and body["expires"] == int(clock.now) + 3600
    assert body["refresh_token"] != first["refresh_token"] and body["access_token"] != first["access_token"]
    again = refresh(ls, first["refresh_token"])  # the used refresh token is revoked
    assert (again.status, again.json()) == (400, {"error": "invalid_grant"})
    assert get(ls, "products").status == 401  # and so is the old access token
    assert get(ls, "products", body["access_token"]).status == 200
    assert refresh(ls, body["refresh_token"], client_secret="wrong").json() == {"error": "invalid_grant"}
    assert refresh(ls, "never-issued").status == 400
    assert refresh(ls, body["refresh_token"]).status == 200  # refused attempts did not revoke it
    assert (ls.counters()["refreshes"], ls.counters()["refused_refreshes"]) == (2, 3)


def test_access_tokens_expire(clock: FakeClock) -> None:
    ls = LightspeedSandbox(access_ttl=60, clock=clock)
    assert get(ls, "products").status == 200
    clock.now += 60
    answer = get(ls, "products")
    assert (answer.status, answer.json()) == (401, {"error": "unauthorized"})
    fresh = refresh(ls, ls.initial_tokens()["refresh_token"]).json()
    assert get(ls, "products", fresh["access_token"]).status == 200
    ls.expire_access_token()
    assert get(ls, "products", fresh["access_token"]).status == 401
    assert ls.handle("GET", "/api/2.0/products", [], b"").status == 401
    assert ls.counters()["unauthorized"] == 3


# ---- version paging -------------------------------------------------------------------------------


def test_pages_by_version(ls: LightspeedSandbox) -> None:
    ids = [ls.add_product(f"SKU-{n}", {SHOP: n}) for n in range(5)]
    first = get(ls, "products", page_size=2).json()
    assert [r["id"] for r in first["data"]] == ids[:2]
    assert first["version"] == {"min": first["data"][0]["version"], "max": first["data"][1]["version"]}
    second = get(ls, "products", after=first["version"]["max"], page_size=2).json()
    third = get(ls, "products", after=second["version"]["max"], page_size=2).json()
    assert [r["id"] for r in second["data"] + third["data"]] == ids[2:]
    assert get(ls, "products", after=third["version"]["max"]).json() == {"data": [], "version": None}
    assert len(get(ls, "inventory").json()["data"]) == 10  # one record per product per outlet
    product = first["data"][0]
    assert set(product) == {"id", "sku", "name", "version", "deleted_at"} and product["deleted_at"] is None
    for bad in ({"after": "x"}, {"after": -1}, {"page_size": 0}, {"page_size": 10_001}):
        assert get(ls, "products", **bad).status == 400
    assert len(get(ls, "inventory", page_size=10_000).json()["data"]) == 10


def test_one_global_version_across_kinds_and_only_latest_state(ls: LightspeedSandbox) -> None:
    start = ls.version()
    product_id = ls.add_product("A", {SHOP: 5})
    ls.sell(SHOP, [(product_id, 1)])
    ls.set_count(product_id, SHOP, 9)
    ls.set_count(product_id, SHOP, 7)
    everything = [r for feed in ("products", "inventory", "sales") for r in get(ls, feed).json()["data"]]
    versions = sorted(r["version"] for r in everything)
    assert len(set(versions)) == len(versions) == 4  # product, 2 inventory records, sale
    assert versions[0] > start >= 1_000_000 and versions[-1] == ls.version()
    step = versions[0] - start  # the product, the first change
    assert step > 1 and ls.version() - start == 7 * step  # 7 changes (2 counts, then a sale and 2 recounts)
    shop = [r for r in get(ls, "inventory").json()["data"] if r["outlet_id"] == SHOP]
    assert len(shop) == 1 and shop[0]["version"] == ls.version()  # changed 3 times, listed once
    assert shop[0]["inventory_level"] == shop[0]["current_amount"] == 7 == ls.count(product_id, SHOP)


def test_rate_limit_headers_and_call_counts(ls: LightspeedSandbox) -> None:
    answers = [get(ls, "products"), get(ls, "sales"), get(ls, "sales")]
    assert {a.header("X-RateLimit-Limit") for a in answers} == {"350"}
    assert [a.header("X-RateLimit-Remaining") for a in answers] == ["349", "348", "347"]
    assert ls.counters()["api_calls"] == {"/api/2.0/products": 1, "/api/2.0/sales": 2}
    assert ls.handle("GET", "/api/2.0/customers", [], b"").status == 404


# ---- the POS ----------------------------------------------------------------------------------------


def test_sell_decrements_counts_after_the_sale_version(ls: LightspeedSandbox, clock: FakeClock) -> None:
    a, b = ls.add_product("A", {SHOP: 3, WAREHOUSE: 8}), ls.add_product("B", {SHOP: 1})
    sale = ls.sell(SHOP, [(a, 2), (b, 3)])
    assert (ls.count(a, SHOP), ls.count(b, SHOP), ls.count(a, WAREHOUSE)) == (1, -2, 8)  # may go negative
    counts = {r["product_id"]: r for r in get(ls, "inventory", after=sale["version"]).json()["data"]}
    assert set(counts) == {a, b} and all(r["version"] > sale["version"] for r in counts.values())
    assert sale["invoice_number"] == "1000" and ls.sell(SHOP, [(a, 1)])["invoice_number"] == "1001"
    assert sale["status"] == "CLOSED" and sale["source"] == "USER" and sale["register_id"] == "register-outlet-shop"
    assert sale["created_at"].startswith("2023-11-14T22:13:20")
    assert [(line["product_id"], line["quantity"]) for line in sale["line_items"]] == [(a, 2), (b, 3)]
    web = ls.import_web_order(WAREHOUSE, [(a, 1)], order_number="#1042")
    assert (web["invoice_number"], web["source"], web["outlet_id"]) == ("#1042", "SHOPIFY", WAREHOUSE)
    listed = get(ls, "sales").json()["data"]
    assert [s["id"] for s in listed] == [sale["id"], listed[1]["id"], web["id"]] and listed[0] == sale
    with pytest.raises(KeyError):
        ls.sell(SHOP, [(a, 1), ("unknown", 1)])
    assert ls.count(a, SHOP) == 0  # a refused sale changes nothing
    with pytest.raises(KeyError):
        ls.set_count(a, "outlet-elsewhere", 1)
    with pytest.raises(ValueError, match="already exists"):
        ls.add_product("A")
    assert ls.product_id_for("B") == b


def test_concurrent_sales_are_applied_one_at_a_time(ls: LightspeedSandbox) -> None:
    product_id = ls.add_product("A", {SHOP: 100})
    threads = [threading.Thread(target=ls.sell, args=(SHOP, [(product_id, 1)])) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ls.count(product_id, SHOP) == 80
    versions = [r["version"] for feed in ("sales", "inventory") for r in get(ls, feed).json()["data"]]
    assert len(set(versions)) == len(versions)
    assert sorted(s["invoice_number"] for s in get(ls, "sales").json()["data"]) == [str(n) for n in range(1000, 1020)]


# ---- faults -----------------------------------------------------------------------------------------


def test_throttle_answers_429_with_an_http_date(ls: LightspeedSandbox, clock: FakeClock) -> None:
    ls.throttle_next(2, retry_after_seconds=2)
    answer = get(ls, "products")
    assert answer.status == 429 and answer.json() == {"error": "Too Many Requests", "message": "Rate limiting enforced"}
    retry_after = answer.header("Retry-After")
    assert retry_after is not None and retry_after.endswith(" GMT")
    assert email.utils.parsedate_to_datetime(retry_after).timestamp() == clock.now + 2
    assert (answer.header("X-RateLimit-Remaining"), answer.header("X-RateLimit-Limit")) == ("0", "350")
    assert refresh(ls, ls.initial_tokens()["refresh_token"]).status == 200  # the token endpoint is not throttled
    assert get(ls, "products").status == 429
    assert get(ls, "products").status == 401  # faults used up; the old access token was rotated away
    assert ls.counters()["throttled"] == 2


def test_fail_next_and_clear_faults(ls: LightspeedSandbox) -> None:
    ls.fail_next(1, status=502)
    assert get(ls, "inventory").status == 502
    assert get(ls, "inventory").status == 200
    ls.fail_next(5)
    ls.throttle_next(5)
    ls.clear_faults()
    assert get(ls, "inventory").status == 200 and ls.counters()["failed"] == 1


# ---- webhooks ---------------------------------------------------------------------------------------


def test_webhook_payloads_read_as_the_product_reads_them(ls: LightspeedSandbox) -> None:
    product_id = ls.add_product("SKU-A", {SHOP: 4}, name="Balm")
    sale = ls.sell(SHOP, [(product_id, 1)])
    queued = ls.webhooks()
    assert [w["type"] for w in queued] == [
        "product.update",
        "inventory.update",
        "inventory.update",
        "sale.update",
        "inventory.update",
    ]
    product = queued[0]["payload"]
    assert webhooks.product(product).sku == "SKU-A" and product["deleted_at"] is None
    assert {(i["outlet_id"], i["count"]) for i in product["inventory"]} == {(SHOP, 4), (WAREHOUSE, 0)}
    counted = queued[1]["payload"]
    assert counted["reorder_point"] == counted["restock_level"] == "0"
    assert counted["outlet"] == {"id": SHOP, "name": SHOP} and counted["product"]["name"] == "Balm"
    after_sale = webhooks.inventory_count(queued[4]["payload"])
    assert (after_sale.product_id, after_sale.outlet_id, after_sale.count, after_sale.sku) == (
        product_id,
        SHOP,
        3,
        "SKU-A",
    )
    assert after_sale.version == ls.version() > sale["version"]
    sold = queued[3]["payload"]
    assert "outlet_id" not in sold and sold["register_id"] == "register-outlet-shop"
    assert sold["register_sale_products"][0]["price"] == "10.00000" and "totals" in sold
    parsed = webhooks.pos_sale(sold)
    assert (parsed.sale_id, parsed.invoice_number, parsed.status, parsed.version) == (
        sale["id"],
        "1000",
        "CLOSED",
        sale["version"],
    )
    assert [(line.product_id, line.quantity) for line in parsed.lines] == [(product_id, 1)]


def test_deliveries_are_form_encoded_and_signed(ls: LightspeedSandbox) -> None:
    ls.add_product("A", {SHOP: 1})
    receiver = Receiver()
    ls.webhook_client = httpx.Client(transport=httpx.MockTransport(receiver))
    assert ls.deliver_webhooks("http://stack.test/webhooks/lightspeed") == [200, 200, 200]
    assert ls.webhooks() == [] and ls.counters()["webhooks_delivered"] == 3
    for request in receiver.requests:
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert webhooks.verify(request.content, request.headers["X-Signature"], [ls.client_secret])
        assert not webhooks.verify(request.content, request.headers["X-Signature"], ["another-secret"])
        form = parse_qs(request.content.decode())
        assert (form["domain_prefix"], form["retailer_id"]) == (["omnistock-sandbox"], ["retailer-1"])
        delivered = webhooks.delivery(request.content, request.headers["Content-Type"])
        assert delivered.type == form["type"][0]
    raw, headers = ls.delivery_request({"type": "inventory.update", "payload": {"id": "x"}}, secret="other")
    assert webhooks.verify(raw, headers["X-Signature"], ["other"])


def test_duplicates_reverse_order_and_failures(ls: LightspeedSandbox) -> None:
    ls.add_product("A", {SHOP: 1}, name="one")
    ls.set_count(ls.product_id_for("A"), SHOP, 2)
    receiver = Receiver(500)  # the first send fails and stays queued
    ls.webhook_client = httpx.Client(transport=httpx.MockTransport(receiver))
    assert ls.deliver_webhooks("http://stack.test/hook", reverse=True, duplicate_every=2) == [
        500,
        200,
        200,
        200,
        200,
        200,
    ]
    versions = [payload["version"] for payload in receiver.payloads()]
    assert versions[0] == ls.version() and versions[1] == versions[2] and versions[4] == versions[5]  # 2nd, 4th twice
    assert versions == sorted(versions, reverse=True)
    assert [w["payload"]["version"] for w in ls.webhooks()] == [ls.version()]
    ls.webhook_client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(204)))
    assert ls.deliver_webhooks("http://stack.test/hook") == [204] and ls.webhooks() == []


def test_unreachable_receiver_is_status_zero(ls: LightspeedSandbox) -> None:
    ls.add_product("A")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    ls.webhook_client = httpx.Client(transport=httpx.MockTransport(refuse))
    assert ls.deliver_webhooks("http://stack.test/hook") == [0, 0, 0] and len(ls.webhooks()) == 3


# ---- control routes -----------------------------------------------------------------------------------


def test_control_routes_mirror_the_methods(ls: LightspeedSandbox) -> None:
    created = control(ls, "POST", "products", {"sku": "A", "counts": {SHOP: 5}, "name": "Ay"})
    product_id = created.json()["id"]
    assert control(ls, "GET", "products?sku=A").json() == {"id": product_id}
    assert control(ls, "POST", "count", {"product_id": product_id, "outlet_id": SHOP, "count": 9}).status == 200
    sale = control(ls, "POST", "sales", {"outlet_id": SHOP, "lines": [[product_id, 2]]}).json()["sale"]
    web = {"outlet_id": SHOP, "lines": [[product_id, 1]], "order_number": "#7"}
    assert control(ls, "POST", "web-orders", web).json()["sale"]["source"] == "SHOPIFY"
    assert control(ls, "GET", f"count?product_id={product_id}&outlet_id={SHOP}").json() == {"count": 6}
    assert control(ls, "GET", "version").json() == {"version": ls.version()} and sale["version"] < ls.version()
    assert control(ls, "GET", "tokens").json()["tokens"] == ls.initial_tokens()
    assert len(control(ls, "GET", "webhooks").json()["webhooks"]) == len(ls.webhooks())
    assert control(ls, "POST", "faults/throttle", {"n": 1, "retry_after_seconds": 1}).status == 200
    assert get(ls, "sales").status == 429
    assert control(ls, "POST", "faults/fail", {"n": 1, "status": 500}).status == 200
    assert control(ls, "POST", "faults/clear").status == 200 and get(ls, "sales").status == 200
    assert control(ls, "GET", "counters").json()["counters"]["throttled"] == 1
    receiver = Receiver()
    ls.webhook_client = httpx.Client(transport=httpx.MockTransport(receiver))
    delivered = control(ls, "POST", "webhooks/deliver", {"url": "http://stack.test/hook", "reverse": True})
    assert delivered.json()["statuses"] == [200] * len(receiver.requests) and ls.webhooks() == []
    assert control(ls, "POST", "expire-token").status == 200 and get(ls, "sales").status == 401
    assert control(ls, "POST", "reset").status == 200 and ls.webhooks() == [] and ls.counters()["api_calls"] == {}


def test_control_route_errors(ls: LightspeedSandbox) -> None:
    assert control(ls, "GET", "nothing").status == 404
    assert control(ls, "GET", "products?sku=missing").status == 404
    assert control(ls, "POST", "products", {"sku": "A", "counts": {"outlet-unknown": 1}}).status == 404
    assert control(ls, "POST", "products", {"sku": "A", "colour": "red"}).status == 400
    assert control(ls, "POST", "products", {"sku": "A", "counts": {SHOP: "3"}}).status == 400
    assert control(ls, "POST", "sales", {"outlet_id": SHOP, "lines": [["x"]]}).status == 400
    assert ls.handle("POST", "/_sandbox/lightspeed/products", [], b"{not json").status == 400
    assert control(ls, "POST", "products", [1, 2]).status == 400
    assert ls.webhooks() == []


def test_reset_keeps_tokens_and_versions(ls: LightspeedSandbox) -> None:
    ls.add_product("A", {SHOP: 1})
    before = ls.version()
    ls.reset()
    assert get(ls, "products").json() == {"data": [], "version": None}
    assert ls.version() == before
    assert ls.webhooks() == [] and ls.counters()["webhooks_queued"] == 0
    ls.add_product("A")
    assert get(ls, "products").json()["data"][0]["version"] > before

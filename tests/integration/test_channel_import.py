"""Importing a catalog from Shopify: every variant read a page at a time, listings mapped by
SKU, and a report of SKUs only in Shopify, only in the ledger, and used by two variants (never
mapped, even when the second turns up pages after the first was mapped). A check changes
nothing; a rerun changes nothing; a chunk delivered twice reads its page once; the channel is
never written. A shop with no POS has its counts taken from what Shopify shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.sandbox import ShopifySandbox
from local.sandbox.lightspeed import LightspeedSandbox
from omnistock import runtime
from omnistock.channels.shopify import catalog as shopify_catalog
from omnistock.models import Job
from tests.helpers import FakeContext, http_event, load_function

LOCATION = "gid://shopify/Location/1"
SECRET = "import/shopify"


def call(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
    answer = load_function("admin_api").lambda_handler(http_event(method, path, body, query), FakeContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture
def shop(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopifySandbox]:
    import boto3

    with ShopifySandbox() as sandbox:
        monkeypatch.setenv("SHOPIFY_SHOP_DOMAIN", "omnistock-sandbox.myshopify.com")
        monkeypatch.setenv("SHOPIFY_ENDPOINT", sandbox.graphql_url())
        monkeypatch.setenv("SHOPIFY_TOKEN_SECRET_NAME", SECRET)
        secret = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
        boto3.client("secretsmanager").create_secret(Name=SECRET, SecretString=json.dumps(secret))
        monkeypatch.setattr(shopify_catalog, "MAX_PAGE", 3)  # several pages from a small shop
        runtime.reset()
        yield sandbox


def seed(shop: ShopifySandbox) -> dict[str, str]:
    """The shop's products; returns each SKU's inventory item (and "variant:<sku>", its variant)."""
    items: dict[str, str] = {}
    for title, variants in (
        ("Tee", [{"sku": "TEE-S", "title": "S"}, {"sku": "TEE-M", "title": "M"}]),
        ("Dup one", [{"sku": "DUP"}]),
        ("Mug", [{"sku": "MUG"}]),
        ("No sku", [{"sku": ""}]),
        ("Gift card", [{"sku": "CARD", "tracked": False}]),
        ("Cap", [{"sku": "CAP"}]),
        ("Dup two", [{"sku": "DUP"}]),  # pages after the first DUP
    ):
        made = shop.catalog.add_product(title, variants)
        for variant in made["variants"]:
            items.setdefault(variant["sku"], variant["item"])
            items.setdefault(f"variant:{variant['sku']}", variant["id"])
            shop.stock(variant["item"], LOCATION, 4)
    return items


def ledger_catalog() -> None:
    ledger = runtime.app().ledger
    for sku in ("TEE-S", "TEE-M", "CAP", "ONLY-LEDGER"):
        ledger.upsert_catalog(sku, ["shop"], {})
    ledger.upsert_catalog("GONE", ["shop"], {"shopify": "gid://shopify/InventoryItem/77"})


def run(job_id: str, twice: bool = False) -> Job:
    sync, jobs = runtime.app().sync, runtime.app().imports.jobs
    while (job := jobs.get(job_id)) is not None and job.state == "running":
        progressed = sync.run_chunk(job)
        if twice:  # the stream delivers the same record again: nothing more happens
            assert sync.run_chunk(job) is None
        assert progressed is not None
    assert job is not None
    return job


def lines(job_id: str, kind: str) -> dict[str, str]:
    status, body = call("GET", f"/catalog/imports/{job_id}", query={"kind": kind, "limit": "500"})
    assert status == 200, body
    return {line["sku"]: line["detail"] for line in body["lines"]}


def start(body: dict[str, Any]) -> str:
    status, job = call("POST", "/catalog/import-from/shopify", body)
    assert status == 202, job
    return str(job["job_id"])


@pytest.fixture
def channel(shop: ShopifySandbox) -> dict[str, str]:
    status, _ = call(
        "PUT", "/channels/shopify", {"locations": ["shop"], "platform": "shopify", "target_location": LOCATION}
    )
    assert status == 200
    items = seed(shop)
    ledger_catalog()
    return items


def test_a_check_reports_everything_and_changes_nothing(shop: ShopifySandbox, channel: dict[str, str]) -> None:
    before = {sku: runtime.app().stock.catalog(sku) for sku in ("TEE-S", "TEE-M", "CAP", "GONE")}
    job = run(start({"check": True, "add_new": True}))
    assert job.state == "done" and job.done == 8 and job.applied == 0
    assert {sku: runtime.app().stock.catalog(sku) for sku in before} == before
    assert runtime.app().stock.catalog("MUG") is None
    assert set(lines(job.job_id, "mapped")) == {"TEE-S", "TEE-M", "CAP"}
    assert "would be" in lines(job.job_id, "created")["MUG"]
    assert set(lines(job.job_id, "duplicate")) == {"DUP"}
    assert set(lines(job.job_id, "only_in_ledger")) == {"ONLY-LEDGER", "GONE"}
    assert "not found on the channel" in lines(job.job_id, "only_in_ledger")["GONE"]
    assert set(lines(job.job_id, "untracked")) == {"CARD"} and len(lines(job.job_id, "no_sku")) == 1
    assert shop.mutations == []


def test_an_import_maps_by_sku_never_a_duplicate_and_a_rerun_changes_nothing(
    shop: ShopifySandbox, channel: dict[str, str]
) -> None:
    job = run(start({"add_new": True}), twice=True)
    stock = runtime.app().stock
    assert stock.catalog("TEE-S").listings == {"shopify": channel["TEE-S"]}  # type: ignore[union-attr]
    assert stock.catalog("CAP").listings == {"shopify": channel["CAP"]}  # type: ignore[union-attr]
    created = stock.catalog("MUG")
    assert created is not None and created.locations == ("shop",) and created.title == "Mug"
    # DUP was added on its first page, then its second variant turned up: mapped to neither.
    assert stock.catalog("DUP") is not None and stock.catalog("DUP").listings == {}  # type: ignore[union-attr]
    assert "2 variants" in lines(job.job_id, "duplicate")["DUP"]
    assert job.reasons["created"] == 2 and job.reasons["mapped"] == 3
    # Orders name variants: the variant of TEE-S now finds its SKU.
    assert runtime.app().listings.owner("shopify", channel["variant:TEE-S"]) == "TEE-S"
    assert shop.mutations == [] and shop.counters["catalog_pages"] == 3  # 8 variants, 3 a page, each read once

    revs = {sku: stock.catalog(sku).rev for sku in ("TEE-S", "TEE-M", "CAP", "MUG", "DUP")}  # type: ignore[union-attr]
    again = run(start({"add_new": True}))
    assert again.applied == 0 and "mapped" not in again.reasons and "created" not in again.reasons
    assert {sku: stock.catalog(sku).rev for sku in revs} == revs  # type: ignore[union-attr]
    assert set(lines(again.job_id, "duplicate")) == {"DUP"}

    # The merchant gives the second variant its own SKU: the next import maps DUP at last.
    second = [v for v in shop.catalog.variants() if v["sku"] == "DUP"][-1]
    shop.catalog.set_sku(second["id"], "DUP-2")
    settled = run(start({"add_new": True}))
    assert stock.catalog("DUP").listings == {"shopify": channel["DUP"]}  # type: ignore[union-attr]
    assert "DUP" in lines(settled.job_id, "mapped") and "DUP-2" in lines(settled.job_id, "created")
    assert not lines(settled.job_id, "duplicate")


def test_without_add_new_only_in_shopify_is_reported(shop: ShopifySandbox, channel: dict[str, str]) -> None:
    job = run(start({}))
    assert runtime.app().stock.catalog("MUG") is None
    assert "add_new" in lines(job.job_id, "only_in_channel")["MUG"]


def test_a_listing_owned_by_another_sku_is_a_conflict(shop: ShopifySandbox, channel: dict[str, str]) -> None:
    runtime.app().ledger.upsert_catalog("OTHER", ["shop"], {"shopify": channel["CAP"]})
    job = run(start({}))
    assert "OTHER" in lines(job.job_id, "conflict")["CAP"]
    assert runtime.app().stock.catalog("CAP").listings == {}  # type: ignore[union-attr]


def test_a_shop_without_a_pos_takes_its_counts_from_shopify(shop: ShopifySandbox) -> None:
    status, _ = call(
        "PUT",
        "/channels/shopify",
        {"locations": ["web"], "platform": "shopify", "target_location": LOCATION, "master_location": "web"},
    )
    assert status == 200
    made = shop.catalog.add_product("Tee", [{"sku": "TEE"}])
    shop.stock(made["variants"][0]["item"], LOCATION, 6)
    job = run(start({"add_new": True}))
    assert lines(job.job_id, "counted") == {"TEE": "6 at web"}
    assert runtime.app().stock.stock("TEE", "web").on_hand == 6  # type: ignore[union-attr]
    assert shop.mutations == []


def test_bad_sources_are_refused(shop: ShopifySandbox) -> None:
    assert call("POST", "/catalog/import-from/nowhere", {})[0] == 404
    runtime.app().ledger.set_channel("plain", ["shop"])  # not on any platform
    status, body = call("POST", "/catalog/import-from/plain", {})
    assert status == 400 and "no platform" in body["message"]
    assert call("GET", f"/catalog/imports/{'0' * 32}")[0] == 404


@pytest.fixture
def pos(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[LightspeedSandbox]:
    import boto3

    with LightspeedSandbox(outlets=("outlet-shop", "outlet-back")) as sandbox:
        monkeypatch.setenv("LIGHTSPEED_API_BASE", sandbox.api_base)
        monkeypatch.setenv("LIGHTSPEED_DOMAIN_PREFIX", sandbox.domain_prefix)
        monkeypatch.setenv("LIGHTSPEED_OUTLETS", json.dumps({"outlet-shop": "shop", "outlet-back": "back"}))
        monkeypatch.setenv("LIGHTSPEED_TOKEN_SECRET_NAME", "import/lightspeed")
        boto3.client("secretsmanager").create_secret(
            Name="import/lightspeed", SecretString=json.dumps(sandbox.initial_tokens())
        )
        runtime.reset()
        yield sandbox


def test_the_pos_catalog_becomes_catalog_entries_with_their_counts(pos: LightspeedSandbox) -> None:
    made = {n: pos.add_product(f"POS-{n}", {"outlet-shop": n + 1, "outlet-back": 10 + n}) for n in range(5)}
    runtime.app().ledger.upsert_catalog("POS-0", ["shop"], {})  # known already, at one of the two
    status, body = call("POST", "/catalog/import-from/lightspeed", {"add_new": True, "check": True})
    assert status == 202
    checked = run(body["job_id"])
    assert checked.reasons == {"created": 4, "mapped": 1} and runtime.app().stock.catalog("POS-1") is None

    job = run(start_pos({"add_new": True}), twice=True)
    stock = runtime.app().stock
    assert job.reasons["created"] == 4 and job.reasons["mapped"] == 1
    assert stock.catalog("POS-0").locations == ("shop", "back")  # type: ignore[union-attr]
    counts = {n: (stock.stock(f"POS-{n}", "shop"), stock.stock(f"POS-{n}", "back")) for n in range(5)}
    assert {n: (shop.on_hand, back.on_hand) for n, (shop, back) in counts.items()} == {  # type: ignore[union-attr]
        n: (n + 1, 10 + n) for n in range(5)
    }
    pos.sell("outlet-shop", [(made[3], 1)])
    runtime.app().ledger.report_count("POS-3", "shop", 2, pos.version() + 1, "lightspeed", "later")  # newer still
    again = run(start_pos({"add_new": True}))
    assert "created" not in again.reasons and stock.stock("POS-3", "shop").on_hand == 2  # type: ignore[union-attr]


def start_pos(body: dict[str, Any]) -> str:
    status, job = call("POST", "/catalog/import-from/lightspeed", body)
    assert status == 202, job
    return str(job["job_id"])


def test_a_platform_not_connected_ends_the_import_saying_so(handler_env: None) -> None:
    status, body = call("POST", "/catalog/import-from/lightspeed", {"add_new": True})
    assert status == 202
    job = run(body["job_id"])
    assert job.state == "done" and job.failed == 1 and "not connected" in lines(job.job_id, "refused")["lightspeed"]


def test_a_sku_first_seen_as_a_conflict_is_still_a_duplicate_when_seen_again(
    shop: ShopifySandbox, channel: dict[str, str]
) -> None:
    runtime.app().ledger.upsert_catalog("OTHER", ["shop"], {"shopify": channel["CAP"]})  # CAP's listing taken
    twin = shop.catalog.add_product("Cap twin", [{"sku": "CAP"}])["variants"][0]["item"]
    job = run(start({}))
    assert "CAP" in lines(job.job_id, "duplicate") and twin in lines(job.job_id, "duplicate")["CAP"]
    assert runtime.app().stock.catalog("CAP").listings == {}  # type: ignore[union-attr]


def test_a_remap_undone_by_a_duplicate_gives_the_old_listing_back(
    shop: ShopifySandbox, channel: dict[str, str]
) -> None:
    old = shop.catalog.add_product("Old tee", [{"sku": "TEE-S-OLD"}])["variants"][0]["item"]
    runtime.app().ledger.upsert_catalog("TEE-X", ["shop"], {"shopify": old})
    first = shop.catalog.add_product("Tee X", [{"sku": "TEE-X"}])["variants"][0]["item"]  # pages before the twin
    for n in range(4):
        shop.catalog.add_product(f"Filler {n}", [{"sku": f"FILL-{n}"}])
    shop.catalog.add_product("Tee X twin", [{"sku": "TEE-X"}])
    job = run(start({}))
    assert "TEE-X" in lines(job.job_id, "duplicate") and first in lines(job.job_id, "duplicate")["TEE-X"]
    assert runtime.app().stock.catalog("TEE-X").listings == {"shopify": old}  # type: ignore[union-attr]


def test_a_product_webhook_never_maps_a_held_duplicate(shop: ShopifySandbox, channel: dict[str, str]) -> None:
    run(start({"add_new": True}))  # DUP is held
    from omnistock.listings import Variant

    wiring = runtime.app()
    shopify = wiring.stock.channel("shopify")
    assert shopify is not None
    wiring.listing_desk.on_product(
        shopify, "gid://shopify/Product/900", "Dup", "2026-12-05T00:00:00Z", [Variant("v", channel["DUP"], "DUP", True)]
    )
    assert wiring.stock.catalog("DUP").listings == {}  # type: ignore[union-attr]


def test_an_import_shopify_refuses_ends_saying_why(shop: ShopifySandbox, channel: dict[str, str]) -> None:
    job_id = start({})
    shop.fail_next(1, 403)  # as Shopify answers an app without read_products
    job = run(job_id)
    assert job.state == "done" and job.failed == 1 and "403" in lines(job_id, "refused")["shopify"]


def test_one_import_of_a_source_at_a_time_and_only_of_a_channel_with_a_location(
    shop: ShopifySandbox, channel: dict[str, str]
) -> None:
    start({})
    status, body = call("POST", "/catalog/import-from/shopify", {})
    assert status == 409 and "running" in body["message"]
    runtime.app().ledger.set_channel("nowhere", ["shop"], platform="commentsold")
    assert call("POST", "/catalog/import-from/nowhere", {})[0] == 400

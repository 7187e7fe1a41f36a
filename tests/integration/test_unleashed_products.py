"""The product master, one way only (moto table from the template; the Unleashed and Shopify
sandboxes on loopback): Unleashed's products created or updated in Shopify and joined to the
catalog, or Shopify's created or updated in Unleashed; each once under lost answers, repeats
and late reports; the retailer's own Shopify products keep their product; never both ways."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.sandbox import ShopifySandbox
from local.sandbox.unleashed import UnleashedSandbox
from omnistock.channels.shopify.products import handle_for
from omnistock.channels.shopify.wiring import ShopifySettings
from omnistock.channels.unleashed import wiring as unleashed
from omnistock.channels.unleashed.products import product_guid
from omnistock.channels.unleashed.wiring import UnleashedSettings
from omnistock.ledger import Ledger
from omnistock.wiring import Wiring
from tests.fakes import Clock

NEVER = lambda: False  # noqa: E731
CHANNEL = "shopify"


@pytest.fixture
def sides(wiring: Wiring, ledger: Ledger, clock: Clock) -> Iterator[tuple[UnleashedSandbox, ShopifySandbox]]:
    with (
        UnleashedSandbox(warehouses=("MAIN",), clock=lambda: clock().timestamp()) as erp,
        ShopifySandbox() as shop,
    ):
        secrets = wiring.clients.secretsmanager
        secrets.create_secret(Name="erp/api", SecretString=json.dumps(erp.credentials()))
        token = {"client_id": shop.client_id, "client_secret": shop.client_secret}
        secrets.create_secret(Name="shop/token", SecretString=json.dumps(token))
        wiring.config = wiring.config.with_sections(
            UnleashedSettings(api_base=erp.api_base, api_secret_name="erp/api", warehouses={"MAIN": "warehouse"}),
            ShopifySettings("sandbox.myshopify.com", token_secret_name="shop/token", endpoint=shop.graphql_url()),
        )
        ledger.set_channel(CHANNEL, ["warehouse"], platform="shopify", target_location="gid://shopify/Location/1")
        yield erp, shop


def run(wiring: Wiring) -> dict[str, object]:
    api = unleashed.api(wiring)
    assert api is not None
    return unleashed.products(wiring, api, NEVER)


def shopify_products(shop: ShopifySandbox) -> dict[str, dict[str, object]]:
    return {v["sku"]: p | v for p in shop.catalog.products() for v in p["variants"]}  # type: ignore[operator]


def test_unleashed_master_creates_and_updates_shopify_products_and_joins_the_catalog(
    wiring: Wiring, ledger: Ledger, sides: tuple[UnleashedSandbox, ShopifySandbox], clock: Clock
) -> None:
    erp, shop = sides
    assert run(wiring) == {"mode": "off"}  # off by default: nothing read, nothing written
    wiring.settings.change("unleashed.product_master", "unleashed", "test")
    erp.add_product("BOLT")
    erp.edit_product("BOLT", description="Bolt M6", barcode="9400000000017", price=1.5)
    erp.add_product("OLD")
    erp.edit_product("OLD", obsolete=True)
    report = run(wiring)
    assert report["written"] == 1 and report["obsolete"] == 1, report
    made = shopify_products(shop)
    assert set(made) == {"BOLT"}
    bolt = made["BOLT"]
    assert (bolt["title"], bolt["price"], bolt["barcode"], bolt["handle"]) == (
        "Bolt M6",
        "1.50",
        "9400000000017",
        handle_for("BOLT"),
    )
    assert shop.available(str(bolt["item"]), "gid://shopify/Location/1") == 0  # stocked where the channel sells
    entry = ledger.store.catalog("BOLT")
    assert entry is not None and entry.title == "Bolt M6" and entry.locations == ("warehouse",)
    assert entry.listings == {CHANNEL: bolt["item"]}  # stock pushes reach the new product
    assert wiring.listings.owner(CHANNEL, str(bolt["variant"])) == "BOLT"  # its orders find the SKU

    clock.advance(minutes=10)
    calls = shop.counters["calls"]
    assert run(wiring).get("written", 0) == 0  # nothing changed: no call to Shopify
    assert shop.counters["calls"] == calls
    erp.edit_product("BOLT", price=1.75)
    clock.advance(minutes=10)
    assert run(wiring)["written"] == 1
    assert shopify_products(shop)["BOLT"]["price"] == "1.75" and len(shop.catalog.products()) == 1
    assert shop.counters["calls"] == calls + 1  # one productSet, by the same handle


def test_a_lost_shopify_answer_or_a_repeat_never_makes_a_second_product(
    wiring: Wiring, sides: tuple[UnleashedSandbox, ShopifySandbox], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omnistock.channels import ChannelUnavailable
    from omnistock.channels.shopify.products import ShopifyProducts

    erp, shop = sides
    wiring.settings.change("unleashed.product_master", "unleashed", "test")
    erp.add_product("NUT")
    shop.fail_next(1, status=503, after_apply=True)  # made; the answer lost; the client's resend finds it
    made = ShopifyProducts.set_product
    lost = iter([True])

    def answer_lost_after_every_retry(self: ShopifyProducts, *args: object) -> object:
        result = made(self, *args)  # type: ignore[arg-type]
        if next(lost, False):
            raise ChannelUnavailable("Shopify productSet failed after 6 attempts (HTTP 503)")
        return result

    monkeypatch.setattr(ShopifyProducts, "set_product", answer_lost_after_every_retry)
    assert "waiting" in run(wiring)  # the pass stops; its cursor stays
    assert len(shop.catalog.products()) == 1
    assert run(wiring)["written"] == 1  # the same handle again: the same product
    assert len(shop.catalog.products()) == 1
    clock.advance(minutes=10)
    erp.edit_product("NUT", description="Nut M6")
    run(wiring)
    assert [p["title"] for p in shop.catalog.products()] == ["Nut M6"]
    variants = shop.catalog.products()[0]["variants"]
    assert len(variants) == 1  # the update named its variant: the same inventory item


def test_skus_alike_get_products_of_their_own_and_a_product_known_by_its_handle_stays_omnistocks(
    wiring: Wiring, sides: tuple[UnleashedSandbox, ShopifySandbox], clock: Clock
) -> None:
    from omnistock.store import keys

    erp, shop = sides
    wiring.settings.change("unleashed.product_master", "unleashed", "test")
    for code in ("AB-1", "ab_1"):
        erp.add_product(code)
    assert run(wiring)["written"] == 2
    assert sorted(v["sku"] for p in shop.catalog.products() for v in p["variants"]) == ["AB-1", "ab_1"]
    wiring.table.delete(keys.mastered_pk("shopify", "AB-1"), keys.PRODUCT_SK)  # a run died before its record
    clock.advance(minutes=10)
    erp.edit_product("AB-1", description="Anchor bolt")
    assert run(wiring)["written"] == 1
    assert shopify_products(shop)["AB-1"]["title"] == "Anchor bolt"  # its handle says it is Omnistock's


def test_a_refused_connection_stops_the_pass_and_skips_nothing(
    wiring: Wiring, sides: tuple[UnleashedSandbox, ShopifySandbox]
) -> None:
    erp, shop = sides
    wiring.settings.change("unleashed.product_master", "unleashed", "test")
    erp.add_product("WASHER")
    shop.fail_next(1, status=403)  # the token or its scopes refused
    report = run(wiring)
    assert "stopped" in report and report.get("refused", 0) == 0, report
    again = run(wiring)
    assert again.get("written") == 1, again  # the cursor stayed: nothing was skipped


def test_the_retailers_own_shopify_product_keeps_its_title_and_gets_price_and_barcode(
    wiring: Wiring, ledger: Ledger, sides: tuple[UnleashedSandbox, ShopifySandbox]
) -> None:
    erp, shop = sides
    theirs = shop.catalog.add_product("Tee", [{"sku": "TEE-S", "title": "S"}, {"sku": "TEE-M", "title": "M"}])
    ledger.upsert_catalog("TEE-S", ["warehouse"], {CHANNEL: theirs["variants"][0]["item"]}, "Tee / S")
    wiring.settings.change("unleashed.product_master", "unleashed", "test")
    erp.add_product("TEE-S")
    erp.edit_product("TEE-S", description="T-shirt small", price=25, barcode="123")
    assert run(wiring)["written"] == 1
    products = shop.catalog.products()
    assert len(products) == 1 and products[0]["title"] == "Tee" and len(products[0]["variants"]) == 2
    small = shopify_products(shop)["TEE-S"]
    assert (small["price"], small["barcode"]) == ("25.00", "123")
    assert shopify_products(shop)["TEE-M"]["price"] == "0.00"  # the other variant untouched


def test_shopify_master_creates_and_updates_unleashed_products_once(
    wiring: Wiring, sides: tuple[UnleashedSandbox, ShopifySandbox], clock: Clock
) -> None:
    erp, shop = sides
    wiring.settings.change("unleashed.product_master", "shopify", "test")
    made = shop.catalog.add_product("Mug", [{"sku": "MUG", "price": "12.00", "barcode": "777"}])
    erp.add_product("CAP")  # in Unleashed already under its own Guid
    shop.catalog.add_product("Cap", [{"sku": "CAP", "price": "20.00"}])
    erp.lose_next_answers(1)  # Unleashed saves the first product; its answer is lost
    assert "waiting" in run(wiring)  # the pass stops there; its cursor stays
    report = run(wiring)
    assert report.get("written") == 2, report  # MUG again by its Guid; CAP to Unleashed's own
    mug = erp.product("MUG")
    assert mug is not None and mug["ProductDescription"] == "Mug" and mug["DefaultSellPrice"] == 12.0
    assert mug["Guid"] == product_guid("MUG")
    cap = erp.product("CAP")
    assert cap is not None and cap["ProductDescription"] == "Cap" and cap["DefaultSellPrice"] == 20.0
    clock.advance(minutes=10)
    shop.catalog.edit_variant(made["variants"][0]["id"], price="13.50")
    run(wiring)
    mug = erp.product("MUG")
    assert mug is not None and mug["DefaultSellPrice"] == 13.5 and mug["Barcode"] == "777"
    guids = [erp.product(code)["Guid"] for code in ("MUG", "CAP")]  # type: ignore[index]
    assert len(set(guids)) == 2 and run(wiring).get("written", 0) == 0  # unchanged: no writes


def test_a_late_or_repeated_report_never_overwrites_a_newer_one(
    wiring: Wiring, sides: tuple[UnleashedSandbox, ShopifySandbox]
) -> None:
    from omnistock.channels.shopify import wiring as shopify
    from omnistock.channels.shopify.products import ShopifyProducts
    from omnistock.channels.unleashed.products import ProductMaster
    from omnistock.models import MasteredProduct
    from omnistock.store.product_master_store import ProductMasterStore

    records = ProductMasterStore(wiring.table)
    assert records.save("shopify", MasteredProduct("BOLT", 2000, "new"))
    assert not records.save("shopify", MasteredProduct("BOLT", 1000, "old"))
    assert records.get("shopify", "BOLT") == MasteredProduct("BOLT", 2000, "new")
    shop = sides[1]
    master = ProductMaster(
        wiring.ledger, records, wiring.cursors, wiring.listings, wiring.pushes, ["warehouse"], CHANNEL
    )
    port = shopify.admin(wiring)
    assert port is not None
    late = {"ProductCode": "BOLT", "ProductDescription": "Old", "LastModifiedOn": "/Date(1500)/"}
    assert master._from_unleashed(late, ShopifyProducts(port))[0] == "stale"
    assert shop.catalog.products() == []


def test_the_setting_takes_one_way_only_and_the_doctor_names_it(
    wiring: Wiring, sides: tuple[UnleashedSandbox, ShopifySandbox]
) -> None:
    from omnistock.connections import diagnose
    from omnistock.errors import InvalidRequest

    with pytest.raises((InvalidRequest, ValueError)):
        wiring.settings.change("unleashed.product_master", "both", "test")
    wiring.settings.change("unleashed.product_master", "shopify", "test")
    checks = {c.name: c for c in diagnose(wiring) if c.platform == "unleashed"}
    assert "Shopify: its products are created or updated in Unleashed" in checks["product master"].detail
    assert "scope write_products" not in {c.name for c in diagnose(wiring)}  # needed one way only
    wiring.settings.change("unleashed.product_master", "unleashed", "test")
    sides[1].scopes.remove("write_products")
    scope = next(c for c in diagnose(wiring) if c.name == "scope write_products")
    assert not scope.ok and "Unleashed as product master" in scope.detail and scope.fix

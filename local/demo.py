"""Load a demo into a running local stack (`make demo-data`): a retailer's first day, end to end
with the sandboxes.

Everything goes through the admin API (and the CLI's own helpers), the way a retailer would:
the warehouse registered as a location; the shop's products created in the Shopify sandbox (as
they already are in a real shop) and stocked there; the channels; the catalog from a CSV; the
Shopify listings mapped by SKU with an import; the Shopify channel previewed and taken live, so
its numbers are pushed; then a cart hold and a sale. Loading twice changes nothing: products are
created once, every count and hold carries a fixed id, and a live channel stays live.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from typing import Any

import httpx

from cli.channels import go_live, latest_preview

SHOP_LOCATION = "gid://shopify/Location/9001"  # where the sandbox shop keeps the channel's number
CHANNELS: dict[str, dict[str, Any]] = {
    "pos": {"locations": ["shop"]},
    "live": {"locations": ["warehouse"]},
    "shopify": {"locations": ["shop", "warehouse"], "platform": "shopify", "target_location": SHOP_LOCATION},
}
CATALOG = [
    # sku, title, shop count, warehouse count, what the Shopify sandbox shows before Omnistock
    ("TEE-BLK-S", "Tee, black, S", 4, 20, 30),
    ("TEE-BLK-M", "Tee, black, M", 6, 30, 36),
    ("TEE-BLK-L", "Tee, black, L", 2, 12, 0),
    ("HOODIE-GRY-M", "Hoodie, grey, M", 3, 8, 11),
    ("CAP-RED", "Cap, red", 10, 0, 10),
]


def load(url: str, token: str, timeout: float = 60) -> list[str]:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as api:
        register_location(api, "warehouse")
        shop_url = api.get("/_local/health").raise_for_status().json().get("shopify_sandbox")
        items = stock_the_shop(shop_url) if shop_url else {}
        modes = {}
        for channel, body in CHANNELS.items():
            if channel == "shopify" and not items:
                continue  # no sandbox: a local stack started without one
            modes[channel] = api.put(f"/channels/{channel}", json=body).raise_for_status().json()["mode"]
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["sku", "title", "location", "on_hand"])
        for sku, title, shop, warehouse, _ in CATALOG:
            writer.writerows([[sku, title, "shop", shop], [sku, title, "warehouse", warehouse]])
        imported = api.post("/catalog/import", json={"csv": text.getvalue()}).raise_for_status()
        if imported.json()["problems"]:
            raise httpx.HTTPError(f"the demo catalog was refused: {imported.json()['problems'][:3]}")
        if items:
            import_listings(api, timeout)
            if modes["shopify"] == "shadow":  # preview the whole catalog now, then go live
                drain(api, timeout)  # the channel's own first preview, of an empty catalog, ends first
                latest_preview(api, "shopify", timeout, start=True)
                go_live(api, "shopify", timeout)
        hold = {"hold_id": "demo-cart-1", "sku": "TEE-BLK-M", "location": "warehouse", "qty": 2, "minutes": 30}
        api.post("/holds", json=hold)
        api.post("/skus/TEE-BLK-S/sales", json={"location": "shop", "qty": 1, "event_id": "demo-order-1001:1"})
        drain(api, timeout)
        return report_lines(api, shop_url, items)


def drain(api: httpx.Client, timeout: float) -> None:
    """Wait until the stack's stream consumers have seen every write so far (pushes included)."""
    api.post("/_local/stream/drain", params={"timeout": timeout}, timeout=timeout + 5).raise_for_status()


def register_location(api: httpx.Client, location: str) -> None:
    settings = api.get("/settings").raise_for_status().json()["settings"]
    known = next(s["value"] for s in settings if s["name"] == "ledger.locations")
    if location not in known:
        api.put("/settings/ledger.locations", json={"value": [*known, location]}).raise_for_status()


def stock_the_shop(shop_url: str) -> dict[str, str]:
    """The demo's products in the Shopify sandbox (once), stocked with what the shop shows."""
    with httpx.Client(base_url=shop_url, timeout=10) as shop:
        made = {v["sku"]: v["item"] for v in shop.get("/_sandbox/products").raise_for_status().json()["variants"]}
        for sku, title, *_, shown in CATALOG:
            if sku not in made:
                product = {"title": title, "variants": [{"sku": sku}]}
                made[sku] = (
                    shop.post("/_sandbox/products", json=product).raise_for_status().json()["variants"][0]["item"]
                )
                shop.post(
                    "/_sandbox/inventory", json={"item": made[sku], "location": SHOP_LOCATION, "available": shown}
                )
    return {sku: made[sku] for sku, *_ in CATALOG}


def import_listings(api: httpx.Client, timeout: float) -> None:
    """Map the shop's variants onto the catalog by SKU (nothing new is added)."""
    job = api.post("/catalog/import-from/shopify", json={}).raise_for_status().json()
    deadline = time.monotonic() + timeout
    while job["state"] != "done":
        if time.monotonic() > deadline:
            raise httpx.HTTPError("the Shopify import did not finish")
        time.sleep(0.2)
        job = api.get(f"/catalog/imports/{job['job_id']}").raise_for_status().json()["job"]


def report_lines(api: httpx.Client, shop_url: str | None, items: dict[str, str]) -> list[str]:
    shown: dict[str, int] = {}
    if shop_url:
        levels = httpx.get(f"{shop_url}/_sandbox/inventory", timeout=10).raise_for_status().json()["levels"]
        shown = {level["item"]: level["available"] for level in levels if level["location"] == SHOP_LOCATION}
    lines = []
    for sku, *_ in CATALOG:
        stock = api.get(f"/skus/{sku}", params={"movements": 0}).raise_for_status().json()
        on_shopify = f"  Shopify shows {shown[items[sku]]:>3}" if sku in items and items[sku] in shown else ""
        lines.append(f"{sku:<14} available {stock['available']:>3}{on_shopify}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--token", default=os.environ.get("OMNISTOCK_DEV_TOKEN", "local-dev-token"))
    args = parser.parse_args()
    try:
        lines = load(args.url, args.token)
    except httpx.HTTPError as error:
        print(f"could not load the demo into {args.url}: {error} (is `make local` running?)", file=sys.stderr)
        return 1
    print("\n".join(["Demo loaded (Shopify pushed through the sandbox):", *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

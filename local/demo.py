"""Load a small demo catalog into a running local stack (`make demo-data`).

Everything goes through the admin API, so the demo exercises the same paths a user would.
Loading twice changes nothing: every count and hold carries a fixed id.
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx

LOCATIONS = ["shop", "warehouse"]
CHANNELS = {"shopify": ["shop", "warehouse"], "pos": ["shop"], "live": ["warehouse"]}
CATALOG = [
    # sku, title, shop count, warehouse count
    ("TEE-BLK-S", "Tee, black, S", 4, 20),
    ("TEE-BLK-M", "Tee, black, M", 6, 30),
    ("TEE-BLK-L", "Tee, black, L", 2, 12),
    ("HOODIE-GRY-M", "Hoodie, grey, M", 3, 8),
    ("CAP-RED", "Cap, red", 10, 0),
]


def load(url: str, token: str) -> list[str]:
    lines = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as api:
        for channel, locations in CHANNELS.items():
            api.put(f"/channels/{channel}", json={"locations": locations}).raise_for_status()
        for number, (sku, title, shop, warehouse) in enumerate(CATALOG, start=1):
            listings = {"shopify": f"gid://shopify/InventoryItem/{4370000 + number}"}
            api.put(
                f"/skus/{sku}", json={"locations": LOCATIONS, "listings": listings, "title": title}
            ).raise_for_status()
            for location, on_hand in (("shop", shop), ("warehouse", warehouse)):
                body = {
                    "location": location,
                    "on_hand": on_hand,
                    "version": 1,
                    "event_id": f"demo-count-{sku}-{location}",
                }
                api.post(f"/skus/{sku}/counts", json=body).raise_for_status()
        hold = {"hold_id": "demo-cart-1", "sku": "TEE-BLK-M", "location": "warehouse", "qty": 2, "minutes": 30}
        api.post("/holds", json=hold)
        api.post("/skus/TEE-BLK-S/sales", json={"location": "shop", "qty": 1, "event_id": "demo-order-1001:1"})
        for sku, *_ in CATALOG:
            stock = api.get(f"/skus/{sku}", params={"movements": 0}).json()
            lines.append(f"{sku:<14} available {stock['available']:>3}")
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
    print("\n".join(["Demo catalog loaded:", *lines]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

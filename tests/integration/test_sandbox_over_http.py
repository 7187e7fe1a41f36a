"""The Shopify sandbox (test equipment) over real HTTP on 127.0.0.1: the control API seeds it,
GraphQL pushes and reads go over the wire, injected faults arrive as HTTP statuses."""

from __future__ import annotations

import httpx

from local.sandbox import ShopifySandbox, item_gid, location_gid

ITEM, LOCATION = item_gid(1001), location_gid(1)
PUSH = (
    "mutation Push($input: InventorySetQuantitiesInput!, $key: String!) { "
    "inventorySetQuantities(input: $input) @idempotent(key: $key) { "
    "inventoryAdjustmentGroup { changes { name delta quantityAfterChange item { id } location { id } } } "
    "userErrors { field message code } } }"
)
READ = (
    "query Levels($ids: [ID!]!) { nodes(ids: $ids) { ... on InventoryItem { id inventoryLevels(first: 5) { "
    'nodes { location { id } quantities(names: ["available"]) { name quantity } } } } } }'
)


def test_push_read_and_faults_over_http() -> None:
    with ShopifySandbox("shpat_http") as shop, httpx.Client(base_url=shop.url, timeout=5) as client:
        seeded = client.post("/_sandbox/inventory", json={"item": ITEM, "location": LOCATION, "available": 10})
        assert seeded.status_code == 200
        headers = {"X-Shopify-Access-Token": "shpat_http"}
        variables = {
            "key": "push-1",
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": "gid://omnistock/Push/1",
                "quantities": [
                    {"inventoryItemId": ITEM, "locationId": LOCATION, "quantity": 4, "changeFromQuantity": 10}
                ],
            },
        }
        graphql = "/admin/api/2026-04/graphql.json"

        assert client.post(graphql, json={"query": READ, "variables": {"ids": [ITEM]}}).status_code == 401

        client.post("/_sandbox/faults", json={"throttle_storm": 1})
        stormed = client.post(graphql, headers=headers, json={"query": PUSH, "variables": variables})
        assert stormed.status_code == 429
        assert float(stormed.headers["Retry-After"]) == 0.05

        pushed = client.post(graphql, headers=headers, json={"query": PUSH, "variables": variables})
        assert pushed.status_code == 200
        result = pushed.json()["data"]["inventorySetQuantities"]
        assert result["userErrors"] == []
        assert result["inventoryAdjustmentGroup"]["changes"][0]["quantityAfterChange"] == 4
        assert pushed.json()["extensions"]["cost"]["requestedQueryCost"] == 10

        read = client.post(graphql, headers=headers, json={"query": READ, "variables": {"ids": [ITEM]}})
        assert read.json()["data"]["nodes"][0]["inventoryLevels"]["nodes"][0]["quantities"] == [
            {"name": "available", "quantity": 4}
        ]
        assert client.get("/_sandbox/inventory").json()["levels"][0]["available"] == 4
        assert client.get("/_sandbox/counters").json()["counters"]["mutations"] == 1
        assert shop.available(ITEM, LOCATION) == 4

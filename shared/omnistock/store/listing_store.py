"""A channel's listings: which SKU a channel id (inventory item, variant) belongs to, and the
products whose variants were mapped (so a deleted product can be unmapped)."""

from __future__ import annotations

from typing import Any

from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Table, to_attrs


class ListingStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def owner(self, channel: str, listing_id: str) -> str | None:
        """The SKU a channel listing id (or a variant id) belongs to."""
        item = self.table.get(keys.listing_pk(channel, listing_id), keys.LISTING_SK)
        return item["sku"] if item else None

    def product_of(self, channel: str, skus: list[str]) -> dict[str, str]:
        """The platform's product id of each SKU it was recorded for (``remember_product_of``)."""
        wanted = [(keys.product_by_sku_pk(channel, sku), keys.LISTING_SK) for sku in dict.fromkeys(skus)]
        return {item["sku"]: item["product_id"] for item in self.table.batch_get(wanted)}

    def remember_product_of(self, channel: str, sku: str, product_id: str) -> None:
        item = {"pk": keys.product_by_sku_pk(channel, sku), "sk": keys.LISTING_SK, "kind": "product_of"}
        self.table.put(item | {"sku": sku, "product_id": product_id, "channel": channel})

    def forget_product_of(self, channel: str, sku: str) -> None:
        self.table.delete(keys.product_by_sku_pk(channel, sku), keys.LISTING_SK)

    def product(self, channel: str, product_id: str) -> dict[str, Any] | None:
        return self.table.get(keys.product_pk(channel, product_id), keys.PRODUCT_SK)

    def save_product(self, channel: str, product_id: str, updated_at: str, variants: list[dict[str, str]]) -> bool:
        """Record a product's variants unless a newer version of it is recorded; False if stale.
        Each variant id also points at its SKU (orders name variants, not inventory items)."""
        expr = Expression()
        body: dict[str, Any] = {
            "Item": to_attrs(
                {
                    "pk": keys.product_pk(channel, product_id),
                    "sk": keys.PRODUCT_SK,
                    "kind": "product",
                    "channel": channel,
                    "product_id": product_id,
                    "updated_at": updated_at,
                    "variants": variants,
                }
            ),
            # A deleted product stays deleted: a late update must not map it again.
            "ConditionExpression": f"attribute_not_exists(pk) OR ({expr.name('updated_at')} <= "
            f"{expr.value(updated_at)} AND attribute_not_exists({expr.name('deleted')}))",
        }
        expr.attach(body)
        if self.table.transact([{"Put": body}]) is not None:
            return False
        items = [
            {
                "pk": keys.listing_pk(channel, variant["variant"]),
                "sk": keys.LISTING_SK,
                "kind": "variant",
                "sku": variant["sku"],
                "channel": channel,
                "listing_id": variant["variant"],
            }
            for variant in variants
            if variant["sku"]
        ]
        for start in range(0, len(items), 25):
            self.table.batch_put(items[start : start + 25])
        return True

    def map_variants(self, channel: str, variants: list[tuple[str, str]]) -> None:
        """Point variant ids at their SKUs (orders name variants), without a product record:
        a catalog import reads variants, not whole products."""
        items = [
            {
                "pk": keys.listing_pk(channel, variant),
                "sk": keys.LISTING_SK,
                "kind": "variant",
                "sku": sku,
                "channel": channel,
                "listing_id": variant,
            }
            for variant, sku in dict(variants).items()
        ]
        for start in range(0, len(items), 25):
            self.table.batch_put(items[start : start + 25])

    def forget_product(
        self, channel: str, product_id: str, at: str, purge_at: int, *, unless_newer: bool = False
    ) -> bool:
        """Keep a tombstone (until ``purge_at``) so a late update of the product changes nothing;
        with ``unless_newer``, not over a record newer than ``at`` (False then)."""
        expr = Expression()
        body: dict[str, Any] = {
            "Item": to_attrs(
                {
                    "pk": keys.product_pk(channel, product_id),
                    "sk": keys.PRODUCT_SK,
                    "kind": "product",
                    "channel": channel,
                    "product_id": product_id,
                    "updated_at": at,
                    "deleted": True,
                    "variants": [],
                    "purge_at": purge_at,
                }
            ),
        }
        if unless_newer:
            body["ConditionExpression"] = f"attribute_not_exists(pk) OR {expr.name('updated_at')} <= {expr.value(at)}"
            expr.attach(body)
        return self.table.transact([{"Put": body}]) is None

    # ---- SKUs the channel has on two variants: mapped by neither, until an import finds them once
    def held_duplicates(self, channel: str, skus: list[str]) -> set[str]:
        found = self.table.batch_get([(keys.duplicate_skus_pk(channel), sku) for sku in skus])
        return {item["sku"] for item in found}

    def hold_duplicates(self, channel: str, skus: list[str]) -> None:
        items = [
            {"pk": keys.duplicate_skus_pk(channel), "sk": sku, "kind": "duplicate_sku", "sku": sku} for sku in skus
        ]
        for start in range(0, len(items), 25):
            self.table.batch_put(items[start : start + 25])

    def held_duplicates_of(self, channel: str) -> list[str]:
        return [item["sku"] for item in self.table.query("pk = :pk", {":pk": keys.duplicate_skus_pk(channel)})]

    def release_duplicate(self, channel: str, sku: str) -> None:
        self.table.delete(keys.duplicate_skus_pk(channel), sku)

    def forget_variant(self, channel: str, variant: str) -> None:
        self.table.delete(keys.listing_pk(channel, variant), keys.LISTING_SK)

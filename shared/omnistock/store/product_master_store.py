"""What a product master last wrote of each SKU to the other side: the master's version of it
(stale reports never win), its fields' fingerprint (an unchanged product costs no call), and the
ids it has there (so the next change updates what the first made)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from omnistock.models import MasteredProduct
from omnistock.store import keys
from omnistock.store.table import Table


class ProductMasterStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, target: str, sku: str) -> MasteredProduct | None:
        item = self.table.get(keys.mastered_pk(target, sku), keys.PRODUCT_SK)
        if item is None:
            return None
        fields = {name: item[name] for name in MasteredProduct.__dataclass_fields__ if name in item}
        return MasteredProduct(**fields | {"version": int(item["version"])})

    def save(self, target: str, product: MasteredProduct) -> bool:
        """Record it unless a newer version is recorded; False if this one is stale."""
        item: dict[str, Any] = {"pk": keys.mastered_pk(target, product.sku), "sk": keys.PRODUCT_SK}
        item |= {"kind": "mastered", "target": target} | asdict(product)
        return self.table.put_where(
            item, "attribute_not_exists(pk) OR #v <= :v", {"#v": "version"}, {":v": product.version}
        )

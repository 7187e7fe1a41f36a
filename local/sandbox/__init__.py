"""TEST EQUIPMENT: local stand-ins for the sales channels' APIs, so the local stack and the tests
can push stock somewhere and watch it arrive. They mirror the documented behaviour the adapters
must cope with (compare-and-set, idempotency keys, throttling, faults); they are not
implementations of those services.

``local.sandbox.shopify.ShopifySandbox``: the Shopify Admin GraphQL inventory API
(``inventorySetQuantities`` and a ``nodes(ids:)`` inventory read). Run one by hand with
``python -m local.sandbox --help``.
"""

from local.sandbox.server import SandboxResponse
from local.sandbox.shopify import MutationRecord, ShopifySandbox, item_gid, location_gid

__all__ = ["MutationRecord", "SandboxResponse", "ShopifySandbox", "item_gid", "location_gid"]

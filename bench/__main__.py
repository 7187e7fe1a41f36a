"""`make bench`: DynamoDB calls per stock event, the ShipStation export over 50,000 orders,
the POS as master under redelivery, web orders into the POS (lost answers, redelivery),
Unleashed (paid orders into it as sales orders, its stock changes as master counts),
handler import cost, the push benchmarks, onboarding
(a catalog import, the shop's variants imported, a shadow preview), the inventory list's reads,
then the hot-SKU race and the simulated live sale through the local stack (oversell counts),
and last the monthly AWS bill of two retailer profiles (bench/cost.py prints its breakdown)."""

from __future__ import annotations

import sys

from bench import (
    cold_start,
    cost,
    counts,
    hot_sku,
    inventory,
    live_sale,
    onboarding,
    pos_import,
    pos_master,
    push,
    shipstation,
    unleashed,
)


def main() -> int:
    counts.main()
    print()
    shipstation.main()
    print()
    replayed = pos_master.main()
    print()
    imported = pos_import.main()
    print()
    erp = unleashed.main()
    print()
    cold_start.main()
    print()
    pushed = push.main()
    print()
    onboarded = onboarding.main()
    print()
    listed = inventory.main()
    print()
    raced = hot_sku.main()
    print()
    failed = live_sale.main() or raced or pushed or replayed or imported or erp or onboarded or listed
    print()
    cost.main(["--summary"])
    return failed


if __name__ == "__main__":
    sys.exit(main())

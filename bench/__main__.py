"""`make bench`: DynamoDB calls per stock event, the ShipStation export over 50,000 orders,
handler import cost, the push benchmarks,
then the hot-SKU race through the local stack (its last line states the oversell count)."""

from __future__ import annotations

import sys

from bench import cold_start, counts, hot_sku, push, shipstation


def main() -> int:
    counts.main()
    print()
    shipstation.main()
    print()
    cold_start.main()
    print()
    pushed = push.main()
    print()
    return hot_sku.main() or pushed


if __name__ == "__main__":
    sys.exit(main())

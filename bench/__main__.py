"""`make bench`: DynamoDB calls per stock event, then the hot-SKU race through the local stack."""

from __future__ import annotations

import sys

from bench import counts, hot_sku


def main() -> int:
    counts.main()
    print()
    return hot_sku.main()


if __name__ == "__main__":
    sys.exit(main())

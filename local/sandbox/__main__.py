"""Run the Shopify sandbox (TEST EQUIPMENT) in the foreground:

    python -m local.sandbox --port 8089 --stock 1001:1:40 --stock 1002:1:5

then point the Shopify adapter at ``http://127.0.0.1:8089`` with the printed token, and watch
``GET /_sandbox/inventory`` / ``GET /_sandbox/mutations`` (or this log) as pushes arrive.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from local.sandbox.shopify import DEFAULT_TOKEN, ShopifySandbox


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox", description="Shopify inventory sandbox.")
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port; 0 picks a free one (default 8089)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help=f"access token to accept (default {DEFAULT_TOKEN})")
    parser.add_argument("--max-available", type=float, default=2000.0, help="cost bucket size (default 2000)")
    parser.add_argument("--restore-rate", type=float, default=100.0, help="bucket refill, points/s (default 100)")
    parser.add_argument("--throttle-mode", choices=("graphql", "http429"), default="graphql")
    parser.add_argument(
        "--read-pricing", choices=("simple", "schema"), default="simple", help="cost of the nodes read (see module doc)"
    )
    parser.add_argument(
        "--stock",
        action="append",
        default=[],
        metavar="ITEM:LOCATION:AVAILABLE",
        help="stock an item (numbers become GIDs); repeatable",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sandbox = ShopifySandbox(
        args.token,
        host=args.host,
        port=args.port,
        maximum_available=args.max_available,
        restore_rate=args.restore_rate,
        throttle_mode=args.throttle_mode,
        read_pricing=args.read_pricing,
    )
    for spec in args.stock:
        item, location, available = spec.rsplit(":", 2) if spec.count(":") >= 2 else (spec, "", "")
        if not location or not available.lstrip("-").isdigit():
            print(f"--stock {spec!r}: expected ITEM:LOCATION:AVAILABLE", file=sys.stderr)
            return 2
        sandbox.stock(item, location, int(available))
    stopped = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    with sandbox:
        print(f"Shopify sandbox (TEST EQUIPMENT) on {sandbox.url}", flush=True)
        print(f"  GraphQL  POST {sandbox.graphql_url()}   X-Shopify-Access-Token: {sandbox.token}")
        print(f"  control  GET  {sandbox.url}/_sandbox/inventory | /_sandbox/mutations | /_sandbox/counters")
        stopped.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

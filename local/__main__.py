"""Run the stack in the foreground: ``python -m local [--port 3000] ...`` (see --help)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from local.cfn import TemplateError
from local.stack import DEFAULT_TEMPLATE, LocalStack

SAM_LOCAL_MOTO_PORT = 3001  # the port of AWS_ENDPOINT_URL in events/env.json (sam local --env-vars)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local", description="Run template.yaml locally on moto.")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface for the API, moto and the sandboxes (default 127.0.0.1); "
        "0.0.0.0 lets Docker containers (sam local) reach moto",
    )
    parser.add_argument("--port", type=int, default=3000, help="API port; 0 picks a free one (default 3000)")
    parser.add_argument("--moto-port", type=int, default=0, help="moto port; 0 picks a free one (default)")
    parser.add_argument("--dev-token", help="token for IAM routes (default $OMNISTOCK_DEV_TOKEN, else local-dev-token)")
    parser.add_argument("--schedule-every", type=float, metavar="SECONDS", help="run every schedule at this period")
    parser.add_argument("--template", default=str(DEFAULT_TEMPLATE), help="SAM template (default template.yaml)")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    parser.add_argument("--no-sandbox", action="store_true", help="do not start the Shopify sandbox")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter's value instead of its default (repeatable)",
    )
    args = parser.parse_args(argv)
    for given in args.param:
        if "=" not in given:
            parser.error(f"--param {given!r}: expected NAME=VALUE")
    return args


def _print_summary(stack: LocalStack) -> None:
    health = stack.health()
    print(f"moto server     {stack.moto_url}")
    if stack.host == "0.0.0.0":
        port = int(stack.moto_url.rsplit(":", 1)[1])
        hint = "" if port == SAM_LOCAL_MOTO_PORT else f"; events/env.json expects --moto-port {SAM_LOCAL_MOTO_PORT}"
        print(f"                (sam local's containers: http://host.docker.internal:{port}{hint})")
    if stack.sandbox is not None:
        print(f"shopify sandbox {stack.sandbox.url}  (test equipment: GET /_sandbox/inventory shows what it holds)")
    for table in health["tables"]:
        print(f"table           {table['name']}  ({table['logical_id']})")
    print("routes:")
    width = max((len(route["path"]) for route in health["routes"]), default=0)
    for route in health["routes"]:
        auth = "  [IAM]" if route["auth"] == "AWS_IAM" else f"  [{route['auth']}]" if route["auth"] else ""
        print(f"  {route['method']:<6} {route['path']:<{width}}  -> {route['function']}{auth}")
    print("schedules:")
    for schedule in health["schedules"]:
        print(f"  {schedule['function']}.{schedule['event']}  {schedule['expression']}  ({schedule['timer']})")
    print("stream consumers:")
    for consumer in stack.consumers:
        spec = consumer.spec
        bisect = ", bisect" if spec.bisect else ""
        print(
            f"  {spec.function}.{spec.event}  <- {spec.table}  batch {spec.batch_size}, "
            f"window {spec.window_seconds:g} s, retries {spec.max_retries}{bisect}, filters {len(spec.filters)}"
        )
    print(f"dev token       {stack.dev_token}   (send 'Authorization: Bearer {stack.dev_token}')")
    for warning in stack.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in stack.errors:
        print(f"error: {error}", file=sys.stderr)
    print(f"Omnistock local stack ready on {stack.url}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "Found credentials" on every client
    if args.quiet:
        logging.getLogger("local.gateway").setLevel(logging.WARNING)
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    stack = LocalStack(
        args.template,
        host=args.host,
        port=args.port,
        moto_port=args.moto_port,
        dev_token=args.dev_token,
        schedule_every=args.schedule_every,
        sandbox=not args.no_sandbox,
        parameters=dict(given.split("=", 1) for given in args.param),
    )
    try:
        stack.start()
    except (TemplateError, OSError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        _print_summary(stack)
        while not stopping.wait(1.0):
            pass
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

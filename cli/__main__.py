"""omnistock sync-now [--channel C] [--sku S ...] [--url URL] [--iam | --token T]
omnistock preview --channel C [--again]
omnistock go-live --channel C
omnistock import FILE [--check]
omnistock import-from SOURCE [--add-new] [--check]
omnistock stock SKU
omnistock history [--sku S] [--channel C] [--failed] [--limit N]
omnistock problems [--kind K] [--retry ID | --dismiss ID]
omnistock import-orders {new,all} [--since ISO]
omnistock doctor

Exit codes: 0 done (nothing failed; problems: none open); 1 the request was refused or the API
unreachable; 2 done, but something failed (sync-now, go-live, import: the failed SKUs are
printed, with why; problems: some are open, or a retry did not fix it); 3 still running when
--timeout ran out (follow the job's URL it prints).

sync-now starts a Sync Now job through the admin API and follows it with a progress bar until
it is done. preview prints what Omnistock would change on a channel (its latest preview, or a
new one with --again); import loads a catalog CSV (sku, location, on_hand, title,
listing:<channel>), every row checked before any is applied; import-from reads a channel's
listings (mapped by SKU) or the POS's products and counts (SOURCE: a channel, or lightspeed)
and reports what is only on one side or on two variants; go-live takes a channel out of
shadow mode and follows the push of the preview's differences; import-orders writes Shopify's
web orders into the POS by hand (new: since the last import by hand; all: the last 60 days) and
prints how many were imported, skipped (and why) or refused. Locally the API takes the dev
token; deployed, requests are signed with your AWS credentials (--iam), as the HTTP API's IAM
authorizer requires.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import httpx

from cli import channels, importing
from cli.signing import SigV4

WIDTH = 30


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="omnistock", description="Omnistock admin commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync-now", help="force a push of SKUs (default: all) to channels (default: all)")
    sync.add_argument("--channel", help="one channel (default: every pushed channel)")
    sync.add_argument("--sku", action="append", dest="skus", help="a SKU; repeat for more (default: the catalog)")
    preview = commands.add_parser("preview", help="what Omnistock would change on a channel (writes nothing)")
    preview.add_argument("--channel", required=True)
    preview.add_argument("--again", action="store_true", help="read the channel again first")
    live = commands.add_parser("go-live", help="take a channel out of shadow mode: push its preview's differences")
    live.add_argument("--channel", required=True)
    load = commands.add_parser("import", help="import a catalog CSV (checked whole first; re-running changes nothing)")
    load.add_argument("file")
    load.add_argument("--check", action="store_true", help="report every bad row and change nothing")
    source = commands.add_parser("import-from", help="import a channel's listings or the POS's products and counts")
    source.add_argument("source", help="a channel's name, or lightspeed")
    source.add_argument("--add-new", action="store_true", help="add SKUs only the platform has to the catalog")
    source.add_argument("--check", action="store_true", help="report what it would do and change nothing")
    stock = commands.add_parser("stock", help="a SKU's stock explained: per location, holds, pending, movements")
    stock.add_argument("sku")
    history = commands.add_parser("history", help="sync history, newest first (all channels unless narrowed)")
    history.add_argument("--sku")
    history.add_argument("--channel")
    history.add_argument("--failed", action="store_true", help="failed pushes only")
    history.add_argument("--limit", type=int, default=50)
    problems = commands.add_parser("problems", help="open problems, each with its fix; retry or dismiss one")
    problems.add_argument(
        "--kind", choices=["failed", "unmapped", "rejected", "unknown_order", "shortfall", "not_imported"]
    )
    act = problems.add_mutually_exclusive_group()
    act.add_argument("--retry", metavar="ID", help="retry a problem (the ID `omnistock problems` prints)")
    act.add_argument("--dismiss", metavar="ID", help="dismiss a problem handled elsewhere")
    orders = commands.add_parser("import-orders", help="write web orders into the POS by hand (new, or all: 60 days)")
    orders.add_argument("scope", choices=["new", "all"])
    orders.add_argument("--since", help="start here instead (ISO time, no more than 60 days ago)")
    doctor = commands.add_parser("doctor", help="check every platform's connection; each problem with its fix")
    for command in (sync, preview, live, load, source, stock, history, problems, orders, doctor):
        command.add_argument("--url", default=os.environ.get("OMNISTOCK_URL", "http://127.0.0.1:3000"))
        auth = command.add_mutually_exclusive_group()
        auth.add_argument("--token", default=os.environ.get("OMNISTOCK_DEV_TOKEN", "local-dev-token"))
        auth.add_argument("--iam", action="store_true", help="sign requests with AWS credentials (deployed stack)")
        command.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
        command.add_argument("--timeout", type=float, default=3600, help="give up following after this many seconds")
    return parser.parse_args(argv)


def _client(args: argparse.Namespace) -> httpx.Client:
    if args.iam:
        return httpx.Client(base_url=args.url, auth=SigV4(args.region), timeout=30)
    return httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {args.token}"}, timeout=30)


def progress_line(job: dict[str, Any]) -> str:
    total = max(job["total"], 1)
    filled = int(WIDTH * job["done"] / total)
    bar = "#" * filled + "-" * (WIDTH - filled)
    return f"[{bar}] {job['done']}/{job['total']} SKUs  pushed {job['applied']}  failed {job['failed']}"


def sync_now(args: argparse.Namespace) -> int:
    with _client(args) as api:
        started = api.post("/sync-now", json={"channel": args.channel, "skus": args.skus})
        if started.status_code != 202:
            print(f"could not start: {started.status_code} {started.text}", file=sys.stderr)
            return 1
        job = started.json()
        deadline = time.monotonic() + args.timeout
        while True:
            print("\r" + progress_line(job), end="", file=sys.stderr, flush=True)
            if job["state"] == "done":
                print(file=sys.stderr)
                if job["failed"]:
                    failed_lines(api, job)
                return 0 if job["failed"] == 0 else 2
            if time.monotonic() > deadline:
                print(f"\nstill running: follow it at /sync-now/{job['job_id']}", file=sys.stderr)
                return 3
            time.sleep(0.5)
            job = api.get(f"/sync-now/{job['job_id']}").raise_for_status().json()


def failed_lines(api: httpx.Client, job: dict[str, Any]) -> None:
    """The SKUs this job could not push, and why (the sync history's failures since it began)."""
    query: dict[str, Any] = {"failed": "true", "limit": 200}
    if job.get("channel"):
        query["channel"] = job["channel"]
    entries = api.get("/sync-history", params=query).raise_for_status().json()["entries"]
    for entry in [e for e in entries if e["at"] >= job["created_at"]][:50]:
        print(f"failed  {entry['sku']:<24} {entry['channel']:<12} {entry['error'] or entry['result']}")


def stock(args: argparse.Namespace) -> int:
    with _client(args) as api:
        answer = api.get(f"/skus/{args.sku}", params={"movements": 10})
        if answer.status_code == 404:
            print(f"SKU {args.sku!r} is not in the catalog", file=sys.stderr)
            return 1
        body = answer.raise_for_status().json()
        views = api.get(f"/skus/{args.sku}/channels").raise_for_status().json()
    print(f"{body['sku']}  available {body['available']}  ({body['catalog'].get('title') or 'no title'})")
    for level in body["locations"]:
        print(
            f"  {level['location']:<14} on hand {level['on_hand']:>6}  held {level['held']:>5}  "
            f"pending {level['pending']:>5}  available {level['available']:>6}"
        )
    for view in views["channels"]:
        shown = "not pushed" if view["would_show"] is None else f"shows {view['would_show']}"
        pushed = "never pushed" if view["pushed"] is None else f"last pushed {view['pushed']} at {view['pushed_at']}"
        print(f"  {view['channel']:<14} {shown} ({view['mode']}; {pushed}): {'; '.join(view['steps'])}")
    for movement in body["movements"]:
        print(f"  {movement['at']}  {movement['kind']:<12} {movement['location']:<12} {movement['note']}")
    return 0


def problems(args: argparse.Namespace) -> int:
    with _client(args) as api:
        if args.retry or args.dismiss:
            action, problem_id = ("retry", args.retry) if args.retry else ("dismiss", args.dismiss)
            answer = api.post(f"/problems/{action}", json={"id": problem_id})
            if answer.status_code in (400, 404, 409):
                print(f"{action}: {answer.json()['message']}", file=sys.stderr)
                return 1 if answer.status_code != 409 else 2
            result = answer.raise_for_status().json()
            print(f"{action}: {result['detail']}")
            return 0 if result["resolved"] else 2
        found, after = [], ""
        while True:  # every open problem, a page at a time
            query: dict[str, Any] = {"limit": 200, "after": after} | ({"kind": args.kind} if args.kind else {})
            page = api.get("/problems", params=query).raise_for_status().json()
            found += page["problems"]
            if not page["next"]:
                break
            after = page["next"]
    for p in found:
        error = f"{p['message']} ({p['error']})" if p.get("message") else p["error"]
        print(f"{p['at']}  {p['kind']:<13} {p['channel']:<12} {p['subject']}: {p['why']} {error}".rstrip())
        print(f"    fix: {p['hint']}  [{' | '.join(p['actions'])}: {p['id']}]")
    print(f"{len(found)} open problem(s)")
    return 2 if found else 0


def history(args: argparse.Namespace) -> int:
    query: dict[str, Any] = {"limit": args.limit}
    for name in ("sku", "channel"):
        if getattr(args, name):
            query[name] = getattr(args, name)
    if args.failed:
        query["failed"] = "true"
    with _client(args) as api:
        entries = api.get("/sync-history", params=query).raise_for_status().json()["entries"]
    for e in entries:
        change = f"{'-' if e['before'] is None else e['before']} -> {e['after']}"
        error = f"{e['message']} ({e['error']})" if e.get("message") else e["error"]
        print(f"{e['at']}  {e['channel']:<12} {e['sku']:<24} {change:<12} {e['result']:<9} {e['why']}  {error}")
    return 0


def preview(args: argparse.Namespace) -> int:
    with _client(args) as api:
        body = channels.latest_preview(api, args.channel, args.timeout, start=args.again)
    print("\n".join(channels.preview_lines(body)))
    return 0


def go_live(args: argparse.Namespace) -> int:
    with _client(args) as api:
        job = channels.go_live(api, args.channel, args.timeout)
    print(f"{args.channel} is live: {job['applied']} differences pushed, {job['failed']} failed")
    return 0 if job["failed"] == 0 else 2


def import_file(args: argparse.Namespace) -> int:
    with _client(args) as api:
        return importing.run(api, args.file, args.check)


def import_from(args: argparse.Namespace) -> int:
    with _client(args) as api:
        return importing.import_from(api, args.source, add_new=args.add_new, check=args.check, timeout=args.timeout)


def import_orders(args: argparse.Namespace) -> int:
    with _client(args) as api:
        return importing.import_orders(api, args.scope, args.since, timeout=args.timeout)


def doctor(args: argparse.Namespace) -> int:
    with _client(args) as api:
        report = api.get("/connections").raise_for_status().json()
    for check in report["checks"]:
        mark = "ok  " if check["ok"] else "FAIL"
        print(f"{mark} {check['platform']:<12} {check['name']:<28} {check['detail']}")
        if check["fix"]:
            print(f"     {'':<12} {'':<28} fix: {check['fix']}")
    return 0 if report["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    commands = {
        "sync-now": sync_now,
        "preview": preview,
        "go-live": go_live,
        "import": import_file,
        "import-from": import_from,
        "stock": stock,
        "history": history,
        "problems": problems,
        "import-orders": import_orders,
        "doctor": doctor,
    }
    command = commands[args.command]
    try:
        return command(args)
    except (httpx.HTTPError, channels.NotReady) as error:
        print(f"omnistock: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

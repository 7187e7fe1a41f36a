"""A simulated live sale through the local stack: 20 SKUs, 50 concurrent viewers, 2,000 claims
sent as signed CommentSold webhooks, each cart then removed, checked out or left to expire;
30% of deliveries sent twice and the removals sometimes ahead of their claims. Then the
expiry sweep runs and the ledger is compared with the ground truth the answers imply.

Also, in-process on moto with the same code: DynamoDB write calls per claim, and the items the
expiry sweep reads per hold it expires with 10,000 live holds in the table.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.calls import CallCounter
from bench.local_stack import local_stack
from bench.moto_table import moto_table
from cli.channels import go_live

SKUS = 20
UNITS = 30  # per SKU: 600 units for 2,000 claims, so most SKUs sell out
VIEWERS = 50
CLAIMS = 2000
DUPLICATED = 0.3
TOKEN = "local-dev-token"  # noqa: S105 - the local stack's documented dev token
SECRET = "local-commentsold-webhook-secret"  # noqa: S105 - the local stack's development value
LIVE_HOLDS = 10_000
SEED = 7


def main() -> int:
    rng = random.Random(SEED)
    oversold = _through_the_stack(rng)
    _in_process()
    return 1 if oversold else 0


def _through_the_stack(rng: random.Random) -> int:
    from omnistock.channels.commentsold.webhooks import sign

    now = int(time.time())
    carts = [(n, rng.randrange(SKUS), rng.choice(["checkout", "removed", "expire"])) for n in range(CLAIMS)]
    rng.shuffle(carts)
    with local_stack() as url:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as admin:
            admin.put("/channels/live", json={"locations": ["shop"], "platform": "commentsold"}).raise_for_status()
            go_live(admin, "live")  # a new channel starts in shadow mode
            for sku in range(SKUS):
                listing = {"locations": ["shop"], "listings": {"live": str(1000 + sku)}}
                admin.put(f"/skus/LIVE-{sku}", json=listing).raise_for_status()
                count = {"location": "shop", "on_hand": UNITS, "version": 1, "event_id": f"count-{sku}"}
                admin.post(f"/skus/LIVE-{sku}/counts", json=count).raise_for_status()
            sold: Counter[int] = Counter()  # the ground truth: carts that held and checked out
            stats: Counter[str] = Counter()
            errors: list[str] = []
            lock = threading.Lock()
            lowest: list[int] = []
            queue = iter(carts)

            def send(http: httpx.Client, event: dict[str, Any]) -> dict[str, Any]:
                body = json.dumps(event).encode()
                signed = {"X-CommentSold-Signature": sign(body, SECRET), "Content-Type": "application/json"}
                copies = 2 if rng.random() < DUPLICATED else 1  # redelivered: the same delivery again
                answer: dict[str, Any] = {}
                for _ in range(copies):
                    response = http.post("/webhooks/commentsold", content=body, headers=signed)
                    with lock:
                        stats["deliveries"] += 1
                        stats["redelivered"] += answer != {}
                        if response.status_code != 200:
                            errors.append(f"{response.status_code} {response.text[:120]}")
                    answer = answer or response.json()
                return answer

            def viewer() -> None:
                with httpx.Client(base_url=url, timeout=60) as http:
                    for n, sku, fate in queue:
                        expires = now + (60 if fate == "expire" else 3600)
                        cart = {"id": n, "variant_id": 1000 + sku, "quantity": 1, "expires_at": expires}
                        claim: dict[str, Any] = {"id": f"c{n}", "topic": "reservation.created", "data": cart}
                        removal = {"id": f"r{n}", "topic": "reservation.deleted", "data": {"id": n}}
                        if fate == "removed" and rng.random() < 0.1:  # the removal overtakes its claim
                            send(http, removal)
                            held = send(http, claim).get("held", False)
                            with lock:
                                stats["claims"] += 1
                                stats["held_after_removal"] += held
                            continue
                        held = send(http, claim).get("held", False)
                        with lock:
                            stats["claims"] += 1
                            stats["held"] += held
                        if not held or fate == "expire":
                            continue  # refused: the waitlist; or the cart is left to expire
                        if fate == "removed":
                            send(http, removal)
                            continue
                        line = {"id": n, "variant_id": 1000 + sku, "quantity": 1, "price": 1500, "reservation_id": n}
                        data = {"id": 50_000 + n, "line_items": [line], "created_at": now, "updated_at": now}
                        send(http, {"id": f"o{n}", "topic": "order.created", "data": data})
                        with lock:
                            sold[sku] += 1

            done = threading.Event()

            def watch() -> None:
                with httpx.Client(base_url=url, headers=headers, timeout=60) as watcher:
                    while not done.is_set():
                        for sku in range(0, SKUS, 5):
                            lowest.append(watcher.get(f"/skus/LIVE-{sku}", params={"movements": 0}).json()["available"])

            started = time.perf_counter()
            reader = threading.Thread(target=watch)
            reader.start()
            with ThreadPoolExecutor(VIEWERS) as pool:
                for future in [pool.submit(viewer) for _ in range(VIEWERS)]:
                    future.result()
            elapsed = time.perf_counter() - started
            done.set()
            reader.join()
            time.sleep(max(0.0, now + 61 - time.time()))  # the carts left to expire are due now
            admin.post("/_local/schedules/HoldExpiryFunction").raise_for_status()
            mismatches = oversells = 0
            mismatched: list[str] = []
            for sku in range(SKUS):
                level = admin.get(f"/skus/LIVE-{sku}", params={"movements": 0}).json()["locations"][0]
                expected = (UNITS, 0, sold[sku], UNITS - sold[sku])
                found = (level["on_hand"], level["held"], level["pending"], level["available"])
                if found != expected:
                    mismatches += 1
                    mismatched.append(f"LIVE-{sku}: (on_hand, held, pending, available) {found}, truth {expected}")
                    mismatched.extend(_still_held(admin, [(n, fate) for n, s, fate in carts if s == sku]))
                oversells += max(0, level["held"] + level["pending"] - level["on_hand"])
    print(f"Live sale through the local stack: {SKUS} SKUs x {UNITS} units, {VIEWERS} viewers, {CLAIMS} claims")
    print(
        f"  deliveries {stats['deliveries']} ({stats['redelivered']} redelivered), errors {len(errors)}; "
        f"{elapsed:.1f} s, {stats['deliveries'] / elapsed:.0f} deliveries/s"
    )
    print(
        f"  claims held {stats['held']}, refused {stats['claims'] - stats['held'] - stats['held_after_removal']}; "
        f"claims held after their removal (must be 0): {stats['held_after_removal']}; checked out {sum(sold.values())}"
    )
    print(f"  final ledger against the ground truth: {SKUS - mismatches} of {SKUS} SKUs equal")
    print(f"  lowest available seen by a concurrent reader: {min(lowest) if lowest else 'n/a'}")
    print(f"  oversells: {oversells}")
    for error in errors[:5]:
        print(f"  error: {error}")
    for line in mismatched:
        print(f"  not equal: {line}")
    return oversells + mismatches + len(errors) + stats["held_after_removal"]


def _still_held(admin: httpx.Client, carts: list[tuple[int, str]]) -> list[str]:
    """The carts of a SKU whose hold is still active, with what the run did with them."""
    found = []
    for n, fate in carts:
        answer = admin.get(f"/holds/live:{n}")
        if answer.status_code == 200 and answer.json().get("state") == "active":
            found.append(f"    cart {n} ({fate}) still held: {answer.text[:300]}")
    return found


def _in_process() -> None:
    from omnistock.channels.commentsold import webhooks
    from omnistock.channels.commentsold import wiring as commentsold
    from omnistock.wiring import build

    moment = datetime(2026, 11, 23, 12, tzinfo=UTC)
    with moto_table(clock=lambda: moment) as (client, wiring):
        ledger = wiring.ledger
        ledger.set_channel("live", ["shop"], platform="commentsold")
        ledger.upsert_catalog("LIVE-0", ["shop"], {"live": "1000"})
        ledger.report_count("LIVE-0", "shop", 20_000, 1, "pos", "c")
        intake = commentsold.intake(wiring)
        channel = ledger.store.channel("live")
        assert channel is not None
        counter = CallCounter(client)
        claims = 200
        for n in range(claims):
            intake.claim(channel, webhooks.Claim(str(n), "1000", 1, None))
        writes = counter.writes
        print("In-process (moto, same code): a claim")
        print(f"  DynamoDB write calls per claim: {writes / claims:.2f}; calls per claim {counter.total / claims:.2f}")
        for n in range(LIVE_HOLDS):  # the live carts: far from expiring
            ledger.place_hold(f"live-{n}", "LIVE-0", "shop", 1, "live", f"l{n}", minutes=600)
        for n in range(100):
            ledger.place_hold(f"due-{n}", "LIVE-0", "shop", 1, "live", f"d{n}", minutes=1)
        later = build(wiring.config, wiring.clients, clock=lambda: moment + timedelta(minutes=5)).ledger
        counter.reset()
        report = later.expire_due_holds()
        live = LIVE_HOLDS + claims
        print(
            f"Expiry sweep with {live} live holds and 100 due: {report.expired} expired, {report.already_ended} raced"
        )
        print(f"  index items read per hold expired: {counter.items_read / max(1, report.expired):.2f}")

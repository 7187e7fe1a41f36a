"""The hot-SKU race: 16 concurrent clients make 500 hold attempts on a SKU with 50 units,
through the local stack's HTTP gateway (serialized moto behind it).

Exactly 50 must succeed, available must end at 0 and never be seen below 0.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.local_stack import local_stack

CLIENTS = 16
ATTEMPTS = 500
UNITS = 50
TOKEN = "local-dev-token"  # noqa: S105 - the local stack's documented dev token


def main() -> int:
    with local_stack() as url:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as admin:
            admin.put("/skus/HOT-1", json={"locations": ["shop"]}).raise_for_status()
            admin.post(
                "/skus/HOT-1/counts", json={"location": "shop", "on_hand": UNITS, "version": 1, "event_id": "count-1"}
            ).raise_for_status()

            seen: list[int] = []
            done = threading.Event()

            def watch() -> None:
                with httpx.Client(base_url=url, headers=headers, timeout=30) as watcher:
                    while not done.is_set():
                        response = watcher.get("/skus/HOT-1", params={"movements": 0})
                        if response.status_code != 200:
                            raise RuntimeError(f"reading stock failed: {response.status_code} {response.text}")
                        seen.append(response.json()["available"])

            statuses: list[int] = []
            failures: list[str] = []
            latencies: list[float] = []
            lock = threading.Lock()
            attempts = iter(range(ATTEMPTS))

            def client(worker: int) -> None:
                with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
                    for attempt in attempts:
                        body = {"hold_id": f"viewer-{worker}-{attempt}", "sku": "HOT-1", "location": "shop", "qty": 1}
                        started = time.perf_counter()
                        response = http.post("/holds", json=body)
                        status = response.status_code
                        with lock:
                            statuses.append(status)
                            if status not in (201, 409):
                                failures.append(f"{status} {response.text[:200]}")
                            latencies.append(time.perf_counter() - started)

            watcher = threading.Thread(target=watch)
            watcher.start()
            started = time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(client, range(CLIENTS)))
            elapsed = time.perf_counter() - started
            done.set()
            watcher.join()
            final = admin.get("/skus/HOT-1", params={"movements": 0}).json()["locations"][0]

    held = statuses.count(201)
    refused = statuses.count(409)
    errors = len(statuses) - held - refused
    oversells = max(0, held - UNITS) + max(0, -min([*seen, final["available"]]))
    print(f"Hot-SKU race through the local stack: {CLIENTS} clients, {ATTEMPTS} hold attempts, {UNITS} units")
    print(f"held {held}  refused {refused}  errors {errors}")
    print(f"final on_hand {final['on_hand']}  held {final['held']}  available {final['available']}")
    print(f"lowest available seen by a concurrent reader: {min(seen, default=final['available'])} ({len(seen)} reads)")
    print(
        f"hold latency p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {statistics.quantiles(latencies, n=100)[98] * 1000:.0f} ms; {ATTEMPTS / elapsed:.0f} attempts/s"
    )
    for failure in failures[:5]:
        print(f"error: {failure}")
    if failures:
        raise RuntimeError("hold attempts failed")
    print(f"oversells: {oversells}")
    ok = held == UNITS and final["available"] == 0 and errors == 0 and oversells == 0
    return 0 if ok else 1

"""`omnistock import FILE [--check]`: a catalog CSV sent to the admin API in parts of
``PART_ROWS`` rows (each with the header and its first line number), every part checked
before any is applied, so a file with a bad row changes nothing."""

from __future__ import annotations

import csv
import io
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

PART_ROWS = 200
PART_CHARS = 60_000  # the API takes at most 80,000 characters of CSV a request
WIDTH = 30
TOTALS = ("created", "updated", "counted", "unchanged")


@dataclass(frozen=True)
class Record:
    first: int  # the file's line it starts on
    last: int  # and ends on (the line the API names)
    fields: list[str]


def records(text: str) -> tuple[int, list[Record]]:
    """How many lines the header takes, and every non-empty record with its lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
    if next(reader, None) is None:
        return 0, []
    header_lines, found = reader.line_num, list[Record]()
    while True:
        before = reader.line_num
        fields = next(reader, None)
        if fields is None:
            return header_lines, found
        if fields:  # a blank line: skipped, as the API skips it
            found.append(Record(before + 1, reader.line_num, fields))


def parts(text: str) -> Iterator[tuple[int, str, list[Record]]]:
    """(the ``first_line`` to send, the part's text: the header and the file's own lines, the
    records) per part of at most PART_ROWS records and about PART_CHARS characters. The API
    then names the file's own line numbers."""
    lines = io.StringIO(text, newline="").readlines()
    header_lines, found = records(text)
    header = "".join(lines[:header_lines])
    part: list[Record] = []
    for record in [*found, None]:
        size = sum(len(line) for line in lines[part[0].first - 1 : part[-1].last]) if part else 0
        if part and (record is None or len(part) == PART_ROWS or size > PART_CHARS):
            body = header + "".join(lines[part[0].first - 1 : part[-1].last])
            yield part[0].first - (header_lines - 1), body, part
            part = []
        if record is not None:
            part.append(record)


def duplicates(text: str) -> list[dict[str, Any]]:
    """Rows naming a SKU x location an earlier row (in any part) named."""
    _, found = records(text)
    if not found:
        return []
    header = next(csv.reader(io.StringIO(text, newline="")))
    names = [name.strip() for name in header]
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for record in found:
        values = dict(zip(names, (field.strip() for field in record.fields), strict=False))
        key = (values.get("sku", ""), values.get("location", ""))
        if key in seen and all(key):
            problems.append(
                {"line": record.last, "message": f"SKU {key[0]!r} at {key[1]!r} is on line {seen[key]} already"}
            )
        seen.setdefault(key, record.last)
    return problems


def run(api: httpx.Client, path: str, check: bool) -> int:
    try:
        with open(path, "rb") as file:
            text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        print(f"{path} is not UTF-8 text: save it as CSV UTF-8", file=sys.stderr)
        return 1
    chunks = list(parts(text))
    total = sum(len(rows) for _, _, rows in chunks)
    problems = duplicates(text)
    for first, body, _ in chunks:  # everything checked before anything is applied
        answer = api.post("/catalog/import", json={"csv": body, "first_line": first, "check": True})
        if answer.status_code != 200:
            print(f"refused: {answer.status_code} {answer.json().get('message', answer.text)}", file=sys.stderr)
            return 1
        problems += answer.json()["problems"]
    seen_lines = set()
    for problem in sorted(problems, key=lambda p: p["line"]):
        if (problem["line"], problem["message"]) not in seen_lines:
            seen_lines.add((problem["line"], problem["message"]))
            print(f"line {problem['line']}: {problem['message']}", file=sys.stderr)
    if problems:
        print(f"{len(seen_lines)} problems in {total} rows: nothing was imported", file=sys.stderr)
        return 1
    if check:
        print(f"{total} rows checked: no problems")
        return 0
    sums = dict.fromkeys(TOTALS, 0)
    done = 0
    for first, body, rows in chunks:
        report = api.post("/catalog/import", json={"csv": body, "first_line": first}).raise_for_status().json()
        for name in TOTALS:
            sums[name] += report[name]
        for problem in report["problems"]:  # rows skipped on purpose (a master counts there)
            print(f"\nline {problem['line']}: {problem['message']}", file=sys.stderr)
        done += len(rows)
        filled = int(WIDTH * done / max(total, 1))
        print(f"\r[{'#' * filled}{'-' * (WIDTH - filled)}] {done}/{total} rows", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(", ".join(f"{name} {sums[name]}" for name in TOTALS))
    return 0


REPORTED = ("duplicate", "conflict", "only_in_channel", "only_in_ledger", "no_sku", "untracked", "refused")


def import_from(api: httpx.Client, source: str, *, add_new: bool, check: bool, timeout: float) -> int:
    """Import a platform's catalog (a channel's listings, or the POS's products and counts),
    following its job with a progress line, then print what it found by kind (the first 20
    of each; GET /catalog/imports/{id}?kind= pages through the rest)."""
    job = follow(
        api,
        api.post(f"/catalog/import-from/{source}", json={"add_new": add_new, "check": check}),
        "/catalog/imports/{}",
        lambda job: f"read {job['done']} from {source}",
        timeout,
        read=lambda body: body["job"],
    )
    if job is None or job["state"] != "done":
        return 1 if job is None else 3
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(job["reasons"].items())) or "nothing to report"
    verb = "checked (nothing changed)" if check else "imported"
    print(f"{source}: {job['done']} read, {verb}: {counts}")
    for kind in REPORTED:
        if not job["reasons"].get(kind):
            continue
        body = api.get(f"/catalog/imports/{job['job_id']}", params={"kind": kind, "limit": 20}).raise_for_status()
        print(f"{kind}:")
        for line in body.json()["lines"]:
            print(f"  {line['sku']:<28} {line['detail']}")
    return 0 if not job["failed"] else 2


def import_orders(api: httpx.Client, scope: str, since: str | None, *, timeout: float) -> int:
    """Write web orders into the POS by hand, following the job; then how many orders ended
    how (imported, unchanged: in the POS already, skipped, refused: see `omnistock problems`)."""
    job = follow(
        api,
        api.post("/pos-sales/imports", json={"scope": scope} | ({"since": since} if since else {})),
        "/pos-sales/imports/{}",
        lambda job: f"read {job['done']} orders, imported {job['applied']}",
        timeout,
    )
    if job is None or job["state"] != "done":
        return 1 if job is None else 3
    counts = ", ".join(f"{kind} {n}" for kind, n in sorted(job["reasons"].items())) or "no orders"
    print(f"web orders into the POS: {job['done']} read: {counts}")
    if job["failed"]:
        print("refused orders keep their reason: omnistock problems --kind not_imported")
    return 0 if not job["failed"] else 2


def follow(
    api: httpx.Client,
    started: httpx.Response,
    path: str,
    progress: Callable[[dict[str, Any]], str],
    timeout: float,
    read: Callable[[dict[str, Any]], dict[str, Any]] = lambda body: body,
) -> dict[str, Any] | None:
    """A started job, followed with a progress line until it is done or ``timeout`` runs out
    (then said where to follow it); None (and why, printed) if it did not start."""
    if started.status_code != 202:
        print(f"could not start: {started.status_code} {started.text}", file=sys.stderr)
        return None
    job: dict[str, Any] = started.json()
    deadline = time.monotonic() + timeout
    while job["state"] != "done":
        print("\r" + progress(job), end="", file=sys.stderr, flush=True)
        if time.monotonic() > deadline:
            print(f"\nstill running: follow it at {path.format(job['job_id'])}", file=sys.stderr)
            return job
        time.sleep(0.5)
        job = read(api.get(path.format(job["job_id"])).raise_for_status().json())
    print(file=sys.stderr)
    return job

"""`omnistock import FILE [--check]`: a catalog CSV sent to the admin API in parts of
``PART_ROWS`` rows (each with the header and its first line number), every part checked
before any is applied, so a file with a bad row changes nothing."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from typing import Any

import httpx

PART_ROWS = 200
PART_CHARS = 60_000  # the API takes at most 80,000 characters of CSV a request
WIDTH = 30
TOTALS = ("created", "updated", "counted", "unchanged")


def parts(text: str) -> Iterator[tuple[int, str, list[tuple[int, list[str]]]]]:
    """(first line, CSV text with the header, the rows with their line numbers) per part."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    rows: list[tuple[int, list[str]]] = []
    size = 0
    while True:
        line = reader.line_num + 1
        record = next(reader, None)
        if record is None or len(rows) == PART_ROWS or size > PART_CHARS:
            if rows:
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(header)
                writer.writerows(row for _, row in rows)
                yield rows[0][0], out.getvalue(), rows
            rows, size = [], 0
        if record is None:
            return
        rows.append((line, record))
        size += sum(len(field) + 3 for field in record)


def duplicates(text: str) -> list[dict[str, Any]]:
    """Rows naming a SKU x location an earlier row (in any part) named."""
    reader = csv.DictReader(io.StringIO(text))
    seen: dict[tuple[str, str], int] = {}
    found = []
    for offset, record in enumerate(reader):
        key = ((record.get("sku") or "").strip(), (record.get("location") or "").strip())
        line = offset + 2
        if key in seen and all(key):
            found.append({"line": line, "message": f"SKU {key[0]!r} at {key[1]!r} is on line {seen[key]} already"})
        seen.setdefault(key, line)
    return found


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

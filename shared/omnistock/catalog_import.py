"""A catalog from a CSV: one row per SKU x location.

Columns: ``sku``, ``location``, ``on_hand`` (required), ``title``, and one ``listing:<channel>``
column per channel (its listing id, e.g. Shopify's inventory item id). The whole text is
checked first: every bad row is reported with its line number, and a request with any bad
row changes nothing. Then each SKU is saved as a merge (its locations and listings added to
what it has, nothing dropped) and each count applied as an absolute count, unless nothing
would change: importing the same file again writes nothing.

A location counted by a master (the POS, at a version) is not overwritten: that row is
reported and skipped; a location the import counted before (or never counted) is set.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from omnistock.clock import iso, utc_now
from omnistock.errors import InvalidRequest
from omnistock.ledger import Ledger
from omnistock.models import CatalogEntry, StockLevel
from omnistock.store.stock_store import StockStore

REQUIRED = ("sku", "location", "on_hand")
LISTING_PREFIX = "listing:"
MAX_UNITS = 1_000_000
MAX_TEXT = 200
MAX_ROWS = 250  # a request's share: about two writes a row must fit the API's 10-second timeout
IMPORT_VERSION = 0  # below every master's version: the POS's first count wins over an import


@dataclass(frozen=True)
class ImportRow:
    line: int
    sku: str
    location: str
    on_hand: int
    title: str = ""
    listings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    skus: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    created: int = 0  # SKUs new to the catalog
    updated: int = 0  # SKUs that gained a location, a listing or a title
    counted: int = 0  # counts applied
    unchanged: int = 0  # rows that changed nothing
    applied: bool = False  # False: checked only (or refused for its problems)


def parse(text: str, first_line: int = 2) -> tuple[list[ImportRow], list[RowProblem], int]:
    """Rows, problems and how many rows a CSV text has (its header first; ``first_line``: the
    file's line number of the first row after the header, for a part of a larger file)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidRequest(f"the CSV's header must name {', '.join(REQUIRED)}; missing: {', '.join(missing)}")
    reader.fieldnames = header
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    total = 0
    for offset, record in enumerate(reader):
        total += 1
        line = first_line + offset
        row = _row(line, record)
        if isinstance(row, str):
            problems.append(RowProblem(line, row))
            continue
        key = (row.sku, row.location)
        if key in seen:
            problems.append(RowProblem(line, f"SKU {row.sku!r} at {row.location!r} is on line {seen[key]} already"))
            continue
        seen[key] = line
        rows.append(row)
    return rows, problems, total


def _row(line: int, record: dict[str | None, str | list[str] | None]) -> ImportRow | str:
    """The row, or what is wrong with it."""
    if None in record:
        return "more fields than the header names"
    values = {str(name): (value or "").strip() for name, value in record.items() if isinstance(value, str | None)}
    sku, location, units = values.get("sku", ""), values.get("location", ""), values.get("on_hand", "")
    for name, value in (("sku", sku), ("location", location), ("title", values.get("title", ""))):
        if len(value) > MAX_TEXT or any(ord(c) < 32 or ord(c) == 127 for c in value):
            return f"{name} is longer than {MAX_TEXT} characters or holds control characters"
    if not sku or not location:
        return "sku and location are required"
    if not (units.isascii() and units.isdigit()) or int(units) > MAX_UNITS:
        return f"on_hand must be a whole number from 0 to {MAX_UNITS:,}, not {units[:20]!r}"
    listings = {
        name.removeprefix(LISTING_PREFIX): value
        for name, value in values.items()
        if name.startswith(LISTING_PREFIX) and value
    }
    return ImportRow(line, sku, location, int(units), values.get("title", ""), listings)


class CatalogImport:
    def __init__(self, ledger: Ledger, stock: StockStore, clock: Callable[[], datetime] = utc_now) -> None:
        self.ledger = ledger
        self.stock = stock
        self.clock = clock

    def run(self, text: str, *, first_line: int = 2, check: bool = False) -> ImportReport:
        rows, problems, total = parse(text, first_line)
        if total > MAX_ROWS:
            raise InvalidRequest(f"at most {MAX_ROWS} rows a request: send the file in parts (omnistock import does)")
        known = {location for channel in self.stock.channels() for location in channel.locations}
        problems += [
            RowProblem(row.line, f"location {row.location!r} is not one any channel sells from (PUT /channels first)")
            for row in rows
            if row.location not in known
        ]
        by_sku: dict[str, list[ImportRow]] = {}
        for row in rows:
            by_sku.setdefault(row.sku, []).append(row)
        report = ImportReport(rows=total, skus=len(by_sku), problems=sorted(problems, key=lambda p: p.line))
        if problems or check:
            return report
        entries = self.stock.catalogs(list(by_sku))
        levels = self.stock.levels_at([(row.sku, row.location) for row in rows])
        for sku, sku_rows in by_sku.items():
            self._save(sku, sku_rows, entries.get(sku), report)
            for row in sku_rows:
                self._count(row, levels.get((sku, row.location)), report)
        report.applied = True
        return report

    def _save(self, sku: str, rows: list[ImportRow], entry: CatalogEntry | None, report: ImportReport) -> None:
        locations = list(dict.fromkeys([*(entry.locations if entry else ()), *(row.location for row in rows)]))
        listings = dict(entry.listings) if entry else {}
        for row in rows:
            listings.update(row.listings)
        title = next((row.title for row in rows if row.title), entry.title if entry else "")
        if entry is not None and (list(entry.locations), entry.listings, entry.title) == (locations, listings, title):
            return
        self.ledger.upsert_catalog(sku, locations, listings, title)  # a merge: nothing it had is dropped
        if entry is None:
            report.created += 1
        else:
            report.updated += 1

    def _count(self, row: ImportRow, level: StockLevel | None, report: ImportReport) -> None:
        if level is not None and level.on_hand == row.on_hand:
            report.unchanged += 1
            return
        if level is not None and level.master_version not in (None, IMPORT_VERSION):
            report.problems.append(
                RowProblem(
                    row.line, f"{row.location!r} is counted by its master (version {level.master_version}): kept"
                )
            )
            return
        event_id = f"import:{row.sku}:{row.location}:{row.on_hand}:{iso(self.clock())}"
        self.ledger.report_count(
            row.sku, row.location, row.on_hand, IMPORT_VERSION, "import", event_id, reset_version=True
        )
        report.counted += 1

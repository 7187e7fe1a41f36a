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
import re
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
IMPORT_VERSION = 0
_CHANNEL = re.compile(r"^[a-z0-9_-]{1,40}$")  # below every master's version: the POS's first count wins over an import


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
    file's line number of the text's second line, for a part of a larger file). A row's line is
    the line it ends on."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        raise InvalidRequest(f"this is not CSV text: {error}") from None
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidRequest(f"the CSV's header must name {', '.join(REQUIRED)}; missing: {', '.join(missing)}")
    bad_columns = [name for name in header if name.startswith(LISTING_PREFIX) and not _CHANNEL.match(name[8:])]
    if bad_columns:
        raise InvalidRequest(f"listing columns are listing:<channel> (a-z, 0-9, _ and -): not {bad_columns[0]!r}")
    reader.fieldnames = header
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    total = 0
    while True:
        try:
            record = next(reader, None)
        except csv.Error as error:
            raise InvalidRequest(f"this is not CSV text: {error}") from None
        if record is None:
            return rows, problems, total
        total += 1
        line = first_line - 2 + reader.line_num
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
    for channel, listing_id in listings.items():
        if len(listing_id) > MAX_TEXT or any(ord(c) < 32 or ord(c) == 127 for c in listing_id):
            return f"the {channel} listing is longer than {MAX_TEXT} characters or holds control characters"
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
        channels = self.stock.channels()
        known = {location for channel in channels for location in channel.locations}
        problems += [
            RowProblem(row.line, f"location {row.location!r} is not one any channel sells from (PUT /channels first)")
            for row in rows
            if row.location not in known
        ]
        problems += self._listing_problems(rows, {channel.name for channel in channels})
        by_sku: dict[str, list[ImportRow]] = {}
        for row in rows:
            by_sku.setdefault(row.sku, []).append(row)
        report = ImportReport(rows=total, skus=len(by_sku), problems=sorted(problems, key=lambda p: p.line))
        if problems or check:
            return report
        entries = self.stock.catalogs(list(by_sku))
        for sku, sku_rows in by_sku.items():
            self._save(sku, sku_rows, entries.get(sku), report)
        # Read after the saves: adding a SKU applies the POS counts kept for it, which then win.
        levels = self.stock.levels_at([(row.sku, row.location) for row in rows])
        for row in rows:
            self._count(row, levels.get((row.sku, row.location)), report)
        report.applied = True
        return report

    def _listing_problems(self, rows: list[ImportRow], channels: set[str]) -> list[RowProblem]:
        """Listings of unknown channels, one listing id on two SKUs in the file, or one that
        another SKU already owns: found before anything is written."""
        problems = []
        claimed: dict[tuple[str, str], ImportRow] = {}
        for row in rows:
            for channel, listing_id in row.listings.items():
                if channel not in channels:
                    problems.append(
                        RowProblem(row.line, f"channel {channel!r} is not configured (PUT /channels first)")
                    )
                    continue
                first = claimed.setdefault((channel, listing_id), row)
                if first.sku != row.sku:
                    problems.append(
                        RowProblem(
                            row.line, f"{channel} listing {listing_id!r} is SKU {first.sku!r}'s (line {first.line})"
                        )
                    )
        owners = self.stock.listing_owners(list(claimed))
        for (channel, listing_id), row in claimed.items():
            owner = owners.get((channel, listing_id))
            if owner is not None and owner != row.sku:
                problems.append(RowProblem(row.line, f"{channel} listing {listing_id!r} belongs to SKU {owner!r}"))
        return problems

    def _save(self, sku: str, rows: list[ImportRow], entry: CatalogEntry | None, report: ImportReport) -> None:
        locations = list(dict.fromkeys([*(entry.locations if entry else ()), *(row.location for row in rows)]))
        listings = dict(entry.listings) if entry else {}
        for row in rows:
            listings.update(row.listings)
        title = next((row.title for row in rows if row.title), entry.title if entry else "")
        if entry is not None and (list(entry.locations), entry.listings, entry.title) == (locations, listings, title):
            return
        self.ledger.upsert_catalog(
            sku, locations, listings, title, entry_way="file"
        )  # a merge: nothing it had is dropped
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

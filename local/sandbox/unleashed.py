"""Unleashed sandbox: TEST EQUIPMENT, not an Unleashed implementation.

``UnleashedSandbox`` stands in for ``https://api.unleashedsoftware.com`` for one account, so the
local stack and the tests can move an ERP warehouse's stock and watch Omnistock follow. It serves:

1. ``GET /StockOnHand[/{page}]?modifiedSince=&pageSize=&warehouseCode=``: one row per product and
   warehouse (``QtyOnHand``, ``AllocatedQty``, ``AvailableQty``, ``LastModifiedOn`` as
   ``/Date(ms)/``), plus each product's all-warehouse total (a blank ``WarehouseCode``), as
   ``{"Pagination": {...}, "Items": [...]}``, oldest change first. ``pageSize`` 1 to 1000 (else
   400); ``modifiedSince`` as ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS`` (UTC), inclusive.
2. Every request is checked as Unleashed does: ``api-auth-id`` must be the account's and
   ``api-auth-signature`` the base64 HMAC-SHA256 of the query string exactly as sent, keyed with
   the API key; otherwise 403. Every API request is counted (``counters``), per month.
3. ``POST /SalesOrders/{guid}`` (the caller chooses the Guid: a second POST of it answers 400
   "already exists", which of an error or an update Unleashed answers being unverified) and ``GET
   /SalesOrders/{guid}``. A sales order is refused (400, ``Description`` says why) unless its
   customer, warehouse and product codes exist and ``SubTotal`` = Σ ``LineTotal``, ``TaxTotal`` =
   Σ ``LineTax``, ``Total`` = both, each ``LineTotal`` = ``UnitPrice`` times ``OrderQuantity``, to the
   cent. ``DELETE /SalesOrders/{guid}`` deletes a Parked or Placed order (releasing what it
   allocated) and refuses one further along (400). A ``Placed`` order allocates its units (the
   stock row's ``AllocatedQty`` and modified time move on after the order's own).
   ``lose_next_answers`` commits the next POST and answers 504.
4. ``POST /CreditNotes/{guid}`` (``CreditLines`` by product code: their units are back on hand
   at the warehouse), ``GET /CreditNotes/{guid}`` and ``DELETE /CreditNotes/{guid}`` (the units
   are taken off again) [the shape is a guess: Unleashed's page was
   not readable].
5. ``GET /Customers?customerCode=`` and ``POST /Customers/{guid}`` (a code in use: 400); the
   customer "WEB" exists from the start.
6. ``GET /SalesShipments[/{page}]?modifiedSince=&pageSize=``: shipments made with ``dispatch``
   (``ShipmentStatus`` "Dispatched", ``SalesOrderNumber``, ``TrackingNumber``, ``Courier``, lines by
   product code), oldest change first; dispatching a sales order moves its status to "Dispatched".
7. ``GET /Products[/{page}]?modifiedSince=&productCode=&pageSize=`` (``Guid``, ``ProductCode``,
   ``ProductDescription``, ``Barcode``, ``DefaultSellPrice``, ``Obsolete``, ``LastModifiedOn``) and
   ``POST /Products/{guid}``: creates the product, or updates the one with that Guid; a code
   another Guid has answers 400 "already exists" [how Unleashed answers either is unverified].
   ``edit_product`` is staff editing one in Unleashed.
8. Control routes without auth under ``/_sandbox/unleashed/``: ``POST products {"code", "stock":
   {"<warehouse>": qty}}``, ``POST stock {"code", "warehouse", "on_hand"?, "allocated"?}`` (a
   receipt, a count or an allocation: the row's ``LastModifiedOn`` moves on), ``GET stock`` (every
   row: on hand, allocated, available),
   ``POST faults/fail {"n", "status"}``, ``GET counters``, ``POST reset``.

Times come from ``clock`` (seconds); each change takes a later millisecond than the last, as a
client that orders rows by it expects. All state sits behind one lock.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from local.sandbox.server import (
    HeadersIn,
    LoopbackSandbox,
    LoopbackServer,
    SandboxResponse,
    json_response,
    lower_headers,
)
from omnistock.channels.unleashed.signing import query_signature

log = logging.getLogger("local.sandbox.unleashed")

CONTROL = "/_sandbox/unleashed"
MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 1000, 200


@dataclass
class _Row:
    on_hand: float = 0.0
    allocated: float = 0.0
    modified_ms: int = 0


@dataclass
class _State:
    products: dict[str, str] = field(default_factory=dict)  # code -> guid
    details: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> the product's fields
    stock: dict[tuple[str, str], _Row] = field(default_factory=dict)  # (code, warehouse) -> row
    calls: Counter[str] = field(default_factory=Counter)  # by month
    refused: int = 0
    fail_next: int = 0
    fail_status: int = 503
    lose_answers: int = 0
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> sales order
    shipments: list[dict[str, Any]] = field(default_factory=list)
    credits: dict[str, dict[str, Any]] = field(default_factory=dict)  # guid -> credit note
    customers: set[str] = field(default_factory=lambda: {"WEB"})
    counters_customers: int = 0  # customers created through the API


class UnleashedSandbox(LoopbackSandbox):
    """TEST EQUIPMENT: a local stand-in for one Unleashed account."""

    log = log  # the base class logs its banner here

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_id: str = "local-unleashed-api-id",
        api_key: str = "local-unleashed-api-key",  # a fixed local value
        warehouses: Iterable[str] = ("MAIN",),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_id, self.api_key = api_id, api_key
        self.warehouses = tuple(warehouses)
        self._clock = clock
        self._lock = threading.RLock()
        self._state = _State()
        self._last_ms = 0
        self._server = LoopbackServer(self.handle, host, port, "unleashed-sandbox", log)

    @property
    def api_base(self) -> str:
        return self.url

    def credentials(self) -> dict[str, str]:
        """What the product keeps in its secret."""
        return {"api_id": self.api_id, "api_key": self.api_key}

    def banner(self) -> str:
        return f"Unleashed sandbox (test equipment), warehouses {', '.join(self.warehouses)}"

    # ---- the world
    def add_product(self, code: str, stock: dict[str, float] | None = None) -> str:
        """A product with stock on hand per warehouse (0 where not given); its guid."""
        if not isinstance(code, str) or not code.strip():
            raise ValueError("code is a non-empty string")
        with self._lock:
            if code in self._state.products:
                raise ValueError(f"product {code!r} exists")
            self._state.products[code] = str(uuid.uuid4())
            self._state.details[code] = _product(self._state.products[code], code, self._tick())
            for warehouse in self.warehouses:
                self._state.stock[(code, warehouse)] = _Row(float((stock or {}).get(warehouse, 0)), 0.0, self._tick())
            return self._state.products[code]

    def edit_product(
        self,
        code: str,
        *,
        description: str | None = None,
        barcode: str | None = None,
        price: float | None = None,
        obsolete: bool | None = None,
    ) -> int:
        """Staff edit a product in Unleashed: its fields and its modified time move on."""
        with self._lock:
            product = self._state.details[code]
            changes = {"ProductDescription": description, "Barcode": barcode, "DefaultSellPrice": price}
            product.update({k: v for k, v in changes.items() if v is not None})
            if obsolete is not None:
                product["Obsolete"] = obsolete
            product["_ms"] = self._tick()
            product["LastModifiedOn"] = f"/Date({product['_ms']})/"
            return int(product["_ms"])

    def product(self, code: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._state.details.get(code)
            return {k: v for k, v in found.items() if k != "_ms"} if found else None

    def set_stock(self, code: str, warehouse: str, on_hand: float | None = None, allocated: float | None = None) -> int:
        """A receipt, a count or an allocation: the row changes and its modified time moves on."""
        with self._lock:
            row = self._row(code, warehouse)
            row.on_hand = float(on_hand) if on_hand is not None else row.on_hand
            row.allocated = float(allocated) if allocated is not None else row.allocated
            row.modified_ms = self._tick()
            return row.modified_ms

    def available(self, code: str, warehouse: str) -> float:
        with self._lock:
            row = self._row(code, warehouse)
            return row.on_hand - row.allocated

    def stock_rows(self) -> list[dict[str, Any]]:
        """Every product's row at every warehouse: on hand, allocated and available."""
        with self._lock:
            return [
                {"code": code, "warehouse": warehouse, "on_hand": row.on_hand, "allocated": row.allocated}
                | {"available": row.on_hand - row.allocated}
                for (code, warehouse), row in sorted(self._state.stock.items())
            ]

    def counters(self) -> dict[str, Any]:
        with self._lock:
            state = self._state
            return {"calls": dict(state.calls), "refused": state.refused, "customers_created": state.counters_customers}

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        with self._lock:
            self._state.fail_next, self._state.fail_status = int(n), int(status)

    def lose_next_answers(self, n: int = 1) -> None:
        """The next ``n`` writes (creates and deletes) commit, then answer 504 (the answer lost)."""
        with self._lock:
            self._state.lose_answers = int(n)

    def dispatch(self, order_guid: str, tracking: str = "", courier: str = "NZ Post") -> dict[str, Any]:
        """Staff dispatch a sales order in Unleashed: a shipment of all its lines, with tracking."""
        with self._lock:
            order = self._state.orders.get(order_guid)
            if order is None:
                raise KeyError(f"no sales order {order_guid!r}")
            ms = self._tick()
            order.update(OrderStatus="Dispatched", LastModifiedOn=f"/Date({ms})/")
            lines = [
                {"ProductCode": line["Product"]["ProductCode"], "ShipmentQty": line["OrderQuantity"]}
                for line in order["SalesOrderLines"]
                if line.get("LineType") != "Charge"
            ]
            shipment = {
                "Guid": str(uuid.uuid4()),
                "SalesOrderNumber": order["OrderNumber"],
                "ShipmentStatus": "Dispatched",
            }
            shipment |= {"TrackingNumber": tracking, "Courier": {"CourierName": courier}, "SalesShipmentLines": lines}
            shipment |= {"LastModifiedOn": f"/Date({ms})/", "_ms": ms}
            self._state.shipments.append(shipment)
            return {k: v for k, v in shipment.items() if k != "_ms"}

    def sales_orders(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._state.orders.values()))

    def reset(self) -> None:
        with self._lock:
            self._state = _State()

    # ---- HTTP
    def handle(self, method: str, target: str, headers: HeadersIn | None, body: bytes) -> SandboxResponse:
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        if path == CONTROL or path.startswith(CONTROL + "/"):
            return self._control(method.upper(), path[len(CONTROL) :].strip("/"), parts.query, body)
        with self._lock:
            given = lower_headers(headers)
            signature_ok = given.get("api-auth-signature", "") == query_signature(parts.query, self.api_key)
            if given.get("api-auth-id") != self.api_id or not signature_ok:
                self._state.refused += 1
                return json_response(403, {"Description": "Forbidden: the API id or signature does not match"})
            self._state.calls[datetime.fromtimestamp(self._clock(), tz=UTC).strftime("%Y-%m")] += 1
            if self._state.fail_next > 0:
                self._state.fail_next -= 1
                return json_response(self._state.fail_status, {"Description": "sandbox fault injection"})
            return self._route(method.upper(), path.strip("/").split("/"), parts.query, body)

    def _route(self, method: str, route: list[str], raw_query: str, body: bytes) -> SandboxResponse:  # noqa: PLR0911
        query = {k: v[-1] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        page = route[1] if len(route) == 2 else "1"
        if route[0] == "SalesOrders" and len(route) == 2 and method in ("GET", "POST", "DELETE"):
            return self._sales_order(method, route[1], body)
        if route[0] == "CreditNotes" and len(route) == 2 and method in ("GET", "POST", "DELETE"):
            return self._credit_note(method, route[1], body)
        if route[0] == "Products" and method == "POST" and len(route) == 2:
            return self._save_product(route[1], body)
        if route[0] == "Products" and method == "GET" and len(route) <= 2:
            wanted = query.get("productCode", "")
            return _listed(
                page,
                query,
                lambda since: sorted(
                    (
                        p
                        for p in self._state.details.values()
                        if (since is None or p["_ms"] >= since) and (not wanted or p["ProductCode"] == wanted)
                    ),
                    key=lambda p: (p["_ms"], p["ProductCode"]),
                ),
            )
        if route[0] == "Customers":
            return self._customers(method, route, query, body)
        if method == "GET" and route[0] == "SalesShipments" and len(route) <= 2:
            return self._shipments(page, query)
        if method == "GET" and route[0] == "StockOnHand" and len(route) <= 2:
            return self._stock_on_hand(page, query)
        return json_response(404, {"Description": "not found"})

    def _stock_on_hand(self, page_text: str, query: dict[str, str]) -> SandboxResponse:
        wanted = query.get("warehouseCode", "")

        def rows(since: int | None) -> list[dict[str, Any]]:
            found = []
            for code, guid in self._state.products.items():
                mine = [(w, self._state.stock[(code, w)]) for w in self.warehouses if not wanted or w == wanted]
                for warehouse, row in mine:
                    if since is None or row.modified_ms >= since:
                        found.append(_item(code, guid, warehouse, row))
                if mine and not wanted and (since is None or max(r.modified_ms for _, r in mine) >= since):
                    total = _Row(sum(r.on_hand for _, r in mine), sum(r.allocated for _, r in mine))
                    total.modified_ms = max(r.modified_ms for _, r in mine)
                    found.append(_item(code, guid, "", total))  # the all-warehouse total
            return sorted(found, key=lambda item: (item["_ms"], item["ProductCode"], item["WarehouseCode"]))

        return _listed(page_text, query, rows)

    def _shipments(self, page_text: str, query: dict[str, str]) -> SandboxResponse:
        return _listed(
            page_text, query, lambda since: [s for s in self._state.shipments if since is None or s["_ms"] >= since]
        )

    def _sales_order(self, method: str, guid: str, body: bytes) -> SandboxResponse:
        state = self._state
        if method in ("GET", "DELETE") and guid not in state.orders:
            return json_response(404, {"Description": "not found"})
        if method == "GET":
            return json_response(200, state.orders[guid])
        if method == "DELETE":
            return self._delete_order(guid)
        if guid in state.orders:
            return json_response(400, {"Description": f"Sales order {guid} already exists"})
        try:
            order = json.loads(body)
            refusal = self._order_refusal(order)
        except (ValueError, TypeError, KeyError, ArithmeticError) as error:
            refusal = f"malformed sales order: {type(error).__name__}"
            order = {}
        if refusal:
            return json_response(400, {"Description": refusal})
        warehouse = order["Warehouse"]["WarehouseCode"]
        stored = copy.deepcopy(order) | {"Guid": guid, "LastModifiedOn": f"/Date({self._tick()})/"}
        state.orders[guid] = stored
        if order.get("OrderStatus") == "Placed":
            for line in order["SalesOrderLines"]:
                if line.get("LineType") != "Charge":
                    row = self._row(line["Product"]["ProductCode"], warehouse)
                    row.allocated += float(line["OrderQuantity"])
                    row.modified_ms = self._tick()
        return self._maybe_lost(json_response(201, stored))

    def _save_product(self, guid: str, body: bytes) -> SandboxResponse:
        state = self._state
        try:
            given = json.loads(body)
            code = str(given["ProductCode"]).strip()
        except (ValueError, TypeError, KeyError):
            return json_response(400, {"Description": "malformed product: ProductCode is required"})
        owner = state.products.get(code)
        if owner is not None and owner != guid:
            return json_response(400, {"Description": f"Product code {code!r} already exists"})
        previous = next((c for c, g in state.products.items() if g == guid), None)
        if previous is not None and previous != code:
            return json_response(400, {"Description": "a product's code cannot be changed"})
        if previous is None:  # a new product: a stock row at every warehouse
            state.products[code] = guid
            state.details[code] = _product(guid, code, 0)
            for warehouse in self.warehouses:
                state.stock[(code, warehouse)] = _Row(0.0, 0.0, self._tick())
        product = state.details[code]
        for name in ("ProductDescription", "Barcode", "DefaultSellPrice", "Obsolete"):
            if name in given:
                product[name] = given[name]
        product["_ms"] = self._tick()
        product["LastModifiedOn"] = f"/Date({product['_ms']})/"
        return self._maybe_lost(json_response(201, {k: v for k, v in product.items() if k != "_ms"}))

    def _credit_note(self, method: str, guid: str, body: bytes) -> SandboxResponse:
        """Units taken back: their products' stock on hand goes up at the warehouse."""
        state = self._state
        if method == "GET":
            found = state.credits.get(guid)
            return json_response(200, found) if found else json_response(404, {"Description": "not found"})
        if method == "DELETE":
            return self._delete_credit(guid)
        if guid in state.credits:
            return json_response(400, {"Description": f"Credit note {guid} already exists"})
        try:
            note = json.loads(body)
            warehouse = note["Warehouse"]["WarehouseCode"]
            rows = [
                (self._row(line["Product"]["ProductCode"], warehouse), float(line["CreditQuantity"]))
                for line in note["CreditLines"]
            ]
        except (ValueError, TypeError, KeyError) as error:
            return json_response(400, {"Description": f"malformed credit note: {error}"})
        for row, quantity in rows:
            row.on_hand += quantity
            row.modified_ms = self._tick()
        state.credits[guid] = note | {"Guid": guid, "LastModifiedOn": f"/Date({self._tick()})/"}
        return self._maybe_lost(json_response(201, state.credits[guid]))

    def _delete_credit(self, guid: str) -> SandboxResponse:
        """The units a deleted credit note gave back are taken off again."""
        note = self._state.credits.pop(guid, None)
        if note is None:
            return json_response(404, {"Description": "not found"})
        for line in note["CreditLines"]:
            row = self._row(line["Product"]["ProductCode"], note["Warehouse"]["WarehouseCode"])
            row.on_hand -= float(line["CreditQuantity"])
            row.modified_ms = self._tick()
        return self._maybe_lost(SandboxResponse(204, [], b""))

    def _maybe_lost(self, answer: SandboxResponse) -> SandboxResponse:
        """A write done: its answer, or a 504 when ``lose_next_answers`` says to lose it."""
        if self._state.lose_answers > 0:
            self._state.lose_answers -= 1
            return json_response(504, {"Description": "gateway timeout"}, [("X-Sandbox-Fault", "1")])
        return answer

    def _customers(self, method: str, route: list[str], query: dict[str, str], body: bytes) -> SandboxResponse:
        """``GET /Customers?customerCode=`` and ``POST /Customers/{guid}`` (a code in use: 400)."""
        state = self._state
        if method == "GET" and len(route) <= 2:
            code = query.get("customerCode", "")
            found = [{"CustomerCode": c} for c in sorted(state.customers) if not code or c == code]
            pagination = {"NumberOfItems": len(found), "PageSize": 200, "PageNumber": 1, "NumberOfPages": 1}
            return json_response(200, {"Pagination": pagination, "Items": found})
        if method == "POST" and len(route) == 2:
            try:
                customer = json.loads(body)
                code = str(customer["CustomerCode"])
            except (ValueError, TypeError, KeyError) as error:
                return json_response(400, {"Description": f"malformed customer: {error}"})
            if code in state.customers:
                return json_response(400, {"Description": f"Customer code {code} already exists"})
            state.customers.add(code)
            state.counters_customers += 1
            return json_response(201, customer | {"Guid": route[1]})
        return json_response(404, {"Description": "not found"})

    def credit_notes(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._state.credits.values()))

    def _delete_order(self, guid: str) -> SandboxResponse:
        """A Parked or Placed order can be deleted (its allocation released); one picked or
        further along cannot: 400, as Unleashed refuses changes past that point."""
        order = self._state.orders[guid]
        if order.get("OrderStatus") not in ("Parked", "Placed"):
            return json_response(400, {"Description": f"A {order.get('OrderStatus')} sales order cannot be deleted"})
        if order.get("OrderStatus") == "Placed":
            for line in order["SalesOrderLines"]:
                if line.get("LineType") != "Charge":
                    row = self._row(line["Product"]["ProductCode"], order["Warehouse"]["WarehouseCode"])
                    row.allocated -= float(line["OrderQuantity"])
                    row.modified_ms = self._tick()
        del self._state.orders[guid]
        return self._maybe_lost(SandboxResponse(204, [], b""))

    def _order_refusal(self, order: dict[str, Any]) -> str:  # noqa: PLR0911 - one check, one answer
        from decimal import Decimal

        def cents(value: Any) -> Decimal:
            return Decimal(str(value)).quantize(Decimal("0.01"))

        if order["Customer"]["CustomerCode"] not in self._state.customers:
            return f"Customer {order['Customer']['CustomerCode']!r} not found"
        if order["Warehouse"]["WarehouseCode"] not in self.warehouses:
            return f"Warehouse {order['Warehouse']['WarehouseCode']!r} not found"
        lines = order["SalesOrderLines"]
        for line in lines:
            if line.get("LineType") != "Charge" and line["Product"]["ProductCode"] not in self._state.products:
                return f"Product {line['Product']['ProductCode']!r} not found"
            if cents(line["LineTotal"]) != cents(Decimal(str(line["UnitPrice"])) * Decimal(str(line["OrderQuantity"]))):
                return f"line {line.get('LineNumber')}: LineTotal is not UnitPrice x OrderQuantity"
        if cents(order["SubTotal"]) != sum((cents(line["LineTotal"]) for line in lines), Decimal(0)):
            return "SubTotal is not the sum of LineTotal"
        if cents(order["TaxTotal"]) != sum((cents(line["LineTax"]) for line in lines), Decimal(0)):
            return "TaxTotal is not the sum of LineTax"
        if cents(order["Total"]) != cents(order["SubTotal"]) + cents(order["TaxTotal"]):
            return "Total is not SubTotal + TaxTotal"
        return ""

    def _control(self, method: str, route: str, query: str, body: bytes) -> SandboxResponse:
        routes: dict[tuple[str, str], tuple[Callable[..., Any], str]] = {
            ("POST", "products"): (self.add_product, "guid"),
            ("POST", "stock"): (self.set_stock, "modified_ms"),
            ("GET", "stock"): (self.stock_rows, "stock"),
            ("POST", "product"): (self.edit_product, "modified_ms"),
            ("GET", "counters"): (self.counters, "counters"),
            ("POST", "faults/fail"): (self.fail_next, "ok"),
            ("POST", "faults/lose-answers"): (self.lose_next_answers, "ok"),
            ("GET", "sales-orders"): (self.sales_orders, "sales_orders"),
            ("GET", "credit-notes"): (self.credit_notes, "credit_notes"),
            ("POST", "dispatch"): (self.dispatch, "shipment"),
            ("POST", "reset"): (self.reset, "ok"),
        }
        if (method, route) not in routes:
            return json_response(404, {"error": f"no sandbox control route {method} {CONTROL}/{route}"})
        action, key = routes[(method, route)]
        try:
            arguments = json.loads(body) if body.strip() else {}
            if not isinstance(arguments, dict):
                raise TypeError("the body is a JSON object of keyword arguments")
            result = action(**arguments)
        except KeyError as missing:
            return json_response(404, {"error": str(missing.args[0]) if missing.args else "not found"})
        except (TypeError, ValueError) as error:
            return json_response(400, {"error": str(error)})
        return json_response(200, {key: True if result is None else result})

    # ---- internals (under the lock)
    def _row(self, code: str, warehouse: str) -> _Row:
        row = self._state.stock.get((code, warehouse))
        if row is None:
            raise KeyError(f"no product {code!r} at warehouse {warehouse!r}")
        return row

    def _tick(self) -> int:
        self._last_ms = max(self._last_ms + 1, int(self._clock() * 1000))
        return self._last_ms


def _listed(
    page_text: str, query: dict[str, str], rows: Callable[[int | None], list[dict[str, Any]]]
) -> SandboxResponse:
    """One page of a list changed since ``modifiedSince`` (rows carry their time as ``_ms``)."""
    try:
        page, size = int(page_text), int(query.get("pageSize") or DEFAULT_PAGE_SIZE)
        since = _since(query.get("modifiedSince", ""))
    except ValueError as error:
        return json_response(400, {"Description": f"bad request: {error}"})
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        return json_response(400, {"Description": f"page is 1 or more, pageSize 1 to {MAX_PAGE_SIZE}"})
    found = rows(since)
    pages = max(1, -(-len(found) // size))
    chosen = [{k: v for k, v in item.items() if k != "_ms"} for item in found[(page - 1) * size : page * size]]
    pagination = {"NumberOfItems": len(found), "PageSize": size, "PageNumber": page, "NumberOfPages": pages}
    return json_response(200, {"Pagination": pagination, "Items": copy.deepcopy(chosen)})


def _product(guid: str, code: str, ms: int) -> dict[str, Any]:
    return {
        "Guid": guid,
        "ProductCode": code,
        "ProductDescription": code,
        "Barcode": None,
        "DefaultSellPrice": 0.0,
        "Obsolete": False,
        "LastModifiedOn": f"/Date({ms})/",
        "_ms": ms,
    }


def _item(code: str, guid: str, warehouse: str, row: _Row) -> dict[str, Any]:
    return {
        "Guid": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{guid}:{warehouse}")),
        "ProductCode": code,
        "ProductDescription": code,
        "ProductGuid": guid,
        "WarehouseId": warehouse,
        "WarehouseCode": warehouse,
        "Warehouse": warehouse,
        "QtyOnHand": row.on_hand,
        "AllocatedQty": row.allocated,
        "AvailableQty": row.on_hand - row.allocated,
        "LastModifiedOn": f"/Date({row.modified_ms})/",
        "_ms": row.modified_ms,
    }


def _since(text: str) -> int | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text if "T" in text else f"{text}T00:00:00").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)

"""Writing into Lightspeed X-Series as an integration does: sales, products, and the setup lists
(registers, users, payment types) a sale names.

Facts relied on (vendor docs "Sales 101 (date-versioned)", "Create a sale", "Create a product",
"Sales statuses"; see the handbook's pos-sales notes):

- ``POST /api/{version}/sales`` takes a caller-chosen ``id`` ("User-provided sale ID"), which is the
  only duplicate guard X-Series has (no idempotency header). What a second POST of an existing id
  answers (an update, or a refusal) is unverified: a 409 or 422 that says it exists is read as
  "created before", and a run that may have lost an answer looks the sale up first (``GET
  /api/{version}/sales/{id}``), so either behaviour makes one sale.
- A ``closed`` sale takes its units off the outlet's count, and so does a ``pending`` one on
  account (ONACCOUNT "will reduce the inventory"); the answer carries ``_metadata.version``.
- ``GET /api/2.0/registers|users|payment_types`` list the setup; archived records carry
  ``deleted_at``. ``GET /api/2.0/search?type=products&sku=`` finds a product by SKU.

Errors: a 4xx other than 401/409/429 is ``SaleRefused`` (permanent until something is fixed);
429, 5xx and timeouts are ``ChannelUnavailable`` (the outcome is unknown: look before retrying).
Never logs bodies (they name customers): only the path and status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from omnistock.channels import ChannelUnavailable, json_object, refusal_words
from omnistock.channels.lightspeed.tokens import Tokens

DATED_VERSION = "2026-04"


class SaleRefused(Exception):
    """The POS refused the request as sent (a 4xx): retried only after something is fixed."""


@dataclass(frozen=True)
class CreatedSale:
    sale_id: str
    version: int
    receipt: str
    status: str


class LightspeedSales:
    def __init__(self, base: str, tokens: Tokens, http: httpx.Client) -> None:
        self.base = base.rstrip("/")
        self.tokens = tokens
        self.http = http
        self.calls = 0

    def __repr__(self) -> str:  # no token: this may reach a log line
        return f"LightspeedSales({self.base!r})"

    # ---- setup
    def setup_list(self, kind: str) -> dict[str, bool]:
        """Registers, users or payment types: id -> whether it is live (not archived)."""
        body = self._call("GET", f"/api/2.0/{kind}")
        records = body.get("data") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise ChannelUnavailable(f"Lightspeed {kind} answered a list that is not one")
        return {str(r.get("id")): not r.get("deleted_at") for r in records if isinstance(r, dict) and r.get("id")}

    def register_outlets(self) -> dict[str, str]:
        """Each live register's outlet."""
        body = self._call("GET", "/api/2.0/registers")
        records = body.get("data") if isinstance(body, dict) else []
        return {
            str(r["id"]): str(r.get("outlet_id") or "")
            for r in records or []
            if isinstance(r, dict) and r.get("id") and not r.get("deleted_at")
        }

    # ---- products
    def find_product(self, sku: str) -> str | None:
        body = self._call("GET", "/api/2.0/search", params={"type": "products", "sku": sku})
        found = [p for p in (body.get("data") or []) if isinstance(p, dict) and p.get("sku") == sku]
        live = [p for p in found if not p.get("deleted_at")]
        return str(live[0]["id"]) if live else None

    def create_product(self, sku: str, name: str, price: str, *, tracked: bool) -> str:
        """Create (and publish) a product; its id. One whose SKU exists is looked up instead."""
        body = {"name": name or sku, "sku": sku, "price_excluding_tax": price, "is_active": True}
        try:
            answer = self._call("POST", f"/api/{DATED_VERSION}/products", json=body | {"has_inventory": tracked})
        except (SaleRefused, AlreadyThere) as refused:
            found = self.find_product(sku)  # made by an earlier attempt whose answer was lost
            if found is None:
                raise SaleRefused(str(refused)) from refused
            return found
        data = answer.get("data") or {}
        if not isinstance(data, dict) or not data.get("id"):
            raise ChannelUnavailable("Lightspeed answered a product without an id")
        return str(data["id"])

    # ---- sales
    def sale(self, sale_id: str) -> CreatedSale | None:
        try:
            return _created(self._call("GET", f"/api/{DATED_VERSION}/sales/{sale_id}"))
        except NotThere:
            return None

    def create_sale(self, body: dict[str, Any]) -> CreatedSale:
        try:
            return _created(self._call("POST", f"/api/{DATED_VERSION}/sales", json=body))
        except AlreadyThere:
            found = self.sale(str(body["id"]))
            if found is None:
                raise ChannelUnavailable("Lightspeed says the sale exists but does not show it") from None
            return found

    def update_sale(self, sale_id: str, body: dict[str, Any]) -> CreatedSale:
        try:
            return _created(self._call("PUT", f"/api/{DATED_VERSION}/sales/{sale_id}", json=body))
        except (AlreadyThere, NotThere) as refused:
            raise SaleRefused(str(refused)) from refused

    # ---- one call
    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        token = self.tokens.current()
        for attempt in range(2):
            self.calls += 1
            try:
                response = self.http.request(
                    method, self.base + path, headers={"Authorization": f"Bearer {token}"}, **kwargs
                )
            except httpx.HTTPError as error:
                raise ChannelUnavailable(f"Lightspeed {method} {_route(path)}: {type(error).__name__}") from error
            if response.status_code == 401 and attempt == 0:
                token = self.tokens.renewed(token)
                continue
            return _answer(method, path, response)
        raise ChannelUnavailable("Lightspeed refused a fresh token")


class NotThere(Exception):
    pass


class AlreadyThere(Exception):
    pass


def _answer(method: str, path: str, response: httpx.Response) -> dict[str, Any]:
    status, where = response.status_code, f"Lightspeed {method} {_route(path)}"
    if status == 404 and method == "GET":
        raise NotThere(where)
    if status == 409 or (status == 422 and "exist" in response.text.lower() and "/sales" in path):
        raise AlreadyThere(where)
    if status == 429 or status >= 500 or status == 401:
        raise ChannelUnavailable(f"{where} answered {status}")
    if status >= 400:
        raise SaleRefused(f"{where} answered {status}: {refusal_words(response.json, 'message', 'error')}")
    return json_object(response.json, where)


def _created(body: dict[str, Any]) -> CreatedSale:
    data = body.get("data")
    if not isinstance(data, dict) or not data.get("id"):
        raise ChannelUnavailable("Lightspeed answered a sale without an id")
    version = (data.get("_metadata") or {}).get("version") or data.get("version")
    try:
        number = int(str(version))
    except (TypeError, ValueError):
        raise ChannelUnavailable("Lightspeed answered a sale without a version") from None
    receipt = str(data.get("receipt_number") or data.get("invoice_number") or "")
    return CreatedSale(str(data["id"]), number, receipt, str(data.get("status") or "").upper())


def _route(path: str) -> str:
    """The path without ids (a sale's id names an order)."""
    parts = path.split("/")
    return "/".join(parts[:4] + (["{id}"] if len(parts) > 4 else []))

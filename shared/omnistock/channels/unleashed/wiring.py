"""Unleashed's part of the wiring: its settings from the environment, its API (signed, within the
month's budget), its poll (stock, shipments, the product master), its sales-order writer, and its
connection check. Omnistock never writes stock to it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from omnistock.channels import Connector
from omnistock.settings import SettingSpec

if TYPE_CHECKING:
    from omnistock.channels.unleashed.api import UnleashedApi
    from omnistock.channels.unleashed.intake import UnleashedIntake
    from omnistock.channels.unleashed.sales_orders import SalesOrderWriter
    from omnistock.connections import Check
    from omnistock.wiring import Wiring

DEFAULT_BASE = "https://api.unleashedsoftware.com"
WAREHOUSES = "unleashed.warehouses"
SALES_ORDERS = "unleashed.sales_orders"
BUDGET = "unleashed.monthly_calls"
PRODUCT_MASTER = "unleashed.product_master"
MAX_WAREHOUSES = 100


@dataclass(frozen=True)
class UnleashedSettings:
    api_base: str = ""  # empty: Unleashed's own; the local sandbox sets it
    api_secret_name: str = ""  # JSON {"api_id", "api_key"} from the API Access page
    webhook_secret_name: str = ""  # the webhook subscription's signing key (one a line, when rotating)
    warehouses: Mapping[str, str] = field(default_factory=dict)  # warehouse code -> location
    monthly_calls: int = 0  # the account's monthly API quota (0: unknown; calls are counted only)

    @property
    def connected(self) -> bool:
        """Deployed with its secret named and a warehouse it is master of (the template's
        defaults name the secret and map none: not connected)."""
        return bool(self.api_secret_name and self.warehouses)


def checked_warehouses(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_WAREHOUSES:
        raise ValueError(f'a JSON object {{"<warehouse code>": "<location>"}} of at most {MAX_WAREHOUSES} warehouses')
    for code, location in value.items():
        if not (isinstance(location, str) and 0 < len(location) <= 100 and 0 < len(str(code)) <= 100):
            raise ValueError(f"warehouse {str(code)[:40]!r}: codes and locations are 1 to 100 characters")
    return {str(code): location for code, location in value.items()}


def checked_budget(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000_000:
        raise ValueError("a whole number of API calls a month (0: not known, calls are only counted)")
    return value


def _checked_product_master(value: object) -> str:
    from omnistock.channels.unleashed.products import checked_mode

    return checked_mode(value)


def _checked_sales_orders(value: object) -> dict[str, object]:
    from omnistock.channels.unleashed.sales_orders import checked_settings

    return checked_settings(value)


SETTINGS = (
    SettingSpec(
        WAREHOUSES,
        'Which ledger location each Unleashed warehouse counts for: {"<warehouse code>": "<location>"}.',
        checked_warehouses,
        lambda config: dict(config.section(UnleashedSettings).warehouses),
        locations=lambda warehouses: warehouses.values(),
    ),
    SettingSpec(
        BUDGET,
        "The Unleashed account's monthly API call quota: polling slows at 90% of it and stops before "
        "it (Unleashed blocks every call at 100% until the 1st). 0: not known (calls are counted only).",
        checked_budget,
        lambda config: config.section(UnleashedSettings).monthly_calls,
    ),
    SettingSpec(
        SALES_ORDERS,
        "Paid web orders sent to Unleashed as sales orders (off by default): "
        '{"mode": "off|automatic", "customer_code": "<Unleashed customer>", "channels": [], '
        '"prefixes": {"shopify": "SHOPIFY_"}}.',
        _checked_sales_orders,
        lambda config: {"mode": "off"},
    ),
    SettingSpec(
        PRODUCT_MASTER,
        'Which side\'s products are the master: "unleashed" (created or edited there, they are created or '
        'updated in Shopify and join the catalog), "shopify" (the reverse) or "off". Never both ways.',
        _checked_product_master,
        lambda config: "off",
    ),
)


def settings_from_env(env: Mapping[str, str]) -> UnleashedSettings:
    try:
        warehouses = checked_warehouses(json.loads(env.get("UNLEASHED_WAREHOUSES", "") or "{}"))
        budget = checked_budget(int(env.get("UNLEASHED_MONTHLY_CALLS", "") or "0"))
    except ValueError as error:
        raise ValueError(f"UNLEASHED_WAREHOUSES or UNLEASHED_MONTHLY_CALLS: {error}") from None
    return UnleashedSettings(
        api_base=env.get("UNLEASHED_API_BASE", ""),
        api_secret_name=env.get("UNLEASHED_API_SECRET_NAME", ""),
        webhook_secret_name=env.get("UNLEASHED_WEBHOOK_SECRET_NAME", ""),
        warehouses=warehouses,
        monthly_calls=budget,
    )


def settings(wiring: Wiring) -> UnleashedSettings:
    return wiring.config.section(UnleashedSettings)


def api(wiring: Wiring) -> UnleashedApi | None:
    """Its API, credentials from Secrets Manager by name; None when not connected."""
    config = settings(wiring)
    if not config.connected:
        return None
    budget = int(wiring.settings.value(BUDGET))

    def make() -> UnleashedApi:
        import httpx

        from omnistock.channels.unleashed.api import UnleashedApi
        from omnistock.store.quota_store import QuotaStore

        api_id, api_key = credentials(wiring.secrets.text(config.api_secret_name))
        http = httpx.Client(timeout=httpx.Timeout(20.0, connect=3.0))
        base = config.api_base or DEFAULT_BASE
        return UnleashedApi(base, api_id, api_key, http, QuotaStore(wiring.table), budget, wiring.clock)

    return wiring.once(f"unleashed.api:{budget}", make)


def credentials(text: str) -> tuple[str, str]:
    """The API id and key, kept as JSON ``{"api_id", "api_key"}``."""
    from omnistock.errors import SecretUnavailable

    try:
        parsed = json.loads(text)
        return str(parsed["api_id"]), str(parsed["api_key"])
    except (ValueError, KeyError, TypeError):
        raise SecretUnavailable("the Unleashed secret is not JSON with api_id and api_key") from None


def intake(wiring: Wiring) -> UnleashedIntake:
    mapped = dict(wiring.settings.value(WAREHOUSES))  # a setting: a change builds a new intake

    def make() -> UnleashedIntake:
        from omnistock.channels.unleashed.intake import UnleashedIntake

        return UnleashedIntake(wiring.ledger, wiring.cursors, wiring.pushes, mapped, wiring.clock)

    return wiring.once(f"unleashed.intake:{json.dumps(mapped, sort_keys=True)}", make)


def sales_orders(wiring: Wiring, *, fresh: bool = False) -> SalesOrderWriter:
    """Paid web orders into Unleashed, with the setting in force (``fresh``: read now)."""
    from omnistock.channels.unleashed.sales_orders import DESTINATION, SalesOrderWriter, settings_of
    from omnistock.store.pos_sale_store import PosSaleStore

    chosen = settings_of(wiring.settings.value(SALES_ORDERS, fresh=fresh))
    warehouses = dict(wiring.settings.value(WAREHOUSES))
    return SalesOrderWriter(
        wiring.orders,
        PosSaleStore(wiring.table, DESTINATION),
        wiring.ledger,
        wiring.pushes,
        wiring.problem_store,
        chosen,
        warehouses,
        api(wiring),
        wiring.clock,
        wiring.listings,
    )


def poll(wiring: Wiring) -> Callable[[UnleashedApi, Callable[[], bool]], dict[str, object]]:
    """The poll: stock on hand as master counts, then shipments dispatched since, then the product
    master's pass (all within the budget: a poll the budget slows or stops reads none of them;
    products only while it is under 90%, or a webhook hinted)."""
    from omnistock.channels.unleashed.sales_orders import DESTINATION
    from omnistock.channels.unleashed.shipments import UnleashedShipments
    from omnistock.store.pos_sale_store import PosSaleStore

    stock = intake(wiring)
    documents = PosSaleStore(wiring.table, DESTINATION)
    shipped = UnleashedShipments(
        wiring.cursors, documents, wiring.orders, wiring.shipment_desk, wiring.pushes, wiring.clock
    )

    def run(api: UnleashedApi, out_of_time: Callable[[], bool]) -> dict[str, object]:
        from omnistock.channels.unleashed.webhooks import HINTS

        hints = wiring.cursors.hints(HINTS, 100)  # what webhooks said changed: this poll reads it
        report = stock.poll(api, out_of_time, hinted=bool(hints))
        if "budget" in report or out_of_time():
            return report
        report |= shipped.poll(api, out_of_time)
        if not out_of_time() and (api.budget_state() == "ok" or hints):  # products matter least
            report |= {"products": products(wiring, api, out_of_time)}
        for hint in hints:
            wiring.cursors.drop_hint(HINTS, hint)
        return report | {"hints": len(hints)}

    return run


def products(wiring: Wiring, api: UnleashedApi, out_of_time: Callable[[], bool]) -> dict[str, object]:
    """The product master's pass, one way per the setting (read fresh: a switch is at once)."""
    from omnistock.channels.shopify import wiring as shopify
    from omnistock.channels.shopify.products import ShopifyProducts
    from omnistock.channels.unleashed.products import ProductMaster
    from omnistock.store.product_master_store import ProductMasterStore

    mode = str(wiring.settings.value(PRODUCT_MASTER, fresh=True))
    if mode == "off":
        return {"mode": "off"}
    port = shopify.admin(wiring)
    channel = next((c for c in wiring.ledger.store.channels() if c.platform == "shopify"), None)
    if port is None or channel is None:
        return {"mode": mode, "waiting": "Shopify is not connected, or no channel is on it"}
    locations = list(dict.fromkeys(dict(wiring.settings.value(WAREHOUSES)).values()))
    if mode == "unleashed" and not locations:
        return {"mode": mode, "waiting": "no warehouse is mapped (unleashed.warehouses): new SKUs would have no place"}
    master = ProductMaster(
        wiring.ledger,
        ProductMasterStore(wiring.table),
        wiring.cursors,
        wiring.listings,
        wiring.pushes,
        locations,
        channel.name,
        channel.target_location,
        wiring.clock,
    )
    shop = ShopifyProducts(port)
    run = master.from_unleashed if mode == "unleashed" else master.from_shopify
    return {"mode": mode} | run(api, shop, out_of_time)


def webhook_secrets(wiring: Wiring, refresh: bool = False) -> list[str]:
    return wiring.secrets.signing(settings(wiring).webhook_secret_name, refresh)


def note_hint(wiring: Wiring, hint: str) -> None:
    """A verified webhook's hint for the next poll (which reads at once, even slowed)."""
    from omnistock.channels.unleashed.webhooks import HINTS
    from omnistock.clock import iso

    wiring.cursors.hint(HINTS, hint, iso(wiring.clock()))


def doctor(wiring: Wiring) -> list[Check]:
    """The secret readable; the month's calls against the budget; warehouses mapped; and the
    second writer to switch off (Unleashed's own stock export to Shopify)."""
    from omnistock.channels.shopify import wiring as shopify
    from omnistock.channels.shopify.doctor import scope_check
    from omnistock.connections import Check, secret_checks
    from omnistock.errors import SecretUnavailable

    config = settings(wiring)
    checks = secret_checks("unleashed", config, wiring.secrets, config.connected)
    if not config.connected:
        return checks
    try:
        connected = api(wiring)
    except SecretUnavailable as error:
        return [*checks, Check("unleashed", "api credentials", False, str(error), "store {api_id, api_key} as JSON")]
    if connected is not None:
        used, budget = connected.used(), connected.monthly_budget
        state = connected.budget_state()
        detail = f"{used} calls this month" + (f" of {budget} ({state})" if budget else " (no budget set)")
        fix = "" if state == "ok" else "raise unleashed.monthly_calls after buying more calls, or wait for the 1st"
        checks.append(Check("unleashed", "monthly calls", state == "ok", detail, fix))
    mapped = dict(wiring.settings.value(WAREHOUSES))
    fix = 'PUT /settings/unleashed.warehouses {"value": {"<warehouse code>": "<location>"}}'
    checks.append(
        Check("unleashed", "warehouses", bool(mapped), f"{len(mapped)} mapped" if mapped else "none mapped", fix)
    )
    mode = str(wiring.settings.value(PRODUCT_MASTER))
    master = {
        "off": "off: products are kept by hand on each side",
        "unleashed": "Unleashed: its products are created or updated in Shopify (Unleashed's own product "
        "export to Shopify must be off)",
        "shopify": "Shopify: its products are created or updated in Unleashed (Unleashed's own product "
        "import from Shopify must be off)",
    }[mode]
    checks.append(Check("unleashed", "product master", True, master, ""))
    port = shopify.admin(wiring) if mode == "unleashed" else None
    if port is not None:
        checks.append(scope_check(port, "write_products", "Unleashed as product master writes Shopify's products"))
    checks.append(
        Check(
            "unleashed",
            "second writer",
            True,
            "Omnistock pushes stock to Shopify from the ledger: Unleashed's own \"Export Stock On Hand to "
            "Shopify\" must be off, or two writers race (Unleashed's API does not show it)",
            "",
        )
    )
    return checks


CONNECTOR = Connector("unleashed", settings_from_env, doctor=doctor, activity=("poll",), settings=SETTINGS)

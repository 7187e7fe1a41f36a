"""Lightspeed's part of the wiring: its settings from the environment, its feed and intake.
Omnistock never writes stock to the POS, so it has no stock port."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from omnistock.channels import Connector
from omnistock.settings import SettingSpec

if TYPE_CHECKING:
    import httpx

    from omnistock.channels.lightspeed.api import LightspeedFeed
    from omnistock.channels.lightspeed.backfill import ImportRequests, WebOrderBackfill
    from omnistock.channels.lightspeed.catalog import LightspeedCatalog
    from omnistock.channels.lightspeed.intake import LightspeedIntake
    from omnistock.channels.lightspeed.sales_api import LightspeedSales
    from omnistock.channels.lightspeed.tokens import Tokens
    from omnistock.channels.lightspeed.web_orders import WebOrderImport
    from omnistock.connections import Check
    from omnistock.wiring import Wiring


@dataclass(frozen=True)
class LightspeedSettings:
    domain_prefix: str = ""  # lowered: deliveries naming another store are ignored
    api_base: str = ""  # empty: the store's own; the local sandbox sets it
    token_secret_name: str = ""
    webhook_secret_name: str = ""
    outlets: Mapping[str, str] = field(default_factory=dict)  # outlet (or register) id -> location

    @property
    def connected(self) -> bool:
        return bool(self.domain_prefix and self.token_secret_name)


def outlets_from(text: str) -> dict[str, str]:
    """LIGHTSPEED_OUTLETS: which location each Lightspeed outlet (or register) id counts for."""
    try:
        parsed = json.loads(text or "{}")
    except ValueError:
        raise ValueError("LIGHTSPEED_OUTLETS is not JSON") from None
    return checked_outlets(parsed)


def checked_outlets(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_OUTLETS:
        raise ValueError(f'a JSON object {{"<outlet id>": "<location>"}} of at most {MAX_OUTLETS} outlets')
    for outlet, location in value.items():
        if not (isinstance(location, str) and 0 < len(location) <= 100 and 0 < len(str(outlet)) <= 100):
            raise ValueError(f"outlet {str(outlet)[:40]!r}: ids and locations are 1 to 100 characters")
    return {str(key): location for key, location in value.items()}


def _checked_deliveries(value: object) -> dict[str, object]:
    from omnistock.channels.lightspeed.deliveries import checked_settings

    return checked_settings(value)


def _checked_web_orders(value: object) -> dict[str, object]:
    from omnistock.channels.lightspeed.web_order_settings import checked_settings

    return checked_settings(value)


OUTLETS = "lightspeed.outlets"
WEB_ORDERS = "lightspeed.web_orders"
DELIVERIES = "lightspeed.shipstation"
MAX_OUTLETS = 200
SETTINGS = (
    SettingSpec(
        OUTLETS,
        'Which ledger location each Lightspeed outlet (or register) id counts for: {"<outlet id>": "<location>"}.',
        checked_outlets,
        lambda config: dict(config.section(LightspeedSettings).outlets),
        locations=lambda outlets: outlets.values(),
    ),
    SettingSpec(
        WEB_ORDERS,
        "Web orders written into Lightspeed as sales (off by default): "
        '{"mode": "off|automatic|by_hand", "registers": {"<location>": "<register id>"}, "user_id": "...", '
        '"payment_type_id": "...", "channels": [], "shipping_only": true, "shipping_sku": "omnistock-shipping"}.',
        _checked_web_orders,
        lambda config: {"mode": "off"},
    ),
    SettingSpec(
        DELIVERIES,
        "POS sales to ship through ShipStation (off by default): "
        '{"export": true, "include": ["delivery", "parked", "on_account"]} (delivery: sales marked for delivery).',
        _checked_deliveries,
        lambda config: {"export": False},
    ),
)


def settings_from_env(env: Mapping[str, str]) -> LightspeedSettings:
    return LightspeedSettings(
        domain_prefix=env.get("LIGHTSPEED_DOMAIN_PREFIX", "").strip().lower(),
        api_base=env.get("LIGHTSPEED_API_BASE", ""),
        token_secret_name=env.get("LIGHTSPEED_TOKEN_SECRET_NAME", ""),
        webhook_secret_name=env.get("LIGHTSPEED_WEBHOOK_SECRET_NAME", ""),
        outlets=outlets_from(env.get("LIGHTSPEED_OUTLETS", "")),
    )


def settings(wiring: Wiring) -> LightspeedSettings:
    return wiring.config.section(LightspeedSettings)


def outlets(wiring: Wiring) -> dict[str, str]:
    """Which location each outlet counts for: the setting (LIGHTSPEED_OUTLETS until changed)."""
    return dict(wiring.settings.value(OUTLETS))


def intake(wiring: Wiring) -> LightspeedIntake:
    mapped = outlets(wiring)  # settings: a change builds a new intake
    shipping = wiring.settings.value(DELIVERIES)

    def make() -> LightspeedIntake:
        from omnistock.channels.lightspeed.deliveries import PosDeliveries, settings_of
        from omnistock.channels.lightspeed.intake import LightspeedIntake

        w, config = wiring, settings(wiring)
        deliveries = PosDeliveries(w.orders, w.listings, settings_of(shipping), w.clock)
        return LightspeedIntake(
            w.ledger,
            w.listings,
            w.orders,
            w.pushes,
            mapped,
            w.cursors,
            domain_prefix=config.domain_prefix,
            clock=w.clock,
            deliveries=deliveries,
        )

    return wiring.once(f"lightspeed.intake:{json.dumps([mapped, shipping], sort_keys=True)}", make)


def feed(wiring: Wiring) -> LightspeedFeed | None:
    """Its change feeds, tokens from Secrets Manager by name; None when not connected."""
    from omnistock.channels.lightspeed.api import LightspeedFeed

    parts = _tokens_and_http(wiring)
    if parts is None:
        return None
    base, tokens, http = parts
    return wiring.once("lightspeed.feed", lambda: LightspeedFeed(base, tokens, http))


def _tokens_and_http(wiring: Wiring) -> tuple[str, Tokens, httpx.Client] | None:
    """The store's API base, its token keeper and an HTTP client (one per function instance)."""

    def make() -> tuple[str, Tokens, httpx.Client] | None:
        import httpx

        from omnistock.channels.lightspeed.api import api_base, token_url
        from omnistock.channels.lightspeed.tokens import SecretPairStore, Tokens
        from omnistock.store.locks import Leases

        config = settings(wiring)
        if not config.connected:
            return None
        base = config.api_base or api_base(config.domain_prefix)
        http = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        store = SecretPairStore(wiring.clients.secretsmanager, config.token_secret_name)
        return base, Tokens(store, Leases(wiring.table), http, token_url(base)), http

    return wiring.once("lightspeed.http", make)


def sales(wiring: Wiring) -> LightspeedSales | None:
    """Its sale, product and setup writes; None when not connected."""
    from omnistock.channels.lightspeed.sales_api import LightspeedSales

    parts = _tokens_and_http(wiring)
    if parts is None:
        return None
    base, tokens, http = parts
    return wiring.once("lightspeed.sales", lambda: LightspeedSales(base, tokens, http))


def web_orders(wiring: Wiring, *, fresh: bool = False) -> WebOrderImport:
    """Web orders into the POS, with the setting in force (``fresh``: read now; the POS-sales
    function does, once a run: switched off, another importer may be on, and a minute of the
    old setting would write a second sale of each order)."""
    from omnistock.channels.lightspeed.web_order_settings import settings_of
    from omnistock.channels.lightspeed.web_orders import WebOrderImport
    from omnistock.store.pos_sale_store import PosSaleStore

    chosen = settings_of(wiring.settings.value(WEB_ORDERS, fresh=fresh))
    return WebOrderImport(
        wiring.orders,
        wiring.once("lightspeed.pos_sales", lambda: PosSaleStore(wiring.table)),
        wiring.listings,
        intake(wiring),
        wiring.pushes,
        wiring.problem_store,
        chosen,
        sales(wiring),
        store_name=settings(wiring).domain_prefix or "lightspeed",
        clock=wiring.clock,
    )


def import_requests(wiring: Wiring) -> ImportRequests:
    """Imports of web orders by hand, as the admin API starts and reads them."""
    from omnistock.channels.lightspeed.backfill import ImportRequests
    from omnistock.store.job_store import JobStore

    return ImportRequests(JobStore(wiring.table), wiring.cursors, wiring.clock)


def backfill(wiring: Wiring) -> WebOrderBackfill:
    """An import by hand's chunks: Shopify's orders (the one channel whose orders can be read
    back 60 days), through its poll's path, into the POS."""
    from omnistock.channels.lightspeed.backfill import WebOrderBackfill
    from omnistock.channels.shopify import wiring as shopify
    from omnistock.store.job_store import JobStore

    port = shopify.orders(wiring)
    reader = shopify.intake(wiring) if port is not None else None
    importer = web_orders(wiring)  # the function's run read the setting fresh already
    return WebOrderBackfill(JobStore(wiring.table), wiring.cursors, importer, reader, port, wiring.clock)


def catalog(wiring: Wiring) -> LightspeedCatalog | None:
    """Its products and counts for a catalog import; None when not connected."""
    from omnistock.channels.lightspeed.catalog import LightspeedCatalog

    source = feed(wiring)
    return LightspeedCatalog(source, intake(wiring)) if source is not None else None


def webhook_secrets(wiring: Wiring, refresh: bool = False) -> list[str]:
    return wiring.secrets.signing(settings(wiring).webhook_secret_name, refresh)


def doctor(wiring: Wiring) -> list[Check]:
    """Secrets readable; every outlet mapped to a location some channel sells from (a count of an
    outlet no channel sells from moves nothing anyone sees)."""
    from omnistock.connections import Check, secret_checks

    settings = wiring.config.section(LightspeedSettings)
    checks = secret_checks("lightspeed", settings, wiring.secrets, settings.connected)
    if not settings.connected:
        return checks
    mapped = outlets(wiring)
    sold = {location for channel in wiring.stock.channels() for location in channel.locations}
    unsold = sorted({location for location in mapped.values() if location not in sold})
    fix = 'PUT /settings/lightspeed.outlets {"value": {"<outlet id>": "<location>"}} (ids: GET /api/2.0/outlets)'
    if not mapped:
        checks.append(Check("lightspeed", "outlets", False, "no outlet is mapped to a location", fix))
    elif unsold:
        detail = f"{len(mapped)} mapped; no channel sells from {', '.join(unsold)}"
        checks.append(
            Check("lightspeed", "outlets", False, detail, "PUT /channels/{c} with those locations, or " + fix)
        )
    else:
        checks.append(
            Check(
                "lightspeed",
                "outlets",
                True,
                f"{len(mapped)} mapped to {', '.join(sorted(sold & set(mapped.values())))}",
            )
        )
    return checks + _web_order_checks(wiring, mapped, all(check.ok for check in checks))


def _web_order_checks(wiring: Wiring, mapped: dict[str, str], secrets_ok: bool) -> list[Check]:
    """When web orders are written into the POS: its registers, user and payment type, as the POS
    has them now (three reads, with the current token: this check never refreshes it)."""
    from omnistock.channels.lightspeed.web_order_settings import settings_of, setup_checks
    from omnistock.connections import Check

    chosen = settings_of(wiring.settings.value(WEB_ORDERS))
    if chosen.mode == "off":
        return []
    if not secrets_ok:
        return [Check("lightspeed", "web orders", False, "the POS cannot be read", "fix the checks above first")]
    parts = _tokens_and_http(wiring)
    if parts is None:
        return []
    from omnistock.channels.lightspeed.sales_api import LightspeedSales
    from omnistock.channels.lightspeed.tokens import Tokens

    base, tokens, http = parts
    reader = Tokens(tokens.store, tokens.leases, http, tokens.token_url, may_refresh=False)
    return setup_checks(chosen, LightspeedSales(base, reader, http), mapped)


CONNECTOR = Connector(
    "lightspeed",
    settings_from_env,
    doctor=doctor,
    catalog_importer=catalog,
    activity=("poll", "delivery"),
    settings=SETTINGS,
)

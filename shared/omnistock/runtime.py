"""Wiring for Lambda handlers: configuration from the environment and lazily built clients.

Only handlers import this module; the domain receives what it needs as arguments.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from omnistock.errors import SecretUnavailable

if TYPE_CHECKING:  # for annotations only: each is imported where first needed
    from omnistock.channels import ChannelPort, OrdersPort
    from omnistock.channels.commentsold.api import CommentSoldApi
    from omnistock.channels.commentsold.intake import CommentSoldIntake
    from omnistock.channels.lightspeed.api import LightspeedFeed
    from omnistock.channels.lightspeed.intake import LightspeedIntake
    from omnistock.channels.shipstation.desk import ShipStationDesk
    from omnistock.channels.shopify.admin import ShopifyInventory
    from omnistock.channels.shopify.intake import ShopifyIntake
    from omnistock.ledger import Ledger
    from omnistock.live_events import LiveEvents
    from omnistock.models import Channel
    from omnistock.order_desk import OrderDesk
    from omnistock.shipments import ShipmentDesk
    from omnistock.store.push_store import PushStore
    from omnistock.store.table import Table
    from omnistock.sync import SyncService


Verdict = TypeVar("Verdict", bool, str)


@dataclass(frozen=True)
class Settings:
    """What template.yaml gives every function. A plain dataclass: functions that never parse
    a request body do not pay for importing pydantic at cold start."""

    table_name: str
    movement_retention_days: int = 90
    dedupe_retention_days: int = 30
    default_hold_minutes: int = 15
    sync_retention_days: int = 30
    shopify_shop_domain: str = ""
    shopify_api_version: str = "2026-04"
    shopify_token_secret_name: str = ""
    shopify_endpoint: str = ""  # empty: the shop's own; the local sandbox sets it
    shopify_webhook_secret_name: str = ""
    shipstation_secret_name: str = ""
    commentsold_webhook_secret_name: str = ""
    commentsold_shop: str = ""
    commentsold_api_secret_name: str = ""
    commentsold_api_base: str = ""  # empty: production; the local sandbox sets it
    commentsold_token_url: str = ""
    commentsold_signature_header: str = "x-commentsold-signature"
    commentsold_signature_encoding: str = "hex"  # or base64
    shipstation_page_size: int = 100
    shipstation_statuses: str = ""  # "awaiting_payment=unpaid,...": overrides of the default map
    export_retention_days: int = 30
    lightspeed_domain_prefix: str = ""
    lightspeed_api_base: str = ""  # empty: the store's own; the local sandbox sets it
    lightspeed_token_secret_name: str = ""
    lightspeed_webhook_secret_name: str = ""
    lightspeed_outlets: str = "{}"  # JSON: outlet (or register) id -> location
    push_raise_grace_seconds: int = 120


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = int(env.get(name, str(default)))
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


def _non_negative(env: Mapping[str, str], name: str, default: int) -> int:
    value = int(env.get(name) or default)
    if value < 0:
        raise ValueError(f"{name} must be 0 or more")
    return value


def _encoding(value: str) -> str:
    if value not in ("hex", "base64"):
        raise ValueError("COMMENTSOLD_SIGNATURE_ENCODING is hex or base64")
    return value


@cache
def settings() -> Settings:
    env = os.environ
    table_name = env.get("TABLE_NAME", "")
    if not table_name:
        raise ValueError("TABLE_NAME is not set")
    return Settings(
        table_name=table_name,
        movement_retention_days=_positive(env, "MOVEMENT_RETENTION_DAYS", 90),
        dedupe_retention_days=_positive(env, "DEDUPE_RETENTION_DAYS", 30),
        default_hold_minutes=_positive(env, "DEFAULT_HOLD_MINUTES", 15),
        sync_retention_days=_positive(env, "SYNC_RETENTION_DAYS", 30),
        shopify_shop_domain=env.get("SHOPIFY_SHOP_DOMAIN", ""),
        shopify_api_version=env.get("SHOPIFY_API_VERSION", "2026-04"),
        shopify_token_secret_name=env.get("SHOPIFY_TOKEN_SECRET_NAME", ""),
        shopify_endpoint=env.get("SHOPIFY_ENDPOINT", ""),
        shopify_webhook_secret_name=env.get("SHOPIFY_WEBHOOK_SECRET_NAME", ""),
        shipstation_secret_name=env.get("SHIPSTATION_SECRET_NAME", ""),
        commentsold_webhook_secret_name=env.get("COMMENTSOLD_WEBHOOK_SECRET_NAME", ""),
        commentsold_shop=env.get("COMMENTSOLD_SHOP", ""),
        commentsold_api_secret_name=env.get("COMMENTSOLD_API_SECRET_NAME", ""),
        commentsold_api_base=env.get("COMMENTSOLD_API_BASE", ""),
        commentsold_token_url=env.get("COMMENTSOLD_TOKEN_URL", ""),
        commentsold_signature_header=env.get("COMMENTSOLD_SIGNATURE_HEADER", "x-commentsold-signature").lower(),
        commentsold_signature_encoding=_encoding(env.get("COMMENTSOLD_SIGNATURE_ENCODING", "hex")),
        shipstation_page_size=_positive(env, "SHIPSTATION_PAGE_SIZE", 100),
        shipstation_statuses=env.get("SHIPSTATION_STATUS_MAP", ""),
        export_retention_days=_positive(env, "EXPORT_RETENTION_DAYS", 30),
        lightspeed_domain_prefix=env.get("LIGHTSPEED_DOMAIN_PREFIX", ""),
        lightspeed_api_base=env.get("LIGHTSPEED_API_BASE", ""),
        lightspeed_token_secret_name=env.get("LIGHTSPEED_TOKEN_SECRET_NAME", ""),
        lightspeed_webhook_secret_name=env.get("LIGHTSPEED_WEBHOOK_SECRET_NAME", ""),
        lightspeed_outlets=env.get("LIGHTSPEED_OUTLETS", "{}") or "{}",
        push_raise_grace_seconds=_non_negative(env, "PUSH_RAISE_GRACE_SECONDS", 120),
    )


@cache
def dynamodb_client() -> Any:
    import boto3  # imported here: a handler that never touches DynamoDB never pays for it
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
    return boto3.client("dynamodb", config=config)


@cache
def ledger() -> Ledger:
    from omnistock.ledger import Ledger
    from omnistock.store.stock_store import Retention, StockStore

    config = settings()
    retention = Retention(movements_days=config.movement_retention_days, dedupe_days=config.dedupe_retention_days)
    store = StockStore(table(), retention)
    return Ledger(store, default_hold=timedelta(minutes=config.default_hold_minutes))


@cache
def table() -> Table:
    from omnistock.store.table import Table

    return Table(dynamodb_client(), settings().table_name)


@cache
def secrets_client() -> Any:
    import boto3

    return boto3.client("secretsmanager")


@cache
def shopify() -> ShopifyInventory | None:
    """The Shopify port, its token read from Secrets Manager by name; None when not configured."""
    from omnistock.channels.shopify.admin import from_secret

    config = settings()
    if not (config.shopify_shop_domain and config.shopify_token_secret_name):
        return None
    return from_secret(
        config.shopify_token_secret_name,
        config.shopify_shop_domain,
        config.shopify_api_version,
        secrets_client(),
        endpoint=config.shopify_endpoint or None,
    )


@cache
def shopify_orders() -> OrdersPort | None:
    from omnistock.channels.shopify.orders_api import ShopifyOrders

    admin = shopify()
    return ShopifyOrders(admin) if admin is not None else None


SECRETS_TTL = 300.0  # seconds a container trusts the secrets it read


class _Cached:
    """Secrets this container read, and when."""

    at: float = 0.0
    secrets: list[str] | None = None


_signing_secrets: dict[str, _Cached] = {}


def shopify_webhook_secrets(refresh: bool = False) -> list[str]:
    return signing_secrets(settings().shopify_webhook_secret_name, refresh)


def commentsold_webhook_secrets(refresh: bool = False) -> list[str]:
    return signing_secrets(settings().commentsold_webhook_secret_name, refresh)


def signature_holds(
    secrets_of: Callable[..., list[str]], check: Callable[[list[str]], Verdict], signed: bool
) -> Verdict:
    """``check`` against a webhook's signing secrets, and once more against freshly read ones when
    the request is signed at all and the first check fails (the secret may have just been
    rotated). A secret that cannot be read raises (the handler answers 503)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        verdict = check(secrets_of())
        return verdict if verdict or not signed else check(secrets_of(refresh=True))
    except (BotoCoreError, ClientError, ValueError) as error:  # ValueError: a secret not of its shape
        raise SecretUnavailable(str(error)[:200]) from error


def lightspeed_webhook_secrets(refresh: bool = False) -> list[str]:
    return signing_secrets(settings().lightspeed_webhook_secret_name, refresh)


def signing_secrets(name: str, refresh: bool = False) -> list[str]:
    """A webhook signing secret, current first: a plain string, or JSON ``{"current": ...,
    "previous": ...}`` while a rotation settles (or an app's ``{"client_secret": ...}``). Cached
    per container; ``refresh`` rereads it (a signature that fails may be signed with a new secret)."""
    if not name:
        return []
    now, cached = time.monotonic(), _signing_secrets.setdefault(name, _Cached())
    if cached.secrets is not None and now - cached.at < (30 if refresh else SECRETS_TTL):
        return cached.secrets  # a refresh rereads at most twice a minute, whatever is sent
    text = secrets_client().get_secret_value(SecretId=name)["SecretString"].strip()
    found = [text]
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
            found = [str(parsed.get(key) or "") for key in ("current", "previous", "client_secret")]
        except (ValueError, AttributeError):
            raise ValueError(f"secret {name!r} is JSON without current/previous") from None
    cached.at, cached.secrets = now, [secret for secret in found if secret]
    return cached.secrets


@cache
def commentsold() -> CommentSoldApi | None:
    """The CommentSold port (partner credentials from Secrets Manager by name); None when not configured."""
    from omnistock.channels.commentsold.api import from_secret

    config = settings()
    if not (config.commentsold_shop and config.commentsold_api_secret_name):
        return None
    return from_secret(
        config.commentsold_api_secret_name,
        config.commentsold_shop,
        secrets_client(),
        api_base=config.commentsold_api_base or None,
        token_url=config.commentsold_token_url or None,
    )


def port_for(channel: Channel) -> ChannelPort | None:
    if channel.platform == "commentsold":
        return commentsold()
    return shopify() if channel.platform == "shopify" else None


@cache
def sync_service() -> SyncService:
    from omnistock.push import PushEngine
    from omnistock.store.job_store import JobStore
    from omnistock.sync import SyncService

    stock = ledger().store
    grace = timedelta(seconds=settings().push_raise_grace_seconds)
    engine = PushEngine(push_store(), stock.channels, port_for, grace=grace)
    return SyncService(stock, push_store(), JobStore(table()), engine)


@cache
def push_store() -> PushStore:
    from omnistock.store.push_store import PushStore

    return PushStore(table(), settings().sync_retention_days)


def orders_port_for(channel_name: str) -> OrdersPort | None:
    channel = ledger().store.channel(channel_name)
    return shopify_orders() if channel is not None and channel.platform == "shopify" else None


@cache
def shipment_desk() -> ShipmentDesk:
    from omnistock.shipments import ShipmentDesk
    from omnistock.store.order_store import OrderStore

    return ShipmentDesk(OrderStore(table(), settings().export_retention_days), push_store(), orders_port_for)


@cache
def shipstation_desk() -> ShipStationDesk:
    from omnistock.channels.shipstation.desk import ShipStationDesk
    from omnistock.channels.shipstation.export_xml import status_map
    from omnistock.store.export_store import ExportStore

    config = settings()
    desk = shipment_desk()
    statuses = status_map(config.shipstation_statuses)
    return ShipStationDesk(
        ExportStore(table()),
        desk.orders,
        desk,
        push_store(),
        page_size=config.shipstation_page_size,
        retention_days=config.export_retention_days,
        statuses=statuses,
    )


_shipstation_credentials = _Cached()


def shipstation_credentials() -> tuple[str, str]:
    """ShipStation's user name and password for this store (JSON ``{"username", "password"}``
    in Secrets Manager, by name); cached per container for SECRETS_TTL."""
    name = settings().shipstation_secret_name
    now, cached = time.monotonic(), _shipstation_credentials
    if not name:
        return ("", "")
    if cached.secrets is None or now - cached.at >= SECRETS_TTL:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            text = secrets_client().get_secret_value(SecretId=name)["SecretString"]
        except (BotoCoreError, ClientError) as error:
            raise SecretUnavailable(f"secret {name!r} could not be read") from error
        try:
            parsed = json.loads(text)
            found = [str(parsed["username"]), str(parsed["password"])]
        except (ValueError, KeyError, TypeError):
            raise SecretUnavailable(f"secret {name!r} is not JSON with username and password") from None
        cached.at, cached.secrets = now, found
    return cached.secrets[0], cached.secrets[1]


@cache
def shopify_intake() -> ShopifyIntake:
    from omnistock.channels.shopify.intake import ShopifyIntake
    from omnistock.listings import ListingDesk
    from omnistock.store.listing_store import ListingStore

    stock = ledger().store
    listing_desk = ListingDesk(ledger(), ListingStore(table()), push_store())
    return ShopifyIntake(stock, shipment_desk().orders, order_desk(), listing_desk, shipment_desk())


@cache
def live_events() -> LiveEvents:
    from omnistock.live_events import LiveEvents
    from omnistock.store.live_store import LiveStore

    return LiveEvents(ledger().store, push_store(), LiveStore(table()), sync_service())


@cache
def order_desk() -> OrderDesk:
    from omnistock.order_desk import OrderDesk

    return OrderDesk(ledger().store, shipment_desk().orders, push_store(), ledger=ledger())


@cache
def commentsold_intake() -> CommentSoldIntake:
    from omnistock.channels.commentsold.intake import CommentSoldIntake
    from omnistock.store.listing_store import ListingStore

    minutes = settings().default_hold_minutes
    return CommentSoldIntake(ledger(), ListingStore(table()), order_desk(), cart_minutes=minutes)


def lightspeed_outlets() -> dict[str, str]:
    """LIGHTSPEED_OUTLETS: which location each Lightspeed outlet (or register) id counts for."""
    try:
        parsed = json.loads(settings().lightspeed_outlets)
    except ValueError:
        raise ValueError("LIGHTSPEED_OUTLETS is not JSON") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) and v for v in parsed.values()):
        raise ValueError('LIGHTSPEED_OUTLETS is a JSON object {"<outlet id>": "<location>"}')
    return {str(key): value for key, value in parsed.items()}


@cache
def lightspeed_intake() -> LightspeedIntake:
    from omnistock.channels.lightspeed.intake import LightspeedIntake
    from omnistock.store.listing_store import ListingStore

    config = settings()
    return LightspeedIntake(
        ledger(),
        ListingStore(table()),
        shipment_desk().orders,
        push_store(),
        lightspeed_outlets(),
        domain_prefix=config.lightspeed_domain_prefix.strip().lower(),
    )


@cache
def lightspeed_feed() -> LightspeedFeed | None:
    """Lightspeed's change feeds, tokens from Secrets Manager by name; None when not connected."""
    import httpx

    from omnistock.channels.lightspeed.api import LightspeedFeed, api_base, token_url
    from omnistock.channels.lightspeed.tokens import SecretPairStore, Tokens
    from omnistock.store.locks import Leases

    config = settings()
    if not (config.lightspeed_domain_prefix and config.lightspeed_token_secret_name):
        return None
    base = config.lightspeed_api_base or api_base(config.lightspeed_domain_prefix)
    http = httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
    store = SecretPairStore(secrets_client(), config.lightspeed_token_secret_name)
    return LightspeedFeed(base, Tokens(store, Leases(table()), http, token_url(base)), http)


def reset() -> None:
    """Forget cached configuration and clients (tests call this)."""
    _signing_secrets.clear()
    _shipstation_credentials.secrets = None
    clients = (
        settings,
        dynamodb_client,
        ledger,
        table,
        shopify,
        sync_service,
        secrets_client,
        shopify_orders,
        commentsold,
        lightspeed_feed,
    )
    desks = (
        push_store,
        shipment_desk,
        shopify_intake,
        shipstation_desk,
        order_desk,
        commentsold_intake,
        live_events,
        lightspeed_intake,
    )
    for cached in (*clients, *desks):
        cached.cache_clear()

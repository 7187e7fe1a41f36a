"""What only Shopify can say about its connection: the credentials work (one cheap call, which
also names the shop), the app has the scopes Omnistock needs, and a channel says where its
number goes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from omnistock.channels import ChannelRefused, ChannelUnavailable
from omnistock.channels.shopify.admin import ShopifyInventory
from omnistock.clock import iso
from omnistock.connections import Check
from omnistock.models import Channel

if TYPE_CHECKING:
    from omnistock.channels.shopify.subscriptions import SubscriptionState

KEEPER_LATE = timedelta(hours=3)  # the keeper runs hourly

PLATFORM = "shopify"
NEEDED_SCOPES = (
    "read_inventory",
    "write_inventory",
    "read_products",
    "read_orders",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
)
APP_QUERY = "query Doctor { shop { name } currentAppInstallation { accessScopes { handle } } }"


def scope_check(port: ShopifyInventory, scope: str, why: str) -> Check:
    """One more scope a feature needs (``why``): granted or not, with the fix."""
    try:
        data = port.graphql("doctor", APP_QUERY, {}, cost=1) or {}
    except (ChannelUnavailable, ChannelRefused) as error:
        return Check(PLATFORM, f"scope {scope}", False, str(error)[:200], "check the Shopify connection first")
    granted = {s.get("handle") for s in (data.get("currentAppInstallation") or {}).get("accessScopes") or []}
    if scope in granted:
        return Check(PLATFORM, f"scope {scope}", True, f"granted ({why})")
    fix = "add it to the app's version in the Dev Dashboard, release it, and approve the update in the shop"
    return Check(PLATFORM, f"scope {scope}", False, f"missing: {why} needs it", fix)


def credential_checks(port: ShopifyInventory) -> list[Check]:
    try:
        data = port.graphql("doctor", APP_QUERY, {}, cost=1)
    except ChannelUnavailable as error:
        fix = "check the shop domain and the app's client id and secret (Dev Dashboard, Settings); install the app"
        return [Check(PLATFORM, "credentials", False, str(error)[:200], fix)]
    shop = (data.get("shop") or {}).get("name", "?")
    granted = {scope.get("handle") for scope in (data.get("currentAppInstallation") or {}).get("accessScopes") or []}
    missing = [scope for scope in NEEDED_SCOPES if scope not in granted]
    scopes = Check(PLATFORM, "scopes", True, f"all {len(NEEDED_SCOPES)} needed scopes granted")
    if missing:
        fix = "add them to the app's version in the Dev Dashboard, release it, and approve the update in the shop"
        scopes = Check(PLATFORM, "scopes", False, f"missing: {', '.join(missing)}", fix)
    return [Check(PLATFORM, "credentials", True, f"the Admin API answers for shop {shop!r}"), scopes]


def subscription_check(state: SubscriptionState | None, now: datetime) -> Check:
    """What the hourly keeper last found: every topic subscribed at this stack's address."""
    if state is None:
        fix = "the ShopifySubscriptions schedule makes them within the hour (or invoke its function now)"
        return Check(PLATFORM, "webhook subscriptions", False, "not checked yet", fix)
    stale = state.checked_at < iso(now - KEEPER_LATE)
    if state.missing or stale:
        why = "; ".join(f"{topic}: {problem}" for topic, problem in state.failed.items()) or "see its log group"
        if "(listing)" in state.failed:
            detail = f"could not be listed at {state.checked_at}: {state.failed['(listing)']}"
            return Check(PLATFORM, "webhook subscriptions", False, detail[:300], "see the credentials check above")
        missing = f"missing: {', '.join(state.missing)}" if state.missing else "complete"
        detail = f"{missing} at {state.url} (checked {state.checked_at})"
        fix = f"the keeper could not make them ({why})" if state.missing else "the keeper has not run for 3 hours"
        return Check(PLATFORM, "webhook subscriptions", False, detail[:300], fix[:300])
    detail = f"all {len(state.present)} topics at {state.url} (checked {state.checked_at})"
    if state.elsewhere:
        detail += f"; also to other addresses: {', '.join(state.elsewhere[:3])}"
    return Check(PLATFORM, "webhook subscriptions", True, detail[:300])


def channel_checks(channels: list[Channel]) -> list[Check]:
    found = [channel for channel in channels if channel.platform == PLATFORM]
    if not found:
        fix = 'PUT /channels/shopify {"locations": [...], "platform": "shopify", "target_location": "gid://shopify/Location/..."}'
        return [Check(PLATFORM, "channel", False, "no channel pushes to Shopify", fix)]
    checks = []
    for channel in found:
        where = f"sells {', '.join(channel.locations)} at {channel.target_location or '(no location)'}; {channel.mode}"
        fix = "" if channel.target_location else f"PUT /channels/{channel.name} with the Shopify location's id"
        if channel.mode == "shadow" and channel.target_location:
            fix = f"when its preview looks right: bin/omnistock go-live --channel {channel.name}"
        checks.append(Check(PLATFORM, f"channel {channel.name}", bool(channel.target_location), where, fix))
    return checks

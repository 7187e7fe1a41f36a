"""What only Shopify can say about its connection: the credentials work (one cheap call, which
also names the shop), the app has the scopes Omnistock needs, and a channel says where its
number goes."""

from __future__ import annotations

from omnistock.channels import ChannelUnavailable
from omnistock.channels.shopify.admin import ShopifyInventory
from omnistock.connections import Check
from omnistock.models import Channel

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

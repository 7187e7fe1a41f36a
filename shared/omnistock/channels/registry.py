"""The platforms: one line each. The core and the wiring ask here, never name one."""

from __future__ import annotations

from omnistock.channels import Connector, Platform
from omnistock.channels.commentsold import wiring as commentsold
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.channels.shipstation import wiring as shipstation
from omnistock.channels.shopify import wiring as shopify
from omnistock.channels.unleashed import wiring as unleashed

CONNECTORS: dict[str, Connector] = {
    connector.name: connector
    for connector in (
        shopify.CONNECTOR,
        commentsold.CONNECTOR,
        lightspeed.CONNECTOR,
        shipstation.CONNECTOR,
        unleashed.CONNECTOR,
    )
}
# The platforms a channel (what the ledger pushes to) can be.
PLATFORMS: dict[str, Platform] = {c.channel.name: c.channel for c in CONNECTORS.values() if c.channel}


def connector(name: str) -> Connector | None:
    return CONNECTORS.get(name)


def platform(name: str) -> Platform | None:
    """The platform called ``name``; None for "" (a channel that is not pushed) or one unknown."""
    return PLATFORMS.get(name)

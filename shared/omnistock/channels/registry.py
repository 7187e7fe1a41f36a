"""The platforms a channel can be: one line each. The core asks here, never names one."""

from __future__ import annotations

from omnistock.channels import Platform
from omnistock.channels.commentsold import PLATFORM as COMMENTSOLD
from omnistock.channels.shopify import PLATFORM as SHOPIFY

PLATFORMS: dict[str, Platform] = {platform.name: platform for platform in (SHOPIFY, COMMENTSOLD)}


def platform(name: str) -> Platform | None:
    """The platform called ``name``; None for "" (a channel that is not pushed) or one unknown."""
    return PLATFORMS.get(name)

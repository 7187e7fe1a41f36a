"""CommentSold's part of the wiring: its settings from the environment, its port and intake."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omnistock.channels import Connector
from omnistock.channels.commentsold import PLATFORM

if TYPE_CHECKING:
    from omnistock.channels.commentsold.api import CommentSoldApi
    from omnistock.channels.commentsold.intake import CommentSoldIntake
    from omnistock.connections import Check
    from omnistock.wiring import Wiring


@dataclass(frozen=True)
class CommentSoldSettings:
    shop: str = ""
    api_secret_name: str = ""
    api_base: str = ""  # empty: production; the local sandbox sets it
    token_url: str = ""
    webhook_secret_name: str = ""
    signature_header: str = "x-commentsold-signature"
    signature_encoding: str = "hex"  # or base64

    @property
    def connected(self) -> bool:
        return bool(self.shop and self.api_secret_name)


def settings_from_env(env: Mapping[str, str]) -> CommentSoldSettings:
    encoding = env.get("COMMENTSOLD_SIGNATURE_ENCODING") or "hex"
    if encoding not in ("hex", "base64"):
        raise ValueError("COMMENTSOLD_SIGNATURE_ENCODING is hex or base64")
    return CommentSoldSettings(
        shop=env.get("COMMENTSOLD_SHOP", ""),
        api_secret_name=env.get("COMMENTSOLD_API_SECRET_NAME", ""),
        api_base=env.get("COMMENTSOLD_API_BASE", ""),
        token_url=env.get("COMMENTSOLD_TOKEN_URL", ""),
        webhook_secret_name=env.get("COMMENTSOLD_WEBHOOK_SECRET_NAME", ""),
        signature_header=(env.get("COMMENTSOLD_SIGNATURE_HEADER") or "x-commentsold-signature").lower(),
        signature_encoding=encoding,
    )


def settings(wiring: Wiring) -> CommentSoldSettings:
    return wiring.config.section(CommentSoldSettings)


def api(wiring: Wiring) -> CommentSoldApi | None:
    """The port (partner credentials from Secrets Manager by name); None when not connected."""

    def make() -> CommentSoldApi | None:
        from omnistock.channels.commentsold.api import from_secret

        config = settings(wiring)
        if not config.connected:
            return None
        return from_secret(
            config.api_secret_name,
            config.shop,
            wiring.clients.secretsmanager,
            api_base=config.api_base or None,
            token_url=config.token_url or None,
        )

    return wiring.once("commentsold.api", make)


def intake(wiring: Wiring) -> CommentSoldIntake:
    minutes = wiring.settings.value("holds.default_minutes")  # a setting: a change builds a new intake

    def make() -> CommentSoldIntake:
        from omnistock.channels.commentsold.intake import CommentSoldIntake

        w = wiring
        return CommentSoldIntake(w.ledger, w.listings, w.order_desk, w.cursors, cart_minutes=minutes, clock=w.clock)

    return wiring.once(f"commentsold.intake:{minutes}", make)


def webhook_secrets(wiring: Wiring, refresh: bool = False) -> list[str]:
    return wiring.secrets.signing(settings(wiring).webhook_secret_name, refresh)


def doctor(wiring: Wiring) -> list[Check]:
    from omnistock.connections import secret_checks

    settings = wiring.config.section(CommentSoldSettings)
    return secret_checks("commentsold", settings, wiring.secrets, settings.connected)


CONNECTOR = Connector(
    "commentsold", settings_from_env, channel=PLATFORM, stock_port=api, doctor=doctor, activity=("poll", "delivery")
)

"""The ``lightspeed.web_orders`` setting (what web orders become in the POS, and when) and the
connection check of what it names: the registers, the user and the payment type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from omnistock.channels import ChannelUnavailable
from omnistock.channels.lightspeed.sales_api import SaleRefused

if TYPE_CHECKING:
    from omnistock.channels.lightspeed.sales_api import LightspeedSales
    from omnistock.connections import Check

SOURCE = "lightspeed"
MODES = ("off", "automatic", "by_hand")
SHOPIFY_ORDER_WINDOW = timedelta(days=60)  # Shopify shows older orders only with read_all_orders


@dataclass(frozen=True)
class WebOrderSettings:
    mode: str = "off"  # off | automatic (every order as it arrives) | by_hand (import new / all orders)
    registers: tuple[tuple[str, str], ...] = ()  # (ledger location, register id), in order
    user_id: str = ""
    payment_type_id: str = ""
    channels: tuple[str, ...] = ()  # empty: every channel but the POS itself
    shipping_only: bool = True  # only orders with a shipping method, as Lightspeed's integration
    shipping_sku: str = "omnistock-shipping"

    def register_at(self, location: str) -> str:
        return dict(self.registers).get(location, "")

    def imports(self, channel: str) -> bool:
        return channel != SOURCE and (not self.channels or channel in self.channels)


def checked_settings(value: Any) -> dict[str, Any]:
    """The ``lightspeed.web_orders`` setting as stored; ValueError saying what is wrong."""
    if not isinstance(value, dict):
        raise ValueError("a JSON object (see README: Web orders into Lightspeed)")
    unknown = set(value) - set(WebOrderSettings.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    mode = value.get("mode", "off")
    if mode not in MODES:
        raise ValueError(f"mode is one of {', '.join(MODES)}")
    registers = value.get("registers", {})
    if (
        not isinstance(registers, dict)
        or len(registers) > 200
        or not all(
            isinstance(k, str) and isinstance(v, str) and 0 < len(k) <= 100 and 0 < len(v) <= 100
            for k, v in registers.items()
        )
    ):
        raise ValueError('registers is {"<location>": "<register id>"} (at most 200)')
    for name in ("user_id", "payment_type_id", "shipping_sku"):
        if not isinstance(value.get(name, ""), str) or len(value.get(name, "")) > 100:
            raise ValueError(f"{name} is text of at most 100 characters")
    channels = value.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) and 0 < len(c) <= 100 for c in channels):
        raise ValueError("channels is a list of channel names")
    if not isinstance(value.get("shipping_only", True), bool):
        raise ValueError("shipping_only is true or false")
    if mode != "off" and not (registers and value.get("user_id") and value.get("payment_type_id")):
        raise ValueError("importing needs registers, user_id and payment_type_id")
    return dict(value)


def settings_of(value: dict[str, Any]) -> WebOrderSettings:
    fields = dict(value)
    fields["registers"] = tuple(sorted((fields.get("registers") or {}).items()))
    fields["channels"] = tuple(fields.get("channels") or ())
    return WebOrderSettings(**fields)


def setup_checks(settings: WebOrderSettings, pos: LightspeedSales, outlets: dict[str, str]) -> list[Check]:
    """The register of each location, the user and the payment type the sales name: present and
    not archived in the POS, and each register at an outlet mapped to its location."""
    from omnistock.connections import Check

    fix = "PUT /settings/lightspeed.web_orders with ids from the POS (README: Web orders into Lightspeed)"
    try:
        registers, users = pos.register_outlets(), pos.setup_list("users")
        payment_types = pos.setup_list("payment_types")
    except (ChannelUnavailable, SaleRefused) as error:
        return [Check("lightspeed", "web orders", False, f"the POS's setup could not be read: {error}", fix)]
    checks = []
    for location, register in settings.registers:
        outlet = registers.get(register)
        if outlet is None:
            detail = f"register {register} ({location}) is missing or archived"
            checks.append(Check("lightspeed", "web orders: register", False, detail, fix))
        elif outlets.get(outlet) != location:
            detail = f"register {register} is at outlet {outlet}, which lightspeed.outlets does not map to {location}"
            checks.append(Check("lightspeed", "web orders: register", False, detail, fix))
        else:
            checks.append(Check("lightspeed", "web orders: register", True, f"{location}: register {register}"))
    for name, chosen, found in (
        ("user", settings.user_id, users),
        ("payment type", settings.payment_type_id, payment_types),
    ):
        ok = found.get(chosen, False)
        detail = f"{name} {chosen} is there" if ok else f"{name} {chosen or '(none)'} is missing or archived"
        checks.append(Check("lightspeed", f"web orders: {name}", ok, detail, "" if ok else fix))
    return checks

"""ShipStation's part of the wiring: its settings from the environment, its credentials and
the desk that answers its Custom Store calls. It is pulled from, never pushed to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omnistock.channels import Connector
from omnistock.config import positive
from omnistock.settings import SettingSpec

if TYPE_CHECKING:
    from omnistock.channels.shipstation.desk import ShipStationDesk
    from omnistock.config import Config
    from omnistock.connections import Check
    from omnistock.wiring import Wiring


@dataclass(frozen=True)
class ShipStationSettings:
    secret_name: str = ""  # JSON {"username", "password"}: what ShipStation sends
    page_size: int = 100
    statuses: str = ""  # "awaiting_payment=unpaid,...": overrides of the default map


def settings_from_env(env: Mapping[str, str]) -> ShipStationSettings:
    return ShipStationSettings(
        secret_name=env.get("SHIPSTATION_SECRET_NAME", ""),
        page_size=positive(env, "SHIPSTATION_PAGE_SIZE", 100),
        statuses=env.get("SHIPSTATION_STATUS_MAP", ""),
    )


def _statuses(config: Config) -> dict[str, str]:
    from omnistock.channels.shipstation.export_xml import status_map

    return {status.value: name for status, name in status_map(config.section(ShipStationSettings).statuses).items()}


def _checked_statuses(value: object) -> dict[str, str]:
    from omnistock.channels.shipstation.export_xml import DEFAULT_STATUS_MAP
    from omnistock.orders import OrderStatus

    if not isinstance(value, dict):
        raise ValueError('a JSON object {"<order status>": "<ShipStation status>"}')
    mapped = {status.value: name for status, name in DEFAULT_STATUS_MAP.items()}
    for status, name in value.items():
        if status not in {s.value for s in OrderStatus}:
            raise ValueError(
                f"unknown order status {str(status)[:40]!r}; they are {', '.join(s.value for s in OrderStatus)}"
            )
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 50:
            raise ValueError(f"status {status!r} needs a ShipStation status name of 1 to 50 characters")
        mapped[status] = name.strip()
    return mapped


STATUS_MAP = "shipstation.status_map"
SETTINGS = (
    SettingSpec(
        STATUS_MAP,
        "The order status ShipStation sees for each Omnistock status (names as typed in ShipStation's "
        "connection form; statuses not named keep their default).",
        _checked_statuses,
        _statuses,
    ),
)


def desk(wiring: Wiring) -> ShipStationDesk:
    mapped = wiring.settings.value(STATUS_MAP)  # a setting: a change builds a new desk

    def make() -> ShipStationDesk:
        from omnistock.channels.shipstation.desk import ShipStationDesk
        from omnistock.orders import OrderStatus
        from omnistock.store.export_store import ExportStore

        w, config = wiring, wiring.config.section(ShipStationSettings)
        return ShipStationDesk(
            ExportStore(w.table),
            w.orders,
            w.shipment_desk,
            w.pushes,
            page_size=config.page_size,
            retention_days=w.config.core.export_retention_days,
            statuses={OrderStatus(status): name for status, name in mapped.items()},
            clock=w.clock,
        )

    return wiring.once(f"shipstation.desk:{sorted(mapped.items())}", make)


def credentials(wiring: Wiring) -> tuple[str, str]:
    """ShipStation's user name and password for this store; raises SecretUnavailable."""
    return wiring.secrets.login(wiring.config.section(ShipStationSettings).secret_name)


def doctor(wiring: Wiring) -> list[Check]:
    from omnistock.connections import secret_checks

    settings = wiring.config.section(ShipStationSettings)
    return secret_checks("shipstation", settings, wiring.secrets, bool(settings.secret_name))


CONNECTOR = Connector("shipstation", settings_from_env, doctor=doctor, settings=SETTINGS)

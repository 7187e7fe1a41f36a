"""The deployed wiring: one per Lambda container, built from the environment on first use.

Only handlers import this module; the domain receives what it needs as arguments.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnistock.wiring import Wiring

_app: list[Wiring] = []


def app() -> Wiring:
    """This container's wiring (configuration read from the environment once)."""
    if not _app:
        from omnistock.channels import registry
        from omnistock.config import Config
        from omnistock.wiring import build

        readers = [connector.settings_from_env for connector in registry.CONNECTORS.values()]
        _app.append(build(Config.from_env(os.environ, readers)))
    return _app[0]


def reset() -> None:
    """Forget this container's configuration, clients and cached secrets (tests call this)."""
    _app.clear()

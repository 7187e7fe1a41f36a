"""Settings a retailer changes after deploying, without a redeploy: each starts as the template
parameter's value and, once changed through the admin API, lives in the table (with an audit
entry saying who changed it, when, from what). Functions read them through a short cache, so a
change takes effect within a minute everywhere.

The core's own are defined here; each platform's package names its own (``Connector.settings``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from omnistock.errors import InvalidRequest, NotFound

if TYPE_CHECKING:
    from omnistock.config import Config
    from omnistock.store.settings_store import AuditEntry, SettingsStore, Stored

FRESH = timedelta(seconds=60)  # how long a function trusts what it read


@dataclass(frozen=True)
class SettingSpec:
    name: str  # "<platform or core>.<setting>"
    description: str
    check: Callable[[Any], Any]  # the value as stored; raises ValueError saying what is wrong
    default: Callable[[Config], Any]  # the template parameter's value
    # The ledger locations the value names (an outlet map's): locations a channel may sell from.
    locations: Callable[[Any], Iterable[str]] | None = None


def _minutes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_080:
        raise ValueError("a whole number of minutes from 1 to 10080 (a week)")
    return value


def _locations(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 200:
        raise ValueError("a list of at most 200 location names")
    if not all(isinstance(name, str) and 0 < len(name) <= 100 for name in value):
        raise ValueError("location names are 1 to 100 characters")
    return sorted(set(value))


CORE = (
    SettingSpec(
        "holds.default_minutes",
        "How long a hold (a live-sale cart) lasts when its source gives no expiry.",
        _minutes,
        lambda config: config.core.default_hold_minutes,
    ),
    SettingSpec(
        "ledger.locations",
        "Locations a channel may sell from besides those already in use (by a channel, or an outlet of "
        "the POS): add one here before the first channel that sells from it.",
        _locations,
        lambda config: sorted(config.core.ledger_locations),
        locations=lambda names: names,
    ),
)


@dataclass(frozen=True)
class SettingView:
    spec: SettingSpec
    value: Any
    stored: Stored | None  # None: the template's value is in force


class Settings:
    def __init__(
        self,
        store: SettingsStore,
        specs: Iterable[SettingSpec],
        config: Config,
        clock: Callable[[], datetime],
        fresh: timedelta = FRESH,
    ) -> None:
        self.store = store
        self.specs = {spec.name: spec for spec in specs}
        self.config = config
        self.clock = clock
        self.fresh = fresh
        self._read: tuple[datetime, dict[str, Stored]] | None = None

    def value(self, name: str, *, fresh: bool = False) -> Any:
        """The setting in force (as read within the last minute; ``fresh``: read now, where a
        minute of an old value would do harm, such as an importer switched off)."""
        return self._value(self._spec(name), self._stored(fresh=fresh))

    def views(self) -> list[SettingView]:
        stored = self._stored(fresh=True)
        return [
            SettingView(spec, self._value(spec, stored), stored.get(name)) for name, spec in sorted(self.specs.items())
        ]

    def change(self, name: str, value: Any, who: str) -> SettingView:
        """Check and store a new value (audited); the same value again writes nothing."""
        spec = self._spec(name)
        try:
            checked = spec.check(value)
        except ValueError as error:
            raise InvalidRequest(f"{name}: {error}") from None
        current = self._stored(fresh=True).get(name)
        before = current.value if current is not None else spec.default(self.config)
        if current is not None and current.value == checked:
            return SettingView(spec, checked, current)
        self.store.save(name, checked, current, before, who, self.clock())
        self._read = None
        return SettingView(spec, checked, self._stored(fresh=True).get(name))

    def known_locations(self) -> set[str]:
        """Every location a setting names (registered ones, the POS's outlets), read afresh: a
        location registered a moment ago in another container counts."""
        stored = self._stored(fresh=True)
        found: set[str] = set()
        for spec in self.specs.values():
            if spec.locations is not None:
                found |= set(spec.locations(self._value(spec, stored)))
        return found

    def record(self, subject: str, who: str, before: Any, after: Any) -> None:
        """Audit a change saved elsewhere (a channel's settings, its mode), unless nothing changed."""
        if before != after:
            self.store.record(subject, who, before, after, self.clock())

    def audit(self, month: str, before: str, limit: int) -> list[AuditEntry]:
        return self.store.audit(month, before, limit)

    def _value(self, spec: SettingSpec, stored: dict[str, Stored]) -> Any:
        """The stored value, or the template's until one is stored."""
        return stored[spec.name].value if spec.name in stored else spec.default(self.config)

    def _spec(self, name: str) -> SettingSpec:
        if name not in self.specs:
            raise NotFound(f"no setting {name!r}; GET /settings lists them")
        return self.specs[name]

    def _stored(self, fresh: bool = False) -> dict[str, Stored]:
        now = self.clock()
        if fresh or self._read is None or now - self._read[0] >= self.fresh:
            self._read = (now, self.store.all())
        return self._read[1]

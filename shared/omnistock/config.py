"""Configuration: the stack's own settings, and one section per platform (each platform's
package defines and reads its own). Plain dataclasses: a function that never parses a request
body does not pay for importing pydantic at cold start."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

Section = TypeVar("Section")


def positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = int(env.get(name) or default)
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


def non_negative(env: Mapping[str, str], name: str, default: int) -> int:
    value = int(env.get(name) or default)
    if value < 0:
        raise ValueError(f"{name} must be 0 or more")
    return value


@dataclass(frozen=True)
class CoreSettings:
    """What every function of the stack shares: its table and how long records are kept."""

    table_name: str
    movement_retention_days: int = 90
    dedupe_retention_days: int = 30
    default_hold_minutes: int = 15
    sync_retention_days: int = 30
    export_retention_days: int = 30
    push_raise_grace_seconds: int = 120
    ledger_locations: tuple[str, ...] = ()  # besides the POS's outlets' (a setting's first value)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CoreSettings:
        table_name = env.get("TABLE_NAME", "")
        if not table_name:
            raise ValueError("TABLE_NAME is not set")
        return cls(
            table_name=table_name,
            movement_retention_days=positive(env, "MOVEMENT_RETENTION_DAYS", 90),
            dedupe_retention_days=positive(env, "DEDUPE_RETENTION_DAYS", 30),
            default_hold_minutes=positive(env, "DEFAULT_HOLD_MINUTES", 15),
            sync_retention_days=positive(env, "SYNC_RETENTION_DAYS", 30),
            export_retention_days=positive(env, "EXPORT_RETENTION_DAYS", 30),
            push_raise_grace_seconds=non_negative(env, "PUSH_RAISE_GRACE_SECONDS", 120),
            ledger_locations=tuple(part.strip() for part in env.get("LEDGER_LOCATIONS", "").split(",") if part.strip()),
        )


@dataclass(frozen=True)
class Config:
    core: CoreSettings
    # One settings object per platform, by its type; a platform without one is not configured
    # (its section's defaults: not connected).
    sections: Mapping[type, Any] = field(default_factory=dict)

    def section(self, kind: type[Section]) -> Section:
        found = self.sections.get(kind)
        return found if isinstance(found, kind) else kind()

    def with_sections(self, *sections: Any) -> Config:
        return replace(self, sections={**self.sections, **{type(s): s for s in sections}})

    @classmethod
    def for_table(cls, table_name: str, *sections: Any, **core: Any) -> Config:
        """A configuration built in code (tests, benchmarks, scripts)."""
        return cls(CoreSettings(table_name, **core)).with_sections(*sections)

    @classmethod
    def from_env(cls, env: Mapping[str, str], readers: Iterable[Any]) -> Config:
        """``readers``: each platform's ``settings_from_env``."""
        return cls(CoreSettings.from_env(env)).with_sections(*(read(env) for read in readers))

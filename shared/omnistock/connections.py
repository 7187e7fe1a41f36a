"""The connection check (`GET /connections`, `omnistock doctor`): per platform, whether its
secrets can be read and its credentials work, and what failed lately, each with a one-line
fix. Each platform's package adds what only it can check (see its ``wiring.doctor``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from omnistock.clients import Secrets
from omnistock.clock import iso
from omnistock.errors import SecretUnavailable
from omnistock.models import Channel
from omnistock.store.push_store import PushStore

if TYPE_CHECKING:
    from omnistock.wiring import Wiring

RECENT = timedelta(hours=24)
POLL_LATE = timedelta(minutes=20)  # polls run every 5 minutes: four missed runs is a stopped poll
FAILURES_READ = 200  # the newest failures a check reads (it says "at least" beyond)


@dataclass(frozen=True)
class Check:
    platform: str
    name: str
    ok: bool
    detail: str
    fix: str = ""


def secret_checks(platform: str, settings: Any, secrets: Secrets, connected: bool) -> list[Check]:
    """Every secret the platform's settings name can be read (read anew, not from the cache)."""
    if not connected:
        return [
            Check(platform, "configured", False, "not configured", f"deploy with its parameters: README, {platform}")
        ]
    checks = []
    for field in fields(settings):
        name = getattr(settings, field.name)
        if not field.name.endswith("secret_name") or not name:
            continue
        try:
            secrets.text(name, refresh=True)
            checks.append(Check(platform, field.name.removesuffix("_name"), True, f"{name!r} readable"))
        except SecretUnavailable as error:
            fix = f"create the secret {name!r} in Secrets Manager (or fix the function's access to it)"
            checks.append(Check(platform, field.name.removesuffix("_name"), False, str(error)[:200], fix))
    return checks


def failure_checks(platform: str, channels: Iterable[Channel], pushes: PushStore, now: datetime) -> list[Check]:
    """Pushes that failed in the last 24 hours, per channel of the platform."""
    since = iso(now - RECENT)
    checks = []
    for channel in channels:
        if channel.platform != platform:
            continue
        failed = pushes.sync_history(channel=channel.name, failed_only=True, limit=FAILURES_READ)
        recent = [entry for entry in failed if entry.at >= since]
        count = f"{len(recent)}{'+' if len(recent) == FAILURES_READ else ''}"
        last = f"; last: {recent[0].error[:120]}" if recent else ""
        fix = f"GET /sync-history?channel={channel.name}&failed=true says which SKUs and why" if recent else ""
        checks.append(
            Check(platform, f"{channel.name}: failures (24 h)", not recent, f"{count} failed pushes{last}", fix)
        )
    return checks


def activity_checks(platform: str, activity: Iterable[str], seen: dict[str, str], now: datetime) -> list[Check]:
    """When the platform's poll last ran (late after 20 minutes) and its last webhook delivery
    arrived (for the record: a quiet shop sends none)."""
    checks = []
    for kind in activity:
        last = seen.get(f"{platform}:{kind}")
        if kind == "poll":
            late = last is None or last < iso(now - POLL_LATE)
            detail = f"last ran {last}" if last else "has not run yet"
            fix = f"the {platform} poll's schedule or its log group says why it stopped" if late else ""
            checks.append(Check(platform, "poll", not late, detail, fix))
        else:
            detail = (
                f"last webhook delivery {last}" if last else "no webhook delivery seen yet (a quiet shop sends none)"
            )
            checks.append(Check(platform, "deliveries", True, detail))
    return checks


def diagnose(wiring: Wiring) -> list[Check]:
    """Every platform's checks, when its poll and webhooks last worked, then its channels'
    recent failures."""
    from omnistock.channels import registry

    channels, now, seen = wiring.stock.channels(), wiring.clock(), wiring.heartbeats.seen()
    checks: list[Check] = []
    for connector in registry.CONNECTORS.values():
        own = connector.doctor(wiring) if connector.doctor is not None else []
        checks += own
        if not any(check.name == "configured" and not check.ok for check in own):
            checks += activity_checks(connector.name, connector.activity, seen, now)
        checks += failure_checks(connector.name, channels, wiring.pushes, now)
    return checks

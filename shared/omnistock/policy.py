"""What each channel may sell: the ledger's available, shaped by the channel's policies.

sellable = available over the channel's locations
           - units allocated to other channels' live events
           - the channel's buffer (safety stock)
           capped by its maximum, 0 while paused, never above the ledger, never below 0;
           nothing at all (not pushed) while auto sync is off for the SKU.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SkuPolicy:
    """One SKU on one channel. None means "the channel's default"."""

    buffer: int | None = None
    max_shown: int | None = None
    paused: bool = False  # the `noinventory` practice: the channel shows 0
    auto_sync: bool | None = None  # False: Omnistock leaves the channel's number alone
    allocation: int = 0  # units reserved for this channel's live event; others do not see them


@dataclass(frozen=True)
class ChannelDefaults:
    buffer: int = 0
    max_shown: int | None = None
    auto_sync: bool = True  # the rule for SKUs without a policy of their own (new SKUs)


def sellable(
    channel: str,
    available_by_location: dict[str, int],
    locations: tuple[str, ...],
    defaults: ChannelDefaults,
    policies: dict[str, SkuPolicy],
) -> int | None:
    """Units ``channel`` may sell, or None when it must not be pushed at all.

    ``policies`` holds this SKU's policy per channel (for the other channels' allocations).
    """
    own = policies.get(channel, SkuPolicy())
    auto_sync = defaults.auto_sync if own.auto_sync is None else own.auto_sync
    if not auto_sync:
        return None
    if own.paused:
        return 0
    ledger = max(0, sum(available_by_location.get(location, 0) for location in locations))
    reserved_elsewhere = sum(p.allocation for name, p in policies.items() if name != channel)
    buffer = defaults.buffer if own.buffer is None else own.buffer
    shown = ledger - reserved_elsewhere - buffer
    cap = defaults.max_shown if own.max_shown is None else own.max_shown
    if cap is not None:
        shown = min(shown, cap)
    return max(0, min(shown, ledger))


def why_shown(
    channel: str,
    available_by_location: dict[str, int],
    locations: tuple[str, ...],
    defaults: ChannelDefaults,
    policies: dict[str, SkuPolicy],
    shown: int,
) -> tuple[str, ...]:
    """Why the channel would be set to something else than ``shown``: the ledger's count
    differs ("ledger"), and what of the policies takes units away ("paused", "allocation"
    for other channels' live events, "buffer", "cap")."""
    own = policies.get(channel, SkuPolicy())
    ledger = max(0, sum(available_by_location.get(location, 0) for location in locations))
    reasons = ["ledger"] if ledger != shown else []
    if own.paused:
        reasons.append("paused")
    if any(p.allocation for name, p in policies.items() if name != channel):
        reasons.append("allocation")
    if (defaults.buffer if own.buffer is None else own.buffer) > 0:
        reasons.append("buffer")
    cap = defaults.max_shown if own.max_shown is None else own.max_shown
    if cap is not None and cap < ledger:
        reasons.append("cap")
    return tuple(reasons) or ("ledger",)


def shown_steps(
    channel: str,
    available_by_location: dict[str, int],
    locations: tuple[str, ...],
    defaults: ChannelDefaults,
    policies: dict[str, SkuPolicy],
) -> list[str]:
    """How ``sellable`` arrives at its number, step by step, for people."""
    own = policies.get(channel, SkuPolicy())
    auto_sync = defaults.auto_sync if own.auto_sync is None else own.auto_sync
    if not auto_sync:
        return ["auto sync is off: Omnistock leaves the channel's number alone"]
    if own.paused:
        return ["paused: the channel shows 0"]
    parts = [f"{location} {available_by_location.get(location, 0)}" for location in locations]
    ledger = max(0, sum(available_by_location.get(location, 0) for location in locations))
    steps = [f"available at its locations: {' + '.join(parts) or 'none'} = {ledger}"]
    for name, policy in sorted(policies.items()):
        if name != channel and policy.allocation:
            steps.append(f"minus {policy.allocation} allocated to {name}'s live event")
    buffer = defaults.buffer if own.buffer is None else own.buffer
    if buffer:
        steps.append(f"minus buffer {buffer}" + (" (the channel's default)" if own.buffer is None else ""))
    cap = defaults.max_shown if own.max_shown is None else own.max_shown
    if cap is not None:
        steps.append(f"at most {cap} (cap" + (", the channel's default)" if own.max_shown is None else ")"))
    steps.append(f"= {sellable(channel, available_by_location, locations, defaults, policies)}")
    return steps

"""Changes to a channel, as a person makes them through the admin API: saved, and audited with
who made them (settings.py keeps the audit). A new channel starts in shadow mode."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from omnistock.models import LIVE, SHADOW, Channel, Job

if TYPE_CHECKING:
    from omnistock.ledger import Ledger
    from omnistock.settings import Settings
    from omnistock.sync import SyncService


class ChannelDesk:
    def __init__(self, ledger: Ledger, sync: SyncService, settings: Settings) -> None:
        self.ledger = ledger
        self.sync = sync
        self.settings = settings

    def configure(self, name: str, locations: list[str], who: str, **fields: Any) -> Channel:
        """``fields``: Ledger.set_channel's settings. A new channel is read, never written, until
        it goes live."""
        before = self.ledger.store.channel(name)
        saved = self.ledger.set_channel(name, locations, new_mode=SHADOW, **fields)
        self.settings.record(f"channel {name}", who, _audited(before), _audited(saved))
        return saved

    def go_live(self, name: str, who: str) -> Job:
        job = self.sync.go_live(name)
        self.settings.record(f"channel {name}", who, {"mode": SHADOW}, {"mode": LIVE})
        return job

    def to_shadow(self, name: str, who: str) -> Channel:
        before = self.ledger.store.channel(name)
        saved = self.sync.to_shadow(name)
        self.settings.record(f"channel {name}", who, {"mode": before.mode if before else None}, {"mode": saved.mode})
        return saved


def _audited(channel: Channel | None) -> dict[str, Any] | None:
    """What a change is judged by (its time is not a change)."""
    if channel is None:
        return None
    fields = asdict(channel)
    fields.pop("updated_at")
    fields["locations"] = list(channel.locations)
    return fields

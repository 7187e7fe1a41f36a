"""Bodies of the admin API's operations views (what the console's screens read and do): the
problems inbox, bulk policy changes, push latency, orders by day, a live event's board."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, model_validator

from omnistock.admin_schemas import Body, ChannelName, Identifier, InventoryState, LiveEventOut, live_event_out
from omnistock.problems import ACTIONS, hint, readable

if TYPE_CHECKING:
    from omnistock.live_events import LiveRow
    from omnistock.orders import StoredOrder
    from omnistock.problems import Resolution
    from omnistock.store.problem_store import Problem
    from omnistock.sync import ChannelView

MAX_SELECTED = 250  # rows a person can select on a page of the inventory screen
ProblemId = Annotated[str, StringConstraints(min_length=3, max_length=600, pattern=r"^[^\x00-\x1f\x7f]+$")]
Shown = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]


class ProblemOut(BaseModel):
    id: str
    kind: str
    channel: str
    subject: str = Field(description="A SKU, or an order, line or product named by its ids.")
    why: str
    error: str
    at: str
    units: int
    hint: str = Field(description="What fixes it, in words.")
    message: str = Field(default="", description="The platform's error code in words, when it is a known one.")
    actions: list[str] = Field(description="What POST /problems/retry or /problems/dismiss can do with it.")


class ProblemsOut(BaseModel):
    problems: list[ProblemOut]
    next: str | None = Field(description="Pass as `after` for the next page; null on the last.")


class OldLotOut(BaseModel):
    sku: str
    location: str
    lot: str
    units: int
    sold_at: str


class OldLotsOut(BaseModel):
    older_than_hours: int
    hint: str
    lots: list[OldLotOut]


class ProblemIn(Body):
    id: ProblemId


class ResolutionOut(BaseModel):
    id: str
    resolved: bool
    detail: str


class _PolicyChanges(Body):
    """Fields left out stay as each SKU has them; buffer and max_shown null go back to the channel's default."""

    auto_sync: bool | None = None
    paused: bool | None = None
    buffer: Shown | None = None
    max_shown: Shown | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> _PolicyChanges:
        if not self.changes():
            raise ValueError("give at least one of auto_sync, paused, buffer, max_shown")
        if "paused" in self.model_fields_set and self.paused is None:
            raise ValueError("paused is true or false")
        return self

    def changes(self) -> dict[str, Any]:
        wanted = ("auto_sync", "paused", "buffer", "max_shown")
        return {name: getattr(self, name) for name in wanted if name in self.model_fields_set}


class PoliciesIn(_PolicyChanges):
    """Fields left out stay as each SKU has them; buffer and max_shown null go back to the channel's default."""

    channel: ChannelName
    skus: list[Identifier] = Field(min_length=1, max_length=MAX_SELECTED)


class FilterSyncNowIn(Body):
    """Every SKU in an inventory filter: those starting with ``prefix`` (and in ``state`` on the channel)."""

    channel: ChannelName
    prefix: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    state: InventoryState | None = None


class FilterPoliciesIn(_PolicyChanges, FilterSyncNowIn):
    """Every SKU in an inventory filter: those starting with ``prefix`` (and in ``state`` on the channel).
    Fields left out stay as each SKU has them; buffer and max_shown null go back to the channel's default."""


class PoliciesOut(BaseModel):
    channel: str
    skus: int
    changed: int = Field(description="Policies that changed (each is pushed like a stock change).")


class LatencyOut(BaseModel):
    window_minutes: int
    pushes: int = Field(description="Applied pushes measured in the window.")
    p50_ms: int | None
    p99_ms: int | None


class OrderSummaryOut(BaseModel):
    channel: str
    order_id: str
    number: str
    status: str
    modified_at: str
    lines: int
    ship_to_country: str


class OrdersOut(BaseModel):
    day: str
    orders: list[OrderSummaryOut]
    next: str | None


class LiveRowOut(BaseModel):
    sku: str
    allocated: int
    held: int
    sold: int = Field(description="Units checked out in the channel's carts since the event started.")
    left: int = Field(description="Available to the channel now.")


class LiveBoardOut(BaseModel):
    event: LiveEventOut
    rows: list[LiveRowOut]


def problems_out(found: list[Problem], cursor: str | None) -> ProblemsOut:
    return ProblemsOut(
        problems=[
            ProblemOut(
                id=p.problem_id,
                kind=p.kind,
                channel=p.channel,
                subject=p.subject,
                why=p.why,
                error=p.error,
                at=p.at,
                units=p.after,
                hint=hint(p.kind),
                message=readable(p.error),
                actions=list(ACTIONS.get(p.kind, ("dismiss",))),
            )
            for p in found
        ],
        next=cursor,
    )


def old_lots_out(hours: int, found: list[tuple[str, str, str, int, str]]) -> OldLotsOut:
    lots = [OldLotOut(sku=sku, location=loc, lot=lot, units=units, sold_at=at) for sku, loc, lot, units, at in found]
    return OldLotsOut(older_than_hours=hours, hint=hint("old_lot"), lots=lots)


def resolution_out(resolution: Resolution) -> ResolutionOut:
    return ResolutionOut(id=resolution.problem.problem_id, resolved=resolution.resolved, detail=resolution.detail)


def orders_out(day: str, found: list[StoredOrder], cursor: str) -> OrdersOut:
    return OrdersOut(
        day=day,
        orders=[
            OrderSummaryOut(
                channel=stored.order.channel,
                order_id=stored.order.order_id,
                number=stored.order.number,
                status=str(stored.status),
                modified_at=stored.modified_at,
                lines=len(stored.order.lines),
                ship_to_country=stored.order.ship_to.country if stored.order.ship_to else "",
            )
            for stored in found
        ],
        next=cursor or None,
    )


def live_board_out(event: dict[str, Any], rows: list[LiveRow]) -> LiveBoardOut:
    return LiveBoardOut(
        event=live_event_out(event),
        rows=[LiveRowOut(sku=r.sku, allocated=r.allocated, held=r.held, sold=r.sold, left=r.left) for r in rows],
    )


class ChannelViewOut(BaseModel):
    channel: str
    mode: str
    listing: str = Field(description="The SKU's listing on the channel; empty: not mapped there.")
    auto_sync: bool | None = Field(description="The SKU's own setting; null: the channel's default.")
    paused: bool
    buffer: int | None
    max_shown: int | None
    allocation: int
    would_show: int | None = Field(description="What Omnistock makes the channel show; null: auto sync off.")
    steps: list[str] = Field(description="How that number comes about, in words.")
    pushed: int | None = Field(description="What Omnistock last made the channel show.")
    pushed_at: str | None


class ChannelViewsOut(BaseModel):
    sku: str
    channels: list[ChannelViewOut]
    held_by: dict[str, dict[str, int]] = Field(description="Location -> source -> units held in its carts now.")


def channel_views_out(sku: str, views: list[ChannelView], held_by: dict[str, dict[str, int]]) -> ChannelViewsOut:
    return ChannelViewsOut(
        sku=sku,
        held_by={location: {k: v for k, v in by.items() if v} for location, by in held_by.items() if any(by.values())},
        channels=[
            ChannelViewOut(
                channel=v.channel.name,
                mode=v.channel.mode,
                listing=v.listing,
                auto_sync=v.policy.auto_sync,
                paused=v.policy.paused,
                buffer=v.policy.buffer,
                max_shown=v.policy.max_shown,
                allocation=v.policy.allocation,
                would_show=v.would_show,
                steps=v.steps,
                pushed=v.pushed.quantity if v.pushed else None,
                pushed_at=v.pushed.at if v.pushed else None,
            )
            for v in views
        ],
    )

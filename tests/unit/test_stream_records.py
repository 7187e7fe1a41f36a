"""Stream records of stock items become movements with exact before/after and cause."""

from __future__ import annotations

from typing import Any

from omnistock.models import MovementKind, Quantities
from omnistock.store.stream import movement_from_record
from omnistock.store.table import to_attrs


def stock_image(rev: int, on_hand: int, held: int, pending: int, kind: str = "hold") -> dict[str, Any]:
    return to_attrs(
        {
            "pk": "SKU#TEE",
            "sk": "LOC#shop",
            "sku": "TEE",
            "location": "shop",
            "on_hand": on_hand,
            "held": held,
            "pending": pending,
            "available": on_hand - held - pending,
            "rev": rev,
            "lots": {},
            "last": {"source": "cs", "event_id": "r1", "kind": kind, "note": "h1", "at": "2026-11-23T12:00:00.000Z"},
        }
    )


def record(name: str, new: dict | None, old: dict | None = None, sk: str = "LOC#shop") -> dict[str, Any]:
    dynamodb: dict[str, Any] = {"Keys": {"pk": {"S": "SKU#TEE"}, "sk": {"S": sk}}, "SequenceNumber": "1"}
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    return {"eventName": name, "dynamodb": dynamodb}


def test_modify_gives_before_after_and_cause() -> None:
    movement = movement_from_record(record("MODIFY", stock_image(3, 10, 2, 0), stock_image(2, 10, 0, 0)))
    assert movement is not None
    assert movement.kind is MovementKind.HOLD
    assert (movement.source, movement.event_id, movement.note) == ("cs", "r1", "h1")
    assert movement.before == Quantities(10, 0, 0, 10)
    assert movement.after == Quantities(10, 2, 0, 8)
    assert movement.rev == 3


def test_insert_starts_from_zero() -> None:
    movement = movement_from_record(record("INSERT", stock_image(1, 5, 0, 0, kind="count")))
    assert movement is not None
    assert movement.before == Quantities(0, 0, 0, 0)
    assert movement.after.on_hand == 5


def test_other_items_and_removals_are_not_movements() -> None:
    assert movement_from_record(record("MODIFY", stock_image(2, 1, 0, 0), sk="CATALOG")) is None
    assert movement_from_record(record("REMOVE", None, stock_image(2, 1, 0, 0))) is None


def test_unchanged_revision_is_not_a_movement() -> None:
    image = stock_image(2, 1, 0, 0)
    assert movement_from_record(record("MODIFY", image, image)) is None


def test_what_the_push_function_acts_on() -> None:
    from omnistock.store.stream import changed_channel, changed_sku

    assert changed_sku(record("MODIFY", stock_image(2, 1, 0, 0))) == "TEE"
    assert changed_sku(record("MODIFY", {}, sk="CATALOG")) == "TEE"
    assert changed_sku(record("INSERT", {}, sk="POLICY#shopify")) == "TEE"
    assert changed_sku(record("INSERT", {}, sk="LOT#shop#x")) is None
    assert changed_sku(record("REMOVE", None, stock_image(2, 1, 0, 0))) is None
    channel_record = {
        "eventName": "MODIFY",
        "dynamodb": {"Keys": {"pk": {"S": "CHANNELS"}, "sk": {"S": "shopify"}}, "SequenceNumber": "42"},
    }
    assert changed_channel(channel_record) == ("shopify", "42")
    assert changed_channel(record("MODIFY", stock_image(2, 1, 0, 0))) is None

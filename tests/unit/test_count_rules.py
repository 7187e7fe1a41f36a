"""How a master count combines with holds and pending lots, without storage."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from omnistock.ledger import apply_count
from omnistock.models import Lot, StockLevel

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def level(**changes: object) -> StockLevel:
    return StockLevel(sku="TEE", location="shop", **changes)  # type: ignore[arg-type]


def test_first_count_sets_everything() -> None:
    new, cleared = apply_count(None, "TEE", "shop", 7, 1, "t", NOW) or (None, None)
    assert new is not None
    assert (new.on_hand, new.held, new.pending, new.available, new.master_version) == (7, 0, 0, 7, 1)
    assert cleared == []


def test_older_or_equal_version_is_stale() -> None:
    current = level(on_hand=5, available=5, master_version=4)
    assert apply_count(current, "TEE", "shop", 9, 4, "t", NOW) is None
    assert apply_count(current, "TEE", "shop", 9, 3, "t", NOW) is None


def test_holds_survive_a_count() -> None:
    current = level(on_hand=10, held=3, available=7, master_version=1)
    result = apply_count(current, "TEE", "shop", 8, 2, "t", NOW)
    assert result is not None
    assert (result[0].on_hand, result[0].held, result[0].available) == (8, 3, 5)


def test_count_that_predates_a_sale_keeps_it_pending() -> None:
    lots = {"web:o1": Lot(2, "t"), "web:o2": Lot(1, "t", applied_version=9)}
    current = level(on_hand=10, pending=3, available=7, master_version=1, lots=lots)
    result = apply_count(current, "TEE", "shop", 10, 5, "t", NOW)
    assert result is not None
    new, cleared = result
    assert cleared == []
    assert (new.pending, new.available) == (3, 7)


def test_count_that_includes_a_sale_clears_its_lot() -> None:
    lots = {"web:o1": Lot(2, "t", applied_version=4), "web:o2": Lot(1, "t", applied_version=9)}
    current = level(on_hand=10, pending=3, available=7, master_version=1, lots=lots)
    result = apply_count(current, "TEE", "shop", 8, 5, "t", NOW)
    assert result is not None
    new, cleared = result
    assert cleared == ["web:o1"]
    assert (new.on_hand, new.pending, new.available) == (8, 1, 7)
    assert set(new.lots) == {"web:o2"}


def test_count_below_promises_shows_a_shortfall() -> None:
    current = level(on_hand=5, held=3, pending=2, available=0, master_version=1, lots={"x": Lot(2, "t")})
    result = apply_count(current, "TEE", "shop", 3, 2, "t", NOW)
    assert result is not None
    assert result[0].available == -2
    assert result[0].shortfall == 2


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 100)), min_size=1, max_size=30), st.randoms())
def test_counts_in_any_order_end_at_the_newest(counts: list[tuple[int, int]], rnd: object) -> None:
    """Whatever order (and however often) counts arrive, the newest version wins."""
    delivered = counts + counts[: len(counts) // 2]
    rnd.shuffle(delivered)  # type: ignore[attr-defined]
    current: StockLevel | None = None
    for on_hand, version in delivered:
        result = apply_count(current, "TEE", "shop", on_hand, version, "t", NOW)
        if result is not None:
            current = result[0]
    newest = max(version for _, version in counts)
    assert current is not None
    assert current.master_version == newest
    assert current.on_hand == next(on for on, v in delivered if v == newest)

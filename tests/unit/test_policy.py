"""What a channel may sell, under every combination of policies."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from omnistock.policy import ChannelDefaults, SkuPolicy, sellable

LOCATIONS = ("shop", "web")


def test_sums_the_channels_locations() -> None:
    assert sellable("shopify", {"shop": 3, "web": 4, "back": 9}, LOCATIONS, ChannelDefaults(), {}) == 7


def test_buffer_cap_pause_and_auto_sync() -> None:
    levels = {"shop": 10}
    assert sellable("s", levels, LOCATIONS, ChannelDefaults(buffer=2), {}) == 8
    assert sellable("s", levels, LOCATIONS, ChannelDefaults(buffer=2), {"s": SkuPolicy(buffer=0)}) == 10
    assert sellable("s", levels, LOCATIONS, ChannelDefaults(max_shown=4), {}) == 4
    assert sellable("s", levels, LOCATIONS, ChannelDefaults(), {"s": SkuPolicy(paused=True)}) == 0
    assert sellable("s", levels, LOCATIONS, ChannelDefaults(auto_sync=False), {}) is None
    assert sellable("s", levels, LOCATIONS, ChannelDefaults(auto_sync=False), {"s": SkuPolicy(auto_sync=True)}) == 10
    assert sellable("s", levels, LOCATIONS, ChannelDefaults(), {"s": SkuPolicy(auto_sync=False)}) is None


def test_other_channels_allocations_are_not_shown() -> None:
    policies = {"live": SkuPolicy(allocation=6), "s": SkuPolicy()}
    assert sellable("s", {"shop": 10}, LOCATIONS, ChannelDefaults(), policies) == 4
    assert sellable("live", {"shop": 10}, LOCATIONS, ChannelDefaults(), policies) == 10


def test_shortfall_shows_zero() -> None:
    assert sellable("s", {"shop": -3, "web": 1}, LOCATIONS, ChannelDefaults(), {}) == 0


policy = st.builds(
    SkuPolicy,
    buffer=st.none() | st.integers(0, 20),
    max_shown=st.none() | st.integers(0, 50),
    paused=st.booleans(),
    auto_sync=st.none() | st.booleans(),
    allocation=st.integers(0, 20),
)


@given(
    st.dictionaries(st.sampled_from(["shop", "web", "back"]), st.integers(-10, 100)),
    st.dictionaries(st.sampled_from(["s", "live", "pos"]), policy),
    st.builds(ChannelDefaults, buffer=st.integers(0, 5), max_shown=st.none() | st.integers(0, 80)),
)
def test_never_negative_never_above_the_ledger(levels: dict, policies: dict, defaults: ChannelDefaults) -> None:
    shown = sellable("s", levels, LOCATIONS, defaults, policies)
    ledger = max(0, sum(levels.get(location, 0) for location in LOCATIONS))
    assert shown is None or 0 <= shown <= ledger
    if shown is not None and policies.get("s", SkuPolicy()).paused:
        assert shown == 0

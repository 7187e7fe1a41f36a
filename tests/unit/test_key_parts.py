"""Every key splits one way only, whatever the names in it hold ("#", "%", spaces, any script)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from omnistock.store import keys

AT = "2026-11-23T12:00:00.000Z"
PART, TAIL = object(), object()  # an escaped part; the last part, kept as given

# Each key function over its user-chosen names, and what its key is made of, in order.
KEYS: dict[str, tuple[Callable[..., str], list[object]]] = {
    "sku": (keys.sku_pk, ["SKU", TAIL]),
    "stock": (keys.stock_sk, ["LOC", TAIL]),
    "lot": (keys.lot_sk, ["LOT", PART, TAIL]),
    "hold": (keys.hold_pk, ["HOLD", TAIL]),
    "event": (keys.event_pk, ["EVENT", TAIL]),
    "listing": (keys.listing_pk, ["LISTING", PART, TAIL]),
    "job": (keys.job_pk, ["JOB", TAIL]),
    "channel": (keys.channel_sk, [TAIL]),
    "catalog index": (keys.catalog_index_sk, [TAIL]),
    "policy": (keys.policy_sk, ["POLICY", TAIL]),
    "pushed": (keys.pushed_sk, ["PUSHED", TAIL]),
    "sync": (keys.sync_pk, ["SYNC", TAIL]),
    "sync entry": (lambda channel, attempt: keys.sync_sk(AT, channel, attempt, 7), [AT, PART, PART, "7"]),
    "sync by channel": (
        lambda channel: keys.sync_channel_pk(channel, "TEE"),
        ["SYNCCHS", PART, str(keys.sku_shard("TEE"))],
    ),
    "sync by channel entry": (lambda sku: keys.sync_channel_sk(AT, sku, 7), [AT, PART, "7"]),
    "movements": (keys.movements_pk, ["MOVES", TAIL]),
    "movement": (lambda location: keys.movement_sk(AT, location, 5), [AT, PART, "000000000005"]),
    "till movement": (lambda source_key: keys.external_movement_sk(AT, source_key), [AT, TAIL]),
    "hold expiry": (lambda hold_id: keys.hold_expiry_sk(AT, hold_id), [AT, TAIL]),
    "lease": (keys.lease_pk, ["LEASE", TAIL]),
    "order": (keys.order_pk, ["ORDER", PART, TAIL]),
    "line": (keys.line_sk, ["LINE", TAIL]),
    "shipment": (keys.shipment_sk, ["SHIPMENT", TAIL]),
    "unsent shipments": (keys.unsent_shipments_pk, ["SHIPOUT", TAIL]),
    "unsent shipment": (
        lambda order_id, shipment_id: keys.unsent_shipment_sk(AT, order_id, shipment_id),
        [AT, PART, TAIL],
    ),
    "cursor": (keys.cursor_pk, ["CURSOR", TAIL]),
    "product": (keys.product_pk, ["PRODUCT", PART, TAIL]),
    "order number": (keys.order_number_pk, ["ORDERNO", TAIL]),
    "order number entry": (keys.order_number_sk, [PART, TAIL]),
    "export entry": (
        lambda channel, order_id: keys.export_entry_sk(AT, channel, order_id, 3),
        [AT, PART, PART, "000000003"],
    ),
    "live event": (keys.live_event_pk, ["LIVE", TAIL]),
    "live owner": (keys.live_owner_pk, ["LIVEOWNER", PART, TAIL]),
}

# The keys as they were before names were escaped: a name without "#" or "%" must keep its key.
BEFORE: dict[str, Callable[..., str]] = {
    "lot": lambda location, lot_key: f"LOT#{location}#{lot_key}",
    "listing": lambda channel, listing_id: f"LISTING#{channel}#{listing_id}",
    "sync entry": lambda channel, attempt: f"{AT}#{channel}#{attempt}#7",
    "sync by channel entry": lambda sku: f"{AT}#{sku}#7",
    "movement": lambda location: f"{AT}#{location}#000000000005",
    "order": lambda channel, order_id: f"ORDER#{channel}#{order_id}",
    "unsent shipment": lambda order_id, shipment_id: f"{AT}#{order_id}#{shipment_id}",
    "product": lambda channel, product_id: f"PRODUCT#{channel}#{product_id}",
    "order number entry": lambda channel, order_id: f"{channel}#{order_id}",
    "export entry": lambda channel, order_id: f"{AT}#{channel}#{order_id}#000000003",
    "live owner": lambda channel, sku: f"LIVEOWNER#{channel}#{sku}",
}

name = st.text(st.sampled_from("#%#%235 aZé€\u00a0ß中😀"), min_size=1, max_size=6) | st.text(min_size=1, max_size=6)
plain = st.text(st.characters(blacklist_characters="#%"), min_size=1, max_size=8)
some = settings(max_examples=60, derandomize=True, deadline=None)


def _resplit(names: list[str]) -> list[str]:
    """The names, and every way two of them joined by "#" splits at a "#" again: the names
    whose keys an unescaped "#" would make the same."""
    found = dict.fromkeys(names)
    for first, second in product(names, repeat=2):
        joined = f"{first}#{second}"
        for at, char in enumerate(joined):
            if char == "#":
                found.update(dict.fromkeys((joined[:at], joined[at + 1 :])))
    return [n for n in found if n]


def _arity(kind: str) -> int:
    return sum(field in (PART, TAIL) for field in KEYS[kind][1])


def _decoded(kind: str, key: str) -> tuple[str, ...]:
    """The names a key was built from, read back by its layout alone."""
    layout = KEYS[kind][1]
    fields = key.split("#", len(layout) - 1) if len(layout) > 1 else [key]
    assert len(fields) == len(layout), (kind, key)
    names = []
    for field, expected in zip(fields, layout, strict=True):
        if expected is PART:
            assert "#" not in field
            names.append(keys.unescape(field))
        elif expected is TAIL:
            names.append(field)
        else:
            assert field == expected, (kind, key)
    return tuple(names)


@some
@given(st.lists(name, min_size=1, max_size=4))
def test_distinct_names_give_distinct_keys_that_read_back(names: list[str]) -> None:
    names = _resplit(names)[:12]
    for kind, (build, _) in KEYS.items():
        inputs = list(product(names, repeat=_arity(kind)))
        built = {args: build(*args) for args in inputs}
        assert len(set(built.values())) == len(inputs), kind
        for args, key in built.items():
            assert _decoded(kind, key) == args


@some
@given(name, name)
def test_escaping_is_one_to_one_and_keeps_prefixes(first: str, second: str) -> None:
    assert "#" not in keys.escape(first)
    assert keys.unescape(keys.escape(first)) == first
    assert (keys.escape(first) == keys.escape(second)) == (first == second)
    assert keys.escape(first + second).startswith(keys.escape(first))
    assert keys.escape(second).startswith(keys.escape(first)) == second.startswith(first)


@some
@given(st.lists(name, min_size=1, max_size=4), st.lists(name, min_size=1, max_size=3))
def test_a_location_prefix_begins_only_its_own_lots(locations: list[str], lot_keys: list[str]) -> None:
    locations = _resplit(locations)[:10]
    lot_keys = _resplit(lot_keys)[:6]
    for here, there, key in product(locations, locations, lot_keys):
        lot = keys.lot_sk(there, key)
        assert lot.startswith(keys.lots_prefix(here)) == (here == there)
        for start in {*lot_keys, key[:1], key[:-1]}:  # one order line's lots: a lot key's first characters
            assert lot.startswith(keys.lot_sk(here, start)) == (here == there and key.startswith(start))


@some
@given(name, name)
def test_a_skus_items_stay_in_their_ranges(location: str, channel: str) -> None:
    """The reads of a SKU's partition by range find every item of the kinds they want, and
    no other: stock and lots (ledger), catalog and stock (push state), then policies and pushed."""
    stock, lot = keys.stock_sk(location), keys.lot_sk(location, channel)
    policy, pushed = keys.policy_sk(channel), keys.pushed_sk(channel)
    assert keys.LOCATION_PREFIX <= stock < lot <= keys.prefix_end(keys.LOT_PREFIX) < policy < pushed
    assert keys.CATALOG_SK < stock <= keys.prefix_end(keys.LOCATION_PREFIX) < lot
    assert stock.encode() < keys.prefix_end(keys.LOCATION_PREFIX).encode()  # DynamoDB orders by UTF-8 bytes


@some
@given(name, name)
def test_keys_read_back(first: str, second: str) -> None:
    assert keys.sku_of(keys.sku_pk(first)) == first
    assert keys.sku_of(keys.hold_pk(first)) is None
    assert keys.location_of(keys.stock_sk(first)) == first
    assert keys.hold_of(keys.hold_pk(first)) == first
    assert keys.policy_channel(keys.policy_sk(first)) == first
    assert keys.pushed_channel(keys.pushed_sk(first)) == first
    assert keys.order_of(keys.order_number_sk(first, second)) == (first, second)


@some
@given(plain, plain)
def test_names_without_a_separator_keep_their_keys(first: str, second: str) -> None:
    for kind, before in BEFORE.items():
        args = (first, second)[: _arity(kind)]
        assert KEYS[kind][0](*args) == before(*args), kind


def test_an_order_lines_lots_prefix_is_its_own() -> None:
    """Order "1:2" line "3" is not order "1" line "2:3", and line "2" is not line "2#3"; numeric
    ids keep the prefix deployed tables hold."""
    from omnistock.order_desk import line_lots

    assert line_lots("shopify", "1:2", "3") != line_lots("shopify", "1", "2:3")
    assert not line_lots("shopify", "1", "2#3").startswith(line_lots("shopify", "1", "2"))
    assert line_lots("shopify", "5938001231001", "15518900000001") == "shopify:order:5938001231001:15518900000001#"

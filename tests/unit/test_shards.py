"""The merge of a sharded index key reads pages in order, never returns a short page before
every shard is exhausted, and reads little more than it returns."""

from __future__ import annotations

import random
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from omnistock.store.shards import merged


def shards_of(keys: list[str], count: int) -> dict[str, list[str]]:
    spread: dict[str, list[str]] = {f"p{n}": [] for n in range(count)}
    for key in keys:
        spread[f"p{zlib.crc32(key.encode()) % count}"].append(key)
    return {pk: sorted(found) for pk, found in spread.items()}


class Reads:
    def __init__(self, spread: dict[str, list[str]], descending: bool) -> None:
        self.spread, self.descending, self.items = spread, descending, 0

    def __call__(self, pk: str, after: str | None, limit: int | None) -> list[dict[str, str]]:
        keys = sorted(self.spread[pk], reverse=self.descending)
        if after is not None:
            keys = [k for k in keys if (k < after if self.descending else k > after)]
        found = keys if limit is None else keys[:limit]
        self.items += len(found)
        return [{"k": key} for key in found]


@settings(max_examples=60, deadline=None)
@given(
    keys=st.sets(st.text(alphabet="abcdefghij", min_size=1, max_size=6), max_size=300),
    shards=st.integers(1, 17),
    limit=st.integers(1, 80),
    descending=st.booleans(),
)
def test_pages_follow_one_another_in_order_and_cover_everything(
    keys: set[str], shards: int, limit: int, descending: bool
) -> None:
    spread = shards_of(sorted(keys), shards)
    expected = sorted(keys, reverse=descending)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        reads = Reads(spread, descending)

        def read(
            pk: str, after: str | None, share: int | None, cursor: str | None = cursor, reads: Reads = reads
        ) -> list[dict[str, str]]:
            start = after if after is not None else cursor
            return reads(pk, start, share)

        page = [item["k"] for item in merged(read, list(spread), "k", limit, descending=descending)]
        seen += page
        if len(page) < limit:
            break
        cursor = page[-1]
    assert seen == expected


def test_a_page_reads_little_more_than_it_returns() -> None:
    rng = random.Random(7)
    keys = sorted({f"SKU-{rng.randrange(10**9):09d}" for _ in range(20_000)})
    reads = Reads(shards_of(keys, 16), False)
    page = merged(reads, list(shards_of(keys, 16)), "k", 250)
    assert [item["k"] for item in page] == keys[:250]
    assert reads.items / len(page) <= 1.7  # 1.28 at first (16 shards x 1.25 of a share), then the limiting shards

"""Reading an index key spread over shards, in order, as if it were one partition.

A key that would collect a whole channel or the whole catalog is written under one of
several partition keys (by a hash of the SKU), so no partition takes more than its share of
a Sync Now's writes. A reader asks every shard for a little more than its share of the page
and merges. Every item up to the first place where some shard's read was cut short is
certain to be in order (that shard holds nothing before it that was not read); while fewer
than a page are certain, the shard that limits the certainty is read further. A page is
short only when every shard is exhausted. Over 16 shards a page of 250 reads 1.44 items per item
returned, a page of 50 reads 1.76 (tests/unit/test_shards.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from omnistock.store.table import Item

# read(partition, after, limit): the partition's items in order, strictly after the sort key
# ``after`` (None: from its start), at most ``limit`` (None: all).
Reader = Callable[[str, str | None, int | None], list[Item]]


def merged(
    read: Reader, partitions: list[str], sort_key: str, limit: int | None, *, descending: bool = False
) -> list[Item]:
    """The first ``limit`` items of all ``partitions`` together, in order (newest first when
    ``descending``)."""
    if limit is None:
        found = [item for partition in partitions for item in read(partition, None, None)]
        return sorted(found, key=lambda item: item[sort_key], reverse=descending)
    share = max(2, math.ceil(limit * 1.25 / len(partitions)))
    items: dict[str, list[Item]] = {}
    open_ended: set[str] = set()  # partitions whose last read was cut short
    for partition in partitions:
        items[partition] = read(partition, None, share)
        if len(items[partition]) >= share:
            open_ended.add(partition)

    def last(partition: str) -> str:
        return str(items[partition][-1][sort_key])

    while True:
        everything = sorted(
            (i for found in items.values() for i in found), key=lambda i: i[sort_key], reverse=descending
        )
        if not open_ended:
            return everything[:limit]
        limiting = min(open_ended, key=last) if not descending else max(open_ended, key=last)
        bound = last(limiting)
        certain = [i for i in everything if (i[sort_key] >= bound if descending else i[sort_key] <= bound)]
        if len(certain) >= limit:
            return certain[:limit]
        more = read(limiting, bound, share)
        items[limiting] += more
        if len(more) < share:
            open_ended.discard(limiting)

"""Item keys of the single table. Every key format lives here.

A key is a fixed prefix and parts joined by "#". A part that more key follows, or where a
``begins_with`` prefix ends, goes through ``escape``: it then holds no "#", so the key splits
one way only and ``LOT#<location>#`` matches that location's lots and no other's. A key's
last part is kept as given: nothing follows it, so the key is unambiguous already, and items
stored with "#" there keep their keys (order numbers such as "#1001"; every order line's lot
key ends "#<rev>").

Names holding neither "#" nor "%" keep the keys they always had. A name with "%" where it is
escaped now has another key than before: acceptable, as "%" in a SKU, location or channel is
rare, and a name with "#" there had an ambiguous key anyway (it could reach another name's items).
"""

from __future__ import annotations

import hashlib
import re
import zlib

CATALOG_SK = "CATALOG"
HOLD_SK = "HOLD"
EVENT_SK = "EVENT"
LISTING_SK = "LISTING"
CATALOG_INDEX_PK = "CATALOG"  # gsi2: every SKU in order, for whole-catalog jobs (before shards)
JOB_SK = "JOB"
RUNNING_JOBS_PK = "JOBS#running"  # gsi2: running Sync Now jobs by when they last advanced
CHANNELS_PK = "CHANNELS"  # every channel's configuration in one partition: one query reads them all
LEASE_SK = "LOCK"
SKU_PREFIX = "SKU#"
HOLD_PREFIX = "HOLD#"
POLICY_PREFIX = "POLICY#"
PUSHED_PREFIX = "PUSHED#"
LOCATION_PREFIX = "LOC#"
LOT_PREFIX = "LOT#"  # a pending lot: units sold, not yet in a master count (deleted when cleared)
# Active holds are spread over a few index partitions so a live sale does not make one hot
# index key; the sweep queries each shard for what has expired.
HOLD_EXPIRY_SHARDS = 4

_ESCAPED = re.compile("%(25|23)")


def escape(name: str) -> str:
    """``name`` as a key part that more key follows: "%" -> "%25", "#" -> "%23" (one to one,
    and ``escape(a)`` starts ``escape(a + b)``, so prefixes keep matching what they did)."""
    return name.replace("%", "%25").replace("#", "%23")


def unescape(part: str) -> str:
    return _ESCAPED.sub(lambda found: "%" if found[1] == "25" else "#", part)


def prefix_end(prefix: str) -> str:
    """The least string above every string that starts with ``prefix``: the upper bound of a
    range over it ("\\uffff" is not: characters past the BMP sort above it)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def sku_pk(sku: str) -> str:
    return f"{SKU_PREFIX}{sku}"


def sku_of(pk: str) -> str | None:
    """The SKU of a SKU partition's key; None for any other partition."""
    return pk.removeprefix(SKU_PREFIX) if pk.startswith(SKU_PREFIX) else None


def stock_sk(location: str) -> str:
    return f"{LOCATION_PREFIX}{location}"


def location_of(stock_sort_key: str) -> str:
    return stock_sort_key.removeprefix(LOCATION_PREFIX)


def lot_sk(location: str, lot_key: str) -> str:
    """A lot's sort key; with a lot key's first characters, the prefix of those lots."""
    return f"{lots_prefix(location)}{lot_key}"


def lots_prefix(location: str) -> str:
    return f"{LOT_PREFIX}{escape(location)}#"


def hold_pk(hold_id: str) -> str:
    return f"{HOLD_PREFIX}{hold_id}"


def hold_of(pk: str) -> str:
    """The hold id of a hold's key (the expiry index carries no hold id of its own)."""
    return pk.removeprefix(HOLD_PREFIX)


def event_pk(event_key: str) -> str:
    return f"EVENT#{event_key}"


def listing_pk(channel: str, listing_id: str) -> str:
    return f"LISTING#{escape(channel)}#{listing_id}"


def quota_pk(platform: str) -> str:
    """A platform's API calls, one item per month (sort key "2026-12")."""
    return f"QUOTA#{escape(platform)}"


def hints_pk(name: str) -> str:
    """A poll's hints: ids a webhook named for the poll to read (a fulfillment order put on hold)."""
    return f"HINT#{escape(name)}"


def product_by_sku_pk(channel: str, sku: str) -> str:
    """A platform's product id for a SKU, where Omnistock writes documents naming products."""
    return f"PRODUCTOF#{escape(channel)}#{sku}"


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def parked_pk(sku: str) -> str:
    """Master counts that arrived before their SKU was in the catalog there, by location."""
    return f"PARKED#{sku}"


def preview_pk(channel: str, job_id: str) -> str:
    """One preview's differences, by SKU (the job id makes each preview its own partition)."""
    return f"PREVIEW#{escape(channel)}#{job_id}"


def latest_preview_pk(channel: str) -> str:
    """Which preview job is the channel's latest (a separate item: the channel's own is rewritten)."""
    return f"PREVIEWOF#{channel}"


LATEST_PREVIEW_SK = "LATEST"


def channel_sk(name: str) -> str:
    return name  # the whole sort key in the channels' own partition: nothing follows it


# Keys that would collect a whole catalog or channel (its catalog index entries, sync history,
# failures, SKUs to verify) are spread by SKU over this many partitions.
SKU_SHARDS = 16


def sku_shard(sku: str) -> int:
    """Which shard of a spread key a SKU's items go to."""
    return zlib.crc32(sku.encode()) % SKU_SHARDS


def catalog_index_pks() -> list[str]:
    """The catalog index's shards, and the key entries written before it was sharded."""
    return [f"{CATALOG_INDEX_PK}#{n}" for n in range(SKU_SHARDS)] + [CATALOG_INDEX_PK]


CATALOG_COUNT_PK = "CATALOGCOUNT"  # how many SKUs the catalog has: one counter per shard, and a seed
CATALOG_COUNT_SEED_SK = "SEED"  # the SKUs saved before the counters existed, counted once


def catalog_count_sk(sku: str) -> str:
    return f"{sku_shard(sku):02d}"


def catalog_index_pk(sku: str) -> str:
    return f"{CATALOG_INDEX_PK}#{sku_shard(sku)}"


def catalog_index_sk(sku: str) -> str:
    return sku  # whole-catalog jobs page by it: their cursors are SKUs


def policy_sk(channel: str) -> str:
    return f"{POLICY_PREFIX}{channel}"


# Policies in a state worth filtering the inventory by, in SKU order: sparse index keys on the
# policy item itself (paused on gsi1, auto sync off on gsi2), so a put that leaves the state
# drops them. A paused SKU with auto sync off is listed under both.
PAUSED, AUTO_SYNC_OFF = "paused", "auto_sync_off"


def policy_state_pk(channel: str, state: str) -> str:
    return f"POLICYSTATE#{escape(channel)}#{state}"


def policy_state_keys(channel: str, sku: str, paused: bool, auto_sync: bool | None) -> dict[str, str]:
    """The sparse index keys a policy item carries in its states (none in the default state)."""
    found: dict[str, str] = {}
    if paused:
        found |= {"gsi1pk": policy_state_pk(channel, PAUSED), "gsi1sk": sku}
    if auto_sync is False:
        found |= {"gsi2pk": policy_state_pk(channel, AUTO_SYNC_OFF), "gsi2sk": sku}
    return found


def pushed_sk(channel: str) -> str:
    return f"{PUSHED_PREFIX}{channel}"


def policy_channel(sort_key: str) -> str:
    return sort_key.removeprefix(POLICY_PREFIX)


def pushed_channel(sort_key: str) -> str:
    return sort_key.removeprefix(PUSHED_PREFIX)


def sync_pk(sku: str) -> str:
    return f"SYNC#{sku}"


def sync_sk(at: str, channel: str, attempt: str, number: int) -> str:
    return f"{at}#{escape(channel)}#{escape(attempt)}#{number}"


def sync_channel_pk(channel: str, sku: str) -> str:
    return f"SYNCCHS#{escape(channel)}#{sku_shard(sku)}"  # gsi2: a channel's sync history, one shard


def sync_failed_pk(channel: str, sku: str) -> str:
    """A channel's failed pushes, kept apart (one shard of them): the failures screen reads
    only these, never the whole history."""
    return f"SYNCFAIL#{escape(channel)}#{sku_shard(sku)}"


def sync_failed_pks(channel: str) -> list[str]:
    return [f"SYNCFAIL#{escape(channel)}#{n}" for n in range(SKU_SHARDS)]


def sync_channel_pks(channel: str) -> list[str]:
    """A channel's sync-history shards, and the key entries written before it was sharded."""
    return [f"SYNCCHS#{escape(channel)}#{n}" for n in range(SKU_SHARDS)] + [f"SYNCCH#{channel}"]


def sync_channel_sk(at: str, sku: str, number: int) -> str:
    return f"{at}#{escape(sku)}#{number}"  # gsi2: a channel's sync history by time


def verify_pk(channel: str, sku: str) -> str:
    """SKUs a channel must be checked for (a push attempted, failed, deferred or cut short)."""
    return f"VERIFY#{escape(channel)}#{sku_shard(sku)}"


def verify_pks(channel: str) -> list[str]:
    return [f"VERIFY#{escape(channel)}#{n}" for n in range(SKU_SHARDS)]


def movements_pk(sku: str) -> str:
    # Apart from the stock items' partition, so writing the log never competes with a hot SKU.
    return f"MOVES#{sku}"


def movement_sk(at: str, location: str, rev: int) -> str:
    return f"{at}#{escape(location)}#{rev:012d}"


def external_movement_sk(at: str, source_key: str) -> str:
    """A movement that changes no stock (a till sale), keyed by its source's own ids only, so
    every delivery of it (webhook or poll, whatever location it names) is the same entry."""
    return f"{at}#{source_key}"


def pending_lots_pk(sku: str) -> str:
    """gsi1: pending lots by when they were sold (sparse: a lot leaves it when it clears), one
    shard per SKU shard, so a busy sale day spreads its writes."""
    return f"PENDINGLOTS#{sku_shard(sku)}"


def pending_lots_pks() -> list[str]:
    return [f"PENDINGLOTS#{n}" for n in range(SKU_SHARDS)]


def pending_lot_index_sk(sold_at: str, location: str, lot_key: str) -> str:
    return f"{sold_at}#{escape(location)}#{lot_key}"


def hold_expiry_pk(hold_id: str) -> str:
    shard = int(hashlib.sha256(hold_id.encode()).hexdigest(), 16) % HOLD_EXPIRY_SHARDS
    return f"HOLDEXP#{shard}"


def hold_expiry_pks() -> list[str]:
    return [f"HOLDEXP#{shard}" for shard in range(HOLD_EXPIRY_SHARDS)]


def hold_expiry_sk(expires_at: str, hold_id: str) -> str:
    return f"{expires_at}#{hold_id}"


def lease_pk(name: str) -> str:
    return f"LEASE#{name}"


# ---- orders: one partition per order (the order, its lines, its shipments)
ORDER_SK = "ORDER"
LINE_PREFIX = "LINE#"
SHIPMENT_PREFIX = "SHIPMENT#"
CURSOR_SK = "CURSOR"


def order_pk(channel: str, order_id: str) -> str:
    return f"ORDER#{escape(channel)}#{order_id}"


def line_sk(line_id: str) -> str:
    return f"{LINE_PREFIX}{line_id}"


def shipment_sk(shipment_id: str) -> str:
    return f"{SHIPMENT_PREFIX}{shipment_id}"


def unsent_shipments_pk(channel: str) -> str:
    return f"SHIPOUT#{channel}"  # gsi2: shipments the channel has not accepted yet


def unsent_shipment_sk(shipped_at: str, order_id: str, shipment_id: str) -> str:
    return f"{shipped_at}#{escape(order_id)}#{shipment_id}"  # gsi2: oldest first


def cursor_pk(name: str) -> str:
    return f"CURSOR#{name}"


PRODUCT_SK = "PRODUCT"


def mastered_pk(target: str, sku: str) -> str:
    """What a product master last wrote of a SKU to ``target`` (a platform), and where."""
    return f"MASTERED#{escape(target)}#{sku}"


def product_pk(channel: str, product_id: str) -> str:
    return f"PRODUCT#{escape(channel)}#{product_id}"


def order_number_pk(number: str) -> str:
    return f"ORDERNO#{number}"  # what people call an order -> the orders (channel, id) so called


def order_number_sk(channel: str, order_id: str) -> str:
    return f"{escape(channel)}#{order_id}"


def order_of(order_number_sort_key: str) -> tuple[str, str]:
    """(channel, order id) of an order number's entry."""
    channel, _, order_id = order_number_sort_key.partition("#")
    return unescape(channel), order_id


# ---- the export log: one entry per change of an order that needs shipping, by modified time
EXPORT_COUNT_PREFIX = "COUNT#"  # sorts after every entry of the day ("2..." < "C...")


def export_day_pk(day: str) -> str:
    return f"EXPORT#{day}"  # one partition per UTC day: YYYY-MM-DD


def export_entry_sk(modified_at: str, channel: str, order_id: str, rev: int) -> str:
    return f"{modified_at}#{escape(channel)}#{escape(order_id)}#{rev:09d}"


def export_count_sk(bucket: str) -> str:
    """An hour's count ("HH"), ten minutes' ("HH:M") or a minute's ("HH:MM"), each level apart,
    so reading one level reads none of the others."""
    kind = {2: "H", 4: "T"}.get(len(bucket), "M")
    return f"{EXPORT_COUNT_PREFIX}{kind}#{bucket}"


LIVE_EVENT_SK = "LIVE"


def live_event_pk(event_id: str) -> str:
    return f"LIVE#{event_id}"


def live_owner_pk(channel: str, sku: str) -> str:
    return f"LIVEOWNER#{escape(channel)}#{sku}"  # the running event that changed this SKU's policy there


# ---- active holds by source (gsi2): a channel reads only its own carts. An active hold carries
# the entry; the write that ends it drops it. Spread over shards by hold id, as the expiry index
# is, so a live sale's claims make no hot index key.
HOLD_SOURCE_SHARDS = 4


def hold_source_pk(source: str, hold_id: str) -> str:
    shard = int(hashlib.sha256(hold_id.encode()).hexdigest(), 16) % HOLD_SOURCE_SHARDS
    return f"HOLDSRC#{escape(source)}#{shard}"


def hold_source_pks(source: str) -> list[str]:
    return [f"HOLDSRC#{escape(source)}#{shard}" for shard in range(HOLD_SOURCE_SHARDS)]


def hold_source_sk(hold_id: str) -> str:
    return hold_id  # gsi2: nothing follows it


def import_pk(job_id: str) -> str:
    """One catalog import's report lines, by kind and then SKU."""
    return f"IMPORT#{job_id}"


def import_claim_pk(job_id: str, sku: str) -> str:
    """Which listing first claimed a SKU in one import (a second one is a duplicate)."""
    return f"IMPORTCLAIM#{job_id}#{sku}"


IMPORT_CLAIM_SK = "CLAIM"


def duplicate_skus_pk(channel: str) -> str:
    """SKUs a catalog import found on two of the channel's variants, until one finds them single."""
    return f"DUPSKUS#{escape(channel)}"


HEARTBEATS_PK = "HEARTBEATS"  # when each webhook receiver and poll last worked: a handful of items
CONNECTIONS_PK = "CONNECTIONS"  # what the connection keepers found (webhook subscriptions), by platform


SETTINGS_PK = "SETTINGS"  # the settings changed after deploying: one partition, read whole


def audit_pk(month: str) -> str:
    """Changes to settings and channels, a partition a month (``2026-12``), newest last."""
    return f"AUDIT#{month}"

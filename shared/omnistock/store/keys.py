"""Item keys of the single table. Every key format lives here."""

from __future__ import annotations

import hashlib

CATALOG_SK = "CATALOG"
HOLD_SK = "HOLD"
EVENT_SK = "EVENT"
LISTING_SK = "LISTING"
CATALOG_INDEX_PK = "CATALOG"  # gsi2: every SKU in order, for whole-catalog jobs
JOB_SK = "JOB"
RUNNING_JOBS_PK = "JOBS#running"  # gsi2: running Sync Now jobs by when they last advanced
CHANNELS_PK = "CHANNELS"  # every channel's configuration in one partition: one query reads them all
POLICY_PREFIX = "POLICY#"
PUSHED_PREFIX = "PUSHED#"
LOCATION_PREFIX = "LOC#"
LOT_PREFIX = "LOT#"  # a pending lot: units sold, not yet in a master count (deleted when cleared)
# Active holds are spread over a few index partitions so a live sale does not make one hot
# index key; the sweep queries each shard for what has expired.
HOLD_EXPIRY_SHARDS = 4


def sku_pk(sku: str) -> str:
    return f"SKU#{sku}"


def stock_sk(location: str) -> str:
    return f"{LOCATION_PREFIX}{location}"


def lot_sk(location: str, lot_key: str) -> str:
    return f"{LOT_PREFIX}{location}#{lot_key}"


def lots_prefix(location: str) -> str:
    return f"{LOT_PREFIX}{location}#"


def hold_pk(hold_id: str) -> str:
    return f"HOLD#{hold_id}"


def event_pk(event_key: str) -> str:
    return f"EVENT#{event_key}"


def listing_pk(channel: str, listing_id: str) -> str:
    return f"LISTING#{channel}#{listing_id}"


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def policy_sk(channel: str) -> str:
    return f"{POLICY_PREFIX}{channel}"


def pushed_sk(channel: str) -> str:
    return f"{PUSHED_PREFIX}{channel}"


def sync_pk(sku: str) -> str:
    return f"SYNC#{sku}"


def sync_sk(at: str, channel: str, attempt: str) -> str:
    return f"{at}#{channel}#{attempt}"


def sync_channel_pk(channel: str) -> str:
    return f"SYNCCH#{channel}"


def movements_pk(sku: str) -> str:
    # Apart from the stock items' partition, so writing the log never competes with a hot SKU.
    return f"MOVES#{sku}"


def movement_sk(at: str, location: str, rev: int) -> str:
    return f"{at}#{location}#{rev:012d}"


def external_movement_sk(at: str, source_key: str) -> str:
    """A movement that changes no stock (a till sale), keyed by its source's own ids only, so
    every delivery of it (webhook or poll, whatever location it names) is the same entry."""
    return f"{at}#{source_key}"


def hold_expiry_pk(hold_id: str) -> str:
    shard = int(hashlib.sha256(hold_id.encode()).hexdigest(), 16) % HOLD_EXPIRY_SHARDS
    return f"HOLDEXP#{shard}"


def hold_expiry_pks() -> list[str]:
    return [f"HOLDEXP#{shard}" for shard in range(HOLD_EXPIRY_SHARDS)]


def hold_expiry_sk(expires_at: str, hold_id: str) -> str:
    return f"{expires_at}#{hold_id}"


# ---- orders: one partition per order (the order, its lines, its shipments)
ORDER_SK = "ORDER"
LINE_PREFIX = "LINE#"
SHIPMENT_PREFIX = "SHIPMENT#"
CURSOR_SK = "CURSOR"


def order_pk(channel: str, order_id: str) -> str:
    return f"ORDER#{channel}#{order_id}"


def line_sk(line_id: str) -> str:
    return f"{LINE_PREFIX}{line_id}"


def shipment_sk(shipment_id: str) -> str:
    return f"{SHIPMENT_PREFIX}{shipment_id}"


def unsent_shipments_pk(channel: str) -> str:
    return f"SHIPOUT#{channel}"  # gsi2: shipments the channel has not accepted yet


def cursor_pk(name: str) -> str:
    return f"CURSOR#{name}"


PRODUCT_SK = "PRODUCT"


def product_pk(channel: str, product_id: str) -> str:
    return f"PRODUCT#{channel}#{product_id}"


def order_number_pk(number: str) -> str:
    return f"ORDERNO#{number}"  # what people call an order -> the orders (channel, id) so called


# ---- the export log: one entry per change of an order that needs shipping, by modified time
EXPORT_COUNT_PREFIX = "COUNT#"  # sorts after every entry of the day ("2..." < "C...")


def export_day_pk(day: str) -> str:
    return f"EXPORT#{day}"  # one partition per UTC day: YYYY-MM-DD


def export_entry_sk(modified_at: str, channel: str, order_id: str, rev: int) -> str:
    return f"{modified_at}#{channel}#{order_id}#{rev:09d}"


def export_count_sk(bucket: str) -> str:
    """An hour's count ("HH"), ten minutes' ("HH:M") or a minute's ("HH:MM"), each level apart,
    so reading one level reads none of the others."""
    kind = {2: "H", 4: "T"}.get(len(bucket), "M")
    return f"{EXPORT_COUNT_PREFIX}{kind}#{bucket}"


LIVE_EVENT_SK = "LIVE"


def live_event_pk(event_id: str) -> str:
    return f"LIVE#{event_id}"


def live_owner_pk(channel: str, sku: str) -> str:
    return f"LIVEOWNER#{channel}#{sku}"  # the running event that changed this SKU's policy there

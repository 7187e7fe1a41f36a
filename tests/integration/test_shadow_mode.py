"""Shadow mode: a channel created through the admin API is read and previewed, never written;
the preview lists every SKU whose channel number differs from what Omnistock would set, with
why; going live pushes those differences and nothing else; a channel can go back to shadow.
Chunks are delivered twice and the channel fails mid-preview: nothing is written twice, no
difference is listed twice, and a single write to a channel in shadow fails the test."""

from __future__ import annotations

import json
from typing import Any

import pytest

from omnistock import runtime
from omnistock.channels import QuantityWrite, WriteOutcome
from omnistock.models import Job
from omnistock.store.stream import changed_channel
from omnistock.sync import SyncService
from tests.fakes import FakeChannel
from tests.helpers import FakeContext, http_event, load_function

LOCATION = "gid://shopify/Location/1"


class Guarded(FakeChannel):
    """Fails the test on any write while ``shadow`` is set; can fail one read."""

    def __init__(self) -> None:
        super().__init__()
        self.shadow = True
        self.fail_reads = 0

    def set_quantities(self, writes: list[QuantityWrite], idempotency_key: str) -> list[WriteOutcome]:
        assert not self.shadow, f"a channel in shadow mode was written: {writes}"
        return super().set_quantities(writes, idempotency_key)

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        if self.fail_reads:
            self.fail_reads -= 1
            from omnistock.channels import ChannelUnavailable

            raise ChannelUnavailable("503 from the channel")
        return super().read_quantities(items)


def call(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
    answer = load_function("admin_api").lambda_handler(http_event(method, path, body, query), FakeContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture
def channel(handler_env: None) -> Guarded:
    fake = Guarded()
    runtime.app().ports = lambda _: fake
    status, body = call(
        "PUT", "/channels/shopify", {"locations": ["shop"], "platform": "shopify", "target_location": LOCATION}
    )
    assert (status, body["mode"]) == (200, "shadow")
    ledger = runtime.app().ledger
    for n, (sku, on_hand, shown) in enumerate(
        [("SAME", 5, 5), ("LOW", 9, 4), ("HIGH", 2, 8), ("ZERO", 0, 3), ("BUFFERED", 6, 6)]
    ):
        ledger.upsert_catalog(sku, ["shop"], {"shopify": f"item-{sku}"})
        ledger.report_count(sku, "shop", on_hand, 1, "pos", f"c{n}")
        fake.shown[f"item-{sku}"] = shown
    ledger.upsert_catalog("GHOST", ["shop"], {"shopify": "item-GHOST"})  # a listing the channel does not have
    ledger.upsert_catalog("LOOSE", ["shop"], {})  # no listing for the channel
    assert call("PUT", "/skus/BUFFERED/channels/shopify", {"buffer": 2})[0] == 200
    return fake


def run(sync: SyncService, job: Job, twice: bool = True) -> Job:
    while job.state == "running":
        advanced = sync.run_chunk(job)
        assert advanced is not None
        if twice:
            assert sync.run_chunk(job) is None  # the same record delivered again: nothing runs twice
        job = advanced
    return job


def test_nothing_is_written_in_shadow_and_the_preview_says_what_would_change(channel: Guarded) -> None:
    wiring = runtime.app()
    wiring.ledger.sell("LOW", "shop", 1, "pos", "till-1")
    wiring.push_engine.push(["SAME", "LOW", "HIGH", "ZERO", "BUFFERED"], "stock change")
    wiring.sync.reconcile_all()
    assert channel.reads == 0 and channel.calls == []  # a stock change does not even read it
    status, started = call("POST", "/channels/shopify/preview")
    assert (status, started["purpose"]) == (202, "preview")
    run(wiring.sync, wiring.sync.job(started["job_id"]))
    status, body = call("GET", "/channels/shopify/preview")
    assert status == 200 and body["preview"]["state"] == "done" and channel.calls == []
    lines = {line["sku"]: (line["shown"], line["would_set"], line["reasons"]) for line in body["lines"]}
    assert lines == {
        "BUFFERED": (6, 4, ["buffer"]),
        "GHOST": (None, 0, ["unmapped"]),
        "HIGH": (8, 2, ["ledger"]),
        "LOOSE": (None, None, ["unmapped"]),
        "LOW": (4, 8, ["ledger"]),
        "ZERO": (3, 0, ["ledger"]),
    }
    assert body["preview"]["differing"] == 6 and body["preview"]["reasons"] == {"buffer": 1, "ledger": 3, "unmapped": 2}
    first = call("GET", "/channels/shopify/preview", query={"limit": "2"})[1]
    rest = call("GET", "/channels/shopify/preview", query={"limit": "10", "after": first["next"]})[1]
    assert [line["sku"] for line in first["lines"] + rest["lines"]] == sorted(lines) and rest["next"] is None


def test_going_live_pushes_the_preview_differences_and_nothing_else(channel: Guarded) -> None:
    wiring = runtime.app()
    assert call("POST", "/channels/shopify/go-live")[0] == 409  # no preview yet
    run(wiring.sync, wiring.sync.start_preview("shopify"))
    wiring.ledger.restock("SAME", "shop", 2, "admin", "r-after-preview")  # moved after the preview
    wiring.push_engine.push(["SAME"], "stock change")  # in shadow: not written, marked
    channel.shadow = False
    status, job = call("POST", "/channels/shopify/go-live")
    assert (status, job["purpose"], job["total"]) == (202, "go_live", 6)
    assert call("GET", "/channels/shopify/skus/SAME")[0] == 200
    live = run(wiring.sync, wiring.sync.job(job["job_id"]))
    written = sorted(write.listing_id for call_ in channel.calls for write in call_)
    assert written == ["item-BUFFERED", "item-HIGH", "item-LOW", "item-ZERO"]  # never SAME, never unlisted
    assert (live.applied, live.state) == (4, "done")
    assert channel.shown == {
        "item-SAME": 5,
        "item-LOW": 9,
        "item-HIGH": 2,
        "item-ZERO": 0,
        "item-BUFFERED": 4,
    }
    wiring.sync.reconcile_all()  # what moved while in shadow is verified once live
    assert channel.shown["item-SAME"] == 7
    wiring.ledger.sell("SAME", "shop", 1, "pos", "till-2")
    wiring.push_engine.push(["SAME"], "stock change")
    assert channel.shown["item-SAME"] == 6  # live: every change from now on
    assert call("POST", "/channels/shopify/go-live")[0] == 409  # live already
    status, back = call("POST", "/channels/shopify/shadow")
    assert (status, back["mode"]) == (200, "shadow")
    channel.shadow = True
    wiring.ledger.sell("SAME", "shop", 1, "pos", "till-3")
    wiring.push_engine.push(["SAME"], "stock change")
    wiring.sync.start("shopify", None)  # a Sync Now on a channel in shadow only previews
    assert channel.shown["item-SAME"] == 6


def test_a_channel_that_fails_mid_preview_is_counted_not_written(channel: Guarded) -> None:
    wiring = runtime.app()
    channel.fail_reads = 1
    done = run(wiring.sync, wiring.sync.start_preview("shopify"), twice=False)
    assert done.state == "done" and done.failed == 7 and done.differing == 0  # one chunk: the whole catalog
    assert channel.calls == []
    status, refused = call("POST", "/channels/shopify/go-live")
    assert status == 409 and "could not read 7 SKUs" in refused["message"]
    wiring.sync.start("shopify", ["LOW"])  # a preview of some SKUs is never what going live pushes
    assert wiring.sync.preview("shopify", "", 10)[0] == wiring.sync.job(done.job_id)


def test_a_mode_change_is_not_a_settings_change_on_the_stream() -> None:
    def record(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        keys = {"pk": {"S": "CHANNELS"}, "sk": {"S": "shopify"}}
        return {
            "eventName": "MODIFY",
            "dynamodb": {"Keys": keys, "OldImage": old, "NewImage": new, "SequenceNumber": "7"},
        }

    base = {"name": {"S": "shopify"}, "buffer": {"N": "0"}, "updated_at": {"S": "a"}}
    live = base | {"mode": {"S": "live"}, "updated_at": {"S": "b"}}
    assert changed_channel(record(base | {"mode": {"S": "shadow"}}, live)) is None
    assert changed_channel(record(live, live | {"buffer": {"N": "2"}})) == ("shopify", "7")

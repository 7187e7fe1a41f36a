"""`make demo-data` on a stack of its own: a retailer's first day through the admin API and the
sandboxes — the Shopify channel ends live, its listings mapped by an import, and what Shopify
shows is what the ledger lets it sell. Loading it again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import RunningStack, running_stack


@pytest.fixture(scope="module")
def demo_stack() -> Iterator[RunningStack]:
    yield from running_stack()


def test_the_demo_goes_live_on_the_shopify_sandbox_and_reloads_unchanged(demo_stack: RunningStack) -> None:
    from local.demo import load

    first = load(demo_stack.url, demo_stack.dev_token)
    by_sku = {line.split()[0]: line for line in first}
    assert by_sku["TEE-BLK-M"].split()[2] == "34"  # 6 + 30, less a cart of 2
    for line in first:  # Shopify shows what the channel may sell (shop and warehouse), pushed
        parts = line.split()
        assert parts[2] == parts[-1], line
    assert demo_stack.client.get("/channels/shopify/preview").json()["preview"]["state"] == "done"
    channel = demo_stack.client.get("/connections").json()
    assert any(c["name"] == "channel shopify" and "live" in c["detail"] for c in channel["checks"]), channel
    assert load(demo_stack.url, demo_stack.dev_token) == first  # every demo event has a fixed id

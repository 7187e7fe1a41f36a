"""Catalog import from CSV, through the admin API and `omnistock import`: every row checked
first (a file with a bad row changes nothing, and says which line), applied as a merge, and
idempotent (the same file again writes nothing)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.calls import CallCounter
from cli import importing
from omnistock import runtime
from omnistock.models import ParkedCount
from tests.helpers import FakeContext, http_event, load_function

GOOD = """sku,title,location,on_hand,listing:shopify
TEE-S,Tee S,shop,5,gid://shopify/InventoryItem/1
TEE-S,Tee S,web,2,
TEE-M,Tee M,shop,0,gid://shopify/InventoryItem/2
"""


def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    answer = load_function("admin_api").lambda_handler(http_event(method, path, body), FakeContext())
    return answer["statusCode"], json.loads(answer["body"])


def admin_transport() -> httpx.MockTransport:
    """The admin API's handler behind an httpx transport: the CLI talks to it in-process."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = request.content.decode() or None
        status, payload = call(request.method, request.url.path, json.loads(body) if body else None)
        return httpx.Response(status, json=payload)

    return httpx.MockTransport(answer)


@pytest.fixture
def channels(handler_env: None) -> None:
    assert call("PUT", "/channels/shopify", {"locations": ["shop", "web"]})[0] == 200


def available(sku: str) -> dict[str, int]:
    return {level.location: level.available for level in runtime.app().ledger.explain(sku, 0).levels}


def test_a_file_is_applied_as_a_merge_and_again_writes_nothing(channels: None, dynamodb: Any) -> None:
    status, report = call("POST", "/catalog/import", {"csv": GOOD})
    assert status == 200 and report["applied"] and report["problems"] == []
    assert (report["rows"], report["skus"], report["created"], report["counted"]) == (3, 2, 2, 3)
    assert available("TEE-S") == {"shop": 5, "web": 2} and available("TEE-M") == {"shop": 0}
    entry = call("GET", "/skus/TEE-S")[1]["catalog"]
    assert (entry["listings"], entry["title"], entry["locations"]) == (
        {"shopify": "gid://shopify/InventoryItem/1"},
        "Tee S",
        ["shop", "web"],
    )
    counter = CallCounter(dynamodb)
    again = call("POST", "/catalog/import", {"csv": GOOD})[1]
    assert (again["created"], again["updated"], again["counted"], again["unchanged"]) == (0, 0, 0, 3)
    assert counter.writes == 0


def test_bad_rows_are_reported_by_line_and_nothing_changes(channels: None, dynamodb: Any) -> None:
    bad = GOOD + "TEE-L,,attic,3,\nTEE-L,,shop,-1,\nTEE-L,,shop,2.5,\nTEE-S,,shop,4,\nTEE-X,,shop,1,,extra\n"
    counter = CallCounter(dynamodb)
    status, report = call("POST", "/catalog/import", {"csv": bad})
    assert status == 200 and not report["applied"]
    assert [(p["line"], p["message"].split(" ")[0]) for p in report["problems"]] == [
        (5, "location"),
        (6, "on_hand"),
        (7, "on_hand"),
        (8, "SKU"),
        (9, "more"),
    ]
    assert counter.writes == 0 and call("GET", "/skus/TEE-S")[0] == 404
    assert call("POST", "/catalog/import", {"csv": "name,qty\nx,1\n"})[0] == 400  # not a catalog CSV


def test_a_location_counted_by_its_master_is_not_overwritten(channels: None) -> None:
    call("POST", "/catalog/import", {"csv": GOOD})
    assert (
        call("POST", "/skus/TEE-S/counts", {"location": "shop", "on_hand": 9, "version": 40, "event_id": "pos-1"})[0]
        == 200
    )
    report = call("POST", "/catalog/import", {"csv": GOOD.replace("shop,5", "shop,6")})[1]
    assert report["applied"] and "counted by its master (version 40)" in report["problems"][0]["message"]
    assert available("TEE-S")["shop"] == 9


def test_the_cli_checks_every_part_before_applying_any(channels: None, tmp_path: Path, capsys: Any) -> None:
    rows = "".join(f"S{n:04d},,shop,{n % 9},\n" for n in range(410))  # three parts: 200, 200, 10
    path = tmp_path / "catalog.csv"
    path.write_text("sku,title,location,on_hand,listing:shopify\n" + rows + "S0001,,shop,3,\n")
    with httpx.Client(base_url="http://admin", transport=admin_transport()) as api:
        assert importing.run(api, str(path), check=False) == 1  # a duplicate in the last part
        assert "line 412: SKU 'S0001' at 'shop' is on line 3 already" in capsys.readouterr().err
        assert call("GET", "/skus/S0000")[0] == 404  # the first parts were not applied either
        path.write_text("sku,title,location,on_hand,listing:shopify\n" + rows)
        assert importing.run(api, str(path), check=True) == 0 and call("GET", "/skus/S0000")[0] == 404
        assert importing.run(api, str(path), check=False) == 0
        assert "created 410" in capsys.readouterr().out
        assert importing.run(api, str(path), check=False) == 0
        assert "created 0, updated 0, counted 0, unchanged 410" in capsys.readouterr().out
    path.write_bytes(b"sku,location,on_hand\n\xff\xfe,shop,1\n")
    with httpx.Client(base_url="http://admin", transport=admin_transport()) as api:
        assert importing.run(api, str(path), check=True) == 1


def test_a_pos_count_kept_for_a_new_sku_wins_over_the_file(channels: None) -> None:
    """The POS counted before the SKU existed: adding it by import applies that count, and the
    file's number does not overwrite it."""
    runtime.app().ledger.park_count(ParkedCount("NEW-1", "shop", 7, 500, "lightspeed", "inventory:p:o:500"))
    report = call("POST", "/catalog/import", {"csv": "sku,location,on_hand\nNEW-1,shop,3\n"})[1]
    assert report["applied"] and "counted by its master (version 500)" in report["problems"][0]["message"]
    assert available("NEW-1") == {"shop": 7}


def test_listing_problems_are_found_before_anything_is_written(channels: None, dynamodb: Any) -> None:
    call("PUT", "/skus/OLD", {"locations": ["shop"], "listings": {"shopify": "gid://1"}})
    counter = CallCounter(dynamodb)
    text = (
        "sku,location,on_hand,listing:shopify,listing:ebay\n"
        "A,shop,1,gid://1,\n"  # OLD's listing
        "B,shop,1,gid://2,\n"
        "C,shop,1,gid://2,\n"  # B's, in the same file
        "D,shop,1,,e-1\n"  # a channel that is not configured
    )
    report = call("POST", "/catalog/import", {"csv": text})[1]
    assert sorted((p["line"], p["message"].split(" ")[0]) for p in report["problems"]) == [
        (2, "shopify"),
        (4, "shopify"),
        (5, "channel"),
    ]
    assert counter.writes == 0 and not report["applied"]
    assert call("POST", "/catalog/import", {"csv": "sku,location,on_hand,listing:Shop\nA,shop,1,x\n"})[0] == 400
    assert call("POST", "/catalog/import", {"csv": "\u00da\r0\u0080\u008e\u001c\r2"})[0] == 400  # not CSV

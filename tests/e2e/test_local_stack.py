"""The local stack serves template.yaml: routes, auth stand-in, control endpoints, the stream."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from local.cfn import load_yaml

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def _events(kind: str) -> list[tuple[str, dict]]:
    resources = load_yaml(ROOT / "template.yaml")["Resources"]
    return [
        (name, event["Properties"])
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in (resource["Properties"].get("Events") or {}).values()
        if event["Type"] == kind
    ]


def _declared_routes() -> set[tuple[str, str]]:
    return {(props["Method"].upper(), props["Path"]) for _, props in _events("HttpApi")}


def test_ready(stack):
    health = stack.client.get("/_local/health").json()
    assert health["ready"] is True
    assert health["errors"] == []


def test_health_lists_every_route_of_the_template(stack):
    health = stack.client.get("/_local/health").json()
    assert {(route["method"], route["path"]) for route in health["routes"]} == _declared_routes()
    assert {schedule["function"] for schedule in health["schedules"]} == {name for name, _ in _events("Schedule")}
    assert {consumer["function"] for consumer in health["stream_consumers"]} == {
        name for name, _ in _events("DynamoDB")
    }


def test_missing_token_is_401(stack):
    response = httpx.get(f"{stack.url}/skus/ANY-SKU")
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_wrong_token_is_403(stack):
    response = httpx.get(f"{stack.url}/skus/ANY-SKU", headers={"Authorization": "Bearer not-the-token"})
    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})


def test_unknown_route_is_404(stack):
    response = stack.client.get("/no/such/route")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


def test_a_count_reaches_the_movement_log_through_the_stream(stack):
    sku = f"E2E-{uuid.uuid4().hex[:8]}"
    assert stack.client.put(f"/skus/{sku}", json={"locations": ["shop"]}).status_code == 200
    count = {"location": "shop", "on_hand": 5, "version": 1, "event_id": f"{sku}-c1"}
    assert stack.client.post(f"/skus/{sku}/counts", json=count).status_code == 200
    assert stack.drain()["drained"] is True
    stock = stack.client.get(f"/skus/{sku}").json()
    assert stock["locations"][0]["on_hand"] == 5
    assert [movement["kind"] for movement in stock["movements"]] == ["count"]


def test_schedule_runs_on_request(stack):
    assert set(stack.run_schedule("HoldExpiryFunction")) == {"expired", "already_ended"}


def test_stream_consumers_fail_on_nothing_a_restock_writes_and_health_would_say(stack):
    """A restock of a new stock item is an UpdateItem that creates it: moto streamed a bare-keys
    INSERT first, the movement log failed on it, and health still said "errors": []."""
    sku = f"NEW-{uuid.uuid4().hex[:8]}"
    assert stack.client.put(f"/skus/{sku}", json={"locations": ["shop"]}).status_code == 200
    restock = {"location": "shop", "qty": 3, "event_id": f"r-{sku}"}
    assert stack.client.post(f"/skus/{sku}/restocks", json=restock).status_code == 200
    stack.drain()
    health = stack.client.get("/_local/health").json()
    movement_log = [c for c in health["stream_consumers"] if c["function"] == "MovementLogFunction"]
    assert movement_log and all(c["errors"] == 0 and c["failed"] == 0 for c in movement_log)
    assert health["errors"] == []
    movements = stack.client.get(f"/skus/{sku}/movements").json()["movements"]
    assert [m["kind"] for m in movements] == ["restock"]

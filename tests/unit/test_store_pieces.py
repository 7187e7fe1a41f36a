"""Expression placeholders, item (de)serialization, cancellation decoding, keys."""

from __future__ import annotations

from botocore.exceptions import ClientError

from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import _cancellation, from_attrs, to_attrs


def test_expression_never_splices_names() -> None:
    expr = Expression()
    text = expr.update(
        set_={("lots", "shopify:order 1#line.2"): {"qty": 1}, ("state",): "x"},
        add={"held": -1},
        remove=[("gsi1pk",)],
        set_if_absent={"lots": {}},
    )
    assert "shopify" not in text and "state" not in text
    assert set(expr.names.values()) == {"lots", "shopify:order 1#line.2", "state", "held", "gsi1pk"}
    assert text.startswith("SET ") and " ADD " in text and " REMOVE " in text


def test_same_name_reuses_its_placeholder() -> None:
    expr = Expression()
    assert expr.name("rev") == expr.name("rev")
    assert expr.value(1) != expr.value(1)


def test_items_round_trip_with_integers() -> None:
    item = {"pk": "SKU#A", "qty": 3, "lots": {"k": {"qty": 2}}, "locations": ["a", "b"], "none": None}
    assert from_attrs(to_attrs(item)) == item
    assert isinstance(from_attrs(to_attrs({"n": 3}))["n"], int)


def _cancelled_error(reasons: list[dict] | None, message: str = "") -> ClientError:
    response: dict = {"Error": {"Code": "TransactionCanceledException", "Message": message}}
    if reasons is not None:
        response["CancellationReasons"] = reasons
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


def test_cancellation_reasons_with_items() -> None:
    error = _cancelled_error([{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Item": {"available": {"N": "0"}}}])
    cancelled = _cancellation(error, 2)
    assert not cancelled.failed(0)
    assert cancelled.failed(1)
    assert cancelled.items[1] == {"available": 0}
    assert not cancelled.conflict


def test_cancellation_reasons_from_message_only() -> None:
    error = _cancelled_error(None, "Transaction cancelled [None, ConditionalCheckFailed, TransactionConflict]")
    cancelled = _cancellation(error, 3)
    assert cancelled.codes == ("", "ConditionalCheckFailed", "TransactionConflict")
    assert cancelled.conflict


def test_hold_expiry_shards_are_stable_and_bounded() -> None:
    assert keys.hold_expiry_pk("cart-1") == keys.hold_expiry_pk("cart-1")
    assert {keys.hold_expiry_pk(f"h{i}") for i in range(200)} == set(keys.hold_expiry_pks())


class _CancellingClient:
    def __init__(self, codes: list[str]) -> None:
        self.codes = codes
        self.calls = 0

    def transact_write_items(self, **kwargs: object) -> None:
        self.calls += 1
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                "CancellationReasons": [{"Code": code} for code in self.codes],
            },  # type: ignore[typeddict-item]
            "TransactWriteItems",
        )


def test_a_write_dynamodb_cannot_take_is_final_not_a_stock_refusal() -> None:
    """An item too large is refused the same way every time: StoreRefused (recorded, answered
    as final), never a retryable StoreUnavailable (a platform would retry it for days)."""
    import pytest

    from omnistock.errors import StoreRefused, StoreUnavailable
    from omnistock.store.table import Table

    client = _CancellingClient(["None", "ValidationError"])
    with pytest.raises(StoreRefused, match="ValidationError"):
        Table(client, "t").transact([{"Put": {"Item": {}}}, {"Put": {"Item": {}}}])
    with pytest.raises(StoreUnavailable, match="SomethingNew"):  # an unknown code: taken as passing
        Table(_CancellingClient(["SomethingNew"]), "t").transact([{"Put": {"Item": {}}}])
    refused = Table(_CancellingClient(["ConditionalCheckFailed"]), "t").transact([{"Put": {"Item": {}}}])
    assert refused is not None and refused.failed(0)

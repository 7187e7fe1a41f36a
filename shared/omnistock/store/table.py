"""A thin typed layer over the low-level DynamoDB client: (de)serialization, transactions
whose cancellation reasons are decoded, and retries on transaction conflicts."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from omnistock.errors import StoreRefused, StoreUnavailable
from omnistock.store.codec import deserialize, serialize

Item = dict[str, Any]


# A transaction on an item that another transaction is writing is cancelled with
# "TransactionConflict" (real DynamoDB, live-sale hot SKUs); such writes are retried.
_CONFLICT_RETRIES = 6
BATCH_GET = 100  # keys per BatchGetItem call (its limit)
_RETRYABLE = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)
# The request itself is impossible (an item over 400 KB, a key over its limit, a value
# DynamoDB cannot hold): the same request fails the same way every time. Everything else,
# including codes not named here, is taken as passing (throttling, 5xx, lost connections).
# (A call's error codes end in "Exception"; a cancelled transaction's reasons do not.)
_PERMANENT = frozenset(
    {
        "ValidationException",
        "SerializationException",
        "ItemCollectionSizeLimitExceededException",
        "ValidationError",
        "ItemCollectionSizeLimitExceeded",
    }
)


def to_attrs(values: Item) -> dict[str, Any]:
    return {name: serialize(value) for name, value in values.items()}


def from_attrs(attrs: dict[str, Any]) -> Item:
    return {name: deserialize(value) for name, value in attrs.items()}


@dataclass(frozen=True)
class Cancelled:
    """A cancelled transaction: per action, the failure code ('' when it passed) and the
    item as it was (when the condition failed and DynamoDB returned it)."""

    codes: tuple[str, ...]
    items: tuple[Item | None, ...]

    def failed(self, index: int) -> bool:
        return self.codes[index] == "ConditionalCheckFailed"

    @property
    def conflict(self) -> bool:
        """Another writer or the table's capacity got in the way: worth retrying."""
        return any(code in _RETRYABLE for code in self.codes)

    @property
    def unexpected(self) -> str:
        """A code that is neither a failed condition nor retryable (an item too large, a
        validation error): the write is impossible as sent, not refused for lack of stock."""
        return next((c for c in self.codes if c and c != "ConditionalCheckFailed" and c not in _RETRYABLE), "")


class Table:
    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    # ---- reads
    def get(self, pk: str, sk: str) -> Item | None:
        response = self._call("get_item", TableName=self.name, Key=to_attrs({"pk": pk, "sk": sk}), ConsistentRead=True)
        return from_attrs(response["Item"]) if "Item" in response else None

    def query(
        self,
        key_condition: str,
        values: Item,
        *,
        index: str | None = None,
        names: dict[str, str] | None = None,
        forward: bool = True,
        limit: int | None = None,
    ) -> list[Item]:
        """All items matching, following pages (or up to ``limit``)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": to_attrs(values),
            "ScanIndexForward": forward,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = names
        if index:
            kwargs["IndexName"] = index
        else:
            kwargs["ConsistentRead"] = True
        items: list[Item] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            response = self._call("query", **kwargs)
            items.extend(from_attrs(raw) for raw in response.get("Items", []))
            if "LastEvaluatedKey" not in response or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def batch_get(self, keys: list[tuple[str, str]]) -> list[Item]:
        """The items at ``keys`` (pk, sk) that exist, strongly consistent, 100 keys a call,
        retrying what DynamoDB leaves unprocessed. Order is not kept."""
        found: list[Item] = []
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET):
            wanted = [to_attrs({"pk": pk, "sk": sk}) for pk, sk in unique[start : start + BATCH_GET]]
            for attempt in range(8):
                response = self._call(
                    "batch_get_item", RequestItems={self.name: {"Keys": wanted, "ConsistentRead": True}}
                )
                found += [from_attrs(raw) for raw in response.get("Responses", {}).get(self.name, [])]
                wanted = response.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
                if not wanted:
                    break
                time.sleep(random.uniform(0, 0.05 * 2**attempt))
            else:
                raise StoreUnavailable("the stock table left reads unprocessed")
        return found

    def count(self, key_condition: str, values: Item, *, index: str | None = None) -> int:
        """How many items match, without reading them out."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": to_attrs(values),
            "Select": "COUNT",
        }
        if index:
            kwargs["IndexName"] = index
        total = 0
        while True:
            response = self._call("query", **kwargs)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                return total
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # ---- writes
    def put(self, item: Item) -> None:
        self._call("put_item", TableName=self.name, Item=to_attrs(item))

    def put_new(self, item: Item) -> bool:
        """Put ``item`` unless an item has its key already (then nothing changes): False."""
        try:
            self._call(
                "put_item", TableName=self.name, Item=to_attrs(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_where(self, item: Item, condition: str, names: dict[str, str], values: Item) -> bool:
        """Put ``item`` if ``condition`` (over ``names`` and ``values``) holds of the item it
        replaces, or of none; False when it did not hold (nothing changed)."""
        try:
            self._call(
                "put_item",
                TableName=self.name,
                Item=to_attrs(item),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_attrs(values),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def add(self, pk: str, sk: str, attribute: str, amount: int, extra: Item | None = None) -> int:
        """Add ``amount`` to a number attribute (made at 0 if missing), setting ``extra``
        attributes too; the new total. One atomic write: concurrent adds never lose one."""
        names = {"#n": attribute}
        values: dict[str, Any] = {":n": amount}
        assignments = []
        for index, (name, value) in enumerate((extra or {}).items()):
            names[f"#e{index}"], values[f":e{index}"] = name, value
            assignments.append(f"#e{index} = :e{index}")
        expression = "ADD #n :n" + (" SET " + ", ".join(assignments) if assignments else "")
        answer = self._call(
            "update_item",
            TableName=self.name,
            Key=to_attrs({"pk": pk, "sk": sk}),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attrs(values),
            ReturnValues="UPDATED_NEW",
        )
        return int(from_attrs(answer["Attributes"])[attribute])

    def delete(self, pk: str, sk: str) -> None:
        self._call("delete_item", TableName=self.name, Key=to_attrs({"pk": pk, "sk": sk}))

    def delete_if(self, pk: str, sk: str, condition: dict[str, Any]) -> bool:
        """Delete the item if ``condition`` (ConditionExpression and its names and values)
        holds; False when it did not."""
        try:
            self._call("delete_item", TableName=self.name, Key=to_attrs({"pk": pk, "sk": sk}), **condition)
            return True
        except ClientError:  # only a failed condition gets here
            return False

    def transact(self, actions: list[dict[str, Any]]) -> Cancelled | None:
        """Run one TransactWriteItems; None when it committed, else why it was cancelled.

        Each action is ``{"Put"|"Update"|"ConditionCheck"|"Delete": {...}}`` without
        ``TableName``; conditions return the old item when they fail.
        """
        items = []
        for action in actions:
            ((verb, body),) = action.items()
            body = {"TableName": self.name, **body}
            if "ConditionExpression" in body:
                body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            items.append({verb: body})
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self._call("transact_write_items", TransactItems=items)
                return None
            except ClientError as error:  # only TransactionCanceledException gets here
                cancelled = _cancellation(error, len(items))
                if cancelled.unexpected in _PERMANENT:
                    raise StoreRefused(f"the table refused the write as sent ({cancelled.unexpected})") from error
                if cancelled.unexpected:
                    raise StoreUnavailable(f"the stock table refused the write ({cancelled.unexpected})") from error
                if not cancelled.conflict:
                    return cancelled
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise StoreUnavailable("the stock item kept changing; retry")

    def batch_put(self, items: list[Item]) -> None:
        """Put up to 25 items, retrying what DynamoDB leaves unprocessed."""
        self.batch_write(items, [])

    def batch_write(self, items: list[Item], deletes: list[tuple[str, str]]) -> None:
        """Put ``items`` and delete the items at ``deletes`` (pk, sk): up to 25 in all, no key
        twice, retrying what DynamoDB leaves unprocessed."""
        requests = [{"PutRequest": {"Item": to_attrs(item)}} for item in items]
        requests += [{"DeleteRequest": {"Key": to_attrs({"pk": pk, "sk": sk})}} for pk, sk in deletes]
        for attempt in range(8):
            response = self._call("batch_write_item", RequestItems={self.name: requests})
            requests = response.get("UnprocessedItems", {}).get(self.name, [])
            if not requests:
                return
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
        raise StoreUnavailable("the stock table left writes unprocessed")

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise  # the caller's own outcome, not a failure
            if code in _PERMANENT:
                message = error.response.get("Error", {}).get("Message", "")[:200]
                raise StoreRefused(f"DynamoDB refused the {operation} as sent: {message}") from error
            raise StoreUnavailable(f"DynamoDB {operation} failed") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"DynamoDB {operation} failed") from error


def _cancellation(error: ClientError, count: int) -> Cancelled:
    reasons = error.response.get("CancellationReasons") or []
    codes: list[str] = []
    items: list[Item | None] = []
    for index in range(count):
        reason = reasons[index] if index < len(reasons) else {}
        code = reason.get("Code") or ""
        codes.append("" if code == "None" else code)
        items.append(from_attrs(reason["Item"]) if reason.get("Item") else None)
    if not reasons:
        # Some clients only put the reasons in the message: "[None, ConditionalCheckFailed]".
        message = error.response.get("Error", {}).get("Message", "")
        start, end = message.rfind("["), message.rfind("]")
        parts = [p.strip() for p in message[start + 1 : end].split(",")] if start < end else []
        codes = [("" if p == "None" else p) for p in parts] + [""] * (count - len(parts))
    return Cancelled(tuple(codes[:count]), tuple(items[:count]))

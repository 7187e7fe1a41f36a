"""What the webhook and poll handlers share, so each keeps only what is its platform's own.

A webhook: verify the signature on the raw body (once more against freshly read secrets when
it fails: a secret may have just been rotated), parse, apply, and map each outcome to one
answer: 401 unsigned, 400/413 unreadable, 503 storage or secret unavailable (the platform
retries), 200 otherwise. A poll: run within the function's time, a channel that is down
ending the run quietly (the cursor keeps the place).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any, Generic, TypeVar

from omnistock import safe_json
from omnistock.channels import ChannelUnavailable
from omnistock.errors import SecretUnavailable, StoreRefused, StoreUnavailable
from omnistock.observability import UNMAPPED, WEBHOOKS_REFUSED, count, logger
from omnistock.web import json_answer, lowered_headers, raw_body

Verdict = TypeVar("Verdict", bool, str)
SPARE_MS = 60_000  # a poll starts no page in its last minute; its cursor keeps the place
LOGGED = ("result", "held", "sku", "order", "lines_moved", "type", "version")  # ids and outcomes only


@dataclass(frozen=True)
class Webhook(Generic[Verdict]):
    platform: str  # in log lines
    header: str  # the signature's header, as the platform names it (in the 401's message)
    signature: Callable[[Mapping[str, str]], str | None]  # its value among the (lowered) headers
    secrets: Callable[..., list[str]]  # the signing secrets (``refresh=True`` rereads them)
    check: Callable[[bytes, str | None, list[str]], Verdict]  # falsy: not signed by any secret
    apply: Callable[[bytes, Mapping[str, str], Verdict], dict[str, Any]]  # parse and apply
    payload_errors: tuple[type[Exception], ...] = (ValueError,)  # a body that is not a delivery: 400
    beat: Callable[[], None] | None = None  # notes that deliveries arrive (for the connection check)


def signature_holds(
    secrets_of: Callable[..., list[str]], check: Callable[[list[str]], Verdict], signed: bool
) -> Verdict:
    """``check`` against a webhook's signing secrets, and once more against freshly read ones when
    the request is signed at all and the first check fails (the secret may have just been
    rotated). A secret that cannot be read raises SecretUnavailable (the handler answers 503)."""
    try:
        verdict = check(secrets_of())
        return verdict if verdict or not signed else check(secrets_of(refresh=True))
    except ValueError as error:  # a secret not of the shape its check needs
        raise SecretUnavailable(str(error)[:200]) from error


def answer_webhook(hook: Webhook[Verdict], event: dict[str, Any]) -> dict[str, Any]:
    headers = lowered_headers(event)
    raw = raw_body(event) or b""  # an undecodable body fails the signature check
    signature = hook.signature(headers)
    try:
        verdict = signature_holds(hook.secrets, lambda found: hook.check(raw, signature, found), bool(signature))
    except SecretUnavailable:
        logger.exception(f"{hook.platform} webhook not checked: the signing secret could not be read")
        return json_answer(503, {"error": "the signing secret is unavailable; retry"})
    if not verdict:
        count(WEBHOOKS_REFUSED)
        logger.warning(f"{hook.platform} webhook refused: bad or missing signature")
        return json_answer(401, {"error": f"invalid or missing {hook.header}"})
    try:
        result = hook.apply(raw, headers, verdict)
    except safe_json.UnreadableJson as error:
        count(WEBHOOKS_REFUSED)
        logger.warning(f"{hook.platform} webhook refused: unreadable JSON", extra={"problem": str(error)[:200]})
        return json_answer(error.status, {"error": str(error)[:300]})
    except hook.payload_errors as error:
        count(WEBHOOKS_REFUSED)
        logger.warning(f"{hook.platform} webhook refused: not a delivery", extra={"problem": str(error)[:200]})
        return json_answer(400, {"error": f"the body is not a valid {hook.platform} delivery: {error}"[:300]})
    except StoreUnavailable:
        logger.exception(f"{hook.platform} webhook not applied: storage failed")
        return json_answer(503, {"error": "storage is unavailable; retry"})
    if result.get("result") == "unmapped":
        count(UNMAPPED)
    logger.info(f"{hook.platform} webhook applied", extra={k: result[k] for k in LOGGED if k in result})
    _beat(hook.beat)
    return json_answer(200, result)


def _beat(beat: Callable[[], None] | None) -> None:
    """Note the work done; a failure to note it never fails the work."""
    if beat is None:
        return
    try:
        beat()
    except StoreUnavailable:
        logger.warning("heartbeat not recorded: storage failed")


def run_poll(
    platform: str,
    port: Any,
    poll: Callable[[Any, Callable[[], bool]], Any],
    remaining_ms: Callable[[], int],
    beat: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """``poll(port, out_of_time)`` unless the platform is not connected (``port`` None); a
    poll that ran is noted by ``beat`` (the connection check shows when)."""
    if port is None:
        logger.info(f"{platform} is not connected; nothing to poll")
        return {"polled": False}
    try:
        report = poll(port, lambda: remaining_ms() < SPARE_MS)
    except ChannelUnavailable as error:  # the cursors keep what was applied; the next run goes on
        logger.warning(f"{platform} poll stopped", extra={"problem": str(error)[:300]})
        return {"polled": False, "error": str(error)[:300]}
    found = asdict(report) if is_dataclass(report) and not isinstance(report, type) else dict(report)
    count(UNMAPPED, int(found.get("unmapped") or 0))
    logger.info(f"{platform} polled", extra=found)
    _beat(beat)
    return {"polled": True, **found}


def run_stream(
    records: list[dict[str, Any]], apply: Callable[[dict[str, Any]], str | None], what: str
) -> dict[str, Any]:
    """Apply each stream record (``apply`` answers what happened, None: not its record); a record
    the table failed on is reported for Lambda to retry from (then the failure queue)."""
    failures, results = [], dict[str, int]()
    for record in records:
        try:
            result = apply(record)
        except (StoreUnavailable, StoreRefused):
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
            continue
        if result is not None:
            results[result] = results.get(result, 0) + 1
    logger.info(what, extra={"results": results, "retrying": len(failures)})
    return {"batchItemFailures": failures}

"""ShipStation's Custom Store URL: ``GET ?action=export&start_date&end_date&page`` and
``POST ?action=shipnotify&order_number&carrier&service&tracking_number`` with a ShipNotice body.

Credentials (HTTP Basic, or ``SS-UserName``/``SS-Password`` in the query) are checked first, in
constant time; a failure is a 401 with ``WWW-Authenticate: Basic`` (never an empty 200, which
ShipStation reports as "Root element is missing"). Bad requests get a 400 that says why, an
unknown order number a 400 (ShipStation's own meaning for a notice it cannot match: an order
split in ShipStation, or one this store does not have), storage failures a 503. Nothing a
caller sends produces a 500.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.shipstation import auth, notice
from omnistock.channels.shipstation import wiring as shipstation
from omnistock.errors import Conflict, InvalidRequest, NotFound, SecretUnavailable, StoreRefused, StoreUnavailable
from omnistock.observability import logger, observed
from omnistock.web import lowered_headers, raw_body

MAX_QUERY = 4096


def _answer(status: int, body: str | bytes, content_type: str = "text/plain; charset=utf-8") -> dict[str, Any]:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": text}


def _unauthorized() -> dict[str, Any]:
    answer = _answer(401, "invalid ShipStation credentials")
    answer["headers"]["WWW-Authenticate"] = 'Basic realm="Omnistock", charset="UTF-8"'
    return answer


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = lowered_headers(event)
    raw_query = event.get("rawQueryString") or ""
    query = dict(parse_qsl(raw_query[:MAX_QUERY], keep_blank_values=True))  # "+" is a space here
    try:
        if not auth.matches(auth.given_credentials(headers, query), shipstation.credentials(runtime.app())):
            logger.warning("shipstation request refused: bad or missing credentials")
            return _unauthorized()
    except SecretUnavailable:
        logger.exception("shipstation credentials could not be read")
        return _answer(503, "the store's credentials are unavailable; retry")
    method = (event.get("requestContext") or {}).get("http", {}).get("method", "GET").upper()
    try:
        return _dispatch(method, query, event)
    except (InvalidRequest, NotFound, notice.NoticeError, StoreRefused) as error:  # final: ShipStation shows why
        return _answer(400, str(error))
    except (StoreUnavailable, Conflict):
        logger.exception("shipstation request not completed: storage")
        return _answer(503, "storage is busy or unavailable; retry")


def _dispatch(method: str, query: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    action, desk = query.get("action", ""), shipstation.desk(runtime.app())
    if action == "export" and method == "GET":
        found = desk.export(query.get("start_date"), query.get("end_date"), query.get("page"))
        logger.info("shipstation export", extra={"orders": found.returned, "pages": found.pages})
        return _answer(200, found.document, "text/xml; charset=utf-8")
    if action == "shipnotify" and method == "POST":
        body = raw_body(event)
        if body is None:
            raise InvalidRequest("the body is not valid base64")
        shipped = notice.parse(body)
        result = desk.ship_notify(
            query.get("order_number"),
            query.get("carrier", ""),
            query.get("service", ""),
            query.get("tracking_number", ""),
            shipped,
        )
        logger.info("shipstation shipment", extra={"new": result.new, "order": result.order_id})
        return _answer(200, "recorded" if result.new else "recorded before")
    if action in ("export", "shipnotify"):
        return _answer(400, f"action={action} takes {'GET' if action == 'export' else 'POST'}")
    return _answer(400, "action must be export or shipnotify")

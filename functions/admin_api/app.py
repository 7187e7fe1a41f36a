"""Admin API: read a SKU's stock explained; manage the catalog and channels; record counts,
adjustments, restocks, sales and holds. Each route validates, calls one ledger operation and
maps its outcome. Deployed behind IAM auth (the HTTP API's default authorizer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import admin_schemas as s
from omnistock import ops_schemas as ops
from omnistock import runtime, safe_json
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.channels.lightspeed.web_order_settings import settings_of
from omnistock.channels.shipstation import wiring as shipstation
from omnistock.clock import iso
from omnistock.console_access import CONSOLE_API_PREFIX, console_refusal
from omnistock.errors import Conflict, InvalidRequest, NotFound, OmnistockError, StoreRefused, StoreUnavailable
from omnistock.models import Outcome
from omnistock.observability import logger, observed
from omnistock.policy import SkuPolicy
from omnistock.web import json_answer, lowered_headers, raw_body

# The console reaches the same routes under /console/api, signed in (see console_access).
app = APIGatewayHttpResolver(
    enable_validation=True, response_validation_error_http_code=500, strip_prefixes=[CONSOLE_API_PREFIX]
)

Sku = Annotated[str, Path(min_length=1, max_length=200, pattern=s.PRINTABLE)]
HoldId = Annotated[str, Path(min_length=1, max_length=200, pattern=s.PRINTABLE)]
ChannelName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,40}$")]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
SettingName = Annotated[str, Path(pattern=r"^[a-z_]{1,40}\.[a-z_]{1,40}$")]


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": s.ErrorOut}}}


ERRORS: dict[int, OpenAPIResponse] = {
    200: {"description": "Done (or already done: see `outcome`)"},
    400: _error("The request contradicts the catalog (an unknown location, say)"),
    404: _error("Unknown SKU, hold or channel"),
    409: _error("Conflicts with existing state"),
    422: {
        "description": "The body or parameters are invalid",
        "content": {"application/json": {"model": s.InvalidOut}},
    },
    413: _error("The body is over 1 MB"),
    415: _error("The body is not application/json"),
    503: _error("Storage failed; nothing was written; retry"),
}
# Stock events answer 409 with their result (outcome "refused") when stock is short, or with an
# error when their event id was used before for another request.
EVENTS: dict[int, OpenAPIResponse] = ERRORS | {
    409: {
        "description": "Refused: not enough available, or the event id was used before for another request; "
        "nothing changed",
        "content": {"application/json": {"model": s.ResultOut | s.ErrorOut}},
    }
}
HOLD_ENDS: dict[int, OpenAPIResponse] = ERRORS | {
    409: {"description": "Refused: not enough available; nothing changed"}
}
HOLDS: dict[int, OpenAPIResponse] = HOLD_ENDS | {201: {"description": "Held"}}


def _status(outcome: Outcome, created: int = 200) -> int:
    return 409 if outcome is Outcome.REFUSED else created if outcome is Outcome.APPLIED else 200


def _json(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


# ==================================================================== SKUs
@app.get(
    "/skus",
    summary="The catalog in SKU order, a page at a time, with each SKU's levels (or only the SKUs in a state "
    "on a channel: paused, auto_sync_off, push_failed, shortfall at a location it sells from)",
    responses=ERRORS,
    tags=["stock"],
)
def read_inventory(
    prefix: Annotated[str, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = "",
    after: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    channel: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,40}$")] = None,
    state: Annotated[s.InventoryState | None, Query()] = None,
    channels: Annotated[bool, Query(description="Each pushed channel's column on every row")] = False,
) -> s.InventoryOut:
    page, cells = runtime.app().inventory_filters.listing(prefix, after, limit, channel, state, with_channels=channels)
    return s.inventory_out(page, cells)


@app.get("/skus/<sku>", summary="A SKU's stock, explained", responses=ERRORS, tags=["stock"])
def read_stock(sku: Sku, movements: Annotated[int, Query(ge=0, le=100)] = 20) -> s.StockOut:
    return s.stock_out(runtime.app().ledger.explain(sku, movements))


@app.put("/skus/<sku>", summary="Create or update a catalog entry", responses=ERRORS, tags=["catalog"])
def upsert_catalog(sku: Sku, body: s.CatalogIn) -> s.CatalogOut:
    ledger = runtime.app().ledger
    entry = ledger.upsert_catalog(sku, body.locations, body.listings, body.title, allow_drop=body.allow_drop)
    return s.catalog_out(entry)


@app.patch("/skus/<sku>", summary="Change some fields of a catalog entry", responses=ERRORS, tags=["catalog"])
def patch_catalog(sku: Sku, body: s.CatalogPatch) -> s.CatalogOut:
    entry = runtime.app().ledger.patch_catalog(
        sku, locations=body.locations, listings=body.listings, title=body.title, allow_drop=body.allow_drop
    )
    return s.catalog_out(entry)


@app.post(
    "/catalog/import",
    summary="Import a catalog from CSV: every row checked first, then applied as a merge (idempotent)",
    responses=ERRORS,
    tags=["catalog"],
)
def import_catalog(body: s.CatalogImportIn) -> s.CatalogImportOut:
    report = runtime.app().catalog_import.run(body.csv, first_line=body.first_line, check=body.check)
    return s.import_out(report)


@app.post(
    "/catalog/import-from/<source>",
    summary="Import the catalog of a channel (its listings, by SKU) or of the POS (products and counts)",
    responses=ERRORS | {202: {"description": "Started; read its progress and report at /catalog/imports/{job_id}"}},
    tags=["catalog"],
)
def import_from(source: ChannelName, body: s.ImportFromIn) -> Response[s.JobOut]:
    job = runtime.app().imports.start(source, add_new=body.add_new, check=body.check)
    return _json(202, s.job_out(job))


@app.get(
    "/catalog/imports/<job_id>", summary="A catalog import's progress and report", responses=ERRORS, tags=["catalog"]
)
def read_import(
    job_id: JobId,
    kind: Annotated[s.ImportKind, Query()] = "duplicate",
    after: Annotated[str, Query(max_length=300)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> s.ImportLinesOut:
    job, lines = runtime.app().imports.report(job_id, kind, after, limit)
    return s.import_lines_out(job, kind, lines, limit)


@app.post(
    "/pos-sales/imports",
    summary="Import web orders into the POS by hand: new ones, or all of the last 60 days",
    responses=ERRORS | {202: {"description": "Started; read its progress at /pos-sales/imports/{job_id}"}},
    tags=["orders"],
)
def import_web_orders(body: s.PosImportIn) -> Response[s.JobOut]:
    app = runtime.app()
    chosen = settings_of(app.settings.value(lightspeed.WEB_ORDERS))
    since = iso(body.since) if body.since else None
    return _json(202, s.job_out(lightspeed.import_requests(app).start(chosen, body.scope, since)))


@app.get("/pos-sales/imports/<job_id>", summary="An import of web orders' progress", responses=ERRORS, tags=["orders"])
def read_web_order_import(job_id: JobId) -> s.JobOut:
    return s.job_out(lightspeed.import_requests(runtime.app()).job(job_id))


@app.get("/skus/<sku>/movements", summary="Recent stock movements of a SKU", responses=ERRORS, tags=["stock"])
def read_movements(sku: Sku, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> s.MovementsOut:
    found = runtime.app().ledger.movements(sku, limit)
    return s.MovementsOut(sku=sku, movements=[s.movement_out(m) for m in found])


@app.post("/skus/<sku>/counts", summary="Record a master count (absolute)", responses=EVENTS, tags=["stock"])
def record_count(sku: Sku, body: s.CountIn) -> Response[s.ResultOut]:
    as_of = iso(body.as_of) if body.as_of else None
    result = runtime.app().ledger.report_count(
        sku,
        body.location,
        body.on_hand,
        body.version,
        body.source,
        body.event_id,
        as_of,
        reset_version=body.reset_version,
    )
    return _json(_status(result.outcome), s.result_out(result))


@app.post("/skus/<sku>/adjustments", summary="Record a manual adjustment", responses=EVENTS, tags=["stock"])
def record_adjustment(sku: Sku, body: s.AdjustmentIn) -> Response[s.ResultOut]:
    result = runtime.app().ledger.adjust(sku, body.location, body.delta, body.source, body.event_id, body.note)
    return _json(_status(result.outcome), s.result_out(result))


@app.post("/skus/<sku>/restocks", summary="Put returned units back", responses=EVENTS, tags=["stock"])
def record_restock(sku: Sku, body: s.RestockIn) -> Response[s.ResultOut]:
    result = runtime.app().ledger.restock(sku, body.location, body.qty, body.source, body.event_id, body.note)
    return _json(_status(result.outcome), s.result_out(result))


@app.post("/skus/<sku>/sales", summary="Record a sale without a hold", responses=EVENTS, tags=["stock"])
def record_sale(sku: Sku, body: s.SaleIn) -> Response[s.ResultOut]:
    result = runtime.app().ledger.sell(sku, body.location, body.qty, body.source, body.event_id, body.applied_version)
    return _json(_status(result.outcome), s.result_out(result))


@app.post(
    "/skus/<sku>/confirmations",
    summary="Confirm the master version that includes a pending sale",
    responses=EVENTS,
    tags=["stock"],
)
def confirm_pending(sku: Sku, body: s.ConfirmationIn) -> Response[s.ResultOut]:
    result = runtime.app().ledger.confirm_pending(
        sku, body.location, body.lot, body.applied_version, body.source, body.event_id
    )
    return _json(_status(result.outcome), s.result_out(result))


# ==================================================================== channels
@app.put("/channels/<channel>", summary="Set the locations a channel sells from", responses=ERRORS, tags=["channels"])
def upsert_channel(channel: ChannelName, body: s.ChannelIn) -> s.ChannelOut:
    saved = runtime.app().channel_desk.configure(
        channel,
        body.locations,
        _who(),
        platform=body.platform,
        target_location=body.target_location or "",
        buffer=body.buffer,
        max_shown=body.max_shown,
        auto_sync=body.auto_sync,
        entry_rules={str(way): rule for way, rule in body.auto_sync_by_entry.items()},
        master_location=body.master_location or "",
    )
    return s.channel_out(saved)


@app.get("/channels", summary="Every channel's settings and mode", tags=["channels"])
def read_channels() -> s.ChannelsOut:
    return s.ChannelsOut(channels=[s.channel_out(channel) for channel in runtime.app().stock.channels()])


@app.post(
    "/channels/<channel>/preview",
    summary="Preview a channel: read its numbers and keep what Omnistock would change (writes nothing)",
    responses=ERRORS | {202: {"description": "Started; read it at GET /channels/{channel}/preview"}},
    tags=["channels"],
)
def start_preview(channel: ChannelName) -> Response[s.JobOut]:
    return _json(202, s.job_out(runtime.app().sync.start_preview(channel)))


@app.get(
    "/channels/<channel>/preview",
    summary="The channel's latest preview: its totals and a page of its differences",
    responses=ERRORS,
    tags=["channels"],
)
def read_preview(
    channel: ChannelName,
    after: Annotated[str, Query(max_length=200)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> s.PreviewOut:
    job, lines = runtime.app().sync.preview(channel, after, limit)
    return s.preview_out(channel, job, lines, limit)


@app.post(
    "/channels/<channel>/go-live",
    summary="Take a channel out of shadow mode: push its latest preview's differences, then every change",
    responses=ERRORS | {202: {"description": "Live; the differences are pushed by this job"}},
    tags=["channels"],
)
def go_live(channel: ChannelName) -> Response[s.JobOut]:
    return _json(202, s.job_out(runtime.app().channel_desk.go_live(channel, _who())))


@app.post(
    "/channels/<channel>/shadow",
    summary="Put a channel back into shadow mode: read and previewed, never written",
    responses=ERRORS,
    tags=["channels"],
)
def to_shadow(channel: ChannelName) -> s.ChannelOut:
    return s.channel_out(runtime.app().channel_desk.to_shadow(channel, _who()))


# ==================================================================== settings
@app.get("/settings", summary="Settings that change without a redeploy, with their defaults", tags=["settings"])
def read_settings() -> s.SettingsOut:
    wiring = runtime.app()
    return s.SettingsOut(settings=[s.setting_out(view, wiring.config) for view in wiring.settings.views()])


@app.put(
    "/settings/<name>",
    summary="Change a setting (in force within a minute; the change is audited)",
    responses=ERRORS,
    tags=["settings"],
)
def change_setting(name: SettingName, body: s.SettingIn) -> s.SettingOut:
    wiring = runtime.app()
    return s.setting_out(wiring.settings.change(name, body.value, _who()), wiring.config)


@app.get("/audit", summary="Who changed which setting or channel, when, from what", responses=ERRORS, tags=["settings"])
def read_audit(
    month: Annotated[str, Query(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")] = "",
    before: Annotated[str, Query(max_length=100)] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> s.AuditOut:
    wiring = runtime.app()
    chosen = month or iso(wiring.clock())[:7]
    return s.audit_out(chosen, wiring.settings.audit(chosen, before, limit), limit)


def _who() -> str:
    """The caller as the gateway authenticated it (the signed identity): an IAM user or role's
    ARN, or a signed-in user's verified e-mail, else their subject."""
    context = app.current_event.raw_event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    iam = authorizer.get("iam") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or {}
    email = claims.get("email") if str(claims.get("email_verified", "")).lower() == "true" else None
    return str(iam.get("userArn") or email or claims.get("sub") or "unknown")


@app.put(
    "/skus/<sku>/channels/<channel>",
    summary="Set a SKU's policy on a channel (buffer, cap, pause, auto sync, allocation)",
    responses=ERRORS,
    tags=["channels"],
)
def set_policy(sku: Sku, channel: ChannelName, body: s.PolicyIn) -> s.PolicyOut:
    policy = SkuPolicy(body.buffer, body.max_shown, body.paused, body.auto_sync, body.allocation)
    return s.policy_out(sku, channel, runtime.app().sync.set_policy(sku, channel, policy))


# ==================================================================== sync
@app.get(
    "/sync-history",
    summary="Push attempts and notes, newest first (of a SKU, a channel, or all)",
    responses=ERRORS,
    tags=["sync"],
)
def read_sync_history(
    sku: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    channel: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,40}$")] = None,
    failed: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> s.SyncHistoryOut:
    entries = runtime.app().sync.history(sku, channel, failed, limit)
    return s.SyncHistoryOut(entries=[s.sync_entry_out(entry) for entry in entries])


@app.post(
    "/sync-now",
    summary="Force a push of chosen SKUs (or all) to one channel (or all), in the background",
    responses=ERRORS | {202: {"description": "Started; read its progress at /sync-now/{job_id}"}},
    tags=["sync"],
)
def start_sync_now(body: s.SyncNowIn) -> Response[s.JobOut]:
    job = runtime.app().sync.start(body.channel, body.skus)
    return _json(202, s.job_out(job))


@app.post(
    "/sync-now/filter",
    summary="Force a push to a channel of every SKU in an inventory filter (a prefix, a state), in the background",
    responses=ERRORS | {202: {"description": "Started; read its progress at /sync-now/{job_id}"}},
    tags=["sync"],
)
def start_sync_now_in_filter(body: ops.FilterSyncNowIn) -> Response[s.JobOut]:
    job = runtime.app().bulk_policies.start(body.channel, {}, body.prefix, body.state, sync_now=True)
    return _json(202, s.job_out(job))


@app.post("/live-events", summary="Start a live event: allocations and paused pushes", responses=ERRORS, tags=["live"])
def start_live_event(body: s.LiveEventIn) -> s.LiveEventOut:
    started = runtime.app().live_events.start(body.event_id, body.channel, dict(body.allocations), dict(body.paused))
    return s.live_event_out(started)


@app.post(
    "/live-events/<event_id>/end",
    summary="End a live event: policies restored, paused channels brought in line",
    responses=ERRORS,
    tags=["live"],
)
def end_live_event(event_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]) -> s.LiveEventOut:
    return s.live_event_out(runtime.app().live_events.end(event_id))


@app.get("/live-events/<event_id>", summary="A live event", responses=ERRORS, tags=["live"])
def read_live_event(event_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]) -> s.LiveEventOut:
    return s.live_event_out(runtime.app().live_events.get(event_id))


@app.get("/sync-now", summary="The jobs running now (Sync Now, previews, imports, policy changes)", tags=["sync"])
def read_running_jobs(limit: Annotated[int, Query(ge=1, le=100)] = 50) -> s.JobsOut:
    return s.JobsOut(jobs=[s.job_out(job) for job in runtime.app().sync.running_jobs(limit)])


@app.get("/sync-now/<job_id>", summary="A Sync Now job's progress", responses=ERRORS, tags=["sync"])
def read_sync_now(job_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]) -> s.JobOut:
    return s.job_out(runtime.app().sync.job(job_id))


@app.get(
    "/channels/<channel>/skus/<sku>", summary="What a channel may sell of a SKU", responses=ERRORS, tags=["channels"]
)
def read_channel_availability(channel: ChannelName, sku: Sku) -> s.ChannelAvailabilityOut:
    found = runtime.app().ledger.channel_available(channel, sku)
    return s.ChannelAvailabilityOut(
        channel=found.channel, sku=found.sku, available=found.available, by_location=found.by_location
    )


# ==================================================================== holds
@app.post("/holds", summary="Hold units for a cart", responses=HOLDS, tags=["holds"])
def place_hold(body: s.HoldIn) -> Response[s.HoldResultOut]:
    result = runtime.app().ledger.place_hold(
        body.hold_id,
        body.sku,
        body.location,
        body.qty,
        body.source,
        body.event_id or body.hold_id,
        expires_at=iso(body.expires_at) if body.expires_at else None,
        minutes=body.minutes,
    )
    return _json(_status(result.outcome, created=201), s.hold_result_out(result))


@app.get("/holds/<hold_id>", summary="A hold and its state", responses=ERRORS, tags=["holds"])
def read_hold(hold_id: HoldId) -> s.HoldOut:
    return s.hold_out(runtime.app().ledger.hold(hold_id))


@app.post("/holds/<hold_id>/release", summary="Release a hold", responses=HOLD_ENDS, tags=["holds"])
def release_hold(hold_id: HoldId, body: s.HoldEndIn) -> Response[s.HoldResultOut]:
    result = runtime.app().ledger.release_hold(hold_id, body.source, body.event_id)
    return _json(_status(result.outcome), s.hold_result_out(result))


@app.post("/holds/<hold_id>/checkout", summary="Check a hold out (held → pending)", responses=HOLD_ENDS, tags=["holds"])
def checkout_hold(hold_id: HoldId, body: s.HoldEndIn) -> Response[s.HoldResultOut]:
    result = runtime.app().ledger.checkout_hold(hold_id, body.source, body.event_id, body.applied_version)
    return _json(_status(result.outcome), s.hold_result_out(result))


# ==================================================================== orders
OrderId = Annotated[str, Path(min_length=1, max_length=200, pattern=s.PRINTABLE)]


@app.get(
    "/orders/<channel>/<order_id>",
    summary="An order, its lines' stock and its shipments",
    responses=ERRORS,
    tags=["orders"],
)
def read_order(channel: ChannelName, order_id: OrderId) -> s.OrderOut:
    kept = runtime.app().shipment_desk.orders.load(channel, order_id)
    if kept.stored is None:
        raise NotFound(f"order {order_id!r} of {channel!r} is not in the order store")
    return s.order_out(kept)


@app.post(
    "/orders/<channel>/<order_id>/shipments",
    summary="Record a shipment; it goes to the order's channel as a fulfillment, once",
    responses=ERRORS | {201: {"description": "Recorded"}},
    tags=["orders"],
)
def record_shipment(channel: ChannelName, order_id: OrderId, body: s.ShipmentIn) -> Response[s.ShipmentResultOut]:
    shipment, new = runtime.app().shipment_desk.record(
        channel,
        order_id,
        body.shipment_id,
        carrier=body.carrier,
        service=body.service,
        tracking_number=body.tracking_number or "",
        lines=dict(body.lines) if body.lines is not None else None,
        shipped_at=iso(body.shipped_at) if body.shipped_at else None,
    )
    result = s.ShipmentResultOut(outcome="applied" if new else "duplicate", shipment=s.shipment_out(shipment))
    return _json(201 if new else 200, result)


@app.post(
    "/orders/<channel>/<order_id>/refresh",
    summary="Save an order again so ShipStation exports it again (its modified time moves to now)",
    responses=ERRORS,
    tags=["orders"],
)
def refresh_order(channel: ChannelName, order_id: OrderId) -> s.RefreshOut:
    modified_at = shipstation.desk(runtime.app()).refresh(channel, order_id)
    return s.RefreshOut(channel=channel, order_id=order_id, modified_at=modified_at)


# ==================================================================== problems and operations views
@app.get("/problems", summary="Open problems, each with the action that resolves it", tags=["problems"])
def read_problems(
    kind: Annotated[str, Query(pattern=r"^(failed|unmapped|rejected|unknown_order|shortfall|not_imported)?$")] = "",
    after: Annotated[str, Query(max_length=600)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ops.ProblemsOut:
    return ops.problems_out(*runtime.app().problems.inbox(kind, after, limit))


@app.get(
    "/problems/pending-lots",
    summary="Pending lots older than a threshold: sold, and still not in the master's count",
    tags=["problems"],
)
def read_old_lots(
    older_than_hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ops.OldLotsOut:
    found = runtime.app().problems.old_pending_lots(timedelta(hours=older_than_hours), limit)
    return ops.old_lots_out(older_than_hours, found)


@app.post(
    "/problems/retry",
    summary="Retry what failed (push again; settle an order's unmapped lines again)",
    responses=ERRORS,
    tags=["problems"],
)
def retry_problem(body: ops.ProblemIn) -> ops.ResolutionOut:
    return ops.resolution_out(runtime.app().problems.retry(body.id))


@app.post("/problems/dismiss", summary="Dismiss a problem handled elsewhere", responses=ERRORS, tags=["problems"])
def dismiss_problem(body: ops.ProblemIn) -> ops.ResolutionOut:
    return ops.resolution_out(runtime.app().problems.dismiss(body.id))


@app.post(
    "/policies",
    summary="Change auto sync, pause, buffer or cap of up to 250 SKUs on a channel",
    responses=ERRORS,
    tags=["channels"],
)
def change_policies(body: ops.PoliciesIn) -> ops.PoliciesOut:
    changed = runtime.app().sync.set_policies(body.skus, body.channel, body.changes())
    return ops.PoliciesOut(channel=body.channel, skus=len(set(body.skus)), changed=changed)


@app.post(
    "/policies/jobs",
    summary="Change auto sync, pause, buffer or cap of every SKU in a filter (a prefix, a state), as a job",
    responses=ERRORS | {202: {"description": "Started; read its progress at /sync-now/{job_id}"}},
    tags=["channels"],
)
def change_policies_in_filter(body: ops.FilterPoliciesIn) -> Response[s.JobOut]:
    job = runtime.app().bulk_policies.start(body.channel, body.changes(), body.prefix, body.state)
    return _json(202, s.job_out(job))


@app.get(
    "/skus/<sku>/channels",
    summary="A SKU on every channel: its policy, what the channel is made to show and why, what was pushed",
    responses=ERRORS,
    tags=["stock"],
)
def read_sku_channels(sku: Sku) -> ops.ChannelViewsOut:
    return ops.channel_views_out(sku, *runtime.app().sync.channel_views(sku))


@app.get("/latency", summary="Sale-to-channel push latency, p50 and p99, over the last hour", tags=["sync"])
def read_latency() -> ops.LatencyOut:
    pushes, p50, p99 = runtime.app().sync.push_latency()
    return ops.LatencyOut(window_minutes=60, pushes=pushes, p50_ms=p50, p99_ms=p99)


@app.get("/orders", summary="Orders that need shipping changed on a day, newest first", tags=["orders"])
def read_orders(
    day: Annotated[str, Query(pattern=r"^20[0-9]{2}-[01][0-9]-[0-3][0-9]$")] = "",
    after: Annotated[str, Query(max_length=600)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ops.OrdersOut:
    return ops.orders_out(*runtime.app().shipment_desk.changed_on(day, after, limit))


@app.get(
    "/live-events/<event_id>/board",
    summary="A live event's SKUs: allocated, held, sold and left",
    responses=ERRORS,
    tags=["live"],
)
def read_live_board(event_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]) -> ops.LiveBoardOut:
    return ops.live_board_out(*runtime.app().live_events.board(event_id))


# ==================================================================== errors
_ERROR_STATUS: dict[type[OmnistockError], int] = {
    NotFound: 404,
    InvalidRequest: 400,
    Conflict: 409,
    StoreRefused: 422,  # the table cannot hold it as sent: retrying cannot help
    StoreUnavailable: 503,
}


@app.exception_handler(OmnistockError)
def domain_error(error: OmnistockError) -> Response[s.ErrorOut]:
    status = next((code for kind, code in _ERROR_STATUS.items() if isinstance(error, kind)), 400)
    if status >= 500:
        logger.exception("storage failure")
    return _json(status, s.ErrorOut(message=str(error)))


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response[s.InvalidOut]:
    problems = [
        s.Problem(field=".".join(str(part) for part in problem.get("loc", ())), problem=problem.get("msg", ""))
        for problem in error.errors()
    ]
    return _json(422, s.InvalidOut(message="invalid request", errors=problems))


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = console_refusal(event) or unreadable_body(event)
    if refused is not None:
        return json_answer(refused[0], {"message": refused[1]})
    return app.resolve(event, context)


def unreadable_body(event: dict[str, Any]) -> tuple[int, str] | None:
    """The API takes JSON: a body in another media type (a form, multipart) is a 415, one over
    1 MB a 413, and one that is not UTF-8 or not JSON within bounds (nested too deep, a number
    of too many digits) a 400, before routing (the resolver would fail on them with a 500)."""
    raw = raw_body(event)
    if raw is None:
        return 400, "the body is marked base64 and is not"
    if not raw:
        return None
    media = lowered_headers(event).get("content-type", "").split(";", 1)[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        return 415, "the admin API takes application/json"
    try:
        safe_json.check_bounds(raw, safe_json.ADMIN_BYTES)  # whether it is JSON: the resolver's 422
    except safe_json.UnreadableJson as error:
        return error.status, str(error)[:300]
    return None

"""The whole local stack in one object: moto, tables, functions, gateway, schedules, streams.

    with LocalStack(port=0) as stack:
        httpx.get(f"{stack.url}/skus/A", headers={"Authorization": f"Bearer {stack.dev_token}"})

It points this process's AWS clients at moto (endpoint, dummy credentials) and restores the
environment on stop(). Functions run in worker processes with their own variables.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from local.events import Router
from local.filters import FilterError, validate
from local.gateway import Gateway
from local.lambdas import LocalFunction
from local.moto_server import MotoServer
from local.sandbox import ShopifySandbox
from local.sandbox.commentsold import CommentSoldSandbox
from local.sandbox.lightspeed import LightspeedSandbox
from local.sandbox.unleashed import UnleashedSandbox
from local.schedules import Timer
from local.send_webhook import LOCAL_WEBHOOK_SECRET
from local.streams import StreamConsumer, StreamReader
from local.template import Template, TemplateError, load_template

# What to type into ShipStation's connection form (or send as Basic auth) against the local stack.
LOCAL_COMMENTSOLD_SECRET = "local-commentsold-webhook-secret"  # noqa: S105 - a fixed local value
LOCAL_SHIPSTATION_CREDENTIALS = {"username": "shipstation", "password": "local-shipstation-password"}
LOCAL_LIGHTSPEED_OUTLETS = {"outlet-shop": "shop"}  # the Lightspeed sandbox's outlet -> Omnistock location
LOCAL_UNLEASHED_WAREHOUSES = {"MAIN": "warehouse"}  # the Unleashed sandbox's warehouse -> Omnistock location
LOCAL_UNLEASHED_SECRET = "local/unleashed-api"  # noqa: S105 - a secret's name, not a secret
# The Unleashed webhook signing key seeded under the template's name for it: deliveries signed with
# it verify (events/unleashed-webhook-product-updated.json is).
LOCAL_UNLEASHED_WEBHOOK_KEY = "local-unleashed-webhook-key"
LOCAL_LEDGER_LOCATIONS = "shop,web"  # the demo's locations (LedgerLocations deployed): "web" is Shopify's stock

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"
SANDBOX_SHOP = "omnistock-sandbox.myshopify.com"
DEFAULT_DEV_TOKEN = "local-dev-token"  # noqa: S105 - a documented stand-in for IAM, local only
_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_OVERRIDDEN = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN")  # would point boto3 elsewhere


class LocalStack:
    def __init__(
        self,
        template: str | Path = DEFAULT_TEMPLATE,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        moto_port: int = 0,
        dev_token: str | None = None,
        schedule_every: float | None = None,
        sandbox: bool = True,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.template_path = Path(template)
        self.parameters = dict(parameters or {})
        self.host = host
        self.port = port
        self.moto_port = moto_port
        self.dev_token = dev_token or os.environ.get("OMNISTOCK_DEV_TOKEN") or DEFAULT_DEV_TOKEN
        self.schedule_every = schedule_every
        self.use_sandbox = sandbox
        self.sandbox: ShopifySandbox | None = None
        self.commentsold: CommentSoldSandbox | None = None
        self.lightspeed: LightspeedSandbox | None = None
        self.unleashed: UnleashedSandbox | None = None
        self.region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
        self.warnings: list[str] = []  # template features that do not run locally
        self.errors: list[str] = []  # configuration the local stack cannot honour
        self.template: Template | None = None
        self.functions: dict[str, LocalFunction] = {}
        self.timers: list[Timer] = []
        self.consumers: list[StreamConsumer] = []
        self.moto: MotoServer | None = None
        self.gateway: Gateway | None = None
        self._saved_environ: dict[str, str] | None = None

    @property
    def url(self) -> str:
        if self.gateway is None:
            raise RuntimeError("the stack is not started")
        return self.gateway.url

    @property
    def moto_url(self) -> str:
        if self.moto is None:
            raise RuntimeError("the stack is not started")
        return self.moto.url

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        self._saved_environ = dict(os.environ)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        template = self.template = load_template(self.template_path, region=self.region, parameters=self.parameters)
        self.warnings.extend(template.problems)
        self.moto = MotoServer(self.host, self.moto_port).start()
        self._point_aws_at_moto()
        stream_arns = self._create_tables()
        overrides = (
            self._start_sandbox(template)
            | self._start_commentsold(template)
            | self._start_lightspeed(template)
            | self._start_unleashed(template)
            if self.use_sandbox
            else {}
        )
        self._seed_webhook_secrets(template)
        self.gateway = Gateway(Router(template.routes), self.functions, self.dev_token, self, self.host, self.port)
        self.gateway.bind()
        overrides["PUBLIC_API_URL"] = self.gateway.url  # deployed: the HttpApi's own URL
        # No user pool here: the console signs in with the dev token, which the gateway takes
        # as a signed-in user (see local.gateway); deployed it signs in with Cognito.
        overrides["CONSOLE_SIGN_IN"] = "dev"
        overrides.setdefault("LEDGER_LOCATIONS", LOCAL_LEDGER_LOCATIONS)
        self._load_functions(template, overrides)
        self._wire_events(template, stream_arns)
        for consumer in self.consumers:
            consumer.start()
        for timer in self.timers:
            timer.start()
        self.gateway.start()

    def _start_sandbox(self, template: Template) -> dict[str, str]:
        """Test equipment: a Shopify stand-in for the functions that push to Shopify, the app's
        client credentials stored in moto's Secrets Manager under the name the template gives them."""
        secret_names = {
            spec.environment["SHOPIFY_TOKEN_SECRET_NAME"]
            for spec in template.functions
            if spec.environment.get("SHOPIFY_TOKEN_SECRET_NAME")
        }
        if not secret_names:
            return {}
        self.sandbox = ShopifySandbox(host=self.host).start()
        secrets = self._client("secretsmanager")
        # A Dev Dashboard app's credentials, as a new retailer stores them: every token the
        # functions use comes from the sandbox's client credentials grant.
        app = json.dumps({"client_id": self.sandbox.client_id, "client_secret": self.sandbox.client_secret})
        for name in secret_names:
            secrets.create_secret(Name=name, SecretString=app)
        return {
            "SHOPIFY_SHOP_DOMAIN": SANDBOX_SHOP,
            "SHOPIFY_ENDPOINT": self.sandbox.graphql_url(
                next(iter({s.environment.get("SHOPIFY_API_VERSION", "2026-04") for s in template.functions}))
            ),
        }

    def _seed_webhook_secrets(self, template: Template) -> None:
        """Development credentials under the names the template gives the functions: the
        Shopify webhook secret ``python -m local.send_webhook`` signs with, the Unleashed webhook
        signing key, and ShipStation's
        user name and password (see LOCAL_SHIPSTATION_CREDENTIALS)."""
        names = {s.environment.get("SHOPIFY_WEBHOOK_SECRET_NAME", "") for s in template.functions} - {""}
        secrets = self._client("secretsmanager")
        for name in names:
            secrets.create_secret(Name=name, SecretString=LOCAL_WEBHOOK_SECRET)
        for name in {s.environment.get("COMMENTSOLD_WEBHOOK_SECRET_NAME", "") for s in template.functions} - {""}:
            secrets.create_secret(Name=name, SecretString=LOCAL_COMMENTSOLD_SECRET)
        for name in {s.environment.get("UNLEASHED_WEBHOOK_SECRET_NAME", "") for s in template.functions} - {""}:
            secrets.create_secret(Name=name, SecretString=LOCAL_UNLEASHED_WEBHOOK_KEY)
        for name in {s.environment.get("SHIPSTATION_SECRET_NAME", "") for s in template.functions} - {""}:
            secrets.create_secret(Name=name, SecretString=json.dumps(LOCAL_SHIPSTATION_CREDENTIALS))

    def _start_commentsold(self, template: Template) -> dict[str, str]:
        """Test equipment: a CommentSold stand-in (token service and API), its partner
        credentials stored under the name the template gives the functions that call it."""
        names = {s.environment.get("COMMENTSOLD_API_SECRET_NAME", "") for s in template.functions} - {""}
        if not names:
            return {}
        self.commentsold = CommentSoldSandbox(host=self.host).start()
        credentials = {"partner_id": self.commentsold.partner_id, "private_key": self.commentsold.private_key}
        secrets = self._client("secretsmanager")
        for name in names:
            secrets.create_secret(Name=name, SecretString=json.dumps(credentials))
        return {
            "COMMENTSOLD_SHOP": self.commentsold.shop,
            "COMMENTSOLD_API_BASE": self.commentsold.api_base,
            "COMMENTSOLD_TOKEN_URL": self.commentsold.token_url,
        }

    def _start_lightspeed(self, template: Template) -> dict[str, str]:
        """Test equipment: a Lightspeed X-Series stand-in, its initial OAuth tokens stored under
        the name the template gives the functions that call it, and its client secret (which
        signs its webhooks) under the name the webhook receiver reads."""
        names = {s.environment.get("LIGHTSPEED_TOKEN_SECRET_NAME", "") for s in template.functions} - {""}
        if not names:
            return {}
        self.lightspeed = LightspeedSandbox(host=self.host, outlets=tuple(LOCAL_LIGHTSPEED_OUTLETS)).start()
        secrets = self._client("secretsmanager")
        for name in names:
            secrets.create_secret(Name=name, SecretString=json.dumps(self.lightspeed.initial_tokens()))
        for name in {s.environment.get("LIGHTSPEED_WEBHOOK_SECRET_NAME", "") for s in template.functions} - {""}:
            secrets.create_secret(Name=name, SecretString=self.lightspeed.client_secret)
        return {
            "LIGHTSPEED_API_BASE": self.lightspeed.api_base,
            "LIGHTSPEED_DOMAIN_PREFIX": self.lightspeed.domain_prefix,
            "LIGHTSPEED_OUTLETS": json.dumps(LOCAL_LIGHTSPEED_OUTLETS),
        }

    def _start_unleashed(self, template: Template) -> dict[str, str]:
        """Test equipment: an Unleashed stand-in, its API id and key stored under a name every
        function that reads Unleashed is pointed at (deployed, the parameter is empty until a
        retailer connects Unleashed)."""
        if not any("UNLEASHED_API_SECRET_NAME" in s.environment for s in template.functions):
            return {}
        self.unleashed = UnleashedSandbox(host=self.host, warehouses=tuple(LOCAL_UNLEASHED_WAREHOUSES)).start()
        secret = json.dumps(self.unleashed.credentials())
        self._client("secretsmanager").create_secret(Name=LOCAL_UNLEASHED_SECRET, SecretString=secret)
        return {
            "UNLEASHED_API_BASE": self.unleashed.api_base,
            "UNLEASHED_API_SECRET_NAME": LOCAL_UNLEASHED_SECRET,
            "UNLEASHED_WAREHOUSES": json.dumps(LOCAL_UNLEASHED_WAREHOUSES),
        }

    def _load_functions(self, template: Template, overrides: dict[str, str]) -> None:
        for spec in template.functions:
            self.functions[spec.logical_id] = LocalFunction(spec, self.region, overrides=overrides)
        for function in self.functions.values():  # one cold start each, so a broken handler fails here
            function.warm()

    def _wire_events(self, template: Template, stream_arns: dict[str, str]) -> None:
        streams = self._client("dynamodbstreams")
        for spec in template.streams:
            for pattern in spec.filters:
                try:
                    validate(pattern)
                except FilterError as error:
                    raise TemplateError(f"{spec.function}.{spec.event}: FilterCriteria: {error}") from error
            arn = stream_arns.get(spec.table)
            if arn is None:
                self.warnings.append(f"{spec.function}.{spec.event}: table {spec.table} has no stream; not run")
                continue
            reader = StreamReader(streams, arn, spec.starting_position)
            self.consumers.append(StreamConsumer(spec, self.functions[spec.function], reader))
        for schedule in template.schedules:
            timer = Timer(schedule, self.functions[schedule.function], self.schedule_every)
            if timer.problem:
                self.warnings.append(timer.problem)
            self.timers.append(timer)

    def stop(self) -> None:
        """Stop everything (idempotent) and restore the process environment."""
        if self.gateway is not None:
            self.gateway.stop()
        for timer in self.timers:
            timer.stop()
        for consumer in self.consumers:
            consumer.stop()
        for function in self.functions.values():
            function.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        if self.commentsold is not None:
            self.commentsold.stop()
            self.commentsold = None
        if self.lightspeed is not None:
            self.lightspeed.stop()
            self.lightspeed = None
        if self.unleashed is not None:
            self.unleashed.stop()
            self.unleashed = None
        if self.moto is not None:
            self.moto.stop()
        if self._saved_environ is not None:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            self._saved_environ = None

    # ---- control endpoints (see local.gateway.Control)
    def health(self) -> dict[str, Any]:
        template = self.template
        return {
            "ready": self.gateway is not None,
            "moto": self.moto_url,
            "shopify_sandbox": self.sandbox.url if self.sandbox else None,
            "commentsold_sandbox": self.commentsold.url if self.commentsold else None,
            "lightspeed_sandbox": self.lightspeed.url if self.lightspeed else None,
            "unleashed_sandbox": self.unleashed.url if self.unleashed else None,
            "tables": [{"logical_id": t.logical_id, "name": t.name} for t in (template.tables if template else [])],
            "routes": [
                {"routeKey": r.route_key, "method": r.method, "path": r.path, "function": r.function, "auth": r.auth}
                for r in (template.routes if template else [])
            ],
            "schedules": [
                {
                    "function": t.schedule.function,
                    "event": t.schedule.event,
                    "expression": t.schedule.expression,
                    "timer": t.describe(),
                    "runs": t.runs,
                    "failures": t.failures,
                }
                for t in self.timers
            ],
            "stream_consumers": [
                {"function": c.spec.function, "event": c.spec.event, "table": c.spec.table, **c.counters}
                for c in self.consumers
            ],
            "warnings": self.warnings,
            "errors": self.errors + self._runtime_errors(),
        }

    def _runtime_errors(self) -> list[str]:
        """What failed while running: a stream consumer's raised batches and records given up,
        a schedule's failed runs (each also in the log, with its traceback)."""
        found = [
            f"stream {c.name}: {c.counters['errors']} batches raised, {c.counters['failed']} records given up"
            for c in self.consumers
            if c.counters["errors"] or c.counters["failed"]
        ]
        found += [
            f"schedule {t.schedule.function}.{t.schedule.event}: {t.failures} failed runs"
            for t in self.timers
            if t.failures
        ]
        return found

    def run_schedule(self, function: str) -> Any:
        """Run the function's (first) schedule now; KeyError when it has none."""
        for timer in self.timers:
            if timer.schedule.function == function:
                return timer.run_now()
        raise KeyError(function)

    def drain(self, timeout: float = 10.0) -> tuple[bool, dict[str, Any]]:
        """Wait until every stream record written so far reached every consumer."""
        deadline = time.monotonic() + timeout
        drained = [consumer.drain(max(0.0, deadline - time.monotonic())) for consumer in self.consumers]
        totals: dict[str, Any] = {
            key: sum(c.counters[key] for c in self.consumers) for key in ("delivered", "failed", "batches")
        }
        totals["consumers"] = {c.name: dict(c.counters) for c in self.consumers}
        return all(drained), totals

    # ---- setup
    def _point_aws_at_moto(self) -> None:
        """Every boto3 client in this process (the functions', Powertools') goes to moto."""
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL_")] + list(_OVERRIDDEN):
            os.environ.pop(name, None)
        os.environ.update(_DUMMY_CREDENTIALS)
        for name in ("NO_PROXY", "no_proxy"):  # a proxy must not see (or break) calls to moto
            os.environ[name] = ",".join(filter(None, [os.environ.get(name, ""), self.host, "localhost"]))
        os.environ.update(
            AWS_ENDPOINT_URL=self.moto_url,
            AWS_DEFAULT_REGION=self.region,
            AWS_REGION=self.region,
            POWERTOOLS_TRACE_DISABLED="true",
        )

    def _client(self, service: str) -> Any:
        import boto3

        return boto3.session.Session().client(service, region_name=self.region, endpoint_url=self.moto_url)

    def _create_tables(self) -> dict[str, str]:
        """Create the template's tables; their stream ARNs by logical id."""
        assert self.template is not None  # noqa: S101
        client = self._client("dynamodb")
        stream_arns = {}
        for table in self.template.tables:
            client.create_table(**table.create_table_kwargs())
            if table.ttl_attribute:
                client.update_time_to_live(
                    TableName=table.name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
            description = client.describe_table(TableName=table.name)["Table"]
            if description.get("LatestStreamArn"):
                stream_arns[table.logical_id] = description["LatestStreamArn"]
        return stream_arns

"""What the local stack needs from template.yaml: tables, functions and their events.

Public API (tests elsewhere build their moto tables from the template through it):

- ``load_template(path, table_names=None) -> Template``: tables (``TableSpec``), functions
  (``FunctionSpec`` with resolved environment, HTTP routes, schedules and stream events) and
  ``problems`` (what cannot run locally, for the startup report).
- ``table_definition(path, table_name, logical_id=None) -> dict``: boto3 ``create_table``
  kwargs for the template's table (the only one, or ``logical_id``), named ``table_name``.
- ``ttl_attribute(path, logical_id=None) -> str | None``: the table's TTL attribute.
- ``create_table(client, path, table_name, logical_id=None)``: both of the above against a
  DynamoDB client (moto), waiting until the table exists.
- ``load_yaml(path)``: the raw template with short-form tags as long-form intrinsic dicts.

Table settings that change nothing locally (encryption, PITR, deletion protection, tags)
are left out of ``create_table``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from local.cfn import NO_VALUE, Resolver, TemplateError, load_yaml

__all__ = [
    "FunctionSpec",
    "HttpRoute",
    "ScheduleSpec",
    "StreamSpec",
    "TableSpec",
    "Template",
    "TemplateError",
    "create_table",
    "load_template",
    "load_yaml",
    "table_definition",
    "ttl_attribute",
]

STACK_NAME = "omnistock-local"
_SERVERLESS_FUNCTION = "AWS::Serverless::Function"


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str
    properties: dict[str, Any]

    @property
    def ttl_attribute(self) -> str | None:
        ttl = self.properties.get("TimeToLiveSpecification") or {}
        return ttl.get("AttributeName") if _truthy(ttl.get("Enabled", False)) else None

    @property
    def stream_view_type(self) -> str | None:
        return (self.properties.get("StreamSpecification") or {}).get("StreamViewType")

    def create_table_kwargs(self) -> dict[str, Any]:
        props = self.properties
        billing = props.get("BillingMode", "PROVISIONED")
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if "ProvisionedThroughput" in props:
            kwargs["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = []
            for index in props.get(kind) or []:
                entry = {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
                if "ProvisionedThroughput" in index and billing == "PROVISIONED":
                    entry["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
                indexes.append(entry)
            if indexes:
                kwargs[kind] = indexes
        if self.stream_view_type:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream_view_type}
        return kwargs


@dataclass(frozen=True)
class HttpRoute:
    function: str
    event: str
    method: str  # upper case, or "ANY"
    path: str  # "/skus/{sku}", "/{proxy+}" or "$default"
    auth: str | None  # "AWS_IAM" (or another authorizer's name); None when open

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class ScheduleSpec:
    function: str
    event: str
    expression: str  # "rate(1 minute)" or "cron(...)"
    enabled: bool
    input: Any = None  # the event's Input (parsed JSON); None means the Scheduled Event payload


@dataclass(frozen=True)
class StreamSpec:
    function: str
    event: str
    table: str  # logical id of the table
    starting_position: str
    batch_size: int
    window_seconds: float
    max_retries: int  # -1 = until the record expires (locally: forever)
    bisect: bool
    report_batch_item_failures: bool
    filters: tuple[dict[str, Any], ...]
    on_failure: str | None  # a description of the on-failure destination, for logs


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    reserved_concurrency: int | None
    environment: dict[str, str]
    layers: tuple[Path, ...]
    routes: tuple[HttpRoute, ...] = ()
    schedules: tuple[ScheduleSpec, ...] = ()
    streams: tuple[StreamSpec, ...] = ()

    @property
    def handler_file(self) -> Path:
        module = self.handler.rsplit(".", 1)[0]
        return self.code_uri / (module.replace(".", "/") + ".py")

    @property
    def handler_name(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass
class Template:
    path: Path
    tables: list[TableSpec]
    functions: list[FunctionSpec]
    problems: list[str] = field(default_factory=list)

    @property
    def routes(self) -> list[HttpRoute]:
        return [route for function in self.functions for route in function.routes]

    @property
    def schedules(self) -> list[ScheduleSpec]:
        return [schedule for function in self.functions for schedule in function.schedules]

    @property
    def streams(self) -> list[StreamSpec]:
        return [stream for function in self.functions for stream in function.streams]

    def table(self, logical_id: str | None = None) -> TableSpec:
        if logical_id is None:
            if len(self.tables) != 1:
                raise TemplateError(f"{self.path}: {len(self.tables)} tables; name the one you want")
            return self.tables[0]
        for table in self.tables:
            if table.logical_id == logical_id:
                return table
        raise TemplateError(f"{self.path}: no table {logical_id}")

    def function(self, logical_id: str) -> FunctionSpec:
        for function in self.functions:
            if function.logical_id == logical_id:
                return function
        raise KeyError(logical_id)


def table_definition(template_path: str | Path, table_name: str, logical_id: str | None = None) -> dict[str, Any]:
    """boto3 ``create_table`` kwargs for the template's table, named ``table_name``."""
    return _single_table(template_path, table_name, logical_id).create_table_kwargs()


def ttl_attribute(template_path: str | Path, logical_id: str | None = None) -> str | None:
    return _single_table(template_path, "unused", logical_id).ttl_attribute


def create_table(client: Any, template_path: str | Path, table_name: str, logical_id: str | None = None) -> None:
    """Create the template's table (with its TTL setting) through a DynamoDB client."""
    table = _single_table(template_path, table_name, logical_id)
    client.create_table(**table.create_table_kwargs())
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    if table.ttl_attribute:
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
        )


def _single_table(template_path: str | Path, table_name: str, logical_id: str | None) -> TableSpec:
    document = load_yaml(template_path)
    tables = _table_ids(document)
    chosen = logical_id or (tables[0] if len(tables) == 1 else None)
    if chosen is None or chosen not in tables:
        raise TemplateError(f"{template_path}: tables are {tables}; pass logical_id")
    resolver = Resolver(document, _region(), STACK_NAME, {chosen: table_name})
    return TableSpec(chosen, table_name, resolver.resolve(document["Resources"][chosen].get("Properties") or {}))


def load_template(
    template_path: str | Path,
    table_names: dict[str, str] | None = None,
    region: str | None = None,
    parameters: dict[str, str] | None = None,
) -> Template:
    """Read the template; tables get ``table_names[logical_id]``, else local defaults; ``parameters``
    override the parameters' defaults (as ``sam deploy --parameter-overrides`` would)."""
    path = Path(template_path).resolve()
    document = load_yaml(path)
    table_ids = _table_ids(document)
    names = dict(table_names or {})
    for logical_id in table_ids:
        default = STACK_NAME if len(table_ids) == 1 else f"{STACK_NAME}-{logical_id}"
        names.setdefault(logical_id, default)
    resolver = Resolver(document, region or _region(), STACK_NAME, names, parameters)
    resources = document["Resources"]
    tables = [TableSpec(t, names[t], resolver.resolve(resources[t].get("Properties") or {})) for t in table_ids]
    template = Template(path, tables, [])
    globals_ = (document.get("Globals") or {}).get("Function") or {}
    for logical_id, resource in resources.items():
        if resource.get("Type") == _SERVERLESS_FUNCTION:
            properties = _merge(globals_, resource.get("Properties") or {})
            function = _function(logical_id, properties, document, resolver, path.parent, template.problems)
            if function is not None:
                template.functions.append(function)
    return template


def _function(
    logical_id: str,
    props: dict[str, Any],
    document: dict[str, Any],
    resolver: Resolver,
    root: Path,
    problems: list[str],
) -> FunctionSpec | None:
    code_uri = resolver.resolve(props.get("CodeUri"))
    if props.get("PackageType") == "Image" or not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        problems.append(f"{logical_id}: only zip functions with a local CodeUri run locally; skipped")
        return None
    variables = (props.get("Environment") or {}).get("Variables") or {}
    reserved = props.get("ReservedConcurrentExecutions")
    function = FunctionSpec(
        logical_id=logical_id,
        code_uri=(root / code_uri).resolve(),
        handler=resolver.resolve(props["Handler"]),
        runtime=str(resolver.resolve(props.get("Runtime", ""))),
        timeout=int(resolver.resolve(props.get("Timeout", 3))),
        memory=int(resolver.resolve(props.get("MemorySize", 128))),
        reserved_concurrency=int(resolver.resolve(reserved)) if reserved is not None else None,
        environment=_environment(variables, resolver),
        layers=tuple(_layers(logical_id, props.get("Layers") or [], document, root, problems)),
    )
    routes, schedules, streams = [], [], []
    for event_name, event in (props.get("Events") or {}).items():
        kind, event_props = event.get("Type"), event.get("Properties") or {}
        where = f"{logical_id}.{event_name}"
        if kind == "HttpApi":
            route = _route(logical_id, event_name, event_props, document, problems)
            if route is not None:
                routes.append(route)
        elif kind in ("Schedule", "ScheduleV2"):
            schedules.append(_schedule(logical_id, event_name, kind, event_props, resolver))
        elif kind == "DynamoDB":
            stream = _stream(logical_id, event_name, event_props, resolver, problems)
            if stream is not None:
                streams.append(stream)
        else:
            problems.append(f"{where}: {kind} events are not run locally")
    return replace(function, routes=tuple(routes), schedules=tuple(schedules), streams=tuple(streams))


def _route(
    function: str, event: str, props: dict[str, Any], document: dict[str, Any], problems: list[str]
) -> HttpRoute | None:
    if str(props.get("PayloadFormatVersion", "2.0")) != "2.0":
        problems.append(f"{function}.{event}: only payload format 2.0 is served locally; route skipped")
        return None
    api_id = props.get("ApiId")
    if isinstance(api_id, dict) and "Ref" in api_id:
        api_props = (document["Resources"].get(api_id["Ref"]) or {}).get("Properties") or {}
    else:  # the implicit API takes its settings from Globals
        api_props = (document.get("Globals") or {}).get("HttpApi") or {}
    default_authorizer = (api_props.get("Auth") or {}).get("DefaultAuthorizer")
    authorizer = (props.get("Auth") or {}).get("Authorizer", default_authorizer)
    method, path = props.get("Method"), props.get("Path")
    if method is None and path is None:
        method, path = "ANY", "$default"
    return HttpRoute(
        function=function,
        event=event,
        method=str(method or "ANY").upper().replace("X-AMAZON-APIGATEWAY-ANY-METHOD", "ANY"),
        path=str(path or "/"),
        auth=None if authorizer in (None, "NONE") else str(authorizer),
    )


def _schedule(function: str, event: str, kind: str, props: dict[str, Any], resolver: Resolver) -> ScheduleSpec:
    expression = resolver.resolve(props.get("Schedule" if kind == "Schedule" else "ScheduleExpression"))
    enabled = _truthy(resolver.resolve(props.get("Enabled", True))) and (
        str(resolver.resolve(props.get("State", "ENABLED"))).upper() != "DISABLED"
    )
    raw_input = resolver.resolve(props.get("Input"))
    return ScheduleSpec(function, event, str(expression), enabled, json.loads(raw_input) if raw_input else None)


def _stream(
    function: str, event: str, props: dict[str, Any], resolver: Resolver, problems: list[str]
) -> StreamSpec | None:
    stream = props.get("Stream")
    target = stream.get("Fn::GetAtt") if isinstance(stream, dict) else None
    if not target or target[0] not in resolver.table_names:
        problems.append(f"{function}.{event}: the stream is not a table of this template; not run locally")
        return None
    patterns = []
    for entry in (props.get("FilterCriteria") or {}).get("Filters") or []:
        try:
            patterns.append(json.loads(resolver.resolve(entry["Pattern"])))
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise TemplateError(f"{function}.{event}: bad FilterCriteria pattern: {error}") from error
    destination = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return StreamSpec(
        function=function,
        event=event,
        table=target[0],
        starting_position=str(resolver.resolve(props.get("StartingPosition", "TRIM_HORIZON"))),
        batch_size=int(resolver.resolve(props.get("BatchSize", 100))),
        window_seconds=float(resolver.resolve(props.get("MaximumBatchingWindowInSeconds", 0))),
        max_retries=int(resolver.resolve(props.get("MaximumRetryAttempts", -1))),
        bisect=_truthy(resolver.resolve(props.get("BisectBatchOnFunctionError", False))),
        report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
        filters=tuple(patterns),
        on_failure=str(resolver.resolve(destination)) if destination else None,
    )


def _layers(function: str, layers: list[Any], document: dict[str, Any], root: Path, problems: list[str]) -> list[Path]:
    """Local folders of the function's layers (a Python layer's code goes on sys.path)."""
    found = []
    for layer in layers:
        resource = document["Resources"].get(layer["Ref"]) if isinstance(layer, dict) and "Ref" in layer else None
        content = ((resource or {}).get("Properties") or {}).get("ContentUri")
        if not isinstance(content, str) or content.startswith("s3://"):
            problems.append(f"{function}: layer {layer} has no local content; not loaded")
            continue
        folder = (root / content).resolve()
        built = (resource or {}).get("Metadata", {}).get("BuildMethod")
        found.append(folder / "python" if not built and (folder / "python").is_dir() else folder)
    return found


def _merge(base: Any, override: Any) -> Any:
    """SAM Globals merging: maps merge, lists append, anything else is overridden."""
    if isinstance(base, dict) and isinstance(override, dict) and not (_intrinsic(base) or _intrinsic(override)):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    return override


def _intrinsic(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)).startswith(("Ref", "Fn::"))


def _table_ids(document: dict[str, Any]) -> list[str]:
    return [name for name, res in document["Resources"].items() if res.get("Type") == "AWS::DynamoDB::Table"]


def _environment(variables: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    environment = {}
    for name, raw in variables.items():
        value = resolver.resolve(raw)
        if value is NO_VALUE:
            continue
        if isinstance(value, (list, dict)):
            raise TemplateError(f"environment variable {name} does not resolve to a string: {value!r}")
        environment[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return environment


def _throughput(value: dict[str, Any]) -> dict[str, int]:
    return {key: int(value[key]) for key in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"

"""Operations in template.yaml (offline): every asynchronous path ends in an alarm that reaches
someone, each failure has its own queue and words, the routes platforms call are throttled and
their functions' concurrency bounded, and secret grants reach one secret each."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from local.cfn import Resolver, load_yaml
from local.template import FunctionSpec, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
# Lambda's usual account concurrency, and what must stay unreserved (Lambda refuses more).
ACCOUNT_CONCURRENCY = 1000
UNRESERVED_MINIMUM = 100
# A route's rate times this must fit its function's reserved executions, so a flood meets the
# gateway's 429 (which platforms retry) before the function's throttle.
SLOW_DELIVERY_SECONDS = 0.5
STREAM_EVENTS = {"DynamoDB", "Kinesis"}
ASYNC_EVENTS = STREAM_EVENTS | {"Schedule", "ScheduleV2", "SQS", "SNS", "EventBridgeRule", "CloudWatchEvent", "S3"}
FUNCTION = "AWS::Serverless::Function"
ALARM = "AWS::CloudWatch::Alarm"
QUEUE = "AWS::SQS::Queue"


def document() -> dict[str, Any]:
    return _parsed(TEMPLATE)


@cache
def _parsed(path: Path) -> dict[str, Any]:
    return load_yaml(path)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in document()["Resources"].items() if res.get("Type") == kind}


def resolver(parameters: dict[str, str] | None = None) -> Resolver:
    return Resolver(document(), REGION, "omnistock-test", {"StockTable": "t"}, parameters)


def functions() -> dict[str, FunctionSpec]:
    return _functions(TEMPLATE)


@cache
def _functions(path: Path) -> dict[str, FunctionSpec]:
    return {spec.logical_id: spec for spec in load_template(path, region=REGION).functions}


def referenced(value: Any) -> set[str]:
    """Logical ids a value names through Ref, GetAtt or Sub."""
    if isinstance(value, list):
        return set().union(*(referenced(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Ref"}:
        return {value["Ref"]}
    if set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        return {target[0] if isinstance(target, list) else str(target).split(".", 1)[0]}
    if set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return {name.split(".", 1)[0] for name in re.findall(r"\$\{([^}!]+)\}", text) if "::" not in name}
    return set().union(*(referenced(v) for v in value.values())) if value else set()


def watched(alarm: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(metric name, logical id of a dimension's value) for each metric the alarm reads."""
    props = alarm["Properties"]
    metrics = [props] + [m["MetricStat"]["Metric"] for m in props.get("Metrics") or [] if "MetricStat" in m]
    for metric in metrics:
        for dimension in metric.get("Dimensions") or []:
            for name in referenced(dimension["Value"]):
                yield metric["MetricName"], name


def watchers(metric_names: set[str], resource: str) -> list[str]:
    return [
        name
        for name, alarm in resources(ALARM).items()
        if any(m in metric_names and r == resource for m, r in watched(alarm))
    ]


def alarmed_queue(queue: str) -> bool:
    return bool(watchers({"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"}, queue))


def alarm_topic() -> str:
    topics = list(resources("AWS::SNS::Topic"))
    assert len(topics) == 1, f"one SNS topic for every alarm, not {topics}"
    return topics[0]


def description(alarm: str) -> str:
    """The alarm's description as CloudWatch shows it (substitutions made)."""
    return str(resolver().resolve(resources(ALARM)[alarm]["Properties"].get("AlarmDescription", "")))


def async_events(function: str) -> dict[str, dict[str, Any]]:
    events = document()["Resources"][function]["Properties"].get("Events") or {}
    return {name: event for name, event in events.items() if event.get("Type") in ASYNC_EVENTS}


def failure_queue(function: str, event: dict[str, Any]) -> str | None:
    """Where a failed invocation goes: a stream event's on-failure destination, else the
    function's asynchronous-invocation on-failure destination."""
    props = document()["Resources"][function]["Properties"]
    if event["Type"] in STREAM_EVENTS:
        config = (event.get("Properties") or {}).get("DestinationConfig") or {}
    else:
        config = (props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}
    destination = (config.get("OnFailure") or {}).get("Destination")
    found = referenced(destination) & set(resources(QUEUE))
    return next(iter(found)) if found else None


def open_routes() -> dict[str, list[tuple[str, str]]]:
    """Function -> the routes platforms call (no IAM), as (route key, API logical id)."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, function in resources(FUNCTION).items():
        for event in (function["Properties"].get("Events") or {}).values():
            props = event.get("Properties") or {}
            if event["Type"] == "HttpApi" and (props.get("Auth") or {}).get("Authorizer") == "NONE":
                api = props["ApiId"]["Ref"]
                found[name].append((f"{props['Method'].upper()} {props['Path']}", api))
    return dict(found)


def declared_routes(api: str) -> set[str]:
    return {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
        for function in resources(FUNCTION).values()
        for event in (function["Properties"].get("Events") or {}).values()
        if event["Type"] == "HttpApi" and event["Properties"].get("ApiId") == {"Ref": api}
    }


def number(value: Any, bound: str = "Default") -> float:
    """A number, or the ``bound`` (Default, MaxValue) of the parameter it refers to."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return float(document()["Parameters"][value["Ref"]][bound])
    return float(value)


# ==================================================================== alarms reach someone
def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_clears() -> None:
    topic = alarm_topic()
    alarms = resources(ALARM)
    assert alarms
    silent = {
        name: (props.get("AlarmActions"), props.get("OKActions"))
        for name, props in ((n, a["Properties"]) for n, a in alarms.items())
        if props.get("AlarmActions") != [{"Ref": topic}] or props.get("OKActions") != [{"Ref": topic}]
    }
    assert not silent, f"alarms that tell no one (or not the topic {topic}): {silent}"


def test_the_alarm_email_subscribes_only_when_an_address_is_given() -> None:
    topic = alarm_topic()
    assert "AlarmEmail" in document()["Parameters"]
    parameter = document()["Parameters"]["AlarmEmail"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], "")
    assert re.fullmatch(parameter["AllowedPattern"], "ops@example.com")
    assert not re.fullmatch(parameter["AllowedPattern"], "ops at example")
    subscriptions = resources("AWS::SNS::Subscription")
    assert len(subscriptions) == 1, subscriptions
    ((_, subscription),) = subscriptions.items()
    props = subscription["Properties"]
    assert (props["Protocol"], props["Endpoint"], props["TopicArn"]) == ("email", {"Ref": "AlarmEmail"}, {"Ref": topic})
    for address, subscribed in (("", False), ("ops@example.com", True)):
        assert resolver({"AlarmEmail": address}).condition(subscription["Condition"]) is subscribed, address


# ==================================================================== every asynchronous path is watched
def test_every_asynchronous_function_has_an_error_alarm_or_an_alarmed_failure_queue() -> None:
    """Schedules, stream consumers, queues: nothing waits for an answer, so a failure nobody is
    told about goes on failing (a sweep that keeps failing means holds never end)."""
    asynchronous = {name for name in resources(FUNCTION) if async_events(name)}
    assert {name for name, spec in functions().items() if spec.schedules} <= asynchronous
    unwatched = {}
    for function in sorted(asynchronous):
        if watchers({"Errors"}, function):
            continue
        queues = {name: failure_queue(function, event) for name, event in async_events(function).items()}
        lost = [name for name, queue in queues.items() if queue is None or not alarmed_queue(queue)]
        if lost:
            unwatched[function] = lost
    assert not unwatched, f"failures that reach no alarm (function: events): {unwatched}"


def test_each_failure_queue_takes_one_function_s_failures_and_is_alarmed() -> None:
    senders: dict[str, set[str]] = defaultdict(set)
    for function in resources(FUNCTION):
        for event in async_events(function).values():
            queue = failure_queue(function, event)
            if queue:
                senders[queue].add(function)
    for queue in resources(QUEUE):
        assert len(senders[queue]) == 1, f"{queue} takes the failures of {sorted(senders[queue])}"
        assert alarmed_queue(queue), f"{queue} has no alarm"


def test_fulfillment_failures_have_their_own_queue_alarm_and_description() -> None:
    ((_, fulfillment),) = async_events("FulfillmentFunction").items()
    ((_, push),) = async_events("PushFunction").items()
    ours, theirs = failure_queue("FulfillmentFunction", fulfillment), failure_queue("PushFunction", push)
    assert ours and theirs and ours != theirs
    (alarm,) = watchers({"ApproximateNumberOfMessagesVisible"}, ours)
    (push_alarm,) = watchers({"ApproximateNumberOfMessagesVisible"}, theirs)
    assert "ulfillment" in description(alarm) and "push" not in description(alarm).lower()
    assert "ulfillment" not in description(push_alarm)


def test_alarm_descriptions_are_distinct_and_name_where_to_look() -> None:
    """What failed, what it means and where to look: an alarm on a function names its log group,
    on the API its access log, on a queue the queue (CloudWatch keeps 1,024 characters)."""
    log_group = {
        name: (spec["Properties"].get("LoggingConfig") or {}).get("LogGroup", {}).get("Ref")
        for name, spec in resources(FUNCTION).items()
    } | {
        name: next(iter(referenced((spec["Properties"].get("AccessLogSettings") or {}).get("DestinationArn"))), None)
        for name, spec in resources("AWS::Serverless::HttpApi").items()
    }
    seen: dict[str, str] = {}
    for name, alarm in resources(ALARM).items():
        raw = alarm["Properties"].get("AlarmDescription")
        text = description(name)
        assert 100 <= len(text) <= 1024, (name, len(text))
        assert text not in seen, f"{name} says what {seen.get(text)} says"
        seen[text] = name
        named = referenced(raw)
        for _, target in watched(alarm):
            expected = log_group.get(target, target)
            assert expected in named, f"{name} watches {target} but its description does not name {expected}"


# ==================================================================== throttling and concurrency
def test_every_route_is_throttled_and_route_settings_name_real_routes() -> None:
    apis = resources("AWS::Serverless::HttpApi")
    assert apis
    for api, spec in apis.items():
        props = spec["Properties"]
        default = props.get("DefaultRouteSettings") or {}
        assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(default), api
        settings = props.get("RouteSettings") or {}
        # A key that is not a route fails the stage's deployment ("Unable to find Route by key").
        assert set(settings) <= declared_routes(api), set(settings) - declared_routes(api)
        for key, setting in settings.items():
            # A route's setting replaces the default whole: it must carry both limits.
            assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= set(setting), key
    platform_routes = {(key, api) for routes in open_routes().values() for key, api in routes}
    assert platform_routes
    for key, api in platform_routes:
        assert key in (apis[api]["Properties"].get("RouteSettings") or {}), f"{key} takes the admin API's limits"


def test_functions_platforms_call_have_reserved_concurrency_that_fits_their_routes() -> None:
    specs = functions()
    for function, routes in open_routes().items():
        reserved = specs[function].reserved_concurrency
        assert reserved, f"{function}: a flood on it can take every execution of the account"
        settings = {key: document()["Resources"][api]["Properties"]["RouteSettings"][key] for key, api in routes}
        rate = sum(number(s["ThrottlingRateLimit"]) for s in settings.values())
        assert rate * SLOW_DELIVERY_SECONDS <= reserved, (function, rate, reserved)


def test_reserved_concurrency_stays_modest_and_leaves_the_account_its_unreserved_pool() -> None:
    """Reserved executions leave the account's pool, which must keep 100, at any allowed value."""
    raw = {
        name: spec["Properties"]["ReservedConcurrentExecutions"]
        for name, spec in resources(FUNCTION).items()
        if "ReservedConcurrentExecutions" in spec["Properties"]
    }
    at_defaults = sum(number(value) for value in raw.values())
    at_maxima = sum(number(value, "MaxValue") for value in raw.values())
    assert at_defaults <= UNRESERVED_MINIMUM, at_defaults
    assert at_maxima <= ACCOUNT_CONCURRENCY - UNRESERVED_MINIMUM, at_maxima
    assert all(number(value, "MinValue") >= 1 for value in raw.values())  # 0 would stop a function


# ==================================================================== secrets
def test_secret_grants_name_the_secret_with_its_random_suffix_only() -> None:
    """Secrets Manager ARNs end in "-" and 6 random characters: NAME-?????? is that secret alone,
    NAME-* is also every secret whose name starts with NAME-."""
    found = 0
    for name, spec in resources(FUNCTION).items():
        for policy in spec["Properties"].get("Policies") or []:
            for statement in policy.get("Statement") or []:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if not any(str(action).startswith("secretsmanager:") for action in actions):
                    continue
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                for target in map(str, resolver().resolve(targets)):
                    found += 1
                    assert ":secret:" in target and target.endswith("-??????") and "*" not in target, (name, target)
    assert found

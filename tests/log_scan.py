"""Finding secrets, tokens and customer data in what the code logs (shared by the test suites).

Sensitive values come from three places: the fixed development credentials of the local stack
and its sandboxes, the customer fields of the fixtures and sample events, and every secret
string stored in moto while the tests run (``remember_stored_secrets``), so a test that stores a
new secret is covered without being listed here. Values under six characters, or generic words,
are left out: they would match innocent text. Token shapes the sandboxes issue at random are
matched by pattern. A finding names the kind of value and where it showed, never the value.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
MIN_LENGTH = 6
GENERIC = frozenset({"shipstation", "example", "testing", "secret", "password", "unknown", "default"})
PUBLIC_KEYS = frozenset({"username", "partner_id", "client_id", "domain_prefix", "expires_at", "token_type", "scope"})
CUSTOMER_KEYS = {
    "email": "customer email",
    "contact_email": "customer email",
    "address1": "street address",
    "address2": "street address",
    "phone": "phone number",
}
TOKEN_SHAPES = (  # issued at random by the sandboxes (and Shopify's own token prefix)
    (re.compile(r"shpat_\w{4,}"), "Shopify access token"),
    (re.compile(r"ls_(?:access|refresh)_[\w-]{8,}"), "Lightspeed OAuth token"),
    (re.compile(r"cs_sandbox_[\w-]{8,}"), "CommentSold token"),
)
# Product and test-equipment loggers log at DEBUG; libraries at INFO, as a function's do in
# Lambda (their DEBUG output, e.g. botocore's response bodies, is not what the functions log).
LEVELS = {"": logging.INFO, "omnistock": logging.DEBUG, "local": logging.DEBUG}


@dataclass(frozen=True)
class Sensitive:
    value: str
    kind: str


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str

    def __str__(self) -> str:
        return f"{self.kind} (in {self.where})"


def meaningful(found: Iterable[Sensitive]) -> list[Sensitive]:
    return [s for s in found if len(s.value.strip()) >= MIN_LENGTH and s.value.strip().casefold() not in GENERIC]


# ==================================================================== where the values come from
@functools.cache
def development_secrets() -> tuple[Sensitive, ...]:
    """The fixed credentials of the local stack and its sandboxes."""
    from local.sandbox.commentsold import DEFAULT_PRIVATE_KEY
    from local.sandbox.lightspeed import LightspeedSandbox
    from local.sandbox.shopify import DEFAULT_TOKEN
    from local.send_webhook import LOCAL_WEBHOOK_SECRET
    from local.stack import LOCAL_COMMENTSOLD_SECRET, LOCAL_SHIPSTATION_CREDENTIALS

    lightspeed_secret = inspect.signature(LightspeedSandbox).parameters["client_secret"].default
    return tuple(
        meaningful(
            [
                Sensitive(LOCAL_WEBHOOK_SECRET, "Shopify webhook secret"),
                Sensitive(LOCAL_COMMENTSOLD_SECRET, "CommentSold webhook secret"),
                Sensitive(LOCAL_SHIPSTATION_CREDENTIALS["password"], "ShipStation password"),
                Sensitive(DEFAULT_TOKEN, "Shopify access token"),
                Sensitive(DEFAULT_PRIVATE_KEY, "CommentSold private key"),
                Sensitive(lightspeed_secret, "Lightspeed client secret"),
            ]
        )
    )


@functools.cache
def customer_data() -> tuple[Sensitive, ...]:
    """Emails, street addresses, phone numbers and names in the fixtures, the sample events and
    the orders the sandboxes make up."""
    from local.sandbox.commentsold import SHIPPING_ADDRESS
    from local.sandbox.shopify_orders import ADDRESS, SandboxOrders

    documents: list[Any] = [{"shipping_address": SHIPPING_ADDRESS}, {"shipping_address": ADDRESS}]
    documents.append({"email": inspect.signature(SandboxOrders.create_order).parameters["email"].default})
    for path in sorted([*(ROOT / "tests" / "fixtures").glob("*/*.json"), *(ROOT / "events").glob("*.json")]):
        documents.append(json.loads(path.read_text(encoding="utf-8")))
    found = {s.value: s for s in meaningful(_customer_fields(documents))}
    return tuple(found.values())


def _customer_fields(value: Any, parent: str = "") -> Iterator[Sensitive]:
    if isinstance(value, str):
        decoded = _decoded(value)
        if decoded is not None:
            yield from _customer_fields(decoded, parent)
    elif isinstance(value, dict):
        first, last = value.get("first_name"), value.get("last_name")
        if isinstance(first, str) and isinstance(last, str):
            yield Sensitive(f"{first} {last}", "customer name")
        for key, item in value.items():
            kind = CUSTOMER_KEYS.get(key) or ("customer name" if key == "name" and "address" in parent else None)
            if kind and isinstance(item, str):
                yield Sensitive(item, kind)
            else:
                yield from _customer_fields(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _customer_fields(item, parent)


def _decoded(text: str) -> Any:
    """A JSON or form-encoded body inside a string (a sample event's), else None."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except ValueError:
            return None
    if "=" in stripped and "<" not in stripped and " " not in stripped:
        return {key: values[0] for key, values in parse_qs(stripped).items()}
    return None


def secret_values(name: str, text: str) -> list[Sensitive]:
    """A stored secret's sensitive parts: JSON values (but user names, client ids...), else the whole string."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        found = [Sensitive(str(v), f"secret {name} ({k})") for k, v in parsed.items() if k not in PUBLIC_KEYS]
        return meaningful(s for s in found if s.value)
    return meaningful([Sensitive(text.strip(), f"secret {name}")])


_stored: dict[str, Sensitive] = {}


def remember_stored_secrets() -> None:
    """Note every secret string stored in moto from now on (by tests or by product code)."""
    from moto.secretsmanager.models import SecretsManagerBackend

    for method in ("create_secret", "put_secret_value", "update_secret"):
        original = getattr(SecretsManagerBackend, method)
        if not getattr(original, "remembers_secrets", False):
            setattr(SecretsManagerBackend, method, _remembering(original))


def _remembering(method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)

    @functools.wraps(method)
    def remembering(*args: Any, **kwargs: Any) -> Any:
        given = signature.bind_partial(*args, **kwargs).arguments
        name, text = given.get("name") or given.get("secret_id") or "?", given.get("secret_string")
        if isinstance(text, str):
            _stored.update((s.value, s) for s in secret_values(str(name), text))
        return method(*args, **kwargs)

    remembering.remembers_secrets = True  # type: ignore[attr-defined]
    return remembering


def sensitive_values() -> tuple[Sensitive, ...]:
    return (*development_secrets(), *customer_data(), *_stored.values())


# ==================================================================== scanning
@functools.lru_cache(maxsize=8)
def _matcher(values: tuple[Sensitive, ...]) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    kinds: dict[str, str] = {}
    for sensitive in values:  # the first kind named wins: "Shopify webhook secret" over "secret <name>"
        kinds.setdefault(sensitive.value.casefold(), sensitive.kind)
    if not kinds:
        return None, kinds
    alternation = "|".join(re.escape(value) for value in sorted(kinds, key=len, reverse=True))
    return re.compile(alternation, re.IGNORECASE), kinds


def findings(chunks: Iterable[tuple[str, str]], values: Iterable[Sensitive] = ()) -> list[Finding]:
    """The kinds of sensitive value in ``chunks`` ((where, text) pairs), each once per place."""
    pattern, kinds = _matcher(tuple(dict.fromkeys((*sensitive_values(), *values))))
    found: dict[Finding, None] = {}
    for where, text in chunks:
        for match in pattern.finditer(text) if pattern else ():
            found[Finding(kinds[match.group().casefold()], where)] = None
        for shape, kind in TOKEN_SHAPES:
            if shape.search(text):
                found[Finding(kind, where)] = None
    return list(found)


def redact(text: str) -> str:
    """``text`` with every sensitive value replaced by its kind (for failure reports)."""
    pattern, kinds = _matcher(tuple(dict.fromkeys(sensitive_values())))
    if pattern is not None:
        text = pattern.sub(lambda match: f"[{kinds[match.group().casefold()]}]", text)
    for shape, kind in TOKEN_SHAPES:
        text = shape.sub(f"[{kind}]", text)
    return text


# ==================================================================== capturing
@dataclass
class Capture:
    """Every log record while capturing, as its handler prints it: Powertools' JSON line (extra
    and appended keys included), else the message with its extras and traceback."""

    records: list[tuple[str, str]] = field(default_factory=list)

    def findings(self, values: Iterable[Sensitive] = ()) -> list[Finding]:
        return findings(self.records, values)

    def clear(self) -> None:
        self.records.clear()


_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class _Renderer(logging.Handler):
    """On the root logger while capturing: renders every record reaching it."""

    def __init__(self, capture: Capture) -> None:
        super().__init__(logging.NOTSET)
        self.capture = capture

    def addFilter(self, filter: Any) -> None:
        """Ignored: Powertools filters its own records out of the root logger's handlers."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = render(record)
        except Exception:  # a record that cannot be rendered is still scanned
            text = f"{record.msg!s} {record.args!r}"
        self.capture.records.append((f"a log record of {record.name}", text))


def render(record: logging.LogRecord) -> str:
    """The record as printed: Powertools' JSON line if a Powertools logger made it (JSON escapes
    quotes and non-ASCII, so the plain form follows), then message, extras and traceback."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None and getattr(logger, "powertools_handler", None) is None:
        logger = logger.parent
    handler = getattr(logger, "powertools_handler", None)
    printed = str(handler.formatter.format(record)) + "\n" if handler is not None and handler.formatter else ""
    extras = " ".join(f"{key}={value}" for key, value in vars(record).items() if key not in _STANDARD)
    text = f"{printed}{record.levelname} {record.getMessage()} {extras}"
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


@contextmanager
def capturing() -> Iterator[Capture]:
    """Capture log records (at the LEVELS above) until the block ends."""
    capture = Capture()
    renderer = _Renderer(capture)
    levels = {name: logging.getLogger(name).level for name in LEVELS}
    for name, level in LEVELS.items():
        logging.getLogger(name).setLevel(level)
    # The root logger, and the domain's: it logs through the functions' logger, not the root's.
    watched = [logging.getLogger(), logging.getLogger("omnistock")]
    for logger in watched:
        logger.addHandler(renderer)
    try:
        yield capture
    finally:
        for logger in watched:
            logger.removeHandler(renderer)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def output_findings(sections: Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings in what pytest captured of a test's stdout and stderr (a report's sections)."""
    streams = [(title.removeprefix("Captured ").replace(" ", " during "), text) for title, text in sections]
    return findings([(where, text) for where, text in streams if where.startswith(("stdout", "stderr"))])


def scan_lines(lines: Iterable[str], values: Iterable[Sensitive] = (), where: str = "output") -> list[Finding]:
    """Findings in output lines (a process's stdout and stderr)."""
    return findings([(where, "\n".join(lines))], values)

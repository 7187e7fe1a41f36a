"""AWS clients, built on first use, and the secrets a container has read (with how long it
trusts them). Errors of the AWS SDK stop here: callers get ``SecretUnavailable``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

from omnistock.errors import SecretUnavailable

SECRETS_TTL = 300.0  # seconds a container trusts the secrets it read
REFRESH_SECONDS = 30.0  # a refresh (after a failed signature) rereads at most this often


class Clients:
    """The AWS clients of one container. Given ones (tests, benchmarks) are used as they are."""

    def __init__(self, dynamodb: Any = None, secretsmanager: Any = None) -> None:
        if dynamodb is not None:
            self.__dict__["dynamodb"] = dynamodb
        if secretsmanager is not None:
            self.__dict__["secretsmanager"] = secretsmanager

    @cached_property
    def dynamodb(self) -> Any:
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
        return self._session.create_client("dynamodb", config=config)

    @cached_property
    def secretsmanager(self) -> Any:
        return self._session.create_client("secretsmanager")

    @cached_property
    def _session(self) -> Any:
        """A botocore session: the clients boto3 would build (same environment, region, credentials
        and endpoint settings) without importing boto3, which a cold start would pay for."""
        import botocore.session  # imported here: a handler that never calls AWS never pays for it

        return botocore.session.get_session()


class Secrets:
    """Secrets read from Secrets Manager by name, cached for ``SECRETS_TTL``."""

    def __init__(self, client: Callable[[], Any], clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.clock = clock
        self.read_at: dict[str, float] = {}
        self.values: dict[str, str] = {}

    def text(self, name: str, refresh: bool = False) -> str:
        now = self.clock()
        if name in self.values and now - self.read_at[name] < (REFRESH_SECONDS if refresh else SECRETS_TTL):
            return self.values[name]
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            text = str(self.client().get_secret_value(SecretId=name)["SecretString"])
        except (BotoCoreError, ClientError, KeyError) as error:
            raise SecretUnavailable(f"secret {name!r} could not be read: {str(error)[:200]}") from error
        self.read_at[name], self.values[name] = now, text
        return text

    def signing(self, name: str, refresh: bool = False) -> list[str]:
        """A webhook signing secret, current first: a plain string, or JSON ``{"current": ...,
        "previous": ...}`` while a rotation settles (or an app's ``{"client_secret": ...}``).
        ``refresh`` rereads it (a signature that fails may be signed with a new secret)."""
        if not name:
            return []
        text = self.text(name, refresh).strip()
        if not text.startswith("{"):
            return [text] if text else []
        try:
            parsed = json.loads(text)
            found = [str(parsed.get(key) or "") for key in ("current", "previous", "client_secret")]
        except (ValueError, AttributeError):
            raise SecretUnavailable(f"secret {name!r} is JSON without current/previous") from None
        return [secret for secret in found if secret]

    def login(self, name: str) -> tuple[str, str]:
        """A user name and password kept as JSON ``{"username", "password"}``; ("", "") unnamed."""
        if not name:
            return ("", "")
        try:
            parsed = json.loads(self.text(name))
            return str(parsed["username"]), str(parsed["password"])
        except (ValueError, KeyError, TypeError):
            raise SecretUnavailable(f"secret {name!r} is not JSON with username and password") from None

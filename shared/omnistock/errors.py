"""Domain errors. Handlers map each to one HTTP status in one place."""


class OmnistockError(Exception):
    """Base class: a request the ledger will not apply, with a message safe to show."""


class NotFound(OmnistockError):
    """The SKU, hold or channel does not exist."""


class InvalidRequest(OmnistockError):
    """The request is well-formed but not acceptable: it contradicts the catalog (an unknown
    location, say) or a ledger rule (a quantity of zero)."""


class Conflict(OmnistockError):
    """The request collides with existing state (a listing id owned by another SKU, say)."""


class StoreUnavailable(OmnistockError):
    """DynamoDB failed or kept conflicting; nothing was written and the caller should retry."""


class StoreRefused(OmnistockError):
    """DynamoDB refused the write as sent (an item or key too large, say): retrying cannot
    help, so it is recorded and answered as final rather than retried forever."""


class SecretUnavailable(OmnistockError):
    """A secret could not be read (Secrets Manager failed, or the secret is not the shape its
    use needs): nothing was checked or written, and the caller should retry."""

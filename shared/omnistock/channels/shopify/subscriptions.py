"""Shopify webhook subscriptions made and kept by Omnistock: every topic the intake handles,
pointed at this stack's ``/webhooks/shopify``.

Shopify removes a subscription after repeated failed deliveries (8 over 4 hours, when it was
made through the Admin API), so the keeper runs on a schedule: it lists the app's
subscriptions (one query) and creates each missing topic (one mutation each). Creating is
safe to repeat: Shopify refuses a second subscription of a topic to the same address, which
counts as present. Subscriptions of this app pointing elsewhere (an old stack's URL) are
reported, never deleted: they may be another deployment's. What it found is kept for the
connection check, and each re-created subscription is written to the sync history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from omnistock.channels import ChannelUnavailable
from omnistock.channels.shopify.admin import ShopifyInventory
from omnistock.channels.shopify.intake import HANDLED_TOPICS
from omnistock.clock import iso

if TYPE_CHECKING:  # the stores arrive built (the wiring)
    from omnistock.store.connection_store import ConnectionStore
    from omnistock.store.push_store import PushStore

PLATFORM, SUBJECT = "shopify", "subscriptions"
LIST_QUERY = "query OmnistockSubscriptions { webhookSubscriptions(first: 100) { nodes { id topic uri } } }"
CREATE = """
mutation OmnistockSubscribe($topic: WebhookSubscriptionTopic!, $subscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $subscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
""".strip()
TAKEN = "already been taken"  # Shopify's userError for a topic already sent to that address


def topic_enum(topic: str) -> str:
    """``orders/create`` -> ``ORDERS_CREATE`` (GraphQL's WebhookSubscriptionTopic)."""
    return topic.upper().replace("/", "_")


NEEDED = tuple(sorted(topic_enum(topic) for topic in HANDLED_TOPICS))


@dataclass
class SubscriptionState:
    checked_at: str
    url: str
    present: list[str] = field(default_factory=list)  # topics subscribed at this stack's URL
    created: list[str] = field(default_factory=list)  # made by this check
    failed: dict[str, str] = field(default_factory=dict)  # topic -> why it could not be made
    elsewhere: list[str] = field(default_factory=list)  # "TOPIC -> uri" of this app, another address

    @property
    def missing(self) -> list[str]:
        return [topic for topic in NEEDED if topic not in self.present]


def keep(
    port: ShopifyInventory, url: str, connections: ConnectionStore, history: PushStore, now: Callable[[], datetime]
) -> SubscriptionState:
    """Make sure every needed topic is subscribed at ``url``; record what was found."""
    before = state_of(connections)
    state = SubscriptionState(iso(now()), url)
    try:
        data = port.graphql("subscriptions", LIST_QUERY, {}, cost=102)
        nodes = ((data or {}).get("webhookSubscriptions") or {}).get("nodes")
        if not isinstance(nodes, list):
            raise ChannelUnavailable("Shopify answered webhookSubscriptions without its nodes")
    except ChannelUnavailable as error:  # kept, so the check says the keeper ran and why it failed
        state.failed = {"(listing)": str(error)[:200]}
        connections.save(PLATFORM, SUBJECT, asdict(state))
        raise
    for node in nodes:
        topic, uri = str(node.get("topic") or ""), str(node.get("uri") or node.get("callbackUrl") or "")
        if uri == url:
            state.present.append(topic)
        elif topic in NEEDED:
            state.elsewhere.append(f"{topic} -> {uri}")
    for topic in state.missing:
        problem = _create(port, topic, url)
        if problem:
            state.failed[topic] = problem
            continue
        state.present.append(topic)
        state.created.append(topic)
        if before is not None and topic in before.present:  # it was there: Shopify removed it
            why = "the webhook subscription was gone (Shopify removes one after failed deliveries): made again"
            history.note(f"webhook:{topic}", PLATFORM, "subscriptions", "recreated", why, now())
    connections.save(PLATFORM, SUBJECT, asdict(state))
    return state


def _create(port: ShopifyInventory, topic: str, url: str) -> str:
    """ "" when the topic is subscribed at ``url`` now; else why not."""
    variables = {"topic": topic, "subscription": {"uri": url}}
    try:
        data = port.graphql("subscribe", CREATE, variables, cost=10, idempotent=False)
    except ChannelUnavailable as error:  # the next check lists and sees whether it was made
        return str(error)[:200]
    result = (data or {}).get("webhookSubscriptionCreate") or {}
    errors = [str(e.get("message") or "") for e in result.get("userErrors") or []]
    if not errors or any(TAKEN in message for message in errors):
        return ""
    return "; ".join(errors)[:200]


def state_of(connections: ConnectionStore) -> SubscriptionState | None:
    record: dict[str, Any] | None = connections.get(PLATFORM, SUBJECT)
    if record is None:
        return None
    return SubscriptionState(**{key: record[key] for key in SubscriptionState.__dataclass_fields__ if key in record})

"""One wiring: the object graph of a stack, built from its configuration and clients.

Handlers get theirs from ``runtime.app()``; tests, benchmarks and the local stack call
``build(...)`` with their own table client, clock and fake ports. Each piece is built on first
use and kept, so a function only pays for what it uses. Each platform's pieces (its ports,
intake, secrets) are built by its own package's ``wiring`` module; this one knows none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from omnistock.clients import Clients, Secrets
from omnistock.clock import utc_now
from omnistock.config import Config

if TYPE_CHECKING:  # for annotations only: each is imported where first needed
    from omnistock.bulk_policies import BulkPolicies
    from omnistock.catalog_import import CatalogImport
    from omnistock.channel_desk import ChannelDesk
    from omnistock.channel_import import ChannelImports
    from omnistock.channels import CatalogImporter, CatalogReader, ChannelPort, OrdersPort
    from omnistock.inventory_filters import InventoryFilters
    from omnistock.ledger import Ledger
    from omnistock.listings import ListingDesk
    from omnistock.live_events import LiveEvents
    from omnistock.models import Channel
    from omnistock.order_desk import OrderDesk
    from omnistock.problems import ProblemsDesk
    from omnistock.push import PushEngine
    from omnistock.settings import Settings
    from omnistock.shipments import ShipmentDesk
    from omnistock.store.cursor_store import CursorStore
    from omnistock.store.heartbeat_store import Heartbeats
    from omnistock.store.listing_store import ListingStore
    from omnistock.store.order_store import OrderStore
    from omnistock.store.problem_store import ProblemStore
    from omnistock.store.push_store import PushStore
    from omnistock.store.stock_store import StockStore
    from omnistock.store.table import Table
    from omnistock.sync import SyncService

Built = TypeVar("Built")
Clock = Callable[[], datetime]


class Wiring:
    def __init__(
        self,
        config: Config,
        clients: Clients | None = None,
        *,
        clock: Clock = utc_now,
        ports: Callable[[Channel], ChannelPort | None] | None = None,
        orders_ports: Callable[[str], OrdersPort | None] | None = None,
    ) -> None:
        """``ports`` and ``orders_ports`` replace the platforms' own (tests' fakes)."""
        self.config = config
        self.clients = clients or Clients()
        self.clock = clock
        self.ports = ports
        self.orders_ports = orders_ports
        self.secrets = Secrets(lambda: self.clients.secretsmanager)
        self._built: dict[str, Any] = {}

    def once(self, key: str, make: Callable[[], Built]) -> Built:
        """``make()`` the first time ``key`` is asked for; the same object after (platforms'
        packages keep their pieces here)."""
        if key not in self._built:
            self._built[key] = make()
        built: Built = self._built[key]
        return built

    # ---------------------------------------------------------------- stores
    @cached_property
    def table(self) -> Table:
        from omnistock.store.table import Table

        return Table(self.clients.dynamodb, self.config.core.table_name)

    @cached_property
    def stock(self) -> StockStore:
        from omnistock.store.stock_store import Retention, StockStore

        core = self.config.core
        retention = Retention(movements_days=core.movement_retention_days, dedupe_days=core.dedupe_retention_days)
        return StockStore(self.table, retention)

    @cached_property
    def pushes(self) -> PushStore:
        from omnistock.store.push_store import PushStore

        return PushStore(self.table, self.config.core.sync_retention_days)

    @cached_property
    def orders(self) -> OrderStore:
        from omnistock.store.order_store import OrderStore

        return OrderStore(self.table, self.config.core.export_retention_days)

    @cached_property
    def cursors(self) -> CursorStore:
        from omnistock.store.cursor_store import CursorStore

        return CursorStore(self.table)

    @cached_property
    def listings(self) -> ListingStore:
        from omnistock.store.listing_store import ListingStore

        return ListingStore(self.table)

    @cached_property
    def settings(self) -> Settings:
        """Settings changed after deploying (the template's values until then), read through a
        one-minute cache."""
        from omnistock.channels import registry
        from omnistock.settings import CORE, Settings
        from omnistock.store.settings_store import SettingsStore

        specs = [*CORE, *(spec for connector in registry.CONNECTORS.values() for spec in connector.settings)]
        return Settings(SettingsStore(self.table), specs, self.config, self.clock)

    @cached_property
    def heartbeats(self) -> Heartbeats:
        from omnistock.store.heartbeat_store import Heartbeats

        return Heartbeats(self.table, self.clock)

    def known_locations(self) -> set[str]:  # the settings are built on first use, not with the ledger
        return self.settings.known_locations()

    def default_hold(self) -> timedelta:
        return timedelta(minutes=self.settings.value("holds.default_minutes"))

    # ---------------------------------------------------------------- domain
    @cached_property
    def ledger(self) -> Ledger:
        from omnistock.ledger import Ledger

        return Ledger(
            self.stock,
            clock=self.clock,
            default_hold=self.default_hold,
            registered_locations=self.known_locations,
        )

    @cached_property
    def order_desk(self) -> OrderDesk:
        from omnistock.order_desk import OrderDesk

        return OrderDesk(self.stock, self.orders, self.pushes, clock=self.clock, ledger=self.ledger)

    @cached_property
    def shipment_desk(self) -> ShipmentDesk:
        from omnistock.shipments import ShipmentDesk

        return ShipmentDesk(self.orders, self.pushes, self.orders_port_for, clock=self.clock)

    @cached_property
    def listing_desk(self) -> ListingDesk:
        from omnistock.listings import ListingDesk

        return ListingDesk(self.ledger, self.listings, self.pushes, clock=self.clock)

    @cached_property
    def push_engine(self) -> PushEngine:
        from omnistock.push import PushEngine

        grace = timedelta(seconds=self.config.core.push_raise_grace_seconds)
        return PushEngine(self.pushes, self.stock.channels, self.port_for, clock=self.clock, grace=grace)

    @cached_property
    def problem_store(self) -> ProblemStore:
        from omnistock.store.problem_store import ProblemStore

        return ProblemStore(self.table)

    @cached_property
    def inventory_filters(self) -> InventoryFilters:
        from omnistock.inventory_filters import InventoryFilters

        return InventoryFilters(self.stock, self.pushes, self.problem_store, lambda: self.problems, lambda: self.ledger)

    @cached_property
    def problems(self) -> ProblemsDesk:
        from omnistock.problems import ProblemsDesk

        return ProblemsDesk(self.problem_store, self.stock, self.sync, self.order_desk, self.clock)

    @cached_property
    def sync(self) -> SyncService:
        from omnistock.store.job_store import JobStore
        from omnistock.store.preview_store import PreviewStore
        from omnistock.sync import SyncService

        jobs, previews = JobStore(self.table), PreviewStore(self.table)

        def platforms() -> list[str]:
            from omnistock.channels import registry

            return list(registry.CONNECTORS)

        return SyncService(
            self.stock,
            self.pushes,
            jobs,
            self.push_engine,
            previews,
            clock=self.clock,
            imports=lambda: self.imports,
            platforms=platforms,
            bulk=lambda: self.bulk_policies,
        )

    @cached_property
    def bulk_policies(self) -> BulkPolicies:
        from omnistock.bulk_policies import BulkPolicies
        from omnistock.store.catalog_index import CatalogIndex
        from omnistock.store.job_store import JobStore

        return BulkPolicies(
            self.sync, self.inventory_filters, CatalogIndex(self.table), JobStore(self.table), self.clock
        )

    @cached_property
    def imports(self) -> ChannelImports:
        from omnistock.channel_import import ChannelImports, Sources
        from omnistock.channels import registry
        from omnistock.store.import_store import ImportStore
        from omnistock.store.job_store import JobStore

        def reader(channel: Channel) -> CatalogReader | None:
            connector = registry.connector(channel.platform)
            return connector.catalog_reader(self) if connector and connector.catalog_reader else None

        def importer(name: str) -> CatalogImporter | None:
            connector = registry.connector(name)
            return connector.catalog_importer(self) if connector and connector.catalog_importer else None

        def readable(platform: str) -> bool:
            connector = registry.connector(platform)
            return connector is not None and connector.catalog_reader is not None

        def importable(name: str) -> bool:
            connector = registry.connector(name)
            return connector is not None and connector.catalog_importer is not None

        sources = Sources(reader, importer, readable, importable)
        store = ImportStore(self.table)
        return ChannelImports(
            self.ledger, JobStore(self.table), store, self.listings, self.listing_desk, sources, clock=self.clock
        )

    @cached_property
    def channel_desk(self) -> ChannelDesk:
        from omnistock.channel_desk import ChannelDesk

        return ChannelDesk(self.ledger, self.sync, self.settings)

    @cached_property
    def catalog_import(self) -> CatalogImport:
        from omnistock.catalog_import import CatalogImport

        return CatalogImport(self.ledger, self.stock, clock=self.clock)

    @cached_property
    def live_events(self) -> LiveEvents:
        from omnistock.live_events import LiveEvents
        from omnistock.store.live_store import LiveStore

        return LiveEvents(self.stock, self.pushes, LiveStore(self.table), self.sync, clock=self.clock)

    # ---------------------------------------------------------------- ports, by platform
    def port_for(self, channel: Channel) -> ChannelPort | None:
        """The stock port of a channel's platform (None when it is not pushed or not connected)."""
        if self.ports is not None:
            return self.ports(channel)
        from omnistock.channels import registry

        connector = registry.connector(channel.platform)
        return connector.stock_port(self) if connector and connector.stock_port else None

    def orders_port_for(self, channel_name: str) -> OrdersPort | None:
        """Where a channel's shipments are told (None when its platform takes none)."""
        if self.orders_ports is not None:
            return self.orders_ports(channel_name)
        from omnistock.channels import registry

        channel = self.stock.channel(channel_name)
        connector = registry.connector(channel.platform) if channel is not None else None
        return connector.orders_port(self) if connector and connector.orders_port else None


def build(
    config: Config,
    clients: Clients | None = None,
    *,
    clock: Clock = utc_now,
    ports: Callable[[Channel], ChannelPort | None] | None = None,
    orders_ports: Callable[[str], OrdersPort | None] | None = None,
) -> Wiring:
    return Wiring(config, clients, clock=clock, ports=ports, orders_ports=orders_ports)

"""All the services of one hub, built once from the settings and shared by every face."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stockyard.bus import MessageBus
from stockyard.config import Settings
from stockyard.data import ParquetStore
from stockyard.health import HealthService
from stockyard.services._access import AccessService, Caller
from stockyard.services._data import DataService
from stockyard.services._events import AlertEvents, EventHub, HealthEvents
from stockyard.services._node_client import NodeClient
from stockyard.services._processes import ProcessControl, ProcessService
from stockyard.services._registry import ModelService
from stockyard.services._research import ResearchService
from stockyard.services._system import SystemService
from stockyard.services._trading import TradingService
from stockyard.store import Database, KeyScope

__all__ = ["ADMIN_KEY_NAME", "Services", "admin_key_path", "build_services", "ensure_admin_key"]

ADMIN_KEY_NAME = "local-admin"


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """The use cases, one object each (see DESIGN.md §8)."""

    access: AccessService
    trading: TradingService
    system: SystemService
    research: ResearchService
    data: DataService
    events: EventHub
    models: ModelService
    processes: ProcessService

    async def close(self) -> None:
        """Stop the research workers, close node clients, leave the buses."""
        self.research.close()
        self.processes.close()
        self.events.detach()
        await self.trading.close()


def build_services(
    settings: Settings,
    *,
    database: Database,
    health: HealthService,
    nodes: Mapping[str, NodeClient] = {},
    buses: tuple[MessageBus, ...] = (),
    supervisor: ProcessControl | None = None,
) -> Services:
    """Services over ``database`` and ``health``; events from each of ``buses``; the
    processes through ``supervisor`` when the system runs under supervisord."""
    access = AccessService(database)
    events = EventHub()
    for bus in buses:
        events.attach(bus)
    health.notifiers.append(AlertEvents(events))
    health.report_listeners.append(HealthEvents(events))
    data_dir = settings.data.dir or settings.home / "data"
    research = ResearchService(
        database=database,
        data_dir=data_dir,
        auditor=access.auditor,
        events=events,
        settings=settings,
    )
    return Services(
        access=access,
        trading=TradingService(nodes, auditor=access.auditor),
        system=SystemService(health, auditor=access.auditor, log_dir=settings.log.dir),
        research=research,
        data=DataService(
            ParquetStore(data_dir), auditor=access.auditor, jobs=research, settings=settings
        ),
        events=events,
        models=ModelService.under(data_dir),
        processes=ProcessService(supervisor, auditor=access.auditor),
    )


def admin_key_path(home: Path) -> Path:
    """``home/run/admin.key``: the local user's admin key, written by the first ``up``."""
    return Path(home).expanduser() / "run" / "admin.key"


def ensure_admin_key(access: AccessService, home: Path) -> Path | None:
    """With no active key in the store, make an admin key for the local user and write it
    to :func:`admin_key_path` (mode 0600); answers the path written, else None."""
    if access.keys.any_active():
        return None
    path = admin_key_path(home)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = ADMIN_KEY_NAME
    taken = {k.name for k in access.list_keys()}
    suffix = 1
    while name in taken:
        suffix += 1
        name = f"{ADMIN_KEY_NAME}-{suffix}"
    made = access.create_key(name, KeyScope.ADMIN, caller=Caller.local("up"))
    path.unlink(missing_ok=True)
    fd = path.open("x", encoding="utf-8")
    path.chmod(0o600)
    with fd:
        fd.write(made.secret + "\n")
    return path

"""The query API on its own listener: native ``/api/v1``, Jaeger ``/jaeger``, the admin routes,
the probes and metrics, and the web UI at ``/``, behind the query guard."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from obsvty.adapters import listener_ports
from obsvty.adapters.api.query_api import create_query_app
from obsvty.adapters.asgi_server import AsgiServer, start_asgi
from obsvty.adapters.security.policy import SecurityPolicy, is_loopback
from obsvty.adapters.telemetry.metrics import ObsvtyMetrics
from obsvty.adapters.telemetry.operations import Operations
from obsvty.application.dead_letter_replay import Write
from obsvty.application.query import QueryService
from obsvty.application.sync import SyncService
from obsvty.ports.store_dead_letters import StoreDeadLetterPort

log = logging.getLogger("obsvty")


@dataclass(frozen=True, slots=True)
class QueryApiSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    shutdown_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class QueryApiParts:
    """What the query API serves besides the queries."""

    operations: Operations
    metrics: ObsvtyMetrics
    dead_letters: StoreDeadLetterPort
    write_now: Write
    """Stores a replayed store dead letter (the flusher's ``write_now``)."""
    cloud_sync: SyncService | None = None


class QueryApiListener:
    def __init__(self, settings: QueryApiSettings, security: SecurityPolicy) -> None:
        self.settings = settings
        self.security = security
        self.endpoint = ""
        self._server: AsgiServer | None = None

    def ensure_port_free(self) -> None:
        s = self.settings
        listener_ports.ensure_free(s.host, s.port, "query API", "OBSVTY_API_PORT")

    async def start(self, query: QueryService, parts: QueryApiParts) -> None:
        from obsvty.adapters.api.jaeger import create_jaeger_router
        from obsvty.adapters.api.store_dead_letters import create_store_dead_letter_router
        from obsvty.adapters.api.ui import mount_ui
        from obsvty.adapters.telemetry.http_endpoints import operability_routes

        s, security = self.settings, self.security
        routers: dict[str, APIRouter] = {"/jaeger": create_jaeger_router(query)}
        retention = parts.operations.retention
        extras: list[Callable[[], Mapping[str, Any]]] = [
            lambda: {"retention": None if retention is None else retention.snapshot()}
        ]
        refused = None
        if not security.query_tokens.enabled and not is_loopback(s.host):
            refused = "dead-letter changes need OBSVTY_QUERY_TOKENS on a non-loopback API"
        if parts.cloud_sync is not None:
            from obsvty.adapters.api.admin import create_admin_router, dead_letter_stats

            routers["/api/v1/admin"] = create_admin_router(
                parts.cloud_sync, changes_refused=refused
            )
            extras.append(dead_letter_stats(parts.cloud_sync))
        routers["/api/v1/admin/store-dead-letters"] = create_store_dead_letter_router(
            parts.dead_letters, parts.write_now, changes_refused=refused
        )

        def stats_extras() -> dict[str, Any]:
            return {k: v for extra in extras for k, v in extra().items()}

        app = create_query_app(query, routers=routers, stats_extras=stats_extras)
        # the probes and metrics, as on the OTLP/HTTP listener (before the UI claims /)
        app.router.routes.extend(operability_routes(parts.operations.health, parts.metrics))
        mount_ui(app)  # the web UI at / (its files by name only: shadows no API route)
        for warning in security.exposure_warnings({}, {"query API": s.host}):
            log.warning(warning)
        self._server = await start_asgi(
            security.guard_query_app(app),
            s.host,
            s.port,
            name="query API",
            graceful_shutdown_s=s.shutdown_timeout_s,
            **security.uvicorn_options(),
        )
        self.endpoint = f"{s.host}:{self._server.port}"
        base = f"{'https' if security.tls is not None else 'http'}://{self.endpoint}"
        log.info("web UI on %s/ (query API docs at %s/docs, Grafana: %s/jaeger)", base, base, base)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(self.settings.shutdown_timeout_s / 2)

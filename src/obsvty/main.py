"""Composition root: builds every part from the settings, wires them, runs them, stops them.

Start-up order: store, buffer, flusher, then the receivers. Shutdown (SIGTERM or SIGINT) runs in
reverse: receivers stop accepting (in-flight requests finish), the flusher drains the buffer into
the store, and the store commits and closes. Nothing acknowledged is lost on a graceful stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
import uvicorn

from obsvty.adapters import listener_ports
from obsvty.adapters.api.query_api import create_query_app
from obsvty.adapters.buffer.memory import MemoryBuffer, OverflowPolicy
from obsvty.adapters.gc_tuning import tune_gc
from obsvty.adapters.otlp import grpc_bind, grpc_receiver, http_receiver
from obsvty.adapters.otlp.codec import SignalCodec
from obsvty.adapters.security.policy import SecurityPolicy, is_loopback, open_query_api_refusal
from obsvty.adapters.storage.dead_letter_files import DeadLetterFiles
from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.mongodb.query import MongoDBQuery
from obsvty.adapters.storage.mongodb.store import MongoDBStore
from obsvty.adapters.telemetry.http_endpoints import operability_routes
from obsvty.adapters.telemetry.metrics import MeteredStore, ObsvtyMetrics
from obsvty.application.commit_watermark import CommitWatermark
from obsvty.application.flush import Flusher
from obsvty.application.ingest import AckMode, IngestService
from obsvty.application.query import QueryService
from obsvty.config import Settings, SettingsError, store_dead_letter_dir
from obsvty.domain.model import Signal
from obsvty.operability import Operations, build_redactor
from obsvty.ports.query import TelemetryQueryPort
from obsvty.ports.store import TelemetryStorePort
from obsvty.storage_wiring import build_cloud_sync, build_store

if TYPE_CHECKING:
    from obsvty.adapters.telemetry.self_tracing import SelfTracing

log = logging.getLogger("obsvty")


class _EmbeddedUvicorn(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the application that embeds it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Endpoints:
    """Where the listeners are bound (ports resolved when 0 was asked for)."""

    grpc: str = ""
    http: str = ""
    api: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _overflow_policy(settings: Settings) -> OverflowPolicy:
    """Durable mode never drops data it may have to acknowledge: a full buffer rejects."""
    policy = OverflowPolicy(settings.buffer_overflow_policy)
    if AckMode(settings.ack_mode) is AckMode.DURABLE and policy is not OverflowPolicy.REJECT:
        if "buffer_overflow_policy" in settings.model_fields_set:
            log.warning("ACK_MODE=durable: BUFFER_OVERFLOW_POLICY=%s ignored, using reject", policy)
        return OverflowPolicy.REJECT
    return policy


class Application:
    def __init__(self, settings: Settings) -> None:
        refusal = open_query_api_refusal(settings)  # before anything is created
        if refusal is not None:
            raise SettingsError(refusal)
        self.settings = settings
        self.store = build_store(settings)
        self.cloud_sync = build_cloud_sync(settings, self.store)
        durable = AckMode(settings.ack_mode) is AckMode.DURABLE
        self.buffer = MemoryBuffer(
            settings.max_buffer_size,
            _overflow_policy(settings),
            max_bytes=settings.max_buffer_bytes,
        )
        self.watermark = CommitWatermark()
        self.metrics = ObsvtyMetrics()
        self.redactor = build_redactor(settings)
        self.self_tracing = _self_tracing(settings)
        self.dead_letters = DeadLetterFiles(store_dead_letter_dir(settings))
        store: TelemetryStorePort = MeteredStore(self.store, self.metrics)
        ingest = IngestService
        if self.self_tracing is not None:  # the SDK is loaded only when self-tracing is on
            from obsvty.adapters.telemetry.self_tracing import TracedIngestService, TracedStore

            self.metrics.request_spans = self.self_tracing.start_request
            store = TracedStore(store, self.self_tracing)
            ingest = functools.partial(TracedIngestService, self.self_tracing)  # type: ignore[assignment]
        self.flusher = Flusher(
            self.buffer,
            store,
            batch_size=settings.flush_batch_size,
            interval=settings.flush_interval_ms / 1000,
            watermark=self.watermark,
            eager=durable,
            gather=DURABLE_GATHER_SECONDS if durable else 0.0,
            dead_letters=self.dead_letters if settings.flush_max_attempts else None,
            max_attempts=settings.flush_max_attempts,
        )
        self.ingest = ingest(
            self.buffer,
            watermark=self.watermark if durable else None,
            commit_timeout=settings.durable_ack_timeout_s,
            redactor=self.redactor,
        )
        self.operations = Operations(
            settings,
            self.metrics,
            store=self.store,
            buffer=self.buffer,
            flusher=self.flusher,
            redactor=self.redactor,
            dead_letters=self.dead_letters,
        )
        self.health = self.operations.health
        if self.cloud_sync is not None:
            self.health.register(self.cloud_sync)
        self.security = SecurityPolicy.from_settings(settings)
        self.security.on_refusal = self.metrics.refused
        self.query_port = _query_port(self.store)
        self.query = QueryService(self.query_port) if self.query_port is not None else None
        self._api: _EmbeddedUvicorn | None = None
        self.endpoints = Endpoints()
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._grpc: grpc.aio.Server | None = None
        self._http: _EmbeddedUvicorn | None = None

    def request_stop(self) -> None:
        self._stop.set()

    def _codecs(self) -> dict[Signal, SignalCodec[Any]]:
        """The receivers' codecs, input limits applied. The compiled decoder's Arrow batches
        hold typed JSON, which DuckDB stores as it is and redaction works on, or for MongoDB the
        lossless document form its documents are built from; redaction does not read the
        document form, so MongoDB with redaction decodes the reference way."""
        codecs = self.security.codecs()
        if self.settings.obsvty_storage == "mongodb":
            if self.redactor is None:
                return {signal: codec.document_form() for signal, codec in codecs.items()}
            codecs = {signal: codec.reference() for signal, codec in codecs.items()}
        return codecs

    async def run(self) -> None:
        """Serve until :meth:`request_stop` (or SIGTERM / SIGINT), then shut down gracefully."""
        s = self.settings
        # every listener's port checked before anything starts: a port in use is one clear line
        # and exit code 3, with nothing half started to tear down
        listener_ports.ensure_free(
            s.otlp_grpc_host, s.otlp_grpc_port, "OTLP/gRPC", "OTLP_GRPC_PORT"
        )
        listener_ports.ensure_free(
            s.otlp_http_host, s.otlp_http_port, "OTLP/HTTP", "OTLP_HTTP_PORT"
        )
        if self.query is not None:
            listener_ports.ensure_free(
                s.obsvty_api_host, s.obsvty_api_port, "query API", "OBSVTY_API_PORT"
            )
        self.flusher.start()
        self.operations.start()
        if self.cloud_sync is not None:
            self.cloud_sync.start()
        try:
            security = self.security
            for warning in security.exposure_warnings(
                {"OTLP/gRPC": s.otlp_grpc_host, "OTLP/HTTP": s.otlp_http_host}, {}
            ):
                log.warning(warning)
            self._grpc = grpc_receiver.create_server(
                self.ingest,
                s.grpc_max_message_length,
                codecs=self._codecs(),
                interceptors=security.grpc_interceptors(),
                options=[grpc_bind.SO_REUSEPORT_OFF, *security.grpc_options()],
                metrics=self.metrics,
            )
            port = grpc_bind.bind(self._grpc, s.otlp_grpc_host, s.otlp_grpc_port, security.tls)
            await self._grpc.start()
            self.endpoints.grpc = f"{s.otlp_grpc_host}:{port}"

            app = http_receiver.create_app(
                self.ingest,
                s.http_max_request_size,
                max_compressed_size=s.http_max_compressed_request_size,
                codecs=self._codecs(),
                metrics=self.metrics,
                health=self.health,
            )
            self._http = _EmbeddedUvicorn(
                uvicorn.Config(
                    security.guard_ingest_app(app),
                    host=s.otlp_http_host,
                    port=s.otlp_http_port,
                    log_config=None,
                    access_log=False,
                    lifespan="off",
                    timeout_graceful_shutdown=int(s.shutdown_timeout_s),
                    **security.uvicorn_options(),
                )
            )
            http_task = asyncio.create_task(self._http.serve())
            while not self._http.started:
                if http_task.done():
                    await http_task  # re-raises the start-up failure
                    raise RuntimeError("OTLP/HTTP server stopped during start-up")
                await asyncio.sleep(0.01)
            sock = self._http.servers[0].sockets[0].getsockname()
            self.endpoints.http = f"{s.otlp_http_host}:{sock[1]}"
            log.info(
                "obsvty listening: OTLP/gRPC on %s, OTLP/HTTP on %s://%s, storing in %s, "
                "acknowledging once %s (ACK_MODE=%s)",
                self.endpoints.grpc,
                "https" if security.tls is not None else "http",
                self.endpoints.http,
                s.obsvty_db_path,
                "committed" if AckMode(s.ack_mode) is AckMode.DURABLE else "buffered",
                s.ack_mode,
            )
            api_task = await self._start_api()
            self.ready.set()
            await self._stop.wait()
            log.info("shutting down: stopping receivers")
            await self._shutdown_receivers(http_task)
            await self._stop_api(api_task)
        finally:
            await asyncio.to_thread(self._drain_and_close)

    async def _start_api(self) -> asyncio.Task[None] | None:
        """The query API (native /api/v1, Jaeger /jaeger) on its own listener."""
        s = self.settings
        if self.query is None or self.query_port is None:
            log.warning("the query API is not available on this store")
            return None
        from obsvty.adapters.api.jaeger import create_jaeger_router
        from obsvty.adapters.api.ui import mount_ui

        routers = {"/jaeger": create_jaeger_router(self.query)}
        retention = self.operations.retention
        extras: list[Callable[[], Mapping[str, Any]]] = [
            lambda: {"retention": None if retention is None else retention.snapshot()}
        ]
        refused = None
        if not self.security.query_tokens.enabled and not is_loopback(s.obsvty_api_host):
            refused = "dead-letter changes need OBSVTY_QUERY_TOKENS on a non-loopback API"
        if self.cloud_sync is not None:
            from obsvty.adapters.api.admin import create_admin_router, dead_letter_stats

            routers["/api/v1/admin"] = create_admin_router(self.cloud_sync, changes_refused=refused)
            extras.append(dead_letter_stats(self.cloud_sync))
        from obsvty.adapters.api.store_dead_letters import create_store_dead_letter_router

        routers["/api/v1/admin/store-dead-letters"] = create_store_dead_letter_router(
            self.dead_letters, self.flusher.write_now, changes_refused=refused
        )

        def stats_extras() -> dict[str, Any]:
            return {k: v for extra in extras for k, v in extra().items()}

        app = create_query_app(self.query, routers=routers, stats_extras=stats_extras)
        # the probes and metrics, as on the OTLP/HTTP listener (before the UI claims /)
        app.router.routes.extend(operability_routes(self.health, self.metrics))
        mount_ui(app)  # the web UI at / (its files by name only: shadows no API route)
        for warning in self.security.exposure_warnings({}, {"query API": s.obsvty_api_host}):
            log.warning(warning)
        self._api = _EmbeddedUvicorn(
            uvicorn.Config(
                self.security.guard_query_app(app),
                host=s.obsvty_api_host,
                port=s.obsvty_api_port,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=int(s.shutdown_timeout_s),
                **self.security.uvicorn_options(),
            )
        )
        task = asyncio.create_task(self._api.serve())
        while not self._api.started:
            if task.done():
                await task  # re-raises the start-up failure
                raise RuntimeError("query API server stopped during start-up")
            await asyncio.sleep(0.01)
        port = self._api.servers[0].sockets[0].getsockname()[1]
        self.endpoints.api = f"{s.obsvty_api_host}:{port}"
        base = f"{self._scheme()}://{self.endpoints.api}"
        log.info("web UI on %s/ (query API docs at %s/docs, Grafana: %s/jaeger)", base, base, base)
        return task

    def _scheme(self) -> str:
        return "https" if self.security.tls is not None else "http"

    async def _stop_api(self, task: asyncio.Task[None] | None) -> None:
        if self._api is None or task is None:
            return
        self._api.should_exit = True
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(task, self.settings.shutdown_timeout_s / 2)

    async def _shutdown_receivers(self, http_task: asyncio.Task[None]) -> None:
        grace = self.settings.shutdown_timeout_s / 2
        if self._http is not None:
            self._http.should_exit = True
        if self._grpc is not None:
            await self._grpc.stop(grace)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(http_task, grace)

    def _drain_and_close(self) -> None:
        self.operations.stop(self.settings.shutdown_timeout_s / 2)
        log.info("draining %d buffered items into the store", self.buffer.size())
        self.flusher.stop(self.settings.shutdown_timeout_s)
        if self.cloud_sync is not None:
            self.cloud_sync.stop(self.settings.shutdown_timeout_s / 2)
        self.store.close()
        if self.self_tracing is not None:
            self.self_tracing.shutdown()
        log.info("stopped; everything acknowledged is stored")


def _self_tracing(settings: Settings) -> SelfTracing | None:
    """obsvty's own tracer when ``OBSVTY_SELF_TRACING`` is on (the settings have checked that
    the endpoint is not this obsvty)."""
    if not settings.obsvty_self_tracing:
        return None
    from obsvty.adapters.telemetry.self_tracing import SelfTracing

    log.info("self-tracing: exporting obsvty's spans to %s", settings.obsvty_self_tracing_endpoint)
    return SelfTracing(
        settings.obsvty_self_tracing_endpoint.strip(),
        sample_ratio=settings.obsvty_self_tracing_sample_ratio,
    )


def _query_port(store: object) -> TelemetryQueryPort | None:
    """The read side of ``store``."""
    if isinstance(store, DuckDBStore):
        return DuckDBQuery(store)
    if isinstance(store, MongoDBStore):
        return MongoDBQuery(store.db)
    return None


DURABLE_GATHER_SECONDS = 0.010
"""Durable mode: once a request is buffered, the flusher waits up to this long for more before it
commits, so that concurrent requests share one commit (each commit has a fixed cost: the
transaction, the span dedupe over the recent time range, the log write). Measured with
``bench.ingest --concurrency 16 --duration 20 --env ACK_MODE=durable``: 17,120-17,520 spans/s
without, 19,360-20,635 with 5-20 ms; the price is up to 10 ms more latency for a lone request."""


async def serve(settings: Settings) -> None:
    app = Application(settings)
    tune_gc()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, app.request_stop)
    await app.run()

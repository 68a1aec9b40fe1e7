"""Composition root: builds every part from its settings group, wires them, runs them, stops them.

Start-up order: store, buffer, flusher, then the receivers. Shutdown (SIGTERM or SIGINT) runs in
reverse: receivers stop accepting (in-flight requests finish), the flusher drains the buffer into
the store, and the store commits and closes. Nothing acknowledged is lost on a graceful stop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass

from obsvty.adapters.api.query_listener import QueryApiListener, QueryApiParts
from obsvty.adapters.buffer.pipeline import build_pipeline
from obsvty.adapters.gc_tuning import tune_gc
from obsvty.adapters.otlp.receivers import OtlpReceivers, receiver_codecs
from obsvty.adapters.security.policy import SecurityPolicy, open_query_api_refusal
from obsvty.adapters.storage.dead_letter_files import DeadLetterFiles
from obsvty.adapters.storage.duckdb.backend import duckdb_backend
from obsvty.adapters.storage.mongodb.backend import mongodb_backend
from obsvty.adapters.storage.mongodb.cloud_sync import cloud_sync
from obsvty.adapters.telemetry.metrics import ObsvtyMetrics
from obsvty.adapters.telemetry.operations import Operations, build_redactor, start_self_tracing
from obsvty.application.ingest import AckMode
from obsvty.application.query import QueryService
from obsvty.config import Settings, SettingsError, store_dead_letter_dir
from obsvty.ports.storage_backend import StorageBackend

log = logging.getLogger("obsvty")


def _duckdb(settings: Settings) -> StorageBackend:
    if settings.duckdb_process:  # still read, so that a configuration setting it starts
        log.warning("DUCKDB_PROCESS is removed and ignored: the DuckDB store runs in this process")
    return duckdb_backend(settings.duckdb())


STORAGE_BACKENDS: dict[str, Callable[[Settings], StorageBackend]] = {
    "duckdb": _duckdb,
    "mongodb": lambda settings: mongodb_backend(settings.mongodb()),
}
"""``OBSVTY_STORAGE`` -> the bundle of that backend, built from its settings group."""


def build_storage(settings: Settings) -> StorageBackend:
    return STORAGE_BACKENDS[settings.obsvty_storage](settings)


@dataclass
class Endpoints:
    """Where the listeners are bound (ports resolved when 0 was asked for)."""

    grpc: str = ""
    http: str = ""
    api: str = ""


class Application:
    def __init__(self, settings: Settings) -> None:
        security = settings.security()
        refusal = open_query_api_refusal(security, settings.obsvty_api_host)
        if refusal is not None:  # before anything is created
            raise SettingsError(refusal)
        operations = settings.operations()
        self.settings = settings
        self.backend = build_storage(settings)
        self.store = self.backend.store
        sync = settings.sync()  # its source before the flusher writes (DuckDB adds columns)
        self.cloud_sync = cloud_sync(sync, self.backend.sync_source()) if sync else None
        self.metrics = ObsvtyMetrics()
        self.redactor = build_redactor(operations.redaction)
        self.self_tracing = start_self_tracing(operations)
        self.dead_letters = DeadLetterFiles(store_dead_letter_dir(settings))
        pipeline = build_pipeline(
            settings.buffer(),
            self.store,
            self.metrics,
            redactor=self.redactor,
            dead_letters=self.dead_letters,
            self_tracing=self.self_tracing,
        )
        self.buffer, self.watermark = pipeline.buffer, pipeline.watermark
        self.flusher, self.ingest = pipeline.flusher, pipeline.ingest
        self.operations = Operations(
            operations,
            self.metrics,
            backend=self.backend,
            buffer=self.buffer,
            flusher=self.flusher,
            redactor=self.redactor,
            dead_letters=self.dead_letters,
        )
        self.health = self.operations.health
        if self.cloud_sync is not None:
            self.health.register(self.cloud_sync)
        self.security = SecurityPolicy.from_settings(security)
        self.security.on_refusal = self.metrics.refused
        self.query_port = self.backend.query
        self.query = QueryService(self.query_port) if self.query_port is not None else None
        self.receivers = OtlpReceivers(settings.receivers(), self.security)
        self.api = QueryApiListener(settings.query_api(), self.security)
        self.endpoints = Endpoints()
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Serve until :meth:`request_stop` (or SIGTERM / SIGINT), then shut down gracefully."""
        s = self.settings
        # every listener's port checked before anything starts: a port in use is one clear line
        # and exit code 3, with nothing half started to tear down
        self.receivers.ensure_ports_free()
        if self.query is not None:
            self.api.ensure_port_free()
        self.flusher.start()
        self.operations.start()
        if self.cloud_sync is not None:
            self.cloud_sync.start()
        try:
            codecs = receiver_codecs(
                self.security, self.backend.batch_form, redacting=self.redactor is not None
            )
            await self.receivers.start(self.ingest, codecs, self.metrics, self.health)
            self.endpoints.grpc = self.receivers.grpc_endpoint
            self.endpoints.http = self.receivers.http_endpoint
            log.info(
                "obsvty listening: OTLP/gRPC on %s, OTLP/HTTP on %s://%s, storing in %s, "
                "acknowledging once %s (ACK_MODE=%s)",
                self.endpoints.grpc,
                "https" if self.security.tls is not None else "http",
                self.endpoints.http,
                s.obsvty_db_path,
                "committed" if AckMode(s.ack_mode) is AckMode.DURABLE else "buffered",
                s.ack_mode,
            )
            await self._start_api()
            self.ready.set()
            await self._stop.wait()
            log.info("shutting down: stopping receivers")
            await self.receivers.stop(s.shutdown_timeout_s / 2)
            await self.api.stop()
        finally:
            await asyncio.to_thread(self._drain_and_close)

    async def _start_api(self) -> None:
        """The query API (native /api/v1, Jaeger /jaeger, the UI) on its own listener."""
        if self.query is None:
            log.warning("the query API is not available on this store")
            return
        parts = QueryApiParts(
            self.operations,
            self.metrics,
            self.dead_letters,
            self.flusher.write_now,
            self.cloud_sync,
        )
        await self.api.start(self.query, parts)
        self.endpoints.api = self.api.endpoint

    def _drain_and_close(self) -> None:
        timeout = self.settings.shutdown_timeout_s
        self.operations.stop(timeout / 2)
        log.info("draining %d buffered items into the store", self.buffer.size())
        self.flusher.stop(timeout)
        if self.cloud_sync is not None:
            self.cloud_sync.stop(timeout / 2)
        self.backend.close()
        if self.self_tracing is not None:
            self.self_tracing.shutdown()
        log.info("stopped; everything acknowledged is stored")


async def serve(settings: Settings) -> None:
    app = Application(settings)
    tune_gc()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, app.request_stop)
    await app.run()

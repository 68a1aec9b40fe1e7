"""The OTLP receivers, gRPC and HTTP, started and stopped together, from the receivers settings
group."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from obsvty.adapters import listener_ports
from obsvty.adapters.asgi_server import AsgiServer, start_asgi
from obsvty.adapters.otlp import grpc_bind, grpc_receiver, http_receiver
from obsvty.adapters.otlp.codec import SignalCodec
from obsvty.adapters.security.policy import SecurityPolicy
from obsvty.adapters.telemetry.metrics import ObsvtyMetrics
from obsvty.application.health import HealthRegistry
from obsvty.application.ingest import IngestService
from obsvty.domain.model import Signal
from obsvty.ports.storage_backend import BatchForm

log = logging.getLogger("obsvty")

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReceiverSettings:
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 4317
    http_host: str = "127.0.0.1"
    http_port: int = 4318
    grpc_max_message_length: int = 4 * MiB
    http_max_request_size: int = 4 * MiB
    http_max_compressed_request_size: int = 4 * MiB
    shutdown_timeout_s: float = 30.0


def receiver_codecs(
    security: SecurityPolicy, form: BatchForm, *, redacting: bool
) -> dict[Signal, SignalCodec[Any]]:
    """The receivers' codecs, input limits applied, decoding into the form the store asks for.
    The compiled decoder's Arrow batches hold typed JSON, which DuckDB stores as it is and
    redaction works on, or the lossless document form MongoDB's documents are built from;
    redaction does not read the document form, so with redaction that store gets batches
    decoded the reference way."""
    codecs = security.codecs()
    if form is BatchForm.DOCUMENTS:
        if not redacting:
            return {signal: codec.document_form() for signal, codec in codecs.items()}
        return {signal: codec.reference() for signal, codec in codecs.items()}
    return codecs


class OtlpReceivers:
    """OTLP/gRPC and OTLP/HTTP on their listeners; :attr:`grpc_endpoint` and
    :attr:`http_endpoint` say where once started."""

    def __init__(self, settings: ReceiverSettings, security: SecurityPolicy) -> None:
        self.settings = settings
        self.security = security
        self.grpc_endpoint = ""
        self.http_endpoint = ""
        self._grpc: grpc.aio.Server | None = None
        self._http: AsgiServer | None = None

    def ensure_ports_free(self) -> None:
        """A port in use is one clear line before anything starts (see ``listener_ports``)."""
        s = self.settings
        listener_ports.ensure_free(s.grpc_host, s.grpc_port, "OTLP/gRPC", "OTLP_GRPC_PORT")
        listener_ports.ensure_free(s.http_host, s.http_port, "OTLP/HTTP", "OTLP_HTTP_PORT")

    async def start(
        self,
        ingest: IngestService,
        codecs: Mapping[Signal, SignalCodec[Any]],
        metrics: ObsvtyMetrics,
        health: HealthRegistry,
    ) -> None:
        s, security = self.settings, self.security
        for warning in security.exposure_warnings(
            {"OTLP/gRPC": s.grpc_host, "OTLP/HTTP": s.http_host}, {}
        ):
            log.warning(warning)
        self._grpc = grpc_receiver.create_server(
            ingest,
            s.grpc_max_message_length,
            codecs=codecs,
            interceptors=security.grpc_interceptors(),
            options=[grpc_bind.SO_REUSEPORT_OFF, *security.grpc_options()],
            metrics=metrics,
        )
        port = grpc_bind.bind(self._grpc, s.grpc_host, s.grpc_port, security.tls)
        await self._grpc.start()
        self.grpc_endpoint = f"{s.grpc_host}:{port}"
        app = http_receiver.create_app(
            ingest,
            s.http_max_request_size,
            max_compressed_size=s.http_max_compressed_request_size,
            codecs=codecs,
            metrics=metrics,
            health=health,
        )
        self._http = await start_asgi(
            security.guard_ingest_app(app),
            s.http_host,
            s.http_port,
            name="OTLP/HTTP",
            graceful_shutdown_s=s.shutdown_timeout_s,
            **security.uvicorn_options(),
        )
        self.http_endpoint = f"{s.http_host}:{self._http.port}"

    async def stop(self, grace: float) -> None:
        """Stop accepting on both; requests in flight get up to ``grace`` seconds."""
        if self._http is not None:
            self._http.request_exit()
        if self._grpc is not None:
            await self._grpc.stop(grace)
        if self._http is not None:
            await self._http.stopped(grace)

"""Helpers for the security tests: spans made by the real SDK, raw OTLP calls, run-time certs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import trustme
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

TRACE_EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def sdk_spans(*names: str) -> tuple[ReadableSpan, ...]:
    """Finished spans made by the OpenTelemetry SDK, ready for an exporter's ``export``."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("security-tests")
    for name in names:
        with tracer.start_as_current_span(name):
            pass
    provider.shutdown()
    return memory.get_finished_spans()


def one_span_request(name: str = "raw") -> bytes:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.add(
        trace_id=b"\x01" * 16,
        span_id=b"\x02" * 8,
        name=name,
        start_time_unix_nano=1,
        end_time_unix_nano=2,
    )
    return request.SerializeToString()


def grpc_export(
    channel: grpc.Channel, payload: bytes, metadata: tuple[tuple[str, str], ...] = ()
) -> bytes:
    call = channel.unary_unary(TRACE_EXPORT, request_serializer=None, response_deserializer=None)
    result: bytes = call(payload, metadata=metadata, timeout=10)
    return result


def span_names(db: Any) -> list[str]:
    return sorted(r[0] for r in db.execute("SELECT name FROM spans").fetchall())


@dataclass(frozen=True)
class Certificates:
    """A CA made at run time, a server certificate for 127.0.0.1/localhost, a client one."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @property
    def ca_pem(self) -> bytes:
        return self.ca.read_bytes()


def make_certificates(directory: Path) -> Certificates:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("client@obsvty.test")
    paths = Certificates(
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
        directory / "client.pem",
        directory / "client.key",
    )
    ca.cert_pem.write_to_path(str(paths.ca))
    server.private_key_pem.write_to_path(str(paths.server_key))
    with paths.server_cert.open("wb") as out:
        for pem in server.cert_chain_pems:
            out.write(pem.bytes())
    client.private_key_pem.write_to_path(str(paths.client_key))
    with paths.client_cert.open("wb") as out:
        for pem in client.cert_chain_pems:
            out.write(pem.bytes())
    return paths

"""TLS and mutual TLS on the gRPC and HTTP listeners, with certificates made at run time and the
SDK's own exporters as clients."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.support.security import (
    Certificates,
    grpc_export,
    make_certificates,
    one_span_request,
    sdk_spans,
    span_names,
)
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration


@pytest.fixture
def certs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Certificates:
    # requests lets these variables override the exporter's own certificate_file
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    return make_certificates(tmp_path)


@pytest.fixture
def tls_server(tmp_path: Path, certs: Certificates) -> Iterator[RunningObsvty]:
    with running_obsvty(
        tmp_path, tls_cert_file=certs.server_cert, tls_key_file=certs.server_key
    ) as server:
        yield server


@pytest.fixture
def mtls_server(tmp_path: Path, certs: Certificates) -> Iterator[RunningObsvty]:
    with running_obsvty(
        tmp_path,
        tls_cert_file=certs.server_cert,
        tls_key_file=certs.server_key,
        tls_client_ca_file=certs.ca,
    ) as server:
        yield server


def _https(server: RunningObsvty) -> str:
    return f"https://{server.app.endpoints.http}"


def test_sdk_exporters_over_tls_store_over_grpc_and_http(
    tls_server: RunningObsvty, certs: Certificates
) -> None:
    # Arrange
    grpc_exporter = GrpcSpanExporter(
        endpoint=tls_server.grpc_endpoint,
        insecure=False,
        credentials=grpc.ssl_channel_credentials(root_certificates=certs.ca_pem),
    )
    http_exporter = HttpSpanExporter(
        endpoint=f"{_https(tls_server)}/v1/traces", certificate_file=str(certs.ca)
    )

    # Act
    over_grpc = grpc_exporter.export(sdk_spans("tls-grpc"))
    over_http = http_exporter.export(sdk_spans("tls-http"))
    tls_server.flush()

    # Assert
    assert over_grpc is SpanExportResult.SUCCESS
    assert over_http is SpanExportResult.SUCCESS
    assert span_names(tls_server.app.store.cursor()) == ["tls-grpc", "tls-http"]


def test_tls_listeners_refuse_plain_text_clients(tls_server: RunningObsvty) -> None:
    # Act
    with (
        grpc.insecure_channel(tls_server.grpc_endpoint) as channel,
        pytest.raises(grpc.RpcError) as grpc_failure,
    ):
        grpc_export(channel, one_span_request())
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"{tls_server.http_url}/v1/traces", content=one_span_request())

    # Assert
    assert grpc_failure.value.code() is grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_with_a_client_certificate_stores_over_grpc_and_http(
    mtls_server: RunningObsvty, certs: Certificates
) -> None:
    # Arrange
    grpc_exporter = GrpcSpanExporter(
        endpoint=mtls_server.grpc_endpoint,
        insecure=False,
        credentials=grpc.ssl_channel_credentials(
            root_certificates=certs.ca_pem,
            private_key=certs.client_key.read_bytes(),
            certificate_chain=certs.client_cert.read_bytes(),
        ),
    )
    http_exporter = HttpSpanExporter(
        endpoint=f"{_https(mtls_server)}/v1/traces",
        certificate_file=str(certs.ca),
        client_key_file=str(certs.client_key),
        client_certificate_file=str(certs.client_cert),
    )

    # Act
    over_grpc = grpc_exporter.export(sdk_spans("mtls-grpc"))
    over_http = http_exporter.export(sdk_spans("mtls-http"))
    mtls_server.flush()

    # Assert
    assert over_grpc is SpanExportResult.SUCCESS
    assert over_http is SpanExportResult.SUCCESS
    assert span_names(mtls_server.app.store.cursor()) == ["mtls-grpc", "mtls-http"]


def test_mutual_tls_without_a_client_certificate_is_refused(
    mtls_server: RunningObsvty, certs: Certificates
) -> None:
    # Arrange
    credentials = grpc.ssl_channel_credentials(root_certificates=certs.ca_pem)
    context = ssl.create_default_context(cafile=str(certs.ca))

    # Act
    with (
        grpc.secure_channel(mtls_server.grpc_endpoint, credentials) as channel,
        pytest.raises(grpc.RpcError) as grpc_failure,
    ):
        grpc_export(channel, one_span_request())
    with pytest.raises((httpx.HTTPError, ssl.SSLError)):
        httpx.post(
            f"{_https(mtls_server)}/v1/traces",
            content=one_span_request(),
            headers={"Content-Type": "application/x-protobuf"},
            verify=context,
        )
    mtls_server.flush()

    # Assert
    assert grpc_failure.value.code() is grpc.StatusCode.UNAVAILABLE
    assert span_names(mtls_server.app.store.cursor()) == []

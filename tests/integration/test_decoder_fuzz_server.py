"""Mutated payloads against one real obsvty: every answer is a success or a clear 4xx /
INVALID_ARGUMENT, the server never fails, and what it stored is whole, valid items only."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obsvty.domain.model import Signal
from tests.support.fuzzing import SEED_JSON, SEED_PROTOBUF, mutated
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

SERVER_FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SERVICES = {
    Signal.TRACES: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    Signal.LOGS: "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    Signal.METRICS: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningObsvty]:
    with running_obsvty(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: RunningObsvty) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.http_url) as client:
        yield client


@pytest.fixture(scope="module")
def channel(server: RunningObsvty) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.grpc_endpoint) as open_channel:
        yield open_channel


def _assert_only_whole_valid_items_stored(server: RunningObsvty) -> None:
    server.flush()
    db = server.app.store.cursor()
    bad_spans = db.execute(
        "SELECT count(*) FROM spans WHERE length(trace_id) <> 32 OR length(span_id) <> 16 "
        "OR trace_id = repeat('0', 32) OR span_id = repeat('0', 16) "
        "OR end_time_unix_nano < start_time_unix_nano"
    ).fetchone()
    bad_logs = db.execute(
        "SELECT count(*) FROM logs WHERE length(trace_id) NOT IN (0, 32) "
        "OR length(span_id) NOT IN (0, 16)"
    ).fetchone()
    assert bad_spans == (0,)
    assert bad_logs == (0,)
    assert httpx.get(f"{server.http_url}/healthz").status_code == 200


def test_http_receiver_mutated_payloads_get_success_or_a_clear_4xx(
    server: RunningObsvty, http: httpx.Client
) -> None:
    @SERVER_FUZZ
    @given(
        data=st.data(),
        signal=st.sampled_from(list(Signal)),
        form=st.sampled_from(["protobuf", "json", "gzip"]),
    )
    def one_request(data: Any, signal: Signal, form: str) -> None:
        # Arrange
        media = "application/json" if form == "json" else "application/x-protobuf"
        headers = {"Content-Type": media}
        seed = SEED_JSON[signal] if form == "json" else SEED_PROTOBUF[signal]
        payload = data.draw(mutated(seed))
        if form == "gzip":
            payload = data.draw(mutated(zlib.compress(payload, wbits=16 + zlib.MAX_WBITS)))
            headers["Content-Encoding"] = "gzip"

        # Act
        response = http.post(f"/v1/{signal.value}", content=payload, headers=headers)

        # Assert
        assert response.status_code in (200, 400, 413), response.text
        assert "Traceback" not in response.text
        assert "/work/" not in response.text

    one_request()
    _assert_only_whole_valid_items_stored(server)


def test_grpc_receiver_mutated_payloads_get_ok_or_invalid_argument(
    server: RunningObsvty, channel: grpc.Channel
) -> None:
    @SERVER_FUZZ
    @given(data=st.data(), signal=st.sampled_from(list(Signal)))
    def one_request(data: Any, signal: Signal) -> None:
        # Arrange
        payload = data.draw(mutated(SEED_PROTOBUF[signal]))
        call = channel.unary_unary(SERVICES[signal])

        # Act
        try:
            call(payload, timeout=10)
            code = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            code = exc.code()

        # Assert
        assert code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT)

    one_request()
    _assert_only_whole_valid_items_stored(server)

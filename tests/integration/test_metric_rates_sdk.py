"""Rates and percentiles over time of real SDK metrics: two processes of one service (two
MeterProviders with different resources, one cumulative, one delta) export a counter growing
10/s and a latency histogram over OTLP/gRPC to a real obsvty; the query API answers one line
per process at ~10/s, and histogram percentiles per export from that export's observations.
Two more processes alike in resource are two lines as well (by their start times)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource

from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

EXPORTS = 8
INTERVAL_S = 0.25
RATE = 10.0  # per second, in each process
WORKER = {"service.name": "worker"}
TWIN = {"service.name": "twin"}
CUMULATIVE = AggregationTemporality.CUMULATIVE


@dataclass
class Process:
    """One process's SDK: its provider, a reader collected by hand, the gRPC exporter."""

    provider: MeterProvider
    reader: InMemoryMetricReader
    exporter: OTLPMetricExporter

    def collect(self) -> MetricsData:
        data = self.reader.get_metrics_data()
        assert data is not None
        return data

    def export(self, data: MetricsData) -> None:
        assert self.exporter.export(data) == MetricExportResult.SUCCESS


def _process(
    obsvty: RunningObsvty, resource: dict[str, str], temporality: AggregationTemporality
) -> Process:
    reader = InMemoryMetricReader(
        preferred_temporality={Counter: temporality, Histogram: temporality}
    )
    provider = MeterProvider(
        resource=Resource.create(resource),
        metric_readers=[reader],
        views=[
            View(
                instrument_name="job.duration",
                aggregation=ExplicitBucketHistogramAggregation([10.0, 100.0]),
            )
        ],
    )
    exporter = OTLPMetricExporter(endpoint=obsvty.grpc_endpoint, insecure=True, timeout=10)
    return Process(provider, reader, exporter)


@pytest.fixture(scope="module")
def obsvty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningObsvty]:
    """One obsvty for the module: the exports take real time, every test reads the same."""
    with running_obsvty(tmp_path_factory.mktemp("rates")) as server:
        yield server


@pytest.fixture(scope="module")
def exported(obsvty: RunningObsvty) -> int:
    """Both processes count ``RATE`` per second of real time and record 5 ms durations in the
    first half of the exports, 50 ms in the second; returns the time the processes started."""
    processes = [
        _process(obsvty, {**WORKER, "service.instance.id": "a"}, CUMULATIVE),
        _process(obsvty, {**WORKER, "service.instance.id": "b"}, AggregationTemporality.DELTA),
        # two more alike in resource (the SDK adds no service.instance.id by itself)
        _process(obsvty, TWIN, CUMULATIVE),
        _process(obsvty, TWIN, CUMULATIVE),
    ]
    started = time.time_ns()
    try:
        instruments = []
        for p in processes:
            meter = p.provider.get_meter("jobs")
            counter = meter.create_counter("jobs.done")
            counter.add(0)  # the series starts now
            instruments.append((counter, meter.create_histogram("job.duration", unit="ms")))
        last = time.time_ns()
        for i in range(EXPORTS):
            time.sleep(INTERVAL_S)
            now = time.time_ns()
            for counter, durations in instruments:
                counter.add(RATE * (now - last) / 1e9)  # exactly 10/s of the time that passed
                for _ in range(4):
                    durations.record(5.0 if i < EXPORTS // 2 else 50.0)
            # both collected at once (points timed now), then sent: an export's latency on a
            # busy machine must not shift the other process's collection time
            collected = [p.collect() for p in processes]
            for p, data in zip(processes, collected, strict=True):
                p.export(data)
            last = now
    finally:
        for p in processes:
            p.exporter.shutdown()
            p.provider.shutdown()
    obsvty.flush()
    return started


def _series(obsvty: RunningObsvty, name: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(
        f"{obsvty.api_url}/api/v1/metrics/{name}/series", params=params, timeout=10
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_sdk_counter_in_two_processes_rates_ten_per_second_each(
    obsvty: RunningObsvty, exported: int
) -> None:
    # Act
    body = _series(obsvty, "jobs.done", mode="rate", start=str(exported), service="worker")

    # Assert: one line per process, every rate ~10/s (the issue saw 100, 5000, 55, 2505, ...)
    series = body["series"]
    assert [s["resource"]["service.instance.id"] for s in series] == ["a", "b"]
    assert {s["service"] for s in series} == {"worker"}
    for s in series:
        rates = [p["value"] for p in s["samples"]]
        assert len(rates) >= EXPORTS - 1, s["resource"]
        assert rates == [pytest.approx(RATE, rel=0.1)] * len(rates), s["resource"]


def test_sdk_counter_in_two_processes_alike_in_resource_two_lines_by_start_time(
    obsvty: RunningObsvty, exported: int
) -> None:
    # Act
    body = _series(obsvty, "jobs.done", mode="rate", start=str(exported), service="twin")

    # Assert
    series = body["series"]
    assert len(series) == 2
    assert series[0]["resource"] == series[1]["resource"]
    assert series[0]["start_time_unix_nano"] < series[1]["start_time_unix_nano"]
    for s in series:
        rates = [p["value"] for p in s["samples"]]
        assert len(rates) >= EXPORTS - 1
        assert rates == [pytest.approx(RATE, rel=0.1)] * len(rates)


def test_sdk_counter_rates_with_a_step_stay_at_ten_per_second(
    obsvty: RunningObsvty, exported: int
) -> None:
    # Act: steps smaller than the export interval, then larger
    fine = _series(obsvty, "jobs.done", mode="rate", start=str(exported), step="100ms")
    coarse = _series(obsvty, "jobs.done", mode="rate", start=str(exported), step="1s")

    # Assert
    for body in (fine, coarse):
        for s in body["series"]:
            rates = [p["value"] for p in s["samples"] if p["value"] is not None]
            assert rates, s["resource"]
            assert rates == [pytest.approx(RATE, rel=0.1)] * len(rates)


def test_sdk_histogram_percentiles_per_export_not_cumulative(
    obsvty: RunningObsvty, exported: int
) -> None:
    # Act
    body = _series(obsvty, "job.duration", start=str(exported), percentiles="50")

    # Assert: each export saw 4 observations; the median follows the durations of that export
    # at once (5 ms, then 50 ms), in the cumulative and in the delta process alike
    for s in body["series"]:
        samples = [p for p in s["samples"] if p["count"] is not None]
        assert [p["count"] for p in samples] == [4] * EXPORTS, s["resource"]
        medians = [p["percentiles"]["p50"] for p in samples]
        half = EXPORTS // 2
        assert all(m <= 10 for m in medians[:half]), medians
        assert all(10 < m <= 100 for m in medians[half:]), medians

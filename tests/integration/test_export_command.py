"""``obsvty export`` against a real running obsvty: every line is one OTLP/JSON export request,
posting the lines to a second obsvty recreates the data, pagination (small pages, ties, traces
partly before ``--since``, metric windows split) neither skips nor repeats, and failures exit 1
with a clear message."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from obsvty.adapters.api.export_client import (
    ExportError,
    QueryApiClient,
    export_logs,
    export_metrics,
    export_traces,
)
from obsvty.cli import main
from obsvty.export_command import parse_since, run_export
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

T0 = 1_750_000_000_000_000_000
S = 1_000_000_000
SINCE, UNTIL = T0, T0 + 3600 * S
_PATHS = {"traces": "/v1/traces", "logs": "/v1/logs", "metrics": "/v1/metrics"}


def _kv(key: str, value: Any) -> dict[str, Any]:
    typed = {str: "stringValue", int: "intValue", float: "doubleValue", bool: "boolValue"}
    return {"key": key, "value": {typed[type(value)]: value}}


def _resource(service: str) -> dict[str, Any]:
    return {"attributes": [_kv("service.name", service), _kv("host.name", "box")]}


def _traces_request() -> dict[str, Any]:
    """25 traces of 3 spans in the range; traces 0-2 share one start time (ties); trace 25
    starts before SINCE with its last span inside; trace 26 lies wholly before SINCE."""
    spans = []
    for t in range(27):
        first = T0 + 60 * S if t < 3 else T0 + (t * 100 + 7) * S
        if t == 25:
            first = T0 - 30 * S
        if t == 26:
            first = T0 - 300 * S
        for i in range(3):
            start = first + i * 20 * S if t == 25 else first + i * 1000
            spans.append(
                {
                    "traceId": f"{t + 1:032x}",
                    "spanId": f"{(t + 1) * 16 + i:016x}",
                    "parentSpanId": "" if i == 0 else f"{(t + 1) * 16:016x}",
                    "name": f"op-{i}",
                    "kind": 2,
                    "startTimeUnixNano": str(start),
                    "endTimeUnixNano": str(start + 5000),
                    "attributes": [_kv("http.status_code", 200 + i), _kv("ratio", 0.5)],
                    "status": {"code": 2 if i == 2 else 0},
                }
            )
    return {
        "resourceSpans": [
            {
                "resource": _resource("shop"),
                "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}],
            }
        ]
    }


def _logs_request() -> dict[str, Any]:
    """23 records in the range, several at the same time; one before SINCE."""
    records = [
        {
            "timeUnixNano": str(T0 + (i // 4) * S),
            "severityNumber": 9 + i % 8,
            "body": {"stringValue": f"line {i}"},
            "attributes": [_kv("n", i)],
        }
        for i in range(23)
    ]
    records.append({"timeUnixNano": str(T0 - S), "body": {"stringValue": "too old"}})
    return {
        "resourceLogs": [
            {
                "resource": _resource("shop"),
                "scopeLogs": [{"scope": {"name": "s"}, "logRecords": records}],
            }
        ]
    }


def _metrics_request() -> dict[str, Any]:
    """Two metrics: a gauge of 40 points, a monotonic sum of 5; one gauge point before SINCE."""
    gauge = [
        {
            "timeUnixNano": str(T0 + i * 10 * S),
            "asDouble": i / 2,
            "attributes": [_kv("core", i % 2)],
        }
        for i in range(40)
    ] + [{"timeUnixNano": str(T0 - S), "asDouble": -1.0}]
    total = [
        {"startTimeUnixNano": str(T0), "timeUnixNano": str(T0 + i * S), "asInt": str(i * 3)}
        for i in range(1, 6)
    ]
    metrics = [
        {"name": "cpu.temp", "unit": "Cel", "gauge": {"dataPoints": gauge}},
        {
            "name": "requests",
            "unit": "1",
            "sum": {"dataPoints": total, "aggregationTemporality": 2, "isMonotonic": True},
        },
    ]
    return {
        "resourceMetrics": [
            {
                "resource": _resource("shop"),
                "scopeMetrics": [{"scope": {"name": "s"}, "metrics": metrics}],
            }
        ]
    }


def _post(server: RunningObsvty, signal: str, body: bytes) -> None:
    answer = httpx.post(
        server.http_url + _PATHS[signal],
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningObsvty]:
    with running_obsvty(tmp_path_factory.mktemp("source")) as server:
        _post(server, "traces", json.dumps(_traces_request()).encode())
        _post(server, "logs", json.dumps(_logs_request()).encode())
        _post(server, "metrics", json.dumps(_metrics_request()).encode())
        server.flush()
        yield server


def _items(lines: list[bytes], signal: str) -> list[str]:
    """Every span / log record / data point of the lines, with its resource, scope and metric
    (without its points), as sorted canonical JSON: compares exports regardless of grouping."""
    out = []
    for line in lines:
        request = json.loads(line)
        top = {"traces": "resourceSpans", "logs": "resourceLogs", "metrics": "resourceMetrics"}
        for resource_item in request[top[signal]]:
            resource = resource_item.get("resource")
            scope_key = {"traces": "scopeSpans", "logs": "scopeLogs", "metrics": "scopeMetrics"}
            for scope_item in resource_item[scope_key[signal]]:
                scope = scope_item.get("scope")
                if signal == "traces":
                    items = [(None, s) for s in scope_item["spans"]]
                elif signal == "logs":
                    items = [(None, r) for r in scope_item["logRecords"]]
                else:
                    items = []
                    for metric in scope_item["metrics"]:
                        kind = next(k for k in ("gauge", "sum") if k in metric)
                        shape = {k: v for k, v in metric[kind].items() if k != "dataPoints"}
                        head = {k: v for k, v in metric.items() if k != kind} | {kind: shape}
                        items += [(head, p) for p in metric[kind]["dataPoints"]]
                out += [json.dumps([resource, scope, m, i], sort_keys=True) for m, i in items]
    return sorted(out)


def _cli(
    argv: list[str], capsysbinary: pytest.CaptureFixture[bytes]
) -> tuple[int, list[bytes], str]:
    code = main(argv)
    captured = capsysbinary.readouterr()
    return code, captured.out.splitlines(), captured.err.decode()


@pytest.mark.parametrize(
    ("signal", "lines", "items"), [("traces", 26, 78), ("logs", 1, 23), ("metrics", 2, 45)]
)
def test_export_cli_every_signal_reposted_recreates_data(
    source: RunningObsvty,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    signal: str,
    lines: int,
    items: int,
) -> None:
    # Arrange
    window = ["--since", str(SINCE), "--until", str(UNTIL)]

    # Act: export from the source, post every line to a fresh obsvty, export that again
    code, exported, err = _cli(
        ["export", "--signal", signal, *window, "--api-url", source.api_url], capsysbinary
    )
    with running_obsvty(tmp_path) as target:
        for line in exported:
            _post(target, signal, line)
        target.flush()
        code_again, again, _ = _cli(
            ["export", "--signal", signal, *window, "--api-url", target.api_url], capsysbinary
        )

    # Assert: one request per line; the items in the range, each once; the same in the copy
    assert code == 0, err
    assert code_again == 0
    assert len(exported) == lines
    assert f"{lines} {signal} export requests written" in err
    original = _items(exported, signal)
    assert len(original) == items
    assert len(set(original)) == items
    assert _items(again, signal) == original


def test_export_traces_small_pages_ties_and_early_spans_each_trace_once(
    source: RunningObsvty,
) -> None:
    # Arrange: pages of 4 traces; 3 traces tie at one start time; trace 25 began before SINCE
    client = QueryApiClient(source.api_url)

    # Act
    lines = list(export_traces(client, SINCE, UNTIL, page=4))

    # Assert: 26 traces (not the one wholly before SINCE), newest first, none twice, whole
    trace_ids = [
        json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"]
        for line in lines
    ]
    assert len(trace_ids) == 26
    assert len(set(trace_ids)) == 26
    assert f"{27:032x}" not in trace_ids
    assert trace_ids[0] == f"{25:032x}"  # the newest: trace 24 (id 25) starts at T0 + 2407 s
    assert all(len(_items([line], "traces")) == 3 for line in lines)
    assert trace_ids.index(f"{26:032x}") > trace_ids.index(
        f"{11:032x}"
    )  # keyed by its span in range


def test_export_traces_more_ties_than_a_page_clear_error(source: RunningObsvty) -> None:
    # Arrange: 3 traces start at the same nanosecond, a page holds 2 (the real page holds 1000)
    client = QueryApiClient(source.api_url)

    # Act / Assert
    with pytest.raises(ExportError, match="2 or more traces start at the same nanosecond"):
        list(export_traces(client, SINCE, UNTIL, page=2))


def test_export_logs_small_pages_with_ties_each_record_once(source: RunningObsvty) -> None:
    # Arrange
    client = QueryApiClient(source.api_url)

    # Act
    lines = list(export_logs(client, SINCE, UNTIL, page=3))

    # Assert
    bodies = _items(lines, "logs")
    assert len(lines) == 8  # 23 records, 3 per page
    assert len(bodies) == 23
    assert len(set(bodies)) == 23
    assert not any("too old" in b for b in bodies)


def test_export_metrics_window_at_the_limit_split_nothing_cut_off(source: RunningObsvty) -> None:
    # Arrange: at most 7 points per answer, so the 40 gauge points need split windows
    client = QueryApiClient(source.api_url)

    # Act
    lines = list(export_metrics(client, SINCE, UNTIL, max_points=7))

    # Assert
    points = _items(lines, "metrics")
    assert len(points) == 45
    assert len(set(points)) == 45
    assert len(lines) > 2
    assert all(len(_items([line], "metrics")) < 7 for line in lines)


def test_export_server_unreachable_exit_1_with_reason() -> None:
    # Arrange: a port nobody listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out, err = io.BytesIO(), io.StringIO()

    # Act
    code = run_export("logs", "1h", "now", f"http://127.0.0.1:{port}", None, out, err)

    # Assert
    assert code == 1
    assert "cannot reach the obsvty query API" in err.getvalue()
    assert out.getvalue() == b""


def test_export_refused_without_token_exit_1_with_status(tmp_path: Path) -> None:
    # Arrange
    with running_obsvty(tmp_path, obsvty_query_tokens="s3cret") as server:
        out, err = io.BytesIO(), io.StringIO()

        # Act
        refused = run_export("traces", "1h", "now", server.api_url, None, out, err)
        allowed = run_export(
            "traces", "1h", "now", server.api_url, "s3cret", io.BytesIO(), io.StringIO()
        )

    # Assert
    assert refused == 1
    assert "HTTP 401" in err.getvalue()
    assert allowed == 0


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [("soon", "now", "since"), ("1h", "yesterday", "until"), ("now", "now-1h", "must be before")],
)
def test_export_bad_time_exit_1_with_reason(since: str, until: str, message: str) -> None:
    # Arrange
    err = io.StringIO()

    # Act
    code = run_export("logs", since, until, "http://127.0.0.1:9", None, io.BytesIO(), err)

    # Assert
    assert code == 1
    assert message in err.getvalue()


def test_export_api_url_not_http_refused() -> None:
    # Act / Assert
    with pytest.raises(ExportError, match="not an http"):
        QueryApiClient("file:///etc/passwd")


def test_parse_since_duration_time_or_nanoseconds() -> None:
    # Act / Assert
    assert parse_since("1h", 10 * 3600 * S) == 9 * 3600 * S
    assert parse_since("now-30m", 3600 * S) == 1800 * S
    assert parse_since("1700000000000000000", 0) == 1_700_000_000_000_000_000
    assert parse_since("1970-01-01T00:00:01Z", 0) == S

"""``make bench`` end to end, briefly: a real obsvty subprocess, real gRPC and HTTP load, a
graceful stop, and the check that every acknowledged span reached the DuckDB file; the same for
log records and data points (counted), OTLP/JSON, the null sink and ``--compare``. No timing
is asserted: only what the report says was sent, acknowledged and stored."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import grpc
import pytest
from bench import null_sink
from bench.ingest import main
from bench.load import GrpcClient, HttpClient, RawHttpClient
from bench.payloads import ENCODINGS, SIGNALS, Signal, factory_for
from bench.server import NullSinkProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("protocol", "mode"),
    [
        ("grpc", ["--rate", "20"]),
        ("http", ["--concurrency", "2"]),
        ("http", ["--concurrency", "2", "--http-client", "httpx"]),
    ],
)
def test_bench_ingest_short_run_every_acknowledged_span_is_stored(
    tmp_path: Path, protocol: str, mode: list[str]
) -> None:
    # Arrange
    output = tmp_path / "report.json"

    # Act
    code = main(
        [
            "--protocol",
            protocol,
            *mode,
            "--duration",
            "1",
            "--warmup",
            "0",
            "--spans-per-request",
            "20",
            "--env",
            "FLUSH_INTERVAL_MS=100",
            "--output",
            str(output),
        ]
    )

    # Assert
    report = json.loads(output.read_text())
    assert code == 0
    assert report["requests"]["errors"] == {}
    assert report["requests"]["acknowledged"] == report["requests"]["sent"] > 0
    assert report["store"]["acknowledged_spans"] == report["requests"]["acknowledged"] * 20
    assert report["store"]["stored_rows"] == report["store"]["acknowledged_spans"]
    assert report["store"]["missing"] == report["store"]["duplicates"] == 0
    assert report["server"]["exit_code"] == 0
    assert report["server"]["rss_peak_mib"] > 0
    assert report["config"]["server_settings"] == {"FLUSH_INTERVAL_MS": "100"}


def test_bench_ingest_bad_env_pair_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # Act
    with pytest.raises(SystemExit) as exit_info:
        main(["--env", "NOEQUALS"])

    # Assert
    assert exit_info.value.code == 2
    assert "KEY=VALUE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("signal", "transport"),
    [("logs", ["--protocol", "grpc"]), ("metrics", ["--protocol", "http", "--encoding", "json"])],
)
def test_bench_ingest_logs_and_metrics_every_acknowledged_item_is_stored(
    tmp_path: Path, signal: str, transport: list[str]
) -> None:
    # Arrange
    output = tmp_path / "report.json"

    # Act
    code = main(
        [
            "--signal",
            signal,
            *transport,
            "--concurrency",
            "2",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--items-per-request",
            "20",
            "--env",
            "FLUSH_INTERVAL_MS=100",
            "--output",
            str(output),
        ]
    )

    # Assert
    report = json.loads(output.read_text())
    assert code == 0
    assert report["config"]["signal"] == signal
    assert report["requests"]["errors"] == {}
    assert report["requests"]["acknowledged"] == report["requests"]["sent"] > 0
    store = report["store"]
    assert store["acknowledged_items"] == report["requests"]["acknowledged"] * 20
    assert store["stored_rows"] == store["acknowledged_items"]
    assert store["missing"] == store["duplicates"] == 0
    assert report["server"]["exit_code"] == 0


def test_bench_ingest_null_sink_target_acknowledges_everything(tmp_path: Path) -> None:
    # Arrange
    output = tmp_path / "report.json"

    # Act
    code = main(
        [
            "--target",
            "null-sink",
            "--protocol",
            "http",
            "--encoding",
            "json",
            "--concurrency",
            "2",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--items-per-request",
            "20",
            "--output",
            str(output),
        ]
    )

    # Assert
    report = json.loads(output.read_text())
    assert code == 0
    assert report["config"]["target"] == "null-sink"
    assert report["requests"]["errors"] == {}
    assert report["requests"]["acknowledged"] == report["requests"]["sent"] > 0
    assert report["store"] is None
    assert report["server"]["exit_code"] == 0
    assert report["server"]["cpu_us_per_item"] > 0


def test_bench_ingest_compare_alternates_obsvty_and_the_null_sink(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    output = tmp_path / "compare.json"

    # Act
    code = main(
        [
            "--compare",
            "--rounds",
            "2",
            "--protocol",
            "grpc",
            "--concurrency",
            "2",
            "--duration",
            "0.5",
            "--warmup",
            "0",
            "--items-per-request",
            "20",
            "--output",
            str(output),
        ]
    )

    # Assert
    comparison = json.loads(output.read_text())
    assert code == 0
    assert comparison["healthy"] is True
    assert [r["order"] for r in comparison["rounds"]] == [
        ["obsvty", "null-sink"],
        ["null-sink", "obsvty"],
    ]
    for round_ in comparison["rounds"]:
        obsvty, sink = round_["reports"]["obsvty"], round_["reports"]["null-sink"]
        assert obsvty["store"]["missing"] == obsvty["store"]["duplicates"] == 0
        assert sink["store"] is None
        assert sink["requests"]["acknowledged"] == sink["requests"]["sent"] > 0
        assert round_["ratio"] == pytest.approx(
            obsvty["throughput"]["items_per_s"] / sink["throughput"]["items_per_s"]
        )
    assert comparison["median"]["ratio"] > 0
    printed = capsys.readouterr().out
    assert "obsvty vs null sink" in printed
    assert "median of rounds" in printed


def test_bench_ingest_json_over_grpc_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    # Act
    with pytest.raises(SystemExit) as exit_info:
        main(["--protocol", "grpc", "--encoding", "json"])

    # Assert
    assert exit_info.value.code == 2
    assert "--encoding json" in capsys.readouterr().err


def test_null_sink_subprocess_answers_every_signal_and_encoding(tmp_path: Path) -> None:
    # Arrange
    async def send_each(sink: NullSinkProcess) -> list[tuple[str | None, int]]:
        outcomes = []
        for signal in SIGNALS:
            factory = factory_for(signal, 10)
            grpc_client = GrpcClient(sink.grpc_target, signal)
            outcome = await grpc_client.send(factory.payload(0))
            await grpc_client.close()
            outcomes.append((outcome.error, outcome.rejected_items))
            for encoding in ENCODINGS:
                for client in (HttpClient, RawHttpClient):
                    http_client = client(sink.http_url, 1, signal, encoding)
                    outcome = await http_client.send(factory.body(encoding)(1))
                    await http_client.close()
                    outcomes.append((outcome.error, outcome.rejected_items))
        return outcomes

    # Act
    with NullSinkProcess(tmp_path) as sink:
        outcomes = asyncio.run(send_each(sink))
        stop = sink.stop()

    # Assert
    assert outcomes == [(None, 0)] * 15
    assert stop.exit_code == 0
    log = sink.log_path.read_text()
    assert "traces/grpc 1" in log
    assert "metrics/http-json 2" in log


@pytest.mark.parametrize("signal", SIGNALS)
def test_null_sink_grpc_answers_success_and_refuses_undecodable_bytes(signal: Signal) -> None:
    # Arrange
    async def exchange() -> tuple[bytes, grpc.StatusCode]:
        server = null_sink.create_grpc_server()
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                service = null_sink._SIGNALS[signal][0]
                export = channel.unary_unary(f"/{service}/Export")
                answer = await export(factory_for(signal, 10).payload(0))
                try:
                    await export(b"\xff\xff\xff")
                except grpc.aio.AioRpcError as exc:
                    return answer, exc.code()
                return answer, grpc.StatusCode.OK
        finally:
            await server.stop(None)

    # Act
    answer, refused = asyncio.run(exchange())

    # Assert
    assert answer == b""
    assert refused is grpc.StatusCode.INVALID_ARGUMENT


def test_raw_http_client_reads_each_answer_and_reopens_a_closed_connection() -> None:
    # Arrange: a server that answers 200 and closes, then 503, then a partial success
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 41\r\n\r\n"
        b'{"partialSuccess":{"rejectedSpans":"2"}}\n',
    ]
    connections = []
    bodies = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            bodies.append(await reader.readexactly(length))
            answer = answers.pop(0)
            writer.write(answer)
            await writer.drain()
            if b"close" in answer:
                break
        writer.close()

    async def exchange() -> list[tuple[str | None, bool, int]]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = RawHttpClient(f"http://127.0.0.1:{port}", 1, "traces", "json")
        try:
            outcomes = [await client.send(b'{"n":%d}' % n) for n in range(3)]
        finally:
            await client.close()
            server.close()
        return [(o.error, o.overloaded, o.rejected_items) for o in outcomes]

    # Act
    outcomes = asyncio.run(exchange())

    # Assert
    assert outcomes == [(None, False, 0), ("http 503", True, 0), (None, False, 2)]
    assert bodies == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
    assert len(connections) == 2

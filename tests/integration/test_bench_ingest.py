"""``make bench`` end to end, briefly: a real obsvty subprocess, real gRPC and HTTP load, a
graceful stop, and the check that every acknowledged span reached the DuckDB file. No timing
is asserted: only what the report says was sent, acknowledged and stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench.ingest import main

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("protocol", "mode"),
    [("grpc", ["--rate", "20"]), ("http", ["--concurrency", "2"])],
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

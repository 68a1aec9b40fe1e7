"""``examples/otlp_client.py`` run as users run it, against a real obsvty; its data must arrive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.duckdb_rows import rows
from tests.support.server import RunningObsvty

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "otlp_client.py"


def test_example_client_telemetry_arrives_in_obsvty(obsvty: RunningObsvty) -> None:
    # Arrange
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{obsvty.grpc_endpoint}"}

    # Act
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--requests", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    obsvty.flush()
    con = obsvty.app.store.cursor()

    # Assert
    assert done.returncode == 0, done.stderr
    spans = rows(con, "spans")
    assert sorted(s["name"] for s in spans) == ["INSERT orders"] * 3 + ["POST /checkout"] * 3
    assert {s["service_name"] for s in spans} == {"example-shop"}
    assert [s["status_message"] for s in spans if s["status_code"] == 2] == ["payment declined"]
    logs = rows(con, "logs")
    assert sorted(log["body"] for log in logs) == [
        "order 0 placed",
        "order 1 placed",
        "order 2 failed",
    ]
    assert all(len(log["trace_id"]) == 32 for log in logs)
    points = rows(con, "metric_points")
    requests = {
        p["attributes"]["outcome"]: p["value_int"]
        for p in points
        if p["metric_name"] == "checkout.requests"
    }
    assert requests == {"ok": 2, "error": 1}
    assert sum(p["count"] for p in points if p["metric_name"] == "checkout.duration") == 3

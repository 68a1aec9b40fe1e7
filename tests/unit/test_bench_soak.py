"""The soak's own logic: what it reads from a ``/metrics`` scrape, and its targets' verdicts on
per-window figures."""

from __future__ import annotations

import argparse

import pytest
from bench.soak import (
    Window,
    add_cpu_per_span,
    deleted_spans_logged,
    judge,
    parser,
    server_gauges,
    server_settings,
)
from bench.verify import StoreCheck
from prometheus_client import CollectorRegistry, generate_latest

from obsvty.adapters.storage.duckdb.memory import MemoryUsage
from obsvty.adapters.telemetry.metrics import ObsvtyMetrics, StateCollector, StateSources

pytestmark = pytest.mark.unit

MiB = 1024 * 1024
ALL_STORED = StoreCheck(3000, stored_rows=3000, missing=0, duplicates=0, unacknowledged_stored=0)


def _args(*argv: str) -> argparse.Namespace:
    return parser().parse_args(["--window", "30", "--warmup-windows", "1", *argv])


def _row(t_s: int, **changes: float | None) -> dict[str, float | None]:
    row: dict[str, float | None] = {
        "t_s": t_s,
        "seconds": 30.0,
        "offered_spans_per_s": 100,
        "spans_per_s": 100,
        "p99_ms": 20.0,
        "refusals": 0,
        "errors": 0,
        "rss_mib": 200.0,
        "rss_max_mib": 210.0,
        "lag_ms": 3.0,
    }
    row.update(changes)
    return row


def _steady(windows: int = 7) -> list[dict[str, float | None]]:
    return [_row(30 * i) for i in range(windows)]


def _failed(verdicts: list[object]) -> list[str]:
    return [v.target for v in verdicts if not v.ok]  # type: ignore[attr-defined]


def test_judge_steady_run_every_target_passes() -> None:
    # Arrange
    rows = _steady()

    # Act
    verdicts = judge(rows, _args(), ALL_STORED, 0.0, 0)

    # Assert
    assert _failed(verdicts) == []
    assert len(verdicts) == 8


def test_judge_window_with_refusals_fails_refusal_and_flat_rate_targets() -> None:
    # Arrange: one window refused a tenth of what was offered
    rows = _steady()
    rows[4] = _row(120, spans_per_s=90, refusals=30)

    # Act
    failed = _failed(judge(rows, _args(), ALL_STORED, 0.0, 0))

    # Assert
    assert failed == [
        "no window with a refusal or error",
        "accepted rate flat (every full window accepted what was offered)",
    ]


def test_judge_one_slow_window_fails_the_latency_target() -> None:
    # Arrange
    rows = _steady()
    rows[3] = _row(90, p99_ms=100.0)

    # Act
    verdicts = judge(rows, _args(), ALL_STORED, 0.0, 0)

    # Assert
    assert _failed(verdicts) == ["p99 < 100 ms in every window"]
    assert "over in windows [90]" in verdicts[0].detail


def test_judge_rss_growth_and_peak_are_judged_after_warm_up() -> None:
    # Arrange: a high first (warm-up) window is ignored; then +10 % and a peak of 300 MB
    rows = [_row(30 * i, rss_mib=r) for i, r in enumerate([400, 200, 200, 205, 210, 220, 220])]
    rows[5]["rss_max_mib"] = 300 * 1000 * 1000 / MiB

    # Act
    failed = _failed(judge(rows, _args(), ALL_STORED, 0.0, 0))

    # Assert
    assert failed == ["RSS late median <= early median + 5%", "RSS after warm-up < 250 MB"]


@pytest.mark.parametrize(
    ("argv", "missing", "deleted", "ok"),
    [
        ((), 0, 0.0, True),
        ((), 1, 0.0, False),
        (("--max-db-size", "300MB"), 500, 800.0, True),
        (("--retention", "5m"), 500, 100.0, False),
    ],
)
def test_judge_missing_spans_are_allowed_only_as_far_as_retention_deleted(
    argv: tuple[str, ...], missing: int, deleted: float, ok: bool
) -> None:
    # Arrange
    check = StoreCheck(3000, 3000 - missing, missing, 0, 0)

    # Act
    verdicts = judge(_steady(), _args(*argv), check, deleted, 0)

    # Assert
    stored = next(v for v in verdicts if v.target.startswith("every acknowledged span"))
    assert stored.ok is ok


@pytest.mark.parametrize(
    ("store_mib", "ok"),
    [
        ((100, 200, 280), False),  # never reached the 286 MiB cap
        ((200, 300, 400), True),  # within 286 MiB + 50 %
        ((200, 300, 450), False),  # over 429 MiB once reached
    ],
)
def test_judge_size_cap_must_be_reached_then_held(store_mib: tuple[float, ...], ok: bool) -> None:
    # Arrange
    rows = [_row(30 * i, store_mib=m) for i, m in enumerate(store_mib)]

    # Act
    verdicts = judge(rows, _args("--max-db-size", "300MB"), ALL_STORED, 30.0, 0)

    # Assert
    cap = next(v for v in verdicts if v.target.startswith("size cap"))
    assert cap.ok is ok
    assert len(verdicts) == 9


def test_judge_duplicates_unclean_exit_and_generator_lag_fail() -> None:
    # Arrange
    rows = _steady()
    rows[2]["lag_ms"] = 2500.0
    doubled = StoreCheck(3000, 3001, 0, 1, 0)

    # Act
    failed = _failed(judge(rows, _args(), doubled, 0.0, None))

    # Assert
    assert failed == [
        "every acknowledged span stored once",
        "clean exit",
        "generator kept its schedule (lag < 100 ms; else the run is invalid)",
    ]


def test_server_gauges_reads_memory_store_size_and_deleted_spans() -> None:
    # Arrange
    registry = CollectorRegistry()
    registry.register(
        StateCollector(
            StateSources(
                store_size=lambda: 300 * MiB,
                duckdb_memory=lambda: MemoryUsage(120 * MiB, 0),
                retention_deleted=lambda: {"spans": 4500, "logs": 7},
            )
        )
    )
    text = generate_latest(registry).decode()

    # Act
    gauges = server_gauges(text)

    # Assert
    assert gauges == {
        "store_mib": 300.0,
        "duckdb_memory_mib": 120.0,
        "duckdb_temp_mib": 0.0,
        "deleted_spans": 4500.0,
    }


def test_server_gauges_checkpoint_histogram_gives_count_and_those_over_a_second() -> None:
    # Arrange: the server's own histogram, as obsvty registers it
    metrics = ObsvtyMetrics()
    for seconds in (0.2, 0.3, 0.9, 1.4, 3.0):
        metrics.checkpoint_seconds().observe(seconds)
    text = generate_latest(metrics.registry).decode()

    # Act
    gauges = server_gauges(text)

    # Assert
    assert gauges == {"checkpoints": 5.0, "slow_checkpoints": 2.0}


def test_server_settings_retention_options_then_env_overrides() -> None:
    # Arrange
    args = _args("--max-db-size", "300MB", "--retention-interval", "30", "--env", "A=1")

    # Act
    settings = server_settings(args, 4000)

    # Assert
    assert settings == {
        "OBSVTY_API_PORT": "4000",
        "LOG_LEVEL": "INFO",
        "OBSVTY_MAX_DB_SIZE": "300MB",
        "RETENTION_INTERVAL_S": "30.0",
        "A": "1",
    }


def test_add_cpu_per_span_divides_each_windows_cpu_by_its_accepted_spans() -> None:
    # Arrange: 3 s then 6 s of server CPU over 3,000 accepted spans per window
    rows = [_row(0, cpu_s=3.0), _row(30, cpu_s=9.0), _row(60, cpu_s=None)]

    # Act
    add_cpu_per_span(rows, 100)

    # Assert
    assert [r["cpu_us_per_span"] for r in rows] == [1000.0, 2000.0, None]


def test_window_summary_rss_split_anonymous_is_rss_less_file_mapped() -> None:
    # Arrange: 450 MiB resident, 100 MiB of it mapped from shared libraries
    window = Window(started_s=0.0, seconds=30.0, rss_mib=450.0, rss_file_mib=100.0)

    # Act
    summary = window.summary(spans_per_request=100)

    # Assert
    assert summary["rss_mib"] == 450.0
    assert summary["rss_anon_mib"] == 350.0


def test_deleted_spans_logged_sums_every_pass_in_text_and_json_lines() -> None:
    # Arrange
    log = (
        "2026-12-07 INFO obsvty.application.retention retention deleted 40 spans, 2 logs, "
        "0 metric_points\n"
        '{"level": "INFO", "message": "retention deleted 2 spans, 0 logs, 0 metric_points"}\n'
        "2026-12-07 WARNING obsvty.application.retention store uses 10 bytes\n"
    )

    # Act
    deleted = deleted_spans_logged(log)

    # Assert
    assert deleted == 42

"""The per-component settings groups: each reads the same environment variables as before and
hands its factory exactly what it needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsvty.adapters.buffer.memory import OverflowPolicy
from obsvty.adapters.security.ratelimit import Rate
from obsvty.application.ingest import AckMode
from obsvty.config import load_settings
from obsvty.domain.model import Signal
from obsvty.ports.store import StoreError

pytestmark = pytest.mark.unit


def test_settings_groups_environment_names_reach_their_groups(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Arrange
    for name, value in {
        "OTLP_GRPC_PORT": "5317",
        "OBSVTY_API_HOST": "127.0.0.2",
        "OBSVTY_DB_PATH": str(tmp_path / "g.duckdb"),
        "DUCKDB_MEMORY_LIMIT": "1GB",
        "FLUSH_INTERVAL_MS": "250",
        "ACK_MODE": "durable",
        "OBSVTY_RETENTION": "2d",
        "OBSVTY_REDACTION_DROP_KEYS": " password , token ",
    }.items():
        monkeypatch.setenv(name, value)

    # Act
    settings = load_settings()

    # Assert
    assert settings.receivers().grpc_port == 5317
    assert settings.query_api().host == "127.0.0.2"
    assert settings.duckdb().path == tmp_path / "g.duckdb"
    assert settings.duckdb().memory_limit == 1_000_000_000
    assert settings.buffer().flush_interval_s == 0.25
    assert settings.buffer().ack_mode is AckMode.DURABLE
    assert settings.operations().retention_age_s == 2 * 86400
    assert settings.operations().redaction.drop_keys == ["password", "token"]
    assert settings.operations().self_tracing_endpoint is None


def test_settings_mongodb_group_takes_obsvty_retention_over_its_own_ttl() -> None:
    # Arrange
    settings = load_settings(
        mongodb_uri="mongodb://db.example:27017",
        mongodb_retention_days=30,
        obsvty_retention="36h",
        mongodb_cloud_uri="mongodb://cloud.example:27017",
    )

    # Act
    group = settings.mongodb()

    # Assert
    assert group.connection.uri == "mongodb://db.example:27017"
    assert group.connection.retention_days == 1.5
    assert group.publish_watermark is True


def test_settings_mongodb_group_without_uri_raises_store_error_naming_the_variable() -> None:
    # Arrange
    settings = load_settings(obsvty_storage="mongodb")

    # Act / Assert
    with pytest.raises(StoreError, match="needs MONGODB_URI"):
        settings.mongodb()


def test_settings_sync_group_without_cloud_uri_is_none_and_with_it_targets_the_cloud() -> None:
    # Arrange
    local = load_settings()
    synced = load_settings(
        mongodb_cloud_uri="mongodb://cloud.example:27017",
        mongodb_cloud_database="replica",
        sync_interval_ms=50,
    )

    # Act
    none, group = local.sync(), synced.sync()

    # Assert
    assert none is None
    assert group is not None
    assert (group.target.uri, group.target.database) == ("mongodb://cloud.example:27017", "replica")
    assert group.interval_s == 0.05


def test_settings_buffer_group_marks_an_explicit_overflow_policy() -> None:
    # Arrange / Act
    default = load_settings().buffer()
    explicit = load_settings(buffer_overflow_policy="drop_oldest").buffer()

    # Assert
    assert (default.overflow_policy, default.overflow_policy_set) == (OverflowPolicy.REJECT, False)
    assert (explicit.overflow_policy, explicit.overflow_policy_set) == (
        OverflowPolicy.DROP_OLDEST,
        True,
    )


def test_settings_security_group_rates_default_their_burst_to_the_rate_rounded_up() -> None:
    # Arrange
    settings = load_settings(
        rate_limit_logs_rps=2.5, rate_limit_traces_rps=10, rate_limit_traces_burst=3
    )

    # Act
    rates = settings.security().rates

    # Assert
    assert rates == {Signal.LOGS: Rate(2.5, 3), Signal.TRACES: Rate(10, 3)}

"""DUCKDB_MEMORY_LIMIT: validated at start-up, applied by the DuckDB store; DuckDB's own memory
read for the ``obsvty_duckdb_*`` gauges, and parsed back from ``/metrics`` by the soak."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from bench.payloads import PayloadFactory
from bench.soak import duckdb_memory_mib
from prometheus_client import CollectorRegistry, generate_latest

from obsvty import cli
from obsvty.adapters.otlp.codec import TRACES
from obsvty.adapters.storage.duckdb.backend import duckdb_backend
from obsvty.adapters.storage.duckdb.memory import DuckDBMemory, MemoryUsage
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.telemetry.metrics import StateCollector, StateSources
from obsvty.config import MIN_DUCKDB_MEMORY_LIMIT, SettingsError, load_settings, parse_size

pytestmark = pytest.mark.unit


def _memory_limit(store: DuckDBStore) -> str:
    row = store.cursor().execute("SELECT current_setting('memory_limit')").fetchone()
    assert row is not None
    return str(row[0])


def _write_spans(store: DuckDBStore, count: int) -> None:
    body = PayloadFactory(spans_per_request=count).payload(0)
    store.write([TRACES.to_domain(TRACES.parse_protobuf(body)).batch])


def test_settings_duckdb_memory_limit_default_is_bounded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Arrange
    monkeypatch.delenv("DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env

    # Act
    settings = load_settings()

    # Assert
    assert settings.duckdb_memory_limit == "256MB"
    assert parse_size(settings.duckdb_memory_limit) == 256_000_000


@pytest.mark.parametrize(
    ("text", "expected_bytes"),
    [
        ("512MB", 512_000_000),
        ("1GB", 1_000_000_000),
        (" 768 MiB ", 768 * 1024 * 1024),
        ("1.5GiB", int(1.5 * 1024**3)),
        ("64MB", MIN_DUCKDB_MEMORY_LIMIT),
        ("off", None),
        ("0", None),
    ],
)
def test_settings_duckdb_memory_limit_good_value_is_accepted(
    monkeypatch: pytest.MonkeyPatch, text: str, expected_bytes: int | None
) -> None:
    # Arrange
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", text)

    # Act
    settings = load_settings()

    # Assert
    assert settings.duckdb_memory_limit == text.strip()
    assert parse_size(settings.duckdb_memory_limit) == expected_bytes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("lots", "use a number with a unit"),
        ("50%", "use a number with a unit"),
        ("-1GB", "use a number with a unit"),
        ("512 potatoes", "use a number with a unit"),
        ("16MB", "must be at least 64MB"),
    ],
)
def test_settings_duckdb_memory_limit_bad_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, text: str, reason: str
) -> None:
    # Arrange
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", text)

    # Act
    with pytest.raises(SettingsError) as caught:
        load_settings()

    # Assert
    message = str(caught.value)
    assert message.startswith(f"invalid setting DUCKDB_MEMORY_LIMIT={text!r}: ")
    assert reason in message
    assert "\n" not in message


def test_cli_serve_bad_duckdb_memory_limit_prints_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "lots")

    # Act
    code = cli.main(["serve"])

    # Assert
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("obsvty: invalid setting DUCKDB_MEMORY_LIMIT='lots'")
    assert not (tmp_path / "data").exists()  # nothing opened


def test_duckdb_store_allocator_background_threads_are_switched_on(tmp_path: Path) -> None:
    # Arrange: the setting is the process's (one allocator); off, as DuckDB starts
    with duckdb.connect() as other:
        other.execute("SET allocator_background_threads = false")

    # Act
    store = DuckDBStore(tmp_path / "a.duckdb")

    # Assert
    try:
        row = store.cursor().execute("SELECT current_setting('allocator_background_threads')")
        assert row.fetchone() == (True,)
    finally:
        store.close()


def test_duckdb_store_memory_limit_is_applied_and_read_back(tmp_path: Path) -> None:
    # Arrange / Act
    limited = DuckDBStore(tmp_path / "a.duckdb", memory_limit=512_000_000)
    unlimited = DuckDBStore(tmp_path / "b.duckdb")
    fresh = duckdb.connect()

    # Assert
    try:
        assert _memory_limit(limited) == "488.2 MiB"  # 512MB = 512 * 1000^2 bytes
        default = fresh.execute("SELECT current_setting('memory_limit')").fetchone()
        assert default is not None
        assert _memory_limit(unlimited) == default[0]  # None keeps DuckDB's own default
    finally:
        limited.close()
        unlimited.close()
        fresh.close()


def test_duckdb_backend_applies_the_setting_and_spills_beside_the_db_file(
    tmp_path: Path,
) -> None:
    # Arrange
    path = tmp_path / "obsvty.duckdb"
    default_settings = load_settings(obsvty_db_path=path)
    configured = load_settings(obsvty_db_path=tmp_path / "c.duckdb", duckdb_memory_limit="1GiB")

    # Act
    default_store = duckdb_backend(default_settings.duckdb()).store
    configured_store = duckdb_backend(configured.duckdb()).store

    # Assert
    try:
        assert isinstance(default_store, DuckDBStore)
        assert isinstance(configured_store, DuckDBStore)
        assert _memory_limit(default_store) == "244.1 MiB"  # 256MB
        assert _memory_limit(configured_store) == "1.0 GiB"
        temp = default_store.cursor().execute("SELECT current_setting('temp_directory')")
        assert temp.fetchone() == (f"{path}.tmp",)
    finally:
        default_store.close()
        configured_store.close()


def test_duckdb_store_at_the_minimum_limit_writes_a_flush(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "min.duckdb", memory_limit=MIN_DUCKDB_MEMORY_LIMIT)

    # Act
    _write_spans(store, 2000)
    row = store.cursor().execute("SELECT count(*) FROM spans").fetchone()
    store.close()

    # Assert
    assert row == (2000,)


def test_duckdb_memory_reads_buffer_manager_usage_and_none_once_closed(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "m.duckdb", memory_limit=256_000_000)
    memory = DuckDBMemory(store)
    before = memory()
    _write_spans(store, 2000)

    # Act
    after = memory()
    store.close()
    closed = memory()

    # Assert
    assert before is not None
    assert after is not None
    assert after.memory_bytes > before.memory_bytes  # the rows not yet checkpointed
    assert after.temporary_bytes == 0  # far below the limit: nothing spilled
    assert closed is None


def _scrape(sources: StateSources) -> str:
    registry = CollectorRegistry()
    registry.register(StateCollector(sources))
    return generate_latest(registry).decode()


def test_state_collector_exports_duckdb_memory_gauges() -> None:
    # Arrange
    sources = StateSources(duckdb_memory=lambda: MemoryUsage(3 * 1024 * 1024, 1024 * 1024))

    # Act
    text = _scrape(sources)

    # Assert
    assert "# TYPE obsvty_duckdb_memory_bytes gauge" in text
    assert "obsvty_duckdb_memory_bytes 3.145728e+06" in text
    assert "obsvty_duckdb_temporary_storage_bytes 1.048576e+06" in text


def test_state_collector_unreadable_duckdb_memory_exports_no_gauge() -> None:
    # Arrange
    sources = StateSources(duckdb_memory=lambda: None)

    # Act
    text = _scrape(sources)

    # Assert
    assert "obsvty_duckdb" not in text


def test_soak_duckdb_memory_mib_parses_the_gauges_of_a_scrape() -> None:
    # Arrange
    text = _scrape(StateSources(duckdb_memory=lambda: MemoryUsage(300 * 1024 * 1024, 1536 * 1024)))

    # Act
    parsed = duckdb_memory_mib(text)
    absent = duckdb_memory_mib(_scrape(StateSources()))

    # Assert
    assert parsed == {"duckdb_memory_mib": 300.0, "duckdb_temp_mib": 1.5}
    assert absent == {}

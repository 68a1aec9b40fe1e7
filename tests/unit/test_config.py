"""Settings: environment variables, the .env file, defaults, and the one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsvty.config import Settings, SettingsError, load_settings, variable_warnings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the developer's shell or a .env in the checkout leaks into the tests."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(f"OBSVTY_{name.upper()}", raising=False)
    monkeypatch.chdir(tmp_path)


def test_load_settings_defaults_bind_loopback_on_otlp_ports() -> None:
    # Act
    settings = load_settings()

    # Assert
    assert (settings.otlp_grpc_host, settings.otlp_grpc_port) == ("127.0.0.1", 4317)
    assert (settings.otlp_http_host, settings.otlp_http_port) == ("127.0.0.1", 4318)
    assert settings.obsvty_db_path == Path("data/obsvty.duckdb")
    assert settings.buffer_overflow_policy == "reject"


def test_load_settings_environment_variable_is_the_upper_case_field_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.setenv("MAX_BUFFER_SIZE", "123")
    monkeypatch.setenv("BUFFER_OVERFLOW_POLICY", "reject")
    monkeypatch.setenv("LOG_LEVEL", "debug")

    # Act
    settings = load_settings()

    # Assert
    assert settings.max_buffer_size == 123
    assert settings.buffer_overflow_policy == "reject"
    assert settings.log_level == "DEBUG"


def test_load_settings_dotenv_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Arrange
    (tmp_path / ".env").write_text(
        "# comment\nFLUSH_INTERVAL_MS=250\nFLUSH_BATCH_SIZE=77\nOBSVTY_DB_PATH=elsewhere.duckdb\n"
    )
    monkeypatch.setenv("FLUSH_BATCH_SIZE", "88")

    # Act
    settings = load_settings()

    # Assert
    assert settings.flush_interval_ms == 250
    assert settings.flush_batch_size == 88
    assert settings.obsvty_db_path == Path("elsewhere.duckdb")


def test_load_settings_obsvty_prefixed_name_sets_a_setting_without_the_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Arrange: one in the environment, one in .env
    monkeypatch.setenv("OBSVTY_ACK_MODE", "durable")
    (tmp_path / ".env").write_text("OBSVTY_MAX_BUFFER_SIZE=123\n")

    # Act
    settings = load_settings()

    # Assert
    assert settings.ack_mode == "durable"
    assert settings.max_buffer_size == 123
    assert variable_warnings() == []


def test_load_settings_plain_name_wins_over_the_prefixed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.setenv("ACK_MODE", "buffered")
    monkeypatch.setenv("OBSVTY_ACK_MODE", "durable")

    # Act
    settings = load_settings()

    # Assert
    assert settings.ack_mode == "buffered"
    assert variable_warnings() == [
        "ACK_MODE and OBSVTY_ACK_MODE are both set, differently: ACK_MODE is used"
    ]


def test_load_settings_invalid_prefixed_value_names_the_variable_that_was_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.setenv("OBSVTY_MAX_BUFFER_SIZE", "-5")

    # Act
    with pytest.raises(SettingsError) as caught:
        load_settings()

    # Assert
    assert str(caught.value).startswith("invalid setting OBSVTY_MAX_BUFFER_SIZE='-5'")


def test_variable_warnings_unknown_obsvty_variables_reported_with_a_suggestion(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Arrange: a misspelt one in the environment, an invented one in .env
    monkeypatch.setenv("OBSVTY_ACK_MOD", "durable")
    (tmp_path / ".env").write_text("OBSVTY_TURBO=1\n")

    # Act
    warnings = variable_warnings()

    # Assert
    assert warnings == [
        "unknown setting OBSVTY_ACK_MOD is ignored (did you mean OBSVTY_ACK_MODE?)",
        "unknown setting OBSVTY_TURBO is ignored",
    ]


def test_variable_warnings_settings_and_variables_of_other_tools_not_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.setenv("OBSVTY_DB_PATH", "x.duckdb")
    monkeypatch.setenv("OBSVTY_LOG_LEVEL", "debug")
    monkeypatch.setenv("OBSVTY_EXPORT_TOKEN", "tok")  # obsvty export's
    monkeypatch.setenv("ACK_MODE", "durable")
    monkeypatch.setenv("OBSVTY_ACK_MODE", "durable")  # both names, the same value

    # Act
    warnings = variable_warnings()

    # Assert
    assert warnings == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTLP_GRPC_PORT", "65536"),
        ("OTLP_HTTP_PORT", "-1"),
        ("MAX_BUFFER_SIZE", "0"),
        ("FLUSH_INTERVAL_MS", "soon"),
        ("BUFFER_OVERFLOW_POLICY", "block"),
        ("LOG_LEVEL", "LOUD"),
        ("HTTP_MAX_REQUEST_SIZE", "0"),
    ],
)
def test_load_settings_invalid_value_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    # Arrange
    monkeypatch.setenv(name, value)

    # Act
    with pytest.raises(SettingsError) as caught:
        load_settings()

    # Assert
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"invalid setting {name}=")
    assert value in message


def test_load_settings_override_argument_wins_over_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.setenv("OTLP_GRPC_PORT", "1234")

    # Act / Assert
    assert load_settings(otlp_grpc_port=0).otlp_grpc_port == 0


@pytest.mark.parametrize("value", ["0", "00"])
def test_load_settings_unacknowledged_mongodb_write_concern_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Arrange
    monkeypatch.setenv("MONGODB_WRITE_CONCERN", value)

    # Act
    with pytest.raises(SettingsError) as caught:
        load_settings()

    # Assert
    assert "MONGODB_WRITE_CONCERN" in str(caught.value)
    assert "journaled" in str(caught.value)


@pytest.mark.parametrize("value", ["1", "3", "majority", "dc-tag"])
def test_load_settings_acknowledged_mongodb_write_concern_is_kept(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Arrange
    monkeypatch.setenv("MONGODB_WRITE_CONCERN", value)

    # Act
    settings = load_settings()

    # Assert
    assert settings.mongodb_write_concern == value

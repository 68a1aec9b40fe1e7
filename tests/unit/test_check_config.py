from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from obsvty.check_config import MASKED, check_config, masked_value
from obsvty.cli import main

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout


def test_check_config_prints_effective_settings_with_secrets_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.setenv("OBSVTY_INGEST_TOKENS", "tok-very-secret")
    monkeypatch.setenv("OBSVTY_REDACTION_HASH_KEY", "hash-very-secret")
    monkeypatch.setenv("MONGODB_CLOUD_URI", "mongodb://ops:pa55w0rd@db.example:27017/x")
    monkeypatch.setenv("OBSVTY_RETENTION", "72h")
    out = io.StringIO()

    # Act
    code = check_config(out, io.StringIO())

    # Assert
    text = out.getvalue()
    assert code == 0
    assert "very-secret" not in text
    assert "pa55w0rd" not in text
    assert f"mongodb://ops:{MASKED}@db.example:27017/x" in text
    assert "OBSVTY_RETENTION" in text
    assert "259200s   (set)" in text
    assert text.endswith("configuration OK\n")


def test_check_config_json_lists_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    monkeypatch.setenv("LOG_LEVEL", "debug")
    out = io.StringIO()

    # Act
    code = check_config(out, io.StringIO(), as_json=True)

    # Assert
    report = json.loads(out.getvalue())
    assert code == 0
    assert report["LOG_LEVEL"] == {"value": "DEBUG", "source": "set"}
    assert report["OTLP_GRPC_PORT"] == {"value": 4317, "source": "default"}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OBSVTY_RETENTION", "forever", "OBSVTY_RETENTION"),
        ("OBSVTY_REDACTION_PATTERNS", "email:hash", "OBSVTY_REDACTION_HASH_KEY"),
        ("OBSVTY_REDACTION_PATTERNS", "postcode", "unknown built-in pattern"),
        ("OBSVTY_API_HOST", "0.0.0.0", "OBSVTY_ALLOW_UNAUTHENTICATED_QUERY_API=true"),  # noqa: S104
    ],
)
def test_check_config_invalid_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    # Arrange
    monkeypatch.setenv(name, value)
    err = io.StringIO()

    # Act
    code = check_config(io.StringIO(), err)

    # Assert
    assert code == 2
    assert message in err.getvalue()
    assert err.getvalue().count("\n") == 1


def test_check_config_unknown_obsvty_variable_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange: a guess at a name that does not exist would silently change nothing
    monkeypatch.setenv("OBSVTY_ACK_MOD", "durable")
    err = io.StringIO()

    # Act
    code = check_config(io.StringIO(), err)

    # Assert
    assert code == 2
    assert err.getvalue() == (
        "obsvty: unknown setting OBSVTY_ACK_MOD is ignored (did you mean OBSVTY_ACK_MODE?)\n"
    )


def test_cli_check_config_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Act
    code = main(["check-config"])

    # Assert
    assert code == 0
    assert "configuration OK" in capsys.readouterr().out


def test_check_config_redaction_hash_keys_shown_while_the_hash_key_is_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange: a list of attribute keys (not a secret) and the secret hash key
    monkeypatch.setenv("OBSVTY_REDACTION_HASH_KEYS", "user.email,session.*")
    monkeypatch.setenv("OBSVTY_REDACTION_HASH_KEY", "hash-very-secret")
    out = io.StringIO()

    # Act
    code = check_config(out, io.StringIO(), as_json=True)

    # Assert
    report = json.loads(out.getvalue())
    assert code == 0
    assert report["OBSVTY_REDACTION_HASH_KEYS"]["value"] == "user.email,session.*"
    assert report["OBSVTY_REDACTION_HASH_KEY"]["value"] == MASKED


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("obsvty_redaction_hash_keys", False),
        ("obsvty_redaction_hash_key", True),
        ("some_api_key", True),
        ("db_password", True),
        ("extra_tokens", True),
    ],
)
def test_masked_value_string_masked_by_the_names_last_word(name: str, masked: bool) -> None:
    # Act / Assert
    assert (masked_value(name, "value") == MASKED) is masked


def test_masked_value_keeps_token_file_paths_and_plain_values() -> None:
    assert masked_value("obsvty_ingest_tokens_file", Path("/run/tokens")) == "/run/tokens"
    assert masked_value("otlp_grpc_port", 4317) == 4317
    assert masked_value("mongodb_uri", "mongodb://h:27017") == "mongodb://h:27017"

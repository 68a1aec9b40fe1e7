from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from obsvty.adapters.security.auth import TokenSet, bearer_token, challenge, token_client
from obsvty.config import SettingsError, load_settings

pytestmark = pytest.mark.unit


def test_token_set_from_value_and_file_merges_both_and_skips_comments(tmp_path: Path) -> None:
    # Arrange
    file = tmp_path / "tokens"
    file.write_text("# ingest tokens\nfile-one\n\n  file-two  \n#file-three\n", encoding="utf-8")

    # Act
    tokens = TokenSet.from_sources(SecretStr("env-one, env-two"), file)

    # Assert
    assert len(tokens) == 4
    assert [tokens.match(t) for t in ("env-one", "env-two", "file-one", "file-two")] == [0, 1, 2, 3]
    assert tokens.match("file-three") is None


def test_token_set_wrong_or_missing_token_matches_nothing() -> None:
    # Arrange
    tokens = TokenSet(["s3cret-token"])

    # Act / Assert
    assert tokens.match("s3cret-toke") is None
    assert tokens.match("s3cret-token ") is None
    assert tokens.match("") is None
    assert tokens.match(None) is None
    assert tokens.match("s3cret-token") == 0


def test_token_set_empty_is_disabled_and_repr_never_shows_a_token() -> None:
    # Arrange
    empty = TokenSet.from_sources(None, None)
    tokens = TokenSet(["s3cret-token"])

    # Act
    shown = repr(tokens) + str(tokens)

    # Assert
    assert not empty.enabled
    assert tokens.enabled
    assert "s3cret" not in shown


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER   abc  ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token_header_forms_parse_as_rfc6750(
    header: str | None, expected: str | None
) -> None:
    # Act / Assert
    assert bearer_token(header) == expected


def test_challenge_names_invalid_token_only_when_one_was_presented() -> None:
    # Act / Assert
    assert challenge(None) == 'Bearer realm="obsvty"'
    assert challenge("invalid_token") == 'Bearer realm="obsvty", error="invalid_token"'
    assert token_client(3) == "token#3"


def test_settings_tokens_are_secret_and_never_echoed_in_errors(tmp_path: Path) -> None:
    # Arrange
    settings = load_settings(obsvty_ingest_tokens="s3cret-token", obsvty_db_path=tmp_path / "d")

    # Act
    with pytest.raises(SettingsError) as missing_file:
        load_settings(obsvty_query_tokens_file=tmp_path / "nope")
    with pytest.raises(SettingsError) as pair:
        load_settings(obsvty_ingest_tokens="s3cret-token", tls_cert_file=__file__)

    # Assert
    assert "s3cret" not in repr(settings) + str(settings.model_dump())
    assert "OBSVTY_QUERY_TOKENS_FILE" in str(missing_file.value)
    assert "TLS_CERT_FILE and TLS_KEY_FILE" in str(pair.value)
    assert "s3cret" not in str(pair.value)

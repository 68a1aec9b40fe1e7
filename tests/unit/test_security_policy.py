from __future__ import annotations

from pathlib import Path

import pytest

from obsvty.adapters.otlp.codec import CODECS
from obsvty.adapters.security.policy import SecurityPolicy, is_loopback, open_query_api_refusal
from obsvty.config import load_settings
from obsvty.domain.model import Signal

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104 - the address under test, nothing binds
        ("::", False),
        ("10.0.0.5", False),
        ("obsvty.internal", False),
    ],
)
def test_is_loopback_addresses_and_names(host: str, loopback: bool) -> None:
    # Act / Assert
    assert is_loopback(host) is loopback


def test_open_query_api_refusal_non_loopback_without_tokens_refuses_naming_the_ways_out() -> None:
    # Arrange
    settings = load_settings(obsvty_api_host="0.0.0.0")  # noqa: S104 - nothing binds

    # Act
    refusal = open_query_api_refusal(settings.security(), settings.obsvty_api_host)

    # Assert
    assert refusal is not None
    assert "\n" not in refusal
    assert "OBSVTY_API_HOST=0.0.0.0" in refusal
    assert "OBSVTY_QUERY_TOKENS" in refusal
    assert "OBSVTY_ALLOW_UNAUTHENTICATED_QUERY_API=true" in refusal


@pytest.mark.parametrize(
    "settings",
    [
        {"obsvty_api_host": "127.0.0.1"},
        {"obsvty_api_host": "::1"},
        {"obsvty_api_host": "10.0.0.5", "obsvty_query_tokens": "tok-read"},
        {"obsvty_api_host": "obsvty.internal", "obsvty_allow_unauthenticated_query_api": True},
    ],
    ids=["loopback", "loopback-v6", "tokens", "opted-in"],
)
def test_open_query_api_refusal_loopback_tokens_or_opt_in_allows(
    settings: dict[str, object],
) -> None:
    # Arrange
    configured = load_settings(**settings)

    # Act
    refusal = open_query_api_refusal(configured.security(), configured.obsvty_api_host)

    # Assert
    assert refusal is None


@pytest.mark.parametrize(("content", "refused"), [("tok-read\n", False), ("# none yet\n", True)])
def test_open_query_api_refusal_tokens_file_counts_only_when_it_holds_a_token(
    tmp_path: Path, content: str, refused: bool
) -> None:
    # Arrange
    tokens = tmp_path / "query-tokens"
    tokens.write_text(content)
    settings = load_settings(obsvty_api_host="10.0.0.5", obsvty_query_tokens_file=tokens)

    # Act
    refusal = open_query_api_refusal(settings.security(), settings.obsvty_api_host)

    # Assert
    assert (refusal is not None) is refused


def test_exposure_warnings_name_each_open_listener_and_never_loopback() -> None:
    # Arrange
    policy = SecurityPolicy.from_settings(load_settings().security())

    # Act
    warnings = policy.exposure_warnings(
        {"OTLP/gRPC": "0.0.0.0", "OTLP/HTTP": "127.0.0.1"},  # noqa: S104
        {"query API": "10.1.1.1"},
    )

    # Assert
    assert len(warnings) == 2
    assert "OTLP/gRPC" in warnings[0]
    assert "WITHOUT authentication" in warnings[0]
    assert "OBSVTY_INGEST_TOKENS" in warnings[0]
    assert "OBSVTY_QUERY_TOKENS" in warnings[1]


def test_exposure_warnings_with_tokens_but_no_tls_warn_of_clear_text() -> None:
    # Arrange
    policy = SecurityPolicy.from_settings(
        load_settings(obsvty_ingest_tokens="tok-s3cret").security()
    )

    # Act
    warnings = policy.exposure_warnings({"OTLP/HTTP": "0.0.0.0"}, {})  # noqa: S104

    # Assert
    assert len(warnings) == 1
    assert "without TLS" in warnings[0]
    assert "s3cret" not in warnings[0]


def test_policy_from_default_settings_adds_nothing_to_the_hot_path() -> None:
    # Arrange
    policy = SecurityPolicy.from_settings(load_settings().security())
    app = object()

    # Act / Assert
    assert policy.codecs() == CODECS
    assert all(policy.codecs()[s] is CODECS[s] for s in Signal)
    assert policy.guard_ingest_app(app) is app  # type: ignore[arg-type]
    assert policy.grpc_options() == []
    assert policy.uvicorn_options() == {}
    assert policy.tls is None


def test_policy_from_settings_builds_rates_limits_and_tls(tmp_path: Path) -> None:
    # Arrange
    cert = tmp_path / "c.pem"
    key = tmp_path / "k.pem"
    ca = tmp_path / "ca.pem"
    for path in (cert, key, ca):
        path.write_text("pem", encoding="utf-8")
    settings = load_settings(
        rate_limit_logs_rps=2.5,
        max_items_per_request=10,
        grpc_max_concurrent_streams=8,
        tls_cert_file=cert,
        tls_key_file=key,
        tls_client_ca_file=ca,
        cors_allow_origins=" https://a.example , https://b.example ",
    )

    # Act
    policy = SecurityPolicy.from_settings(settings.security())

    # Assert
    assert policy.limiter.limits(Signal.LOGS)
    assert not policy.limiter.limits(Signal.TRACES)
    assert policy.codecs()[Signal.TRACES] is not CODECS[Signal.TRACES]
    assert policy.grpc_options() == [("grpc.max_concurrent_streams", 8)]
    assert policy.uvicorn_options()["ssl_ca_certs"] == str(ca)
    assert policy.tls is not None
    assert policy.tls.mutual
    assert policy.cors_allow_origins == ["https://a.example", "https://b.example"]

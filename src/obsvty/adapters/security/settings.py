"""The security settings group: what :class:`~obsvty.adapters.security.policy.SecurityPolicy`
is built from (handed over by the composition root; the adapters never read the global
settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from obsvty.adapters.security.ratelimit import Rate
from obsvty.domain.model import Signal


@dataclass(frozen=True)
class SecuritySettings:
    ingest_tokens: SecretStr | None = None
    ingest_tokens_file: Path | None = None
    query_tokens: SecretStr | None = None
    query_tokens_file: Path | None = None
    metrics_tokens: SecretStr | None = None
    metrics_tokens_file: Path | None = None
    allow_unauthenticated_query_api: bool = False
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    rates: dict[Signal, Rate] = field(default_factory=dict)
    """Export requests per client, by signal; a signal without one is not limited."""
    max_items_per_request: int | None = None
    max_attributes_per_item: int | None = None
    max_attribute_value_length: int | None = None
    max_attribute_depth: int | None = None
    max_events_per_span: int | None = None
    max_links_per_span: int | None = None
    grpc_max_concurrent_streams: int | None = None
    grpc_max_concurrent_requests_per_client: int | None = None
    grpc_max_connections_per_client: int | None = None
    cors_allow_origins: str = ""

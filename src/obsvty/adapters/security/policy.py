"""The security policy, built once from the security settings group: what the composition root
plugs into the receivers and apps (token sets, TLS, rate limiter, input limits, interceptors,
middleware), and the start-up warnings about listeners exposed without protection."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from starlette.types import ASGIApp

from obsvty.adapters.otlp.codec import CODECS, SignalCodec
from obsvty.adapters.security.auth import TokenSet
from obsvty.adapters.security.grpc_guard import GrpcGuard, Refusal
from obsvty.adapters.security.http_guard import (
    IngestGuard,
    MetricsGuard,
    origins,
    secure_query_app,
)
from obsvty.adapters.security.limits import ItemLimits, LimitCounters, limited_codec
from obsvty.adapters.security.ratelimit import RateLimiter
from obsvty.adapters.security.settings import SecuritySettings
from obsvty.adapters.security.tls import TlsFiles
from obsvty.domain.model import Signal

GuardRefusal = Callable[[str, str, "Signal | None"], None]
"""Told of every request a guard refuses: the listener (``grpc``, ``http``, ``api``), the reason
(``unauthenticated``, ``rate_limited``, ...) and, for an export request, its signal. Never the
token. E.g. :meth:`obsvty.adapters.telemetry.metrics.ObsvtyMetrics.refused`."""


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it can be reached from elsewhere


def open_query_api_refusal(settings: SecuritySettings, api_host: str) -> str | None:
    """Why the query API must not start on ``api_host``, in one line, or None: on a
    non-loopback address without query tokens it would let anyone who reaches it read every
    stored record, so that needs the explicit ``OBSVTY_ALLOW_UNAUTHENTICATED_QUERY_API=true``
    (safe by default)."""
    if is_loopback(api_host) or settings.allow_unauthenticated_query_api:
        return None
    tokens = TokenSet.from_sources(settings.query_tokens, settings.query_tokens_file)
    if tokens.enabled:
        return None
    return (
        f"the query API would listen on OBSVTY_API_HOST={api_host}, reachable from other "
        "machines, WITHOUT authentication (anyone who reaches it reads all telemetry): set "
        "OBSVTY_QUERY_TOKENS (or OBSVTY_QUERY_TOKENS_FILE), bind it to 127.0.0.1, or opt in "
        "with OBSVTY_ALLOW_UNAUTHENTICATED_QUERY_API=true"
    )


@dataclass
class SecurityPolicy:
    ingest_tokens: TokenSet = field(default_factory=TokenSet)
    query_tokens: TokenSet = field(default_factory=TokenSet)
    metrics_tokens: TokenSet = field(default_factory=TokenSet)
    """Needed for ``/metrics`` on every listener when set; probes are always open."""
    tls: TlsFiles | None = None
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter({}))
    limits: ItemLimits = field(default_factory=ItemLimits)
    counters: LimitCounters = field(default_factory=LimitCounters)
    grpc_max_concurrent_streams: int | None = None
    grpc_max_requests_per_client: int | None = None
    grpc_max_connections_per_client: int | None = None
    cors_allow_origins: list[str] = field(default_factory=list)
    on_refusal: GuardRefusal | None = None
    """Told of every refused request; set it before building servers."""

    @classmethod
    def from_settings(cls, s: SecuritySettings) -> SecurityPolicy:
        tls = None
        if s.tls_cert_file is not None and s.tls_key_file is not None:
            tls = TlsFiles(s.tls_cert_file, s.tls_key_file, s.tls_client_ca_file)
        return cls(
            ingest_tokens=TokenSet.from_sources(s.ingest_tokens, s.ingest_tokens_file),
            query_tokens=TokenSet.from_sources(s.query_tokens, s.query_tokens_file),
            metrics_tokens=TokenSet.from_sources(s.metrics_tokens, s.metrics_tokens_file),
            tls=tls,
            limiter=RateLimiter(s.rates),
            limits=ItemLimits(
                max_items=s.max_items_per_request,
                max_attributes=s.max_attributes_per_item,
                max_value_length=s.max_attribute_value_length,
                max_depth=s.max_attribute_depth,
                max_events=s.max_events_per_span,
                max_links=s.max_links_per_span,
            ),
            grpc_max_concurrent_streams=s.grpc_max_concurrent_streams,
            grpc_max_requests_per_client=s.grpc_max_concurrent_requests_per_client,
            grpc_max_connections_per_client=s.grpc_max_connections_per_client,
            cors_allow_origins=origins(s.cors_allow_origins),
        )

    # --- ingest
    def codecs(self) -> dict[Signal, SignalCodec[Any]]:
        """The OTLP codecs with the input limits applied (the plain ones when none are set)."""
        return {
            signal: limited_codec(codec, self.limits, self.counters)
            for signal, codec in CODECS.items()
        }

    def grpc_interceptors(self) -> list[grpc.aio.ServerInterceptor]:
        return [
            GrpcGuard(
                self.ingest_tokens,
                self.limiter,
                max_requests_per_client=self.grpc_max_requests_per_client,
                max_connections_per_client=self.grpc_max_connections_per_client,
                on_refusal=self._refusal("grpc"),
            )
        ]

    def grpc_options(self) -> list[tuple[str, Any]]:
        if self.grpc_max_concurrent_streams is None:
            return []
        return [("grpc.max_concurrent_streams", self.grpc_max_concurrent_streams)]

    def guard_ingest_app(self, app: ASGIApp) -> ASGIApp:
        """The OTLP/HTTP app behind the ingest guard (tokens, rate limit) on the export paths
        and the metrics guard on ``/metrics``, each only when configured."""
        if self.ingest_tokens.enabled or self.limiter.enabled:
            app = IngestGuard(app, self.ingest_tokens, self.limiter, self._refusal("http"))
        return self._guard_metrics(app, "http")

    def _guard_metrics(self, app: ASGIApp, protocol: str) -> ASGIApp:
        if not self.metrics_tokens.enabled:
            return app
        hook = self.on_refusal
        return MetricsGuard(
            app,
            self.metrics_tokens,
            None if hook is None else lambda reason: hook(protocol, reason, None),
        )

    # --- query API and UI
    def guard_query_app(self, app: ASGIApp) -> ASGIApp:
        hook = self.on_refusal
        return secure_query_app(
            self._guard_metrics(app, "api"),
            self.query_tokens,
            self.cors_allow_origins,
            hsts=self.tls is not None,
            on_refusal=None if hook is None else lambda reason: hook("api", reason, None),
        )

    def _refusal(self, protocol: str) -> Refusal | None:
        hook = self.on_refusal
        if hook is None:
            return None

        def refused(signal: Signal, reason: str) -> None:
            hook(protocol, reason, signal)

        return refused

    # --- all listeners
    def uvicorn_options(self) -> dict[str, Any]:
        return self.tls.uvicorn_options() if self.tls is not None else {}

    def exposure_warnings(
        self, ingest_hosts: Mapping[str, str], query_hosts: Mapping[str, str]
    ) -> list[str]:
        """One line for each listener (name -> host) reachable from other machines without
        authentication, or sending tokens unencrypted."""
        warnings = []
        for hosts, tokens, env in (
            (ingest_hosts, self.ingest_tokens, "OBSVTY_INGEST_TOKENS"),
            (query_hosts, self.query_tokens, "OBSVTY_QUERY_TOKENS"),
        ):
            for name, host in hosts.items():
                if is_loopback(host):
                    continue
                if not tokens.enabled:
                    warnings.append(
                        f"SECURITY: {name} listens on {host}, reachable from other machines, "
                        f"WITHOUT authentication: anyone who can reach it can use it. Set {env} "
                        "(and TLS_CERT_FILE/TLS_KEY_FILE); see docs/SECURITY.md"
                    )
                elif self.tls is None:
                    warnings.append(
                        f"SECURITY: {name} listens on {host} without TLS: bearer tokens and "
                        "telemetry cross the network in clear text. Set TLS_CERT_FILE and "
                        "TLS_KEY_FILE; see docs/SECURITY.md"
                    )
        return warnings

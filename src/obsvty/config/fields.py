"""Every setting obsvty reads, with its validation: one pydantic-settings model, from the
environment and an optional ``.env`` file.

Each field's environment variable is its name in upper case (``otlp_grpc_port`` ↔
``OTLP_GRPC_PORT``), also accepted with the ``OBSVTY_`` prefix (``OBSVTY_OTLP_GRPC_PORT``); an
``OBSVTY_*`` variable that is no setting is reported (:func:`variable_warnings`). Listeners bind
to loopback by default: nothing is reachable from another machine unless the user says so.
:class:`~obsvty.config.settings.Settings` adds the per-component groups the factories take.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import (
    AliasChoices,
    AliasGenerator,
    Field,
    FilePath,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from obsvty.config.values import own_receiver, parse_duration, parse_size

MiB = 1024 * 1024
MIN_DUCKDB_MEMORY_LIMIT = 64 * 1000 * 1000


PREFIX = "obsvty_"


def _names(field: str) -> str | AliasChoices:
    """A setting's variable: its name, or also ``OBSVTY_<NAME>`` for those without the prefix
    (a user who guesses ``OBSVTY_ACK_MODE`` must not be silently ignored)."""
    return field if field.startswith(PREFIX) else AliasChoices(field, PREFIX + field)


class SettingsFields(BaseSettings):
    """The variables and their checks, in one flat model (the one place they are read)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        alias_generator=AliasGenerator(validation_alias=_names),
        populate_by_name=True,
    )

    # --- OTLP receivers
    otlp_grpc_host: str = Field("127.0.0.1", description="Address the OTLP/gRPC receiver binds.")
    otlp_grpc_port: int = Field(4317, ge=0, le=65535, description="OTLP/gRPC port (0: any free).")
    otlp_http_host: str = Field("127.0.0.1", description="Address the OTLP/HTTP receiver binds.")
    otlp_http_port: int = Field(4318, ge=0, le=65535, description="OTLP/HTTP port (0: any free).")

    # --- query API (native /api/v1, Jaeger-compatible /jaeger, web UI) on its own listener
    obsvty_api_host: str = Field("127.0.0.1", description="Address the query API and UI bind.")
    obsvty_api_port: int = Field(8000, ge=0, le=65535, description="Query API port (0: any free).")
    grpc_max_message_length: int = Field(
        4 * MiB, gt=0, description="Largest gRPC request accepted, in bytes."
    )
    http_max_request_size: int = Field(
        4 * MiB, gt=0, description="Largest OTLP/HTTP body accepted after decompression, in bytes."
    )

    # --- storage
    obsvty_db_path: Path = Field(
        Path("data/obsvty.duckdb"), description="The DuckDB file telemetry is stored in."
    )
    duckdb_threads: int | None = Field(
        None, gt=0, description="Threads DuckDB may use (default: one per core, less one)."
    )
    # DuckDB's own default memory limit is 80% of RAM, and its buffer manager keeps the blocks of
    # the file that writes and queries read cached up to it: measured over 1M spans of bench
    # payloads (5000 per write, a services query every 20k spans), ~37 bytes per stored span stay
    # cached after each checkpoint, so RSS rises with the stored data (consistent with the soak's
    # +165 MiB over 6M spans). What DuckDB must hold at once is the rows appended since the last
    # checkpoint (then at 128 MB of write-ahead log; now every CHECKPOINT_ROWS rows, ~80 MB of
    # log for bench spans): measured 108 MiB of log = 136 MiB of DuckDB memory, peak 156 MiB.
    # 256MB holds that with ~100 MiB left for cached blocks and query state; past it DuckDB
    # evicts cached blocks (re-read from the OS page cache when a query needs them) and only
    # then spills to <db file>.tmp. Even 150MB neither spilled nor changed the write CPU
    # (31.7 s vs 30.6 s per 1M spans). 512MB would, by the same measure, only cap after ~9M
    # spans. Raise it for large ad-hoc queries.
    duckdb_memory_limit: str = Field(
        "256MB",
        description="Memory DuckDB may use (caches, rows not yet checkpointed, queries), e.g. "
        "512MB, 1GB; past it, DuckDB evicts and spills to <db file>.tmp (0/off: 80% of RAM).",
    )
    # 40 bytes per span of memory (adapters/storage/duckdb/span_keys.py); the default, ~40 MB,
    # covers a minute of retries (OpenTelemetry SDKs) at 16,000 spans/s, five (the Collector) at
    # 3,300.
    duckdb_dedupe_window: int = Field(
        1_000_000,
        gt=0,
        le=2**30,
        description="Spans whose (trace_id, span_id) the DuckDB store keeps in memory: a span "
        "re-sent (a client's retry) within the last this many spans stored is stored once.",
    )
    # The DuckDB store in a process of its own was removed once the compiled decoder made it
    # slower than the store in obsvty's process (docs/PERFORMANCE.md); the name is still read so
    # that a configuration that sets it starts, with a warning.
    duckdb_process: bool = Field(
        False,
        description="Removed, ignored: the DuckDB store runs in obsvty's process. "
        "Setting it true logs a warning.",
    )

    # --- mongodb (storage backend, cloud replica, sync service)
    obsvty_storage: Literal["duckdb", "mongodb"] = Field(
        "duckdb", description="Primary store: the embedded DuckDB file, or MongoDB (MONGODB_URI)."
    )
    mongodb_uri: str | None = Field(
        None, description="MongoDB connection string of the primary store (OBSVTY_STORAGE=mongodb)."
    )
    mongodb_database: str = Field("obsvty", min_length=1, description="MongoDB database name.")
    mongodb_write_concern: str = Field(
        "majority",
        min_length=1,
        description="Write concern w: 'majority', or a number of nodes (>= 1); always journaled.",
    )
    mongodb_timeout_ms: int = Field(
        10_000, gt=0, description="Server selection, connect and per-operation timeout (ms)."
    )
    mongodb_max_pool_size: int = Field(
        20, gt=0, description="Largest number of pooled connections per MongoDB server."
    )
    mongodb_retry_writes: bool = Field(
        True, description="Let the driver retry a failed write once."
    )
    mongodb_insert_batch_size: int = Field(
        5000, gt=0, description="Documents per insert_many call."
    )
    mongodb_retention_days: float | None = Field(
        None, gt=0, description="Delete MongoDB documents older than this (TTL index); None: keep."
    )
    mongodb_cloud_uri: str | None = Field(
        None, description="Cloud MongoDB that the sync service replicates the local store to."
    )
    mongodb_cloud_database: str = Field(
        "obsvty", min_length=1, description="Database name on the cloud MongoDB."
    )
    sync_interval_ms: int = Field(
        1000, gt=0, description="Pause between sync rounds when the sync has caught up."
    )
    sync_batch_size: int = Field(1000, gt=0, description="Records sent to the cloud per round.")
    sync_max_backoff_s: float = Field(
        60.0, gt=0, description="Longest pause between retries while the cloud is failing."
    )
    sync_breaker_failures: int = Field(
        5, gt=0, description="Consecutive failures that open the sync circuit breaker."
    )
    sync_breaker_reset_s: float = Field(
        30.0, gt=0, description="Time the circuit stays open before one half-open trial."
    )

    # --- buffer and flusher
    max_buffer_size: int = Field(100_000, gt=0, description="Buffer capacity, in items.")
    buffer_overflow_policy: Literal["drop_oldest", "reject"] = Field(
        "reject",
        description="What a full buffer does: reject (retryable answer; nothing acknowledged "
        "is lost) or drop_oldest (never slows a client; counted drops of acknowledged items).",
    )
    flush_interval_ms: int = Field(
        1000, gt=0, description="Longest time an item waits in the buffer before a flush."
    )
    flush_batch_size: int = Field(
        20_000, gt=0, description="Items written per flush; a flush starts early at this size."
    )
    shutdown_timeout_s: float = Field(
        30.0, gt=0, description="Longest graceful shutdown: stop receivers, drain, close."
    )
    # 4 tries are 0.7 s of backoff (0.1 s doubling): a passing conflict is retried whole, and
    # the flusher blocks every client only that long per poison (a durable client waits for
    # DURABLE_ACK_TIMEOUT_S: 6 tries, 3.1 s, made two poisons in a row time acks out). Past
    # that a write is only split, and a part only parked, on evidence that the store takes
    # other data (see Flusher), so even a long outage parks nothing
    flush_max_attempts: int = Field(
        4,
        ge=0,
        description="Failed writes of a flush after which the flusher isolates what the store "
        "never takes and parks it as a store dead letter (0: retry forever, park nothing).",
    )
    store_dead_letter_dir: Path | None = Field(
        None,
        description="Directory of the batches the store refused for good (default: the "
        "database file's path + .dead-letters); see obsvty dead-letters.",
    )

    # --- reliability (see docs/RELIABILITY.md)
    ack_mode: Literal["buffered", "durable"] = Field(
        "buffered",
        description="When a request is answered: once buffered (fastest; a hard kill may lose what "
        "the buffer held), or once committed to the store (durable; the buffer always rejects when "
        "full).",
    )
    durable_ack_timeout_s: float = Field(
        5.0,
        gt=0,
        description="Durable mode: longest wait for the commit before a retryable answer.",
    )
    max_buffer_bytes: int = Field(
        64 * MiB,
        gt=0,
        description="Buffer bound in bytes of received request payloads (memory held is a few "
        "times this).",
    )

    # --- security (see docs/SECURITY.md)
    obsvty_ingest_tokens: SecretStr | None = Field(
        None, description="Bearer tokens allowed to write telemetry, comma-separated (none: open)."
    )
    obsvty_ingest_tokens_file: FilePath | None = Field(
        None, description="File of ingest tokens, one per line (# lines ignored)."
    )
    obsvty_query_tokens: SecretStr | None = Field(
        None, description="Bearer tokens allowed to read (query API, UI), comma-separated."
    )
    obsvty_query_tokens_file: FilePath | None = Field(
        None, description="File of query tokens, one per line (# lines ignored)."
    )
    obsvty_allow_unauthenticated_query_api: bool = Field(
        False,
        description="Let the query API serve without OBSVTY_QUERY_TOKENS on a non-loopback "
        "OBSVTY_API_HOST (anyone who reaches it reads all telemetry); without it, such a "
        "configuration stops start-up.",
    )
    obsvty_metrics_tokens: SecretStr | None = Field(
        None,
        description="Bearer tokens a scraper needs for /metrics on every listener, "
        "comma-separated (none: /metrics is open).",
    )
    obsvty_metrics_tokens_file: FilePath | None = Field(
        None, description="File of metrics tokens, one per line (# lines ignored)."
    )
    tls_cert_file: FilePath | None = Field(
        None, description="PEM certificate (chain): serve gRPC and HTTP listeners over TLS."
    )
    tls_key_file: FilePath | None = Field(None, description="PEM private key of tls_cert_file.")
    tls_client_ca_file: FilePath | None = Field(
        None, description="PEM CA bundle: require client certificates signed by it (mutual TLS)."
    )
    rate_limit_traces_rps: float | None = Field(
        None, gt=0, description="Trace export requests per second per client (none: no limit)."
    )
    rate_limit_traces_burst: int | None = Field(
        None, gt=0, description="Trace export requests a client may send at once (default: rps)."
    )
    rate_limit_logs_rps: float | None = Field(
        None, gt=0, description="Log export requests per second per client (none: no limit)."
    )
    rate_limit_logs_burst: int | None = Field(
        None, gt=0, description="Log export requests a client may send at once (default: rps)."
    )
    rate_limit_metrics_rps: float | None = Field(
        None, gt=0, description="Metric export requests per second per client (none: no limit)."
    )
    rate_limit_metrics_burst: int | None = Field(
        None, gt=0, description="Metric export requests a client may send at once (default: rps)."
    )
    http_max_compressed_request_size: int = Field(
        4 * MiB, gt=0, description="Largest OTLP/HTTP body accepted before decompression, in bytes."
    )
    max_items_per_request: int | None = Field(
        None, gt=0, description="Spans, log records or data points per export request."
    )
    max_attributes_per_item: int | None = Field(
        None, ge=0, description="Attributes kept per item (extra ones dropped and counted)."
    )
    max_attribute_value_length: int | None = Field(
        None, ge=0, description="Longest string/bytes attribute value; longer ones are truncated."
    )
    max_attribute_depth: int | None = Field(
        None, ge=0, description="Deepest nesting of arrays/maps in a value; deeper items rejected."
    )
    max_events_per_span: int | None = Field(
        None, ge=0, description="Span events kept per span (extra ones dropped and counted)."
    )
    max_links_per_span: int | None = Field(
        None, ge=0, description="Span links kept per span (extra ones dropped and counted)."
    )
    grpc_max_concurrent_streams: int | None = Field(
        None, gt=0, description="Concurrent gRPC streams per connection (HTTP/2 setting)."
    )
    grpc_max_concurrent_requests_per_client: int | None = Field(
        None, gt=0, description="gRPC requests in flight per client (token, else address)."
    )
    grpc_max_connections_per_client: int | None = Field(
        None, gt=0, description="gRPC connections with requests in flight per client address."
    )
    cors_allow_origins: str = Field(
        "", description="Origins allowed to call the query API from a browser, comma-separated."
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> Self:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("TLS_CERT_FILE and TLS_KEY_FILE must be set together")
        if self.tls_client_ca_file is not None and self.tls_cert_file is None:
            raise ValueError("TLS_CLIENT_CA_FILE needs TLS_CERT_FILE and TLS_KEY_FILE")
        return self

    # --- operability (see docs/OPERATIONS.md)
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="Log lines as JSON, as text, or auto: text on a terminal, else JSON."
    )
    obsvty_retention: timedelta | None = Field(
        None, description="Delete telemetry older than this, e.g. 72h, 7d, 90m (none: keep all)."
    )
    obsvty_max_db_size: int | None = Field(
        None,
        gt=0,
        description="Delete the oldest telemetry while the store holds more than this, e.g. "
        "10GB, 512MiB (none: no limit).",
    )
    retention_interval_s: float = Field(60.0, gt=0, description="Pause between retention passes.")
    obsvty_redaction_defaults: bool = Field(
        False, description="Switch on the ready redaction rule set (docs/OPERATIONS.md)."
    )
    obsvty_redaction_rules_file: FilePath | None = Field(
        None, description="YAML or TOML file of redaction rules."
    )
    obsvty_redaction_drop_keys: str = Field(
        "", description="Attribute keys (globs) to drop, comma-separated."
    )
    obsvty_redaction_mask_keys: str = Field(
        "", description="Attribute keys (globs) whose values are masked, comma-separated."
    )
    obsvty_redaction_hash_keys: str = Field(
        "", description="Attribute keys (globs) whose values are replaced by a keyed hash."
    )
    obsvty_redaction_patterns: str = Field(
        "", description="Built-in patterns to redact in text, e.g. 'email:hash,credit_card'."
    )
    obsvty_redaction_hash_key: SecretStr | None = Field(
        None, description="Secret key of the redaction hash (HMAC-SHA256)."
    )

    @field_validator("obsvty_retention", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("obsvty_max_db_size", mode="before")
    @classmethod
    def _size(cls, value: object) -> object:
        return parse_size(value) if isinstance(value, str) else value

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory_limit(cls, value: str) -> str:
        size = parse_size(value)
        if size is not None and size < MIN_DUCKDB_MEMORY_LIMIT:
            raise ValueError("must be at least 64MB (below it DuckDB spills every flush to disk)")
        return value.strip()

    @field_validator("obsvty_retention")
    @classmethod
    def _positive_duration(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value.total_seconds() <= 0:
            raise ValueError("must be a positive duration such as 72h, 7d or 90m")
        return value

    @field_validator("mongodb_write_concern")
    @classmethod
    def _acknowledged_writes(cls, value: str) -> str:
        if value.isdigit() and int(value) == 0:
            raise ValueError("w=0 is unacknowledged; obsvty needs acknowledged, journaled writes")
        return value

    # --- self-tracing (see docs/OPERATIONS.md)
    obsvty_self_tracing: bool = Field(
        False, description="Trace obsvty's own pipeline with the OpenTelemetry SDK."
    )
    obsvty_self_tracing_endpoint: str = Field(
        "",
        description="OTLP/gRPC endpoint of the collector that receives obsvty's own spans, e.g. "
        "http://collector:4317; never this obsvty's receivers.",
    )
    obsvty_self_tracing_sample_ratio: float = Field(
        1.0, gt=0, le=1, description="Share of export requests traced (0 < ratio <= 1)."
    )

    @model_validator(mode="after")
    def _self_tracing_target(self) -> Self:
        if not self.obsvty_self_tracing:
            return self
        endpoint = self.obsvty_self_tracing_endpoint.strip()
        if not endpoint:
            raise ValueError(
                "OBSVTY_SELF_TRACING=true needs OBSVTY_SELF_TRACING_ENDPOINT (an OTLP/gRPC "
                "collector other than this obsvty)"
            )
        receivers = {
            self.otlp_grpc_port: self.otlp_grpc_host,
            self.otlp_http_port: self.otlp_http_host,
        }
        if own_receiver(endpoint, receivers):
            raise ValueError(
                f"OBSVTY_SELF_TRACING_ENDPOINT={endpoint} points at this obsvty's own OTLP "
                "receivers: its spans would be traced again when they arrive, a loop. Send them "
                "to another collector or obsvty instance"
            )
        return self

    # --- process
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="Log level."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

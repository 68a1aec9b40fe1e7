"""The settings handed out by component: each factory takes only its group (a frozen dataclass
declared next to the factory), never the whole :class:`Settings`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from obsvty.config.fields import SettingsFields
from obsvty.config.values import parse_size
from obsvty.ports.store import StoreError

if TYPE_CHECKING:
    from obsvty.adapters.api.query_listener import QueryApiSettings
    from obsvty.adapters.buffer.pipeline import BufferSettings
    from obsvty.adapters.otlp.receivers import ReceiverSettings
    from obsvty.adapters.security.settings import SecuritySettings
    from obsvty.adapters.storage.duckdb.backend import DuckDBSettings
    from obsvty.adapters.storage.mongodb.backend import MongoDBStorage
    from obsvty.adapters.storage.mongodb.cloud_sync import CloudSyncSettings
    from obsvty.adapters.storage.mongodb.store import MongoSettings
    from obsvty.adapters.telemetry.operations import OperationsSettings

# the groups' modules are imported when a group is asked for: reading the settings (``obsvty
# check-config``) loads no storage driver


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


class Settings(SettingsFields):
    """Every setting (see :class:`SettingsFields`), and the group each component is built from."""

    def receivers(self) -> ReceiverSettings:
        from obsvty.adapters.otlp.receivers import ReceiverSettings

        return ReceiverSettings(
            grpc_host=self.otlp_grpc_host,
            grpc_port=self.otlp_grpc_port,
            http_host=self.otlp_http_host,
            http_port=self.otlp_http_port,
            grpc_max_message_length=self.grpc_max_message_length,
            http_max_request_size=self.http_max_request_size,
            http_max_compressed_request_size=self.http_max_compressed_request_size,
            shutdown_timeout_s=self.shutdown_timeout_s,
        )

    def query_api(self) -> QueryApiSettings:
        from obsvty.adapters.api.query_listener import QueryApiSettings

        return QueryApiSettings(
            host=self.obsvty_api_host,
            port=self.obsvty_api_port,
            shutdown_timeout_s=self.shutdown_timeout_s,
        )

    def buffer(self) -> BufferSettings:
        from obsvty.adapters.buffer.memory import OverflowPolicy
        from obsvty.adapters.buffer.pipeline import BufferSettings
        from obsvty.application.ingest import AckMode

        return BufferSettings(
            max_items=self.max_buffer_size,
            max_bytes=self.max_buffer_bytes,
            overflow_policy=OverflowPolicy(self.buffer_overflow_policy),
            overflow_policy_set="buffer_overflow_policy" in self.model_fields_set,
            ack_mode=AckMode(self.ack_mode),
            durable_ack_timeout_s=self.durable_ack_timeout_s,
            flush_interval_s=self.flush_interval_ms / 1000,
            flush_batch_size=self.flush_batch_size,
            flush_max_attempts=self.flush_max_attempts,
        )

    def duckdb(self) -> DuckDBSettings:
        from obsvty.adapters.storage.duckdb.backend import DuckDBSettings

        return DuckDBSettings(
            path=self.obsvty_db_path,
            threads=self.duckdb_threads,
            memory_limit=parse_size(self.duckdb_memory_limit),
            dedupe_window=self.duckdb_dedupe_window,
        )

    def mongodb(self) -> MongoDBStorage:
        """Raises :class:`~obsvty.ports.store.StoreError` without ``MONGODB_URI``."""
        from obsvty.adapters.storage.mongodb.backend import MongoDBStorage

        return MongoDBStorage(
            self._mongo(cloud=False), publish_watermark=bool(self.mongodb_cloud_uri)
        )

    def sync(self) -> CloudSyncSettings | None:
        """The cloud sync's settings, ``None`` without ``MONGODB_CLOUD_URI`` (no sync)."""
        if not self.mongodb_cloud_uri:
            return None
        from obsvty.adapters.storage.mongodb.cloud_sync import CloudSyncSettings

        return CloudSyncSettings(
            target=self._mongo(cloud=True),
            batch_size=self.sync_batch_size,
            interval_s=self.sync_interval_ms / 1000,
            max_backoff_s=self.sync_max_backoff_s,
            breaker_failures=self.sync_breaker_failures,
            breaker_reset_s=self.sync_breaker_reset_s,
        )

    def _mongo(self, *, cloud: bool) -> MongoSettings:
        from obsvty.adapters.storage.mongodb.store import MongoSettings

        uri = self.mongodb_cloud_uri if cloud else self.mongodb_uri
        if not uri:
            raise StoreError(
                "OBSVTY_STORAGE=mongodb needs MONGODB_URI (a mongodb:// connection string)"
            )
        age = self.obsvty_retention  # OBSVTY_RETENTION, when set, wins over the MongoDB TTL
        return MongoSettings(
            uri=uri,
            database=self.mongodb_cloud_database if cloud else self.mongodb_database,
            write_concern=self.mongodb_write_concern,
            timeout_ms=self.mongodb_timeout_ms,
            max_pool_size=self.mongodb_max_pool_size,
            retry_writes=self.mongodb_retry_writes,
            insert_batch_size=self.mongodb_insert_batch_size,
            retention_days=age.total_seconds() / 86400 if age else self.mongodb_retention_days,
        )

    def security(self) -> SecuritySettings:
        from obsvty.adapters.security.ratelimit import Rate
        from obsvty.adapters.security.settings import SecuritySettings
        from obsvty.domain.model import Signal

        rates = {}
        for signal in Signal:
            rps: float | None = getattr(self, f"rate_limit_{signal.value}_rps")
            if rps is not None:
                burst: int | None = getattr(self, f"rate_limit_{signal.value}_burst")
                rates[signal] = Rate(rps, burst if burst is not None else max(1, math.ceil(rps)))
        return SecuritySettings(
            ingest_tokens=self.obsvty_ingest_tokens,
            ingest_tokens_file=self.obsvty_ingest_tokens_file,
            query_tokens=self.obsvty_query_tokens,
            query_tokens_file=self.obsvty_query_tokens_file,
            metrics_tokens=self.obsvty_metrics_tokens,
            metrics_tokens_file=self.obsvty_metrics_tokens_file,
            allow_unauthenticated_query_api=self.obsvty_allow_unauthenticated_query_api,
            tls_cert_file=self.tls_cert_file,
            tls_key_file=self.tls_key_file,
            tls_client_ca_file=self.tls_client_ca_file,
            rates=rates,
            max_items_per_request=self.max_items_per_request,
            max_attributes_per_item=self.max_attributes_per_item,
            max_attribute_value_length=self.max_attribute_value_length,
            max_attribute_depth=self.max_attribute_depth,
            max_events_per_span=self.max_events_per_span,
            max_links_per_span=self.max_links_per_span,
            grpc_max_concurrent_streams=self.grpc_max_concurrent_streams,
            grpc_max_concurrent_requests_per_client=self.grpc_max_concurrent_requests_per_client,
            grpc_max_connections_per_client=self.grpc_max_connections_per_client,
            cors_allow_origins=self.cors_allow_origins,
        )

    def operations(self) -> OperationsSettings:
        from obsvty.adapters.telemetry.operations import OperationsSettings, RedactionSettings

        key = self.obsvty_redaction_hash_key
        age = self.obsvty_retention
        endpoint = self.obsvty_self_tracing_endpoint.strip()
        return OperationsSettings(
            retention_age_s=age.total_seconds() if age else None,
            max_db_size=self.obsvty_max_db_size,
            retention_interval_s=self.retention_interval_s,
            redaction=RedactionSettings(
                defaults=self.obsvty_redaction_defaults,
                rules_file=self.obsvty_redaction_rules_file,
                drop_keys=_keys(self.obsvty_redaction_drop_keys),
                mask_keys=_keys(self.obsvty_redaction_mask_keys),
                hash_keys=_keys(self.obsvty_redaction_hash_keys),
                patterns=_keys(self.obsvty_redaction_patterns),
                hash_key=key.get_secret_value() if key is not None else "",
            ),
            self_tracing_endpoint=endpoint if self.obsvty_self_tracing else None,
            self_tracing_sample_ratio=self.obsvty_self_tracing_sample_ratio,
        )


def store_dead_letter_dir(settings: SettingsFields) -> Path:
    """Where store dead letters wait: ``STORE_DEAD_LETTER_DIR``, else beside the database file
    (``data/obsvty.duckdb.dead-letters``; with MongoDB too, so it stays on this machine)."""
    if settings.store_dead_letter_dir is not None:
        return settings.store_dead_letter_dir
    db = settings.obsvty_db_path
    return db.with_name(db.name + ".dead-letters")

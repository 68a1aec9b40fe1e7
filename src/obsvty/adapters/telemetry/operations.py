"""Composition of obsvty's operability parts from the operations settings group: redaction, the
health registry with its built-in components, retention, the state metrics read at scrape time,
and self-tracing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from obsvty.adapters.encoding.typed_json import dumps as typed_json
from obsvty.adapters.redaction_rules import build_policy
from obsvty.adapters.telemetry.metrics import (
    ObsvtyMetrics,
    StateSources,
    StoreDeadLetterCounts,
    watch_state,
)
from obsvty.application.flush import Flusher
from obsvty.application.health import (
    BufferHealth,
    HealthRegistry,
    StoreDeadLetterHealth,
    StoreHealth,
)
from obsvty.application.redaction import Redactor
from obsvty.application.retention import RetentionService
from obsvty.ports.buffer import BufferPort
from obsvty.ports.storage_backend import StorageBackend
from obsvty.ports.store_dead_letters import StoreDeadLetterError, StoreDeadLetterPort

if TYPE_CHECKING:
    from obsvty.adapters.telemetry.self_tracing import SelfTracing

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedactionSettings:
    defaults: bool = False
    rules_file: Path | None = None
    drop_keys: list[str] = field(default_factory=list)
    mask_keys: list[str] = field(default_factory=list)
    hash_keys: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    hash_key: str = ""


@dataclass(frozen=True)
class OperationsSettings:
    retention_age_s: float | None = None
    max_db_size: int | None = None
    retention_interval_s: float = 60.0
    redaction: RedactionSettings = field(default_factory=RedactionSettings)
    self_tracing_endpoint: str | None = None
    """Where obsvty's own spans go (OTLP/gRPC); ``None``: self-tracing is off."""
    self_tracing_sample_ratio: float = 1.0


def build_redactor(settings: RedactionSettings) -> Redactor | None:
    """The redactor the settings describe, ``None`` when no rule is configured (zero cost).
    Raises :class:`~obsvty.domain.redaction.RedactionConfigError` for a bad rule."""
    policy = build_policy(
        defaults=settings.defaults,
        rules_file=settings.rules_file,
        drop_keys=settings.drop_keys,
        mask_keys=settings.mask_keys,
        hash_keys=settings.hash_keys,
        patterns=settings.patterns,
        hash_key=settings.hash_key,
    )
    return None if policy is None else Redactor(policy, typed_json)


def start_self_tracing(settings: OperationsSettings) -> SelfTracing | None:
    """obsvty's own tracer when self-tracing is on (the settings have checked that the endpoint
    is not this obsvty); the SDK is loaded only then."""
    if settings.self_tracing_endpoint is None:
        return None
    from obsvty.adapters.telemetry.self_tracing import SelfTracing

    log.info("self-tracing: exporting obsvty's spans to %s", settings.self_tracing_endpoint)
    return SelfTracing(
        settings.self_tracing_endpoint, sample_ratio=settings.self_tracing_sample_ratio
    )


def _dead_letter_counts(
    letters: StoreDeadLetterPort, flusher: Flusher
) -> Callable[[], StoreDeadLetterCounts]:
    def counts() -> StoreDeadLetterCounts:
        try:
            waiting: int | None = letters.waiting()
        except StoreDeadLetterError:
            waiting = None
        stats = flusher.stats
        return StoreDeadLetterCounts(stats.dead_letter_batches, stats.dead_letter_items, waiting)

    return counts


class Operations:
    """Health registry, retention and state metrics around the running pipeline."""

    def __init__(
        self,
        settings: OperationsSettings,
        metrics: ObsvtyMetrics,
        *,
        backend: StorageBackend,
        buffer: BufferPort,
        flusher: Flusher,
        redactor: Redactor | None,
        dead_letters: StoreDeadLetterPort | None = None,
    ) -> None:
        self.health = HealthRegistry()
        self.health.register(BufferHealth(buffer))
        self.health.register(StoreHealth(flusher, store_size=backend.store_size))
        if dead_letters is not None:
            self.health.register(StoreDeadLetterHealth(dead_letters, flusher))
        self.retention: RetentionService | None = None
        limited = settings.retention_age_s is not None or settings.max_db_size is not None
        if backend.retention is not None and limited:
            self.retention = RetentionService(
                backend.retention,
                max_age_seconds=settings.retention_age_s,
                max_bytes=settings.max_db_size,
                interval=settings.retention_interval_s,
            )
            self.health.register(self.retention)
        elif limited:
            log.warning("OBSVTY_RETENTION and OBSVTY_MAX_DB_SIZE apply to the DuckDB store only")
        if backend.observe_checkpoints is not None:
            backend.observe_checkpoints(metrics.checkpoint_seconds().observe)
        watch_state(
            metrics,
            StateSources(
                buffer=buffer,
                health=self.health,
                store_size=backend.store_size,
                duckdb_memory=backend.memory,
                redactions=redactor.totals if redactor is not None else None,
                retention_deleted=self.retention.deleted_totals if self.retention else None,
                store_dead_letters=_dead_letter_counts(dead_letters, flusher)
                if dead_letters is not None
                else None,
            ),
        )

    def start(self) -> None:
        if self.retention is not None:
            self.retention.start()

    def stop(self, timeout: float | None = None) -> None:
        if self.retention is not None:
            self.retention.stop(timeout)

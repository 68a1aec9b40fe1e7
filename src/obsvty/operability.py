"""Composition of obsvty's operability parts: redaction from the settings, the health registry
with its built-in components, retention, and the state metrics read at scrape time."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from obsvty.adapters.encoding.typed_json import dumps as typed_json
from obsvty.adapters.redaction_rules import build_policy
from obsvty.adapters.storage.duckdb.memory import DuckDBMemory
from obsvty.adapters.storage.duckdb.retention import DuckDBRetention
from obsvty.adapters.storage.duckdb.store import DuckDBStore
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
from obsvty.config import Settings
from obsvty.ports.buffer import BufferPort
from obsvty.ports.store import TelemetryStorePort
from obsvty.ports.store_dead_letters import StoreDeadLetterError, StoreDeadLetterPort

log = logging.getLogger(__name__)


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def build_redactor(settings: Settings) -> Redactor | None:
    """The redactor the settings describe, ``None`` when no rule is configured (zero cost).
    Raises :class:`~obsvty.domain.redaction.RedactionConfigError` for a bad rule."""
    key = settings.obsvty_redaction_hash_key
    policy = build_policy(
        defaults=settings.obsvty_redaction_defaults,
        rules_file=settings.obsvty_redaction_rules_file,
        drop_keys=_keys(settings.obsvty_redaction_drop_keys),
        mask_keys=_keys(settings.obsvty_redaction_mask_keys),
        hash_keys=_keys(settings.obsvty_redaction_hash_keys),
        patterns=_keys(settings.obsvty_redaction_patterns),
        hash_key=key.get_secret_value() if key is not None else "",
    )
    return None if policy is None else Redactor(policy, typed_json)


def file_size(path: Path) -> int:
    """Bytes a DuckDB database occupies on disk: its file and its write-ahead log."""
    total = 0
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total


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
        settings: Settings,
        metrics: ObsvtyMetrics,
        *,
        store: TelemetryStorePort,
        buffer: BufferPort,
        flusher: Flusher,
        redactor: Redactor | None,
        dead_letters: StoreDeadLetterPort | None = None,
    ) -> None:
        self.health = HealthRegistry()
        db_path = Path(settings.obsvty_db_path)

        def store_size() -> int:
            return file_size(db_path)

        memory: DuckDBMemory | None = None
        retention_store: DuckDBRetention | None = None
        if isinstance(store, DuckDBStore):
            memory, retention_store = DuckDBMemory(store), DuckDBRetention(store)
        is_duckdb = retention_store is not None
        self.health.register(BufferHealth(buffer))
        self.health.register(StoreHealth(flusher, store_size=store_size if is_duckdb else None))
        if dead_letters is not None:
            self.health.register(StoreDeadLetterHealth(dead_letters, flusher))
        self.retention: RetentionService | None = None
        retention_age = settings.obsvty_retention
        if retention_store is not None and (retention_age or settings.obsvty_max_db_size):
            self.retention = RetentionService(
                retention_store,
                max_age_seconds=retention_age.total_seconds() if retention_age else None,
                max_bytes=settings.obsvty_max_db_size,
                interval=settings.retention_interval_s,
            )
            self.health.register(self.retention)
        elif retention_age or settings.obsvty_max_db_size:
            log.warning("OBSVTY_RETENTION and OBSVTY_MAX_DB_SIZE apply to the DuckDB store only")
        watch_state(
            metrics,
            StateSources(
                buffer=buffer,
                health=self.health,
                store_size=store_size if is_duckdb else None,
                duckdb_memory=memory,
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

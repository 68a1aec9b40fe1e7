"""obsvty's own Prometheus metrics (prometheus-client), in a registry of its own per application.

The receivers count per request, never per item: one observation per export request updates the
request, item and latency series of its signal and protocol through label children bound once
at start-up. Gauges that describe state (buffer fill, store size, sink lag, redactions, retention)
are read only when ``/metrics`` is scraped, by :class:`StateCollector`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from obsvty.adapters.logging import bind_request_id, reset_request_id
from obsvty.domain.batches import Batch
from obsvty.domain.model import Signal
from obsvty.ports.store import StoreError, TelemetryStorePort

if TYPE_CHECKING:
    from obsvty.application.health import HealthRegistry
    from obsvty.application.ingest import IngestResult
    from obsvty.ports.buffer import BufferPort

log = logging.getLogger(__name__)

OUTCOMES = ("ok", "partial", "invalid", "overloaded", "refused", "error")
"""How an export request ended: all accepted; some items rejected; undecodable or malformed;
refused because the buffer is full; refused before decoding (auth, rate limit); failed."""

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_FLUSH_ITEM_BUCKETS = (1, 10, 100, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000)
_CHECKPOINT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
"""A checkpoint under 0.5 s is routine; past ~1 s the buffer fills and clients may be refused."""


class RequestSpan(Protocol):
    """A trace span around one export request (see :mod:`.self_tracing`)."""

    def end(self, outcome: str, accepted: int, rejected: int) -> None: ...


RequestSpans = Callable[[str, str], RequestSpan]
"""Starts the span of an export request of a signal (``traces``...) on a protocol (``grpc``...)."""


class ObsvtyMetrics:
    """Every metric obsvty exports about itself."""

    request_spans: RequestSpans | None = None
    """With self-tracing on, each observed export request is also a span; set it before the
    receivers are built."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "obsvty_requests",
            "Export requests by outcome.",
            ["signal", "protocol", "outcome"],
            registry=r,
        )
        self.items_received = Counter(
            "obsvty_items_received",
            "Items (spans, log records, metric points) decoded from export requests.",
            ["signal", "protocol"],
            registry=r,
        )
        self.items_accepted = Counter(
            "obsvty_items_accepted",
            "Items accepted into the buffer.",
            ["signal", "protocol"],
            registry=r,
        )
        self.items_rejected = Counter(
            "obsvty_items_rejected",
            "Items rejected as invalid or refused under load.",
            ["signal", "protocol"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "obsvty_request_duration_seconds",
            "Export request handling time, decode to answer.",
            ["signal", "protocol"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.refusals = Counter(
            "obsvty_refusals",
            "Requests refused by a security guard before decoding, by reason.",
            ["reason", "protocol"],
            registry=r,
        )
        self.flush_items = Histogram(
            "obsvty_flush_batch_items",
            "Items written to the store per flush.",
            buckets=_FLUSH_ITEM_BUCKETS,
            registry=r,
        )
        self.flush_seconds = Histogram(
            "obsvty_flush_duration_seconds",
            "Time to write one flush to the store.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.flush_failures = Counter(
            "obsvty_flush_failures", "Store writes that failed (and were retried).", registry=r
        )
        self._checkpoint_seconds: Histogram | None = None

    def checkpoint_seconds(self) -> Histogram:
        """The histogram of the store's checkpoints, registered on first use: only a store that
        makes checkpoints (DuckDB) has the series."""
        if self._checkpoint_seconds is None:
            self._checkpoint_seconds = Histogram(
                "obsvty_duckdb_checkpoint_duration_seconds",
                "Time each DuckDB checkpoint took; writes wait for it while the buffer fills.",
                buckets=_CHECKPOINT_BUCKETS,
                registry=self.registry,
            )
        return self._checkpoint_seconds

    def receiver(self, signal: Signal, protocol: str) -> ReceiverMetrics:
        return ReceiverMetrics(self, signal, protocol)

    def refused(self, protocol: str, reason: str, signal: Signal | None = None) -> None:
        """Count a request a security guard refused before decoding: ``reason`` is
        ``unauthenticated``, ``rate_limited``, ``too_many_requests`` or ``too_many_connections``
        (never the token). An export request of ``signal`` also counts as a ``refused`` request."""
        self.refusals.labels(reason, protocol).inc()
        if signal is not None:
            self.requests.labels(signal.value, protocol, "refused").inc()


class ReceiverMetrics:
    """The series of one signal on one protocol, bound once so that a request costs a handful
    of counter increments."""

    __slots__ = (
        "_accepted",
        "_outcomes",
        "_received",
        "_rejected",
        "_seconds",
        "_spans",
        "label",
        "labels",
    )

    def __init__(self, metrics: ObsvtyMetrics, signal: Signal, protocol: str) -> None:
        self.labels = labels = (signal.value, protocol)
        self.label = f"{protocol} {signal.value}"
        self._spans = metrics.request_spans
        self._received = metrics.items_received.labels(*labels)
        self._accepted = metrics.items_accepted.labels(*labels)
        self._rejected = metrics.items_rejected.labels(*labels)
        self._seconds = metrics.request_seconds.labels(*labels)
        self._outcomes = {o: metrics.requests.labels(*labels, o) for o in OUTCOMES}

    def request(self, request_id: str | None = None) -> ObservedRequest:
        """A context manager around one export request: binds its request id for logging,
        times it and counts its outcome on exit (and traces it when self-tracing is on)."""
        if self._spans is None:
            return ObservedRequest(self, request_id)
        return TracedRequest(self, request_id, self._spans)

    def observe(self, outcome: str, seconds: float, accepted: int, rejected: int) -> None:
        self._outcomes[outcome].inc()
        self._seconds.observe(seconds)
        if accepted or rejected:
            self._received.inc(accepted + rejected)
            if accepted:
                self._accepted.inc(accepted)
            if rejected:
                self._rejected.inc(rejected)


class ObservedRequest:
    """One export request in flight. Set :attr:`outcome` (or call :meth:`done`) before leaving;
    leaving on an exception with no outcome set counts as ``error``."""

    __slots__ = ("_metrics", "_started", "_token", "accepted", "outcome", "rejected")

    def __init__(self, metrics: ReceiverMetrics, request_id: str | None) -> None:
        self._metrics = metrics
        self._token = bind_request_id(request_id)
        self._started = 0.0
        self.outcome = ""
        self.accepted = 0
        self.rejected = 0

    def __enter__(self) -> ObservedRequest:
        self._started = time.perf_counter()
        return self

    def done(self, result: IngestResult) -> None:
        self.accepted = result.accepted
        self.rejected = result.rejected
        self.outcome = "partial" if result.rejected else "ok"

    def fail(self, outcome: str, rejected: int = 0) -> None:
        self.outcome = outcome
        self.rejected = rejected

    def _final_outcome(self, exc_type: type[BaseException] | None) -> str:
        """The outcome set, or else ``error`` when leaving on an exception and ``ok`` otherwise."""
        return self.outcome or ("error" if exc_type is not None else "ok")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        outcome = self._final_outcome(exc_type)
        try:
            self._metrics.observe(
                outcome, time.perf_counter() - self._started, self.accepted, self.rejected
            )
            if outcome != "ok" and log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s export %s: %d accepted, %d rejected",
                    self._metrics.label,
                    outcome,
                    self.accepted,
                    self.rejected,
                )
        finally:
            reset_request_id(self._token)


class TracedRequest(ObservedRequest):
    """An observed request that is also a self-tracing span."""

    __slots__ = ("_span", "_spans")

    def __init__(
        self, metrics: ReceiverMetrics, request_id: str | None, spans: RequestSpans
    ) -> None:
        super().__init__(metrics, request_id)
        self._spans = spans
        self._span: RequestSpan | None = None

    def __enter__(self) -> ObservedRequest:
        self._span = self._spans(*self._metrics.labels)
        return super().__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if self._span is not None:
                self._span.end(self._final_outcome(exc_type), self.accepted, self.rejected)


class MeteredStore:
    """A store that records each write's size and duration (one observation per flush)."""

    def __init__(self, store: TelemetryStorePort, metrics: ObsvtyMetrics) -> None:
        self._store = store
        self._metrics = metrics

    def write(self, batches: Sequence[Batch]) -> None:
        started = time.perf_counter()
        try:
            self._store.write(batches)
        except StoreError:
            self._metrics.flush_failures.inc()
            raise
        self._metrics.flush_seconds.observe(time.perf_counter() - started)
        self._metrics.flush_items.observe(sum(len(b) for b in batches))

    def close(self) -> None:
        self._store.close()


@dataclass
class StateSources:
    """Where the state gauges come from; each is optional."""

    buffer: BufferPort | None = None
    health: HealthRegistry | None = None
    store_size: Callable[[], int] | None = None
    duckdb_memory: Callable[[], tuple[int, int] | None] | None = None
    """Bytes DuckDB holds in memory and in its temp directory; ``None`` when unreadable."""
    redactions: Callable[[], Mapping[str, int]] | None = None
    retention_deleted: Callable[[], Mapping[str, int]] | None = None
    store_dead_letters: Callable[[], StoreDeadLetterCounts] | None = None


@dataclass(frozen=True, slots=True)
class StoreDeadLetterCounts:
    parked_batches: int
    """Batches parked since start."""
    parked_items: int
    waiting: int | None
    """Dead-letter files waiting now (from any run, until replayed or dropped); ``None`` when
    their directory cannot be read."""


class StateCollector(Collector):
    """Gauges read at scrape time from the running components."""

    def __init__(self, sources: StateSources) -> None:
        self._s = sources

    def collect(self) -> Iterable[Metric]:
        s = self._s
        if s.buffer is not None:
            yield GaugeMetricFamily(
                "obsvty_buffer_items", "Items held in the buffer.", value=s.buffer.size()
            )
            yield GaugeMetricFamily(
                "obsvty_buffer_capacity", "Buffer capacity in items.", value=s.buffer.capacity
            )
            dropped = CounterMetricFamily(
                "obsvty_items_dropped",
                "Items discarded by the buffer overflow policy (drop_oldest), by signal.",
                labels=["signal"],
            )
            by_signal = s.buffer.dropped_by_signal
            for signal in Signal:
                dropped.add_metric([signal.value], by_signal.get(signal, 0))
            yield dropped
        if s.store_size is not None:
            yield GaugeMetricFamily(
                "obsvty_store_size_bytes", "Bytes of data the store holds.", value=s.store_size()
            )
        if s.duckdb_memory is not None:
            usage = s.duckdb_memory()
            if usage is not None:
                yield GaugeMetricFamily(
                    "obsvty_duckdb_memory_bytes",
                    "Bytes DuckDB's buffer manager holds in memory (cached blocks, rows not yet "
                    "checkpointed, query state), bounded by DUCKDB_MEMORY_LIMIT.",
                    value=usage[0],
                )
                yield GaugeMetricFamily(
                    "obsvty_duckdb_temporary_storage_bytes",
                    "Bytes DuckDB spilled to its temp directory beside the database file.",
                    value=usage[1],
                )
        if s.health is not None:
            report = s.health.check()
            ready = GaugeMetricFamily(
                "obsvty_component_ready", "1 when the component is ready.", labels=["component"]
            )
            lag = GaugeMetricFamily(
                "obsvty_sink_lag", "How far a sink is behind the local store.", labels=["sink"]
            )
            dead = GaugeMetricFamily(
                "obsvty_sink_dead_letters",
                "Items a sink parked in its dead-letter queue.",
                labels=["sink"],
            )
            for c in report.components:
                ready.add_metric([c.name], 1.0 if c.ready else 0.0)
                if c.lag is not None:
                    lag.add_metric([c.name], c.lag)
                if c.dead_letters is not None:
                    dead.add_metric([c.name], c.dead_letters)
            yield from (ready, lag, dead)
        if s.redactions is not None:
            redactions = CounterMetricFamily(
                "obsvty_redactions", "Values dropped, masked or hashed, by rule.", labels=["rule"]
            )
            for rule, count in sorted(s.redactions().items()):
                redactions.add_metric([rule], count)
            yield redactions
        if s.retention_deleted is not None:
            deleted = CounterMetricFamily(
                "obsvty_retention_deleted_rows",
                "Rows deleted by retention, by table.",
                labels=["table"],
            )
            for table, count in sorted(s.retention_deleted().items()):
                deleted.add_metric([table], count)
            yield deleted
        if s.store_dead_letters is not None:
            counts = s.store_dead_letters()
            yield CounterMetricFamily(
                "obsvty_store_dead_letter_batches",
                "Batches the store refused for good, parked as store dead letters.",
                value=counts.parked_batches,
            )
            yield CounterMetricFamily(
                "obsvty_store_dead_letter_items",
                "Items in the batches parked as store dead letters.",
                value=counts.parked_items,
            )
            if counts.waiting is not None:
                yield GaugeMetricFamily(
                    "obsvty_store_dead_letters_waiting",
                    "Store dead letters waiting to be replayed or dropped (obsvty dead-letters).",
                    value=counts.waiting,
                )


def watch_state(metrics: ObsvtyMetrics, sources: StateSources) -> None:
    metrics.registry.register(StateCollector(sources))

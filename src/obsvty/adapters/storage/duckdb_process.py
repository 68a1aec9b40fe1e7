"""The DuckDB store in a process of its own (``DUCKDB_PROCESS=true``): writes, queries, retention
and gauges all run there.

Why a process: DuckDB's Python client takes Python's GIL back while it executes (it scans the
Arrow tables a write registers through Python objects), and building those tables is Python work
too. Inside the receivers' process both compete for the one GIL with the event loop that decodes
requests, and a write takes about twice its CPU time in wall time (``bench/duckdb_gil.py``: a
5,000-row insert, 1 ms alone, 43 ms beside a busy Python thread). In a process of its own the
store has a GIL of its own and runs beside the receivers on another core; the receivers' process
only pickles each batch (~3 us per span). Measured against the in-process store on 2 cores
before the compiled decoder (``docs/PERFORMANCE.md`` as of ``86330de``): the same throughput at
saturation, 2.4x fewer retryable refusals, ~25% more CPU per span and ~120 MiB more memory;
hence not the default.

The parent talks to the child over one ``multiprocessing`` pipe, in pickled tuples::

    request  (call_id, target, method, args, with_parts)    target: "store", "query", ...
    part     (call_id, "part", value)    sent ahead of a request with_parts (a write's batches),
                                         which gets the list of its parts as first argument
    reply    (call_id, ok, value or exception)

The child answers a start-up handshake (call id 0: its pid, or why it could not open the file),
then runs the store's writes in order on one thread and every other call on a small pool, each
on a DuckDB cursor of its own, as the in-process adapters always did. It ignores SIGINT and
SIGTERM (the parent drains its buffer into it first, then closes it) and, on Linux, dies with its
parent, as the store would inside it: what was committed is in DuckDB's write-ahead log.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import itertools
import logging
import multiprocessing
import os
import pickle  # nosec B403
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from obsvty.adapters.gc_tuning import tune_gc
from obsvty.adapters.storage import mongodb_documents as docs
from obsvty.adapters.storage.duckdb_retention import DuckDBRetention
from obsvty.domain.batches import Batch
from obsvty.domain.model import MetricPoint, Signal, Span
from obsvty.ports.query import (
    DependencyLink,
    LogPage,
    LogQuery,
    MetricInfo,
    MetricQuery,
    Operation,
    StoreStats,
    TraceQuery,
    TraceSummary,
)
from obsvty.ports.store import StoreError
from obsvty.ports.sync import DeadLetter, Pending, Refusal

log = logging.getLogger(__name__)

_HANDSHAKE = 0
_EXIT = "exit"
_PART = "part"
_READER_THREADS = 4
"""Concurrent queries (and retention, gauges, sync reads) in the child, beside the writer."""
_PR_SET_PDEATHSIG = 1

# what the parent may call, per target (anything else is refused in the child)
_METHODS: dict[str, frozenset[str]] = {
    "store": frozenset({"write", "close"}),
    "query": frozenset(
        {
            "services",
            "operations",
            "find_traces",
            "find_trace_spans",
            "get_trace",
            "get_traces",
            "dependencies",
            "find_logs",
            "metric_descriptors",
            "metric_points",
            "stats",
        }
    ),
    "retention": frozenset({"time_range", "delete_before", "used_bytes", "reclaim"}),
    "memory": frozenset({"__call__"}),
    "sql": frozenset({"execute"}),
    "sync": frozenset(
        {
            "pending",
            "save_cursor",
            "backlog",
            "add_dead_letters",
            "dead_letters",
            "dead_letter_count",
            "remove_dead_letters",
        }
    ),
}


@dataclass(frozen=True, slots=True)
class DuckDBProcessConfig:
    """What the child needs to open the store (picklable: it crosses to the new process)."""

    path: str
    threads: int | None = None
    memory_limit: int | None = None
    dedupe_window: int | None = None
    """Spans the store keeps keys of (``None``: its default, ``DEDUPE_WINDOW``)."""
    sync: bool = False
    """Open the cloud sync's source too (it adds its sequence columns before any write)."""
    log_level: str = "INFO"
    log_format: str = "auto"


# ------------------------------------------------------------------------------------ child


def _die_with_parent() -> None:
    """Linux: the kernel kills this process when its parent dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class _Sql:
    """SQL on a cursor of the store, for :meth:`DuckDBProcessStore.cursor`."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def execute(self, sql: str, params: Sequence[Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._store.cursor()
        try:
            cursor.execute(sql, list(params))
            names = [column[0] for column in cursor.description or ()]
            return names, cursor.fetchall() if names else []
        finally:
            cursor.close()


def _open_targets(config: DuckDBProcessConfig) -> dict[str, Any]:
    # imported here: the parent has no use for them
    from obsvty.adapters.storage.duckdb_memory import DuckDBMemory
    from obsvty.adapters.storage.duckdb_query import DuckDBQuery
    from obsvty.adapters.storage.duckdb_store import DuckDBStore

    window = {} if config.dedupe_window is None else {"dedupe_window": config.dedupe_window}
    store = DuckDBStore(
        config.path, threads=config.threads, memory_limit=config.memory_limit, **window
    )
    targets: dict[str, Any] = {
        "store": store,
        "query": DuckDBQuery(store),
        "retention": DuckDBRetention(store),
        "memory": DuckDBMemory(store),
        "sql": _Sql(store),
    }
    if config.sync:
        from obsvty.adapters.storage.duckdb_sync import DuckDBSyncSource

        targets["sync"] = DuckDBSyncSource(store.cursor())
    return targets


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a :class:`StoreError` with its text."""
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes
    except Exception:  # any failure to cross: send the text instead
        return StoreError(f"{type(exc).__name__}: {exc}")
    return exc


class _Replies:
    """The child's side of the pipe: one reply at a time."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def send(self, call_id: int, ok: bool, value: Any) -> None:
        try:
            data = pickle.dumps((call_id, ok, value), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            error = StoreError(f"the DuckDB process cannot send its answer: {exc}")
            data = pickle.dumps((call_id, False, error), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock, contextlib.suppress(OSError):
            self._conn.send_bytes(data)


def _run(replies: _Replies, targets: dict[str, Any], request: tuple[Any, ...]) -> None:
    call_id, target, method, args = request
    try:
        if method not in _METHODS.get(target, ()) or target not in targets:
            raise StoreError(f"the DuckDB process has no {target}.{method}")
        value = getattr(targets[target], method)(*args)
    except Exception as exc:  # every failure goes back to the caller
        replies.send(call_id, False, _portable(exc))
    else:
        replies.send(call_id, True, value)


def serve(conn: Connection, config: DuckDBProcessConfig) -> None:
    """The child's main function: open the store, then answer calls until told to exit."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from obsvty.adapters.logging import configure_logging

    configure_logging(config.log_level, config.log_format)  # type: ignore[arg-type]
    replies = _Replies(conn)
    try:
        targets = _open_targets(config)
    except Exception as exc:  # the parent raises it at start-up
        replies.send(_HANDSHAKE, False, _portable(exc))
        _exit(1)
    replies.send(_HANDSHAKE, True, os.getpid())
    # as in the parent: the collector tuned for ingest, and unpickling a batch (acyclic: lists
    # of ids, strings, numbers, dicts) runs without it
    tune_gc()
    parts: dict[int, list[Any]] = {}  # call id -> the parts sent ahead of it
    writer = ThreadPoolExecutor(1, thread_name_prefix="duckdb-writer")
    readers = ThreadPoolExecutor(_READER_THREADS, thread_name_prefix="duckdb-reader")
    try:
        while True:
            try:
                data = conn.recv_bytes()
            except (EOFError, OSError):  # the parent is gone
                break
            gc.disable()
            try:
                request = pickle.loads(data)  # noqa: S301 - from our parent only
            finally:
                gc.enable()
            if request == _EXIT:
                break
            if request[1] == _PART:
                parts.setdefault(request[0], []).append(request[2])
                continue
            call_id, target, method, args, with_parts = request
            if with_parts:
                request = (call_id, target, method, (parts.pop(call_id, []), *args))
            else:
                request = (call_id, target, method, args)
            pool = writer if request[1] == "store" else readers
            pool.submit(_run, replies, targets, request)
    finally:
        writer.shutdown(wait=True)
        readers.shutdown(wait=True)
        targets["store"].close()  # a no-op after the parent closed it
    _exit(0)


def _exit(code: int) -> None:
    """End the child: everything is committed and closed by now. The interpreter's teardown
    follows (multiprocessing's, and coverage's under the tests), during which DuckDB's bindings
    report the objects their module still holds as "leaked" on stderr: noise, so silenced."""
    logging.shutdown()
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    sys.exit(code)


# ----------------------------------------------------------------------------------- parent


class _Child:
    """One DuckDB process and this process's end of its pipe: the calls sent to it that await
    an answer, and the thread that reads the answers."""

    def __init__(self, config: DuckDBProcessConfig, start_timeout: float) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self.conn, child_conn = context.Pipe()
        self.process = context.Process(
            target=serve, args=(child_conn, config), name="obsvty-duckdb", daemon=True
        )
        self.process.start()
        child_conn.close()
        self.pending: dict[int, Future[Any]] = {}
        self.lock = threading.Lock()  # guards pending and failure
        self.send_lock = threading.Lock()
        self.failure: str | None = None
        self.pid = self._handshake(start_timeout)
        self.reader = threading.Thread(
            target=self._read_replies, name="duckdb-replies", daemon=True
        )
        self.reader.start()

    def _handshake(self, timeout: float) -> int:
        try:
            if not self.conn.poll(timeout):
                raise StoreError(f"the DuckDB process did not start within {timeout:g} s")
            _, ok, value = pickle.loads(self.conn.recv_bytes())  # noqa: S301 - our child
        except (EOFError, OSError):
            self.process.join(5)
            raise StoreError(
                f"the DuckDB process exited at start-up (exit code {self.process.exitcode})"
            ) from None
        except StoreError:
            self.process.kill()
            raise
        if not ok:
            self.process.join(5)
            raise value
        return int(value)

    def _read_replies(self) -> None:
        while True:
            try:
                data = self.conn.recv_bytes()
            except (EOFError, OSError):
                break
            call_id, ok, value = pickle.loads(data)  # noqa: S301 - our child
            with self.lock:
                future = self.pending.pop(call_id, None)
            if future is None:  # pragma: no cover - every reply answers a call we made
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        # the one thread that waits for the child's exit
        self.process.join(5)
        self.fail(f"the DuckDB process exited (exit code {self.process.exitcode})")

    def fail(self, reason: str) -> None:
        """From now on every call raises ``StoreError(reason)``; so do the ones in flight."""
        with self.lock:
            if self.failure is None:
                self.failure = reason
            pending, self.pending = self.pending, {}
        for future in pending.values():
            future.set_exception(StoreError(reason))

    def send(self, data: bytes) -> None:
        with self.send_lock:
            self.conn.send_bytes(data)

    def call(
        self, call_id: int, request: tuple[str, str, tuple[Any, ...]], parts: Sequence[Any] | None
    ) -> Future[Any]:
        target, method, args = request
        future: Future[Any] = Future()
        with self.lock:
            if self.failure is not None:
                raise StoreError(self.failure)
            self.pending[call_id] = future
        try:
            for part in parts or ():
                self.send(pickle.dumps((call_id, _PART, part), protocol=pickle.HIGHEST_PROTOCOL))
            message = (call_id, target, method, args, parts is not None)
            self.send(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except (OSError, ValueError) as exc:
            self.fail(f"the DuckDB process is gone: {exc}")
        return future

    def stop(self, timeout: float) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.send(pickle.dumps(_EXIT))
        self.reader.join(timeout)
        if self.process.is_alive():  # pragma: no cover - a child stuck past the timeout
            log.error("the DuckDB process did not exit within %g s; killing it", timeout)
            self.process.kill()
            self.process.join()


class DuckDBProcessStore:
    """:class:`~obsvty.ports.store.TelemetryStorePort` on a DuckDB file held by a child process.

    Start-up raises what opening the file raised in the child (e.g.
    :class:`~obsvty.ports.store.StoreLockedError`). Should the child die (a crash, the OOM
    killer), the calls in flight raise :class:`StoreError` (the flusher keeps its batch, and
    ``/readyz`` reports the store failing) and the next call starts a new child, at most once
    every ``RESTART_INTERVAL_S``: committed data is in the file and its write-ahead log, and the
    flusher writes its batch again."""

    RESTART_INTERVAL_S = 1.0

    def __init__(self, config: DuckDBProcessConfig, *, start_timeout: float = 60.0) -> None:
        self.config = config
        self._start_timeout = start_timeout
        self._ids = itertools.count(_HANDSHAKE + 1)
        self._closed = False
        self._restart_lock = threading.Lock()
        self._started = time.monotonic()
        self.restarts = 0
        self._child = _Child(config, start_timeout)

    @property
    def pid(self) -> int:
        """The current child's process id."""
        return self._child.pid

    @property
    def alive(self) -> bool:
        return self._child.failure is None and self._child.process.is_alive()

    def _live_child(self) -> _Child:
        child = self._child
        if child.failure is None and child.process.is_alive():
            return child
        if child.failure is None:  # dead, and its reader has not noticed yet
            child.fail(f"the DuckDB process exited (exit code {child.process.exitcode})")
        with self._restart_lock:
            if self._closed:
                raise StoreError("the DuckDB store is closed")
            if self._child is not child:  # another thread has started a new one
                return self._child
            if time.monotonic() - self._started < self.RESTART_INTERVAL_S:
                raise StoreError(child.failure)
            log.error("%s; starting a new DuckDB process", child.failure)
            child.stop(5)
            self._started = time.monotonic()
            self._child = _Child(self.config, self._start_timeout)
            self.restarts += 1
            log.warning("DuckDB process restarted (pid %d)", self._child.pid)
            return self._child

    def call(self, target: str, method: str, *args: Any, parts: Sequence[Any] | None = None) -> Any:
        """``target.method(*args)`` in the child; raises what it raised there. ``parts``, when
        given, become the list passed as the first argument: each is pickled and sent on its
        own, ahead of the call, so that the child unpickles one while this process pickles the
        next (a write's batches: ~5 us per span on either side, overlapped)."""
        child = self._live_child()
        return child.call(next(self._ids), (target, method, args), parts).result()

    def cursor(self) -> RemoteCursor:
        """A cursor-like handle that runs SQL in the child (diagnostics and tests: the file is
        the child's, no other process can open it while obsvty runs)."""
        return RemoteCursor(self)

    def write(self, batches: Sequence[Batch]) -> None:
        self.call("store", "write", parts=batches)

    def close(self, timeout: float = 30.0) -> None:
        """Checkpoint and close the file in the child, then end it."""
        with self._restart_lock:
            self._closed = True
        child = self._child
        try:
            if child.failure is None:
                child.call(next(self._ids), ("store", "close", ()), None).result()
        finally:
            child.fail("the DuckDB store is closed")
            child.stop(timeout)


class _Remote:
    """Calls one target of a :class:`DuckDBProcessStore`."""

    target = ""

    def __init__(self, store: DuckDBProcessStore) -> None:
        self._store = store

    def _call(self, method: str, *args: Any) -> Any:
        return self._store.call(self.target, method, *args)


class RemoteCursor(_Remote):
    """The part of a DuckDB cursor that reads results: ``execute``, ``description``,
    ``fetchone``, ``fetchall`` (each ``execute`` runs on a fresh cursor in the child)."""

    target = "sql"

    def __init__(self, store: DuckDBProcessStore) -> None:
        super().__init__(store)
        self.description: list[tuple[str]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> RemoteCursor:
        names, self._rows = self._call("execute", sql, list(params))
        self.description = [(name,) for name in names] if names else None
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def close(self) -> None:
        self._rows = []


class ProcessQuery(_Remote):
    """:class:`~obsvty.ports.query.TelemetryQueryPort`: ``DuckDBQuery`` in the child."""

    target = "query"

    def services(self, signal: Signal = Signal.TRACES) -> list[str]:
        result: list[str] = self._call("services", signal)
        return result

    def operations(self, service: str, span_kind: int | None = None) -> list[Operation]:
        result: list[Operation] = self._call("operations", service, span_kind)
        return result

    def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        result: list[TraceSummary] = self._call("find_traces", query)
        return result

    def find_trace_spans(self, query: TraceQuery) -> list[list[Span]]:
        result: list[list[Span]] = self._call("find_trace_spans", query)
        return result

    def get_trace(self, trace_id: bytes) -> list[Span]:
        result: list[Span] = self._call("get_trace", trace_id)
        return result

    def get_traces(self, trace_ids: Sequence[bytes]) -> list[list[Span]]:
        result: list[list[Span]] = self._call("get_traces", list(trace_ids))
        return result

    def dependencies(
        self, start_unix_nano: int | None = None, end_unix_nano: int | None = None
    ) -> list[DependencyLink]:
        result: list[DependencyLink] = self._call("dependencies", start_unix_nano, end_unix_nano)
        return result

    def find_logs(self, query: LogQuery) -> LogPage:
        result: LogPage = self._call("find_logs", query)
        return result

    def metric_descriptors(self, service: str | None = None) -> list[MetricInfo]:
        result: list[MetricInfo] = self._call("metric_descriptors", service)
        return result

    def metric_points(self, query: MetricQuery) -> list[MetricPoint]:
        result: list[MetricPoint] = self._call("metric_points", query)
        return result

    def stats(self) -> StoreStats:
        result: StoreStats = self._call("stats")
        return result


class ProcessRetention(_Remote):
    """:class:`~obsvty.ports.retention.RetentionStorePort`: ``DuckDBRetention`` in the child."""

    target = "retention"
    tables: tuple[str, ...] = DuckDBRetention.tables

    def time_range(self, table: str) -> tuple[int, int] | None:
        result: tuple[int, int] | None = self._call("time_range", table)
        return result

    def delete_before(self, table: str, cutoff_unix_nano: int, limit: int) -> int:
        return int(self._call("delete_before", table, cutoff_unix_nano, limit))

    def used_bytes(self) -> int:
        return int(self._call("used_bytes"))

    def reclaim(self) -> bool:
        return bool(self._call("reclaim"))


class ProcessMemory(_Remote):
    """The ``obsvty_duckdb_*`` gauges' source: ``DuckDBMemory`` in the child; ``None`` once the
    store is closed or gone, as in-process."""

    target = "memory"

    def __call__(self) -> tuple[int, int] | None:
        try:
            usage: tuple[int, int] | None = self._call("__call__")
        except StoreError:
            return None
        return usage


class ProcessSyncSource(_Remote):
    """:class:`~obsvty.ports.sync.SyncSourcePort`: ``DuckDBSyncSource`` in the child (needs
    ``DuckDBProcessConfig(sync=True)``)."""

    target = "sync"
    collections: tuple[str, ...] = docs.COLLECTIONS

    def pending(self, collection: str, limit: int) -> Pending:
        result: Pending = self._call("pending", collection, limit)
        return result

    def save_cursor(self, collection: str, cursor: int) -> None:
        self._call("save_cursor", collection, cursor)

    def backlog(self) -> int:
        return int(self._call("backlog"))

    def add_dead_letters(self, collection: str, refusals: list[Refusal]) -> None:
        self._call("add_dead_letters", collection, refusals)

    def dead_letters(self, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
        result: list[DeadLetter] = self._call("dead_letters", limit, offset)
        return result

    def dead_letter_count(self) -> int:
        return int(self._call("dead_letter_count"))

    def remove_dead_letters(self, ids: list[str] | None = None) -> int:
        return int(self._call("remove_dead_letters", ids))

"""The keys of the spans the DuckDB store committed last: what makes a re-sent span be stored once.

A client re-sends a request whose answer it did not get (a timeout, a dropped connection, obsvty
killed after committing in durable-ack mode); its spans must not be stored twice. Rather than look
for each incoming span among the stored rows (a cost that grows with how far apart a batch's
start times lie and with what is stored), the store keeps the (trace_id, span_id) of the last
``capacity`` spans it committed in memory and drops, before the insert, the rows of a write that
are among them or repeated within the write.

Guarantee: a span whose key is among the last ``capacity`` spans committed (or the rows the store
refilled the set with when it opened) is not stored again; a span re-sent later than that is
stored a second time. Keys are compared whole (the 24 raw bytes of the two ids): no collision can
drop a new span. Memory: :data:`BYTES_PER_KEY` bytes per key of capacity, allocated up front.

Two steps, so that a failed write registers nothing: :meth:`SpanKeys.new_rows` stages the new
keys and answers which rows to insert; after the transaction commits, :meth:`SpanKeys.commit`
makes the staged keys members; :meth:`SpanKeys.discard` forgets them if it did not. A row whose
ids are not 32 and 16 lower-case hex characters ("odd": never produced by the decoders, whose
validation rejects such spans) is left to the caller, flagged in a mask of its own.

The compiled set (``obsvty._native.SpanKeys``, ``src/obsvty/_native/span_keys.h``) is used unless
``OBSVTY_NO_EXTENSIONS`` is set; :class:`ReferenceSpanKeys` is the pure-Python one, with the same
answers (``tests/unit/test_span_keys.py`` holds them to that).
"""

from __future__ import annotations

import os
import re
from collections import deque
from typing import Any, Protocol

import pyarrow as pa

from obsvty.adapters import extension

BYTES_PER_KEY = 24 + 8 * 2
"""The compiled set's memory per key of capacity: the key's 24 bytes in the ring, and two 8-byte
slots of the hash table (kept at most half full; up to four when the capacity is just past a power
of two)."""

_BOOL = pa.bool_()
_HEX_KEY = re.compile(rb"[0-9a-f]{32}\Z"), re.compile(rb"[0-9a-f]{16}\Z")


class _Stager(Protocol):
    """One record batch's ids in, (keep bitmap, rows kept, odd bitmap or None) out."""

    def stage(self, trace: pa.Array, span: pa.Array) -> tuple[bytes, int, bytes | None]: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...

    def __len__(self) -> int: ...


class ReferenceSpanKeys:
    """The pure-Python set: the members in a set and, in commit order, in a ring (a deque; its
    first key the oldest), and the staged keys of the current write, in order. About 100 bytes
    per member (a bytes object each)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._members: set[bytes] = set()
        self._ring: deque[bytes] = deque()
        self._staged: dict[bytes, None] = {}

    def stage(self, trace: pa.Array, span: pa.Array) -> tuple[bytes, int, bytes | None]:
        keep = bytearray((len(trace) + 7) // 8)
        odd: bytearray | None = None
        kept = 0
        for row, (t, s) in enumerate(zip(trace.to_pylist(), span.to_pylist(), strict=True)):
            key = _key(t, s)
            if key is None:
                odd = odd if odd is not None else bytearray(len(keep))
                odd[row // 8] |= 1 << (row % 8)
            elif key not in self._members and key not in self._staged:
                self._staged[key] = None
                keep[row // 8] |= 1 << (row % 8)
                kept += 1
        return bytes(keep), kept, None if odd is None else bytes(odd)

    def commit(self) -> None:
        members, ring = self._members, self._ring
        for key in self._staged:
            if len(ring) == self.capacity:
                members.remove(ring.popleft())
            ring.append(key)
            members.add(key)
        self._staged = {}

    def discard(self) -> None:
        self._staged = {}

    def __len__(self) -> int:
        return len(self._members)


def _key(trace: str | None, span: str | None) -> bytes | None:
    """The 24 raw bytes of a row's ids; ``None`` for an odd row."""
    if trace is None or span is None:
        return None
    t, s = trace.encode(), span.encode()
    if _HEX_KEY[0].match(t) is None or _HEX_KEY[1].match(s) is None:
        return None
    return bytes.fromhex(trace) + bytes.fromhex(span)


class _NativeStager:
    """The compiled set, given each array as its Arrow buffers (no copy)."""

    def __init__(self, native: Any) -> None:
        self._native = native

    def stage(self, trace: pa.Array, span: pa.Array) -> tuple[bytes, int, bytes | None]:
        out: tuple[bytes, int, bytes | None] = self._native.stage(
            *_string_buffers(trace), *_string_buffers(span), len(trace)
        )
        return out

    def commit(self) -> None:
        self._native.commit()

    def discard(self) -> None:
        self._native.discard()

    def __len__(self) -> int:
        return len(self._native)


def _string_buffers(array: pa.Array) -> tuple[pa.Buffer | None, pa.Buffer | None, pa.Buffer, int]:
    """A string array's validity, offsets and data buffers and its offset into them (of the
    array cast to string, when it is of another type: its own offset, not the original's)."""
    if array.type != pa.string():
        array = array.cast(pa.string())
    validity, offsets, data = array.buffers()
    return validity, offsets, data if data is not None else pa.py_buffer(b""), array.offset


_NATIVE = extension.load()


def _bitmap(bits: bytes, length: int) -> pa.Array:
    return pa.Array.from_buffers(_BOOL, length, [None, pa.py_buffer(bits)])


class SpanKeys:
    """The set the DuckDB store consults and updates under its lock (see the module docstring)."""

    def __init__(self, capacity: int, *, native: bool | None = None) -> None:
        """``native``: the compiled set (``True``), the reference (``False``), or the compiled
        one when it is available (``None``)."""
        use_native = _NATIVE is not None if native is None else native
        if use_native and _NATIVE is None:
            raise RuntimeError("the compiled extension is not available")
        self.capacity = capacity
        self._set: _Stager = (
            _NativeStager(_NATIVE.SpanKeys(capacity, os.urandom(16)))
            if use_native and _NATIVE is not None
            else ReferenceSpanKeys(capacity)
        )

    def new_rows(self, ids: pa.Table) -> tuple[pa.ChunkedArray | None, pa.ChunkedArray | None]:
        """Stage the keys of ``ids`` (columns ``trace_id``, ``span_id``) that are new; answer the
        mask of the rows to insert (``None``: all of them) and that of the odd rows (``None``:
        none). Keys staged before and not committed are forgotten first."""
        self._set.discard()
        keep: list[pa.Array] = []
        odd: list[pa.Array] = []
        kept = 0
        any_odd = False
        for batch in ids.select(["trace_id", "span_id"]).to_batches():
            length = batch.num_rows
            keep_bits, batch_kept, odd_bits = self._set.stage(batch.column(0), batch.column(1))
            keep.append(_bitmap(keep_bits, length))
            odd.append(_bitmap(odd_bits or bytes((length + 7) // 8), length))
            kept += batch_kept
            any_odd = any_odd or odd_bits is not None  # a bitmap only when a row is odd
        return (
            None if kept == ids.num_rows else pa.chunked_array(keep, _BOOL),
            pa.chunked_array(odd, _BOOL) if any_odd else None,
        )

    def commit(self) -> None:
        """Make the staged keys members: the write that staged them committed."""
        self._set.commit()

    def discard(self) -> None:
        """Forget the staged keys: the write that staged them failed."""
        self._set.discard()

    def __len__(self) -> int:
        return len(self._set)

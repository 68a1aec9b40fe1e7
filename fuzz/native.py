"""atheris fuzz targets for the compiled decoder (obsvty._native), each one differential:
``python -m fuzz.native {native-protobuf-traces|--list} [libFuzzer options]`` from the repository
root (``make fuzz`` runs each for a few seconds, ``make fuzz-asan`` against a sanitized build).

For each input, the compiled decoder either leaves the request to the reference decoder or gives
exactly what the reference gives (tests/support/decoders.py, as the differential tests check), in
both its forms: the rows DuckDB stores, and the MongoDB documents built from its document form;
decoding a request the reference refuses, or giving other rows, rejections or reason, raises, and
libFuzzer saves the input under .fuzz/. The compiled decoder reads each input from a buffer of
exactly its size, so that AddressSanitizer sees a read past the end (a ``bytes`` object has a NUL
there).

``span-keys`` holds the compiled span key set (``obsvty._native.SpanKeys``, the DuckDB store's
de-duplication) to the pure-Python one over a run of writes (repeats, odd ids, nulls, sliced and
chunked arrays, commits and discards, eviction past a small capacity), and hands its ``stage`` raw
buffers of any size and offset, which it must refuse with ``ValueError`` or read within bounds.

``OBSVTY_FUZZ_EXTENSION_DIR``: a build directory (``setup.py build_ext --build-lib``) whose
``obsvty/_native*.so`` is imported instead of the in-tree one; the target refuses to run if it
is not the one imported.

A new target (a signal, an encoding) is one more row in ``TARGETS``.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import atheris
import pyarrow as pa
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

with atheris.instrument_imports(include=["obsvty"]):  # Python coverage: reference and adapter
    import obsvty

    if os.environ.get("OBSVTY_FUZZ_EXTENSION_DIR"):  # looked up before src/obsvty/_native*.so
        obsvty.__path__.insert(0, str(Path(os.environ["OBSVTY_FUZZ_EXTENSION_DIR"], "obsvty")))
    from obsvty.adapters.otlp import codec, native, to_domain
    from obsvty.adapters.storage.duckdb import span_keys
    from obsvty.domain import validation

from bench.payloads import LogsPayloadFactory, MetricsPayloadFactory, PayloadFactory
from tests.support.decoders import same_as_reference
from tests.support.fuzzing import SEED_PROTOBUF

from fuzz.run import fuzz
from obsvty.domain.model import Signal

INSTRUMENTED = (codec, to_domain, validation, span_keys)
EXTENSION_DIR = os.environ.get("OBSVTY_FUZZ_EXTENSION_DIR")
_SEED_TIME_NS = 1_700_000_000_000_000_000  # a fixed clock, so the seeds are the same every run


def _exact(data: bytes) -> memoryview:
    """``data`` in a buffer of exactly its size (malloc'd, under ``PYTHONMALLOC=malloc``)."""
    return memoryview(ctypes.create_string_buffer(data, len(data)))


@dataclass(frozen=True)
class NativeTarget:
    signal: Signal
    seeds: Callable[[], list[bytes]]
    json: bool = False

    def __call__(self, data: bytes) -> None:
        same_as_reference(self.signal, data, native_input=_exact(data), json=self.json)

    def seed_is_decoded(self, seed: bytes) -> bool:
        """Whether the compiled decoder takes ``seed`` itself (else fuzzing it proves little)."""
        return same_as_reference(self.signal, seed, json=self.json) is not None


_TRACE_IDS = ("0" * 31 + "1", "ab" * 16, "0" * 31 + "A", "0" * 30, None)
_SPAN_IDS = ("0" * 15 + "1", "cd" * 8, "0" * 15 + "g", "0" * 17, None)
"""Ids the span key target draws from: a few valid ones (so that rows repeat), upper case, a
non-hex digit, wrong lengths and null (odd rows)."""


class SpanKeysTarget:
    """The compiled span key set against the reference, and its buffer checks (module docstring)."""

    @staticmethod
    def seeds() -> list[bytes]:
        return [bytes(range(256)), b"\x03" + b"\x00\x01\x02\x03" * 40]

    def seed_is_decoded(self, seed: bytes) -> bool:
        return True

    def __call__(self, data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        capacity = fdp.ConsumeIntInRange(1, 8)
        compiled = span_keys.SpanKeys(capacity, native=True)
        reference = span_keys.SpanKeys(capacity, native=False)
        for _ in range(fdp.ConsumeIntInRange(0, 12)):
            table = self._ids(fdp)
            got, want = compiled.new_rows(table), reference.new_rows(table)
            if [_bits(m) for m in got] != [_bits(m) for m in want]:
                raise AssertionError(f"SpanKeys masks {got} != reference {want}")
            if fdp.ConsumeBool():
                compiled.commit()
                reference.commit()
            else:
                compiled.discard()
                reference.discard()
            if len(compiled) != len(reference):
                raise AssertionError(f"SpanKeys holds {len(compiled)}, reference {len(reference)}")
        self._raw_buffers(fdp, capacity)

    @staticmethod
    def _ids(fdp: Any) -> pa.Table:
        rows = fdp.ConsumeIntInRange(0, 20)
        trace = [_TRACE_IDS[fdp.ConsumeIntInRange(0, 4)] for _ in range(rows)]
        span = [_SPAN_IDS[fdp.ConsumeIntInRange(0, 4)] for _ in range(rows)]
        table = pa.table({"trace_id": pa.array(trace, pa.string()), "span_id": span})
        cut = fdp.ConsumeIntInRange(0, rows)
        if fdp.ConsumeBool():  # arrays with an offset
            table = table.slice(cut)
        elif fdp.ConsumeBool():  # two chunks
            table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])
        return table

    @staticmethod
    def _raw_buffers(fdp: Any, capacity: int) -> None:
        """``stage`` given buffers of any size: refused, or read within them (ASan checks)."""
        stager = span_keys._NATIVE.SpanKeys(capacity, bytes(16))

        def buffer() -> Any:
            return (
                None
                if fdp.ConsumeBool()
                else _exact(fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 80)))
            )

        args = []
        for _ in range(2):
            args += [buffer(), buffer(), buffer(), fdp.ConsumeIntInRange(-2, 40)]
        try:
            stager.stage(*args, fdp.ConsumeIntInRange(-2, 40))
        except (ValueError, TypeError, OverflowError):
            return
        stager.commit()


def _bits(mask: pa.ChunkedArray | None) -> list[bool | None] | None:
    return None if mask is None else mask.to_pylist()


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _edge_trace_request() -> bytes:
    """Paths the other seeds miss: a long attribute list (the decoder's hashed duplicate-key
    check), 2-, 3- and 4-byte UTF-8, bytes of every length modulo 3 (base64 padding), doubles
    that are hard to print shortest or not finite, a nested value, a map with the document
    form's tag keys, events and links, an error status, and a span rejected for its status
    code."""
    values = [
        _kv("utf8", string_value="é ✓ \U0001f600"),
        *(_kv(f"bytes{n}", bytes_value=bytes(range(1, n + 1))) for n in range(1, 6)),
        *(
            _kv(f"double{i}", double_value=d)
            for i, d in enumerate(
                [0.1, 1e22, 1e-7, 5e-324, 1.7976931348623157e308, -0.0, 0.3, math.nan, -math.inf]
            )
        ),
        _kv(  # a key of the document form's tags, in a map that is not one
            "tag-like",
            kvlist_value=KeyValueList(
                values=[_kv("$bytes", string_value="AA=="), _kv("$double", double_value=math.inf)]
            ),
        ),
        _kv("int", int_value=-(2**63)),
        _kv("bool", bool_value=True),
        _kv(
            "nested",
            kvlist_value=KeyValueList(
                values=[_kv("list", array_value=ArrayValue(values=[AnyValue(int_value=1)]))]
            ),
        ),
    ]
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend(_kv(f"r{i}", int_value=i) for i in range(30))
    spans = rs.scope_spans.add().spans
    for number, code in enumerate([Status.STATUS_CODE_ERROR, 3]):
        span = spans.add(
            trace_id=b"\x01" * 16,
            span_id=bytes([number + 1]) * 8,
            name="edge",
            kind=Span.SPAN_KIND_SERVER,
            start_time_unix_nano=_SEED_TIME_NS,
            end_time_unix_nano=_SEED_TIME_NS + 1,
            attributes=values,
            dropped_attributes_count=1,
            status=Status(code=code, message="boom"),
        )
        for n in (1, 2):
            span.events.add(time_unix_nano=_SEED_TIME_NS, name=f"e{n}", attributes=values[:n])
            span.links.add(trace_id=b"\x04" * 16, span_id=bytes([n]) * 8, attributes=values[n:])
    return request.SerializeToString()


def _trace_seeds() -> list[bytes]:
    benchmark = PayloadFactory(spans_per_request=10, seed=0).payload(0, now_ns=_SEED_TIME_NS)
    return [SEED_PROTOBUF[Signal.TRACES], benchmark, _edge_trace_request()]


def _trace_json_seeds() -> list[bytes]:
    official = Path(__file__).resolve().parents[1] / "examples" / "otlp" / "trace.json"
    benchmark = PayloadFactory(spans_per_request=10, seed=0).json_payload(0, now_ns=_SEED_TIME_NS)
    return [official.read_bytes(), benchmark]


def _log_seeds() -> list[bytes]:
    benchmark = LogsPayloadFactory(items_per_request=10, seed=0).payload(0, now_ns=_SEED_TIME_NS)
    return [SEED_PROTOBUF[Signal.LOGS], benchmark]


def _log_json_seeds() -> list[bytes]:
    official = Path(__file__).resolve().parents[1] / "examples" / "otlp" / "logs.json"
    benchmark = LogsPayloadFactory(items_per_request=10, seed=0).json_payload(
        0, now_ns=_SEED_TIME_NS
    )
    return [official.read_bytes(), benchmark]


def _metric_seeds() -> list[bytes]:
    benchmark = MetricsPayloadFactory(items_per_request=10, seed=0).payload(0, now_ns=_SEED_TIME_NS)
    return [SEED_PROTOBUF[Signal.METRICS], benchmark]


def _metric_json_seeds() -> list[bytes]:
    official = Path(__file__).resolve().parents[1] / "examples" / "otlp" / "metrics.json"
    benchmark = MetricsPayloadFactory(items_per_request=10, seed=0).json_payload(
        0, now_ns=_SEED_TIME_NS
    )
    return [official.read_bytes(), benchmark]


TARGETS = {
    "native-protobuf-traces": NativeTarget(Signal.TRACES, _trace_seeds),
    "native-json-traces": NativeTarget(Signal.TRACES, _trace_json_seeds, json=True),
    "native-protobuf-logs": NativeTarget(Signal.LOGS, _log_seeds),
    "native-json-logs": NativeTarget(Signal.LOGS, _log_json_seeds, json=True),
    "native-protobuf-metrics": NativeTarget(Signal.METRICS, _metric_seeds),
    "native-json-metrics": NativeTarget(Signal.METRICS, _metric_json_seeds, json=True),
    "span-keys": SpanKeysTarget(),
}


def _check_extension() -> None:
    """The compiled decoder is there, and is the requested build."""
    if os.environ.get("OBSVTY_NO_EXTENSIONS"):  # as the differential tests are skipped
        print("fuzz.native: skipped, OBSVTY_NO_EXTENSIONS is set", file=sys.stderr)
        sys.exit(0)
    if not native.AVAILABLE:
        sys.exit("fuzz.native: obsvty._native is not built (make venv)")
    from obsvty import _native

    loaded = Path(_native.__file__).resolve()
    if EXTENSION_DIR and not loaded.is_relative_to(Path(EXTENSION_DIR).resolve()):
        sys.exit(f"fuzz.native: imported {loaded}, not the build in {EXTENSION_DIR}")
    print(f"fuzz.native: obsvty._native from {loaded}", file=sys.stderr)


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[1] == "--list":
        print(" ".join(TARGETS))
        return
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzz.native {{{'|'.join(TARGETS)}|--list}} [libFuzzer options]")
    _check_extension()
    name = argv[1]
    target = TARGETS[name]
    seeds = target.seeds()
    for number, seed in enumerate(seeds):  # else the fuzzing would prove little
        if not target.seed_is_decoded(seed):
            sys.exit(f"fuzz.native: seed {number} of {name} is left to the reference decoder")
    fuzz(name, target, seeds, [argv[0], *argv[2:]])


if __name__ == "__main__":
    main(sys.argv)

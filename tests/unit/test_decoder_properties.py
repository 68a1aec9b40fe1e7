"""Property-based tests of every decoder (protobuf, OTLP/JSON, gzip/deflate): random and mutated
payloads are refused with a clear error or decoded into valid items, and nothing else happens."""

from __future__ import annotations

import json
import tracemalloc
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obsvty.adapters.otlp.codec import CODECS
from obsvty.adapters.otlp.http_receiver import RequestError, _inflate
from obsvty.domain.model import Signal
from tests.support.fuzzing import (
    SEED_GZIP,
    SEED_JSON,
    SEED_PROTOBUF,
    decode_json,
    decode_protobuf,
    inflate,
    mutated,
)

pytestmark = pytest.mark.unit

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
signals = st.sampled_from(list(Signal))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
otlp_keys = st.sampled_from(
    [
        "resourceSpans", "scopeSpans", "spans", "resourceLogs", "scopeLogs", "logRecords",
        "resourceMetrics", "scopeMetrics", "metrics", "traceId", "spanId", "parentSpanId",
        "attributes", "key", "value", "stringValue", "intValue", "arrayValue", "kvlistValue",
        "values", "startTimeUnixNano", "endTimeUnixNano", "timeUnixNano", "gauge", "sum",
        "histogram", "dataPoints", "asInt", "asDouble", "events", "links", "body",
    ]
)  # fmt: skip
otlp_shaped = st.recursive(
    json_values,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(otlp_keys, children, max_size=4)
    ),
    max_leaves=40,
)


@FAST
@given(signal=signals, payload=st.binary(max_size=512))
def test_protobuf_decoder_random_bytes_refused_or_valid(signal: Signal, payload: bytes) -> None:
    decode_protobuf(CODECS[signal], payload)


@FAST
@given(data=st.data(), signal=signals)
def test_protobuf_decoder_mutated_requests_refused_or_valid(data: Any, signal: Signal) -> None:
    decode_protobuf(CODECS[signal], data.draw(mutated(SEED_PROTOBUF[signal])))


@FAST
@given(signal=signals, payload=st.binary(max_size=256))
def test_json_decoder_random_bytes_refused_or_valid(signal: Signal, payload: bytes) -> None:
    decode_json(CODECS[signal], payload)


@FAST
@given(signal=signals, doc=otlp_shaped)
def test_json_decoder_otlp_shaped_documents_refused_or_valid(signal: Signal, doc: Any) -> None:
    decode_json(CODECS[signal], json.dumps(doc).encode())


@FAST
@given(data=st.data(), signal=signals)
def test_json_decoder_mutated_requests_refused_or_valid(data: Any, signal: Signal) -> None:
    decode_json(CODECS[signal], data.draw(mutated(SEED_JSON[signal])))


@FAST
@given(payload=st.binary(max_size=512), encoding=st.sampled_from(["gzip", "deflate"]))
def test_inflate_random_bytes_refused_with_4xx_or_bounded(payload: bytes, encoding: str) -> None:
    inflate(payload, encoding)


@FAST
@given(data=st.data())
def test_inflate_mutated_gzip_refused_with_4xx_or_bounded(data: Any) -> None:
    inflate(data.draw(mutated(SEED_GZIP)))


def test_inflate_gzip_bomb_is_refused_without_inflating_it_in_memory() -> None:
    # Arrange: 256 MiB of zeros in about 256 KiB
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(256)) + compressor.flush()
    tracemalloc.start()

    # Act
    with pytest.raises(RequestError) as refused:
        _inflate(bomb, "gzip", 1024 * 1024)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Assert
    assert refused.value.http_status == 413
    assert peak < 8 * 1024 * 1024  # the limit plus one step, never the 256 MiB

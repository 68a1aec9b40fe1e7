"""Differential tests of the compiled OTLP/JSON decoder against the reference (orjson, ids from
hex, protobuf's ParseDict): for every document it decodes, exactly the reference's stored rows,
rejection count and first reason; the documents it does not read canonically are left to the
reference. Canonical documents of the corpus must be decoded natively."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from bench.payloads import PayloadFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obsvty.adapters.otlp import native
from obsvty.domain.model import Signal
from tests.conftest import OTLP_EXAMPLES
from tests.support.decoders import Outcome, as_otlp_json, assert_same, native_outcome
from tests.unit.test_native_decoder import _trace_requests

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _same(doc: bytes, *, must_decode: bool = False) -> Outcome | None:
    return assert_same(Signal.TRACES, doc, json=True, must_decode=must_decode)


def test_native_json_official_example_same_as_reference() -> None:
    path = OTLP_EXAMPLES / "trace.json"
    if not path.is_file():
        pytest.skip(f"official OTLP examples not found at {OTLP_EXAMPLES}")

    _same(path.read_bytes(), must_decode=True)


@pytest.mark.parametrize(
    "options",
    [{}, {"use_integers_for_enums": True}, {"preserving_proto_field_name": True}],
    ids=["camel-enum-names", "int-enums", "snake-case"],
)
def test_native_json_benchmark_request_same_as_reference(options: dict[str, Any]) -> None:
    doc = as_otlp_json(Signal.TRACES, PayloadFactory(spans_per_request=20).payload(3), **options)

    _same(doc, must_decode=True)


SPAN = {
    "traceId": "0102030405060708090A0B0C0D0E0F10",
    "spanId": "0102030405060708",
    "name": 'op \\u00e9\\ud83d\\ude00 \\n\\t\\" \\/',
    "kind": 2,
    "startTimeUnixNano": 1000,
    "endTimeUnixNano": "2000",
    "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
    "attributes": [
        {"key": "i", "value": {"intValue": -5}},
        {"key": "s", "value": {"intValue": "-9223372036854775808"}},
        {"key": "d", "value": {"doubleValue": 1}},
        {"key": "e", "value": {"doubleValue": -0.0}},
        {"key": "f", "value": {"doubleValue": 1.5e300}},
        {"key": "y", "value": {"bytesValue": "AP8Qab=="}},
        {"key": "z", "value": {"bytesValue": "YQ"}},
        {"key": "b", "value": {"boolValue": True}},
        {"key": "n", "value": {}},
        {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "x"}, {}]}}},
        {"key": "k", "value": {"kvlistValue": {"values": [{"key": "in", "value": {}}]}}},
    ],
    "events": [{"timeUnixNano": "1500", "name": "ev", "droppedAttributesCount": 2}],
    "links": [{"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "0807060504030201"}],
    "flags": 257,
    "unknownField": {"deep": [1, 2.5, None, True, "x"]},
}


def _doc(span: dict[str, Any]) -> bytes:
    text = orjson.dumps(
        {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": [span]}]}]}
    )
    # escapes written as they would arrive from another encoder
    return text.replace(b"\\\\u", b"\\u").replace(b"\\\\/", b"\\/")


def test_native_json_handwritten_span_same_as_reference() -> None:
    _same(_doc(SPAN), must_decode=True)


LEFT = {
    "null value": {**SPAN, "name": None},
    "duplicate spelling": {**SPAN, "trace_id": SPAN["traceId"]},
    "two oneof members": {
        **SPAN,
        "attributes": [{"key": "x", "value": {"intValue": 1, "stringValue": "a"}}],
    },
    "double as string": {**SPAN, "attributes": [{"key": "x", "value": {"doubleValue": "NaN"}}]},
    "unknown enum name": {**SPAN, "kind": "SERVER"},
    "id with a space": {**SPAN, "spanId": "01020304 05060708"},
    "bad hex id": {**SPAN, "spanId": "zz"},
    "uint32 out of range": {**SPAN, "droppedAttributesCount": 2**32},
    "fraction for an integer": {**SPAN, "startTimeUnixNano": 1.5},
    "urlsafe base64": {**SPAN, "attributes": [{"key": "x", "value": {"bytesValue": "-_8="}}]},
}


@pytest.mark.parametrize("case", sorted(LEFT))
def test_native_json_noncanonical_document_left_to_reference(case: str) -> None:
    doc = _doc(LEFT[case])

    assert native_outcome(Signal.TRACES, doc, json=True) is None
    _same(doc)


@pytest.mark.parametrize(
    "doc",
    [
        b"",
        b"[]",
        b"{",
        b'{"resourceSpans": []} x',
        b'{"a":1,}',
        b"\xff",
        b'{"resourceSpans":[null]}',
        b'{"resourceSpans": [], "unknown": 1e400}',
    ],
)
def test_native_json_invalid_document_left_to_reference(doc: bytes) -> None:
    assert native_outcome(Signal.TRACES, doc, json=True) is None
    _same(doc)


@SETTINGS
@given(_trace_requests(), st.booleans())
def test_native_json_generated_request_same_as_reference(payload: bytes, ints: bool) -> None:
    _same(as_otlp_json(Signal.TRACES, payload, use_integers_for_enums=ints))


@SETTINGS
@given(st.data())
def test_native_json_mutated_document_same_as_reference_or_left(data: st.DataObject) -> None:
    doc = bytearray(_doc(SPAN))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(doc) - 1))
        doc[at : at + data.draw(st.integers(0, 2))] = data.draw(st.binary(max_size=3))

    _same(bytes(doc))

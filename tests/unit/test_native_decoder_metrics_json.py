"""Differential tests of the compiled OTLP/JSON metrics decoder against the reference (orjson,
exemplar ids from hex, protobuf's ParseDict, to_domain.metrics, metric_table): for every document
it decodes, exactly the reference's stored rows, rejection count and first reason; documents it
does not read canonically are left to the reference. Canonical documents of the corpus must be
decoded natively."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from bench.payloads import MetricsPayloadFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obsvty.adapters.otlp import native
from obsvty.domain.model import Signal
from tests.conftest import OTLP_EXAMPLES
from tests.support.decoders import (
    INVALID,
    Outcome,
    as_otlp_json,
    assert_same,
    native_outcome,
    reference_outcome,
)
from tests.unit.test_native_decoder_metrics import (
    metrics_requests,
    sdk_metrics_request,
)

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _same(doc: bytes, *, must_decode: bool = False) -> Outcome | None:
    return assert_same(Signal.METRICS, doc, json=True, must_decode=must_decode)


def test_native_metrics_json_official_example_same_as_reference() -> None:
    path = OTLP_EXAMPLES / "metrics.json"
    if not path.is_file():
        pytest.skip(f"official OTLP examples not found at {OTLP_EXAMPLES}")

    _same(path.read_bytes(), must_decode=True)


@pytest.mark.parametrize(
    "options",
    [{}, {"use_integers_for_enums": True}, {"preserving_proto_field_name": True}],
    ids=["camel-enum-names", "int-enums", "snake-case"],
)
def test_native_metrics_json_benchmark_request_same_as_reference(options: dict[str, Any]) -> None:
    doc = as_otlp_json(Signal.METRICS, MetricsPayloadFactory(24).payload(3), **options)

    _same(doc, must_decode=True)


def test_native_metrics_json_benchmark_body_same_as_reference() -> None:
    _same(MetricsPayloadFactory(24).json_payload(1), must_decode=True)


def test_native_metrics_json_sdk_export_same_as_reference() -> None:
    _same(as_otlp_json(Signal.METRICS, sdk_metrics_request().SerializeToString()), must_decode=True)


_T = "1700000000000000000"
_EXEMPLAR = {
    "timeUnixNano": _T,
    "asInt": "-9223372036854775808",
    "traceId": "0102030405060708090A0B0C0D0E0F10",
    "spanId": "0102030405060708",
    "filteredAttributes": [{"key": "k", "value": {"boolValue": False}}],
}
METRICS: list[dict[str, Any]] = [
    {
        "name": "g",
        "unit": "Cel",
        "description": "a gauge",
        "metadata": [{"key": "m", "value": {"intValue": "3"}}],
        "gauge": {
            "dataPoints": [
                {"timeUnixNano": _T, "asDouble": 1, "flags": 1},
                {"timeUnixNano": 5, "asInt": -5, "exemplars": [_EXEMPLAR]},
                {
                    "time_unix_nano": _T,
                    "as_double": -0.0,
                    "exemplars": [{"asDouble": 2.5e-300, "traceId": "", "span_id": "0000"}],
                },
                {"timeUnixNano": _T},
            ]
        },
    },
    {
        "name": "s",
        "sum": {
            "aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA",
            "isMonotonic": True,
            "dataPoints": [{"startTimeUnixNano": 1, "timeUnixNano": _T, "asInt": "42"}],
        },
    },
    {
        "name": "h",
        "histogram": {
            "aggregationTemporality": 2,
            "dataPoints": [
                {
                    "timeUnixNano": _T,
                    "count": "6",
                    "sum": 12.5,
                    "min": 0,
                    "max": 1e300,
                    "bucketCounts": ["1", 2, "18446744073709551615"],
                    "explicitBounds": [0.5, 10],
                    "exemplars": [{"timeUnixNano": 3, "asDouble": 0.25}],
                },
                {"timeUnixNano": _T, "bucketCounts": [], "explicitBounds": [1, 2]},
            ],
        },
    },
    {
        "name": "e",
        "exponentialHistogram": {
            "aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
            "dataPoints": [
                {
                    "timeUnixNano": _T,
                    "count": 9,
                    "sum": 3.5,
                    "scale": -3,
                    "zeroCount": "2",
                    "zeroThreshold": 1e-9,
                    "positive": {"offset": -2147483648, "bucketCounts": ["1", 300]},
                    "negative": {"offset": 2147483647, "bucketCounts": [4]},
                    "min": -1,
                    "max": 2,
                },
                {"timeUnixNano": _T, "positive": {}},
            ],
        },
    },
    {
        "name": "q",
        "summary": {
            "dataPoints": [
                {
                    "timeUnixNano": _T,
                    "count": "4",
                    "sum": 10.25,
                    "quantileValues": [{"quantile": 0.5, "value": 3}, {"value": 1e-7}, {}],
                    "attributes": [{"key": "q", "value": {"doubleValue": 0.1}}],
                }
            ]
        },
    },
    {"name": "empty gauge", "gauge": {}},
]


def _doc(metrics: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "resourceMetrics": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]
                    },
                    "scopeMetrics": [{"scope": {"name": "s"}, "metrics": metrics}],
                }
            ]
        }
    )


def test_native_metrics_json_every_point_type_same_as_reference() -> None:
    got = _same(_doc(METRICS), must_decode=True)

    assert got is not None
    assert got != INVALID
    assert len(got[0]) == 10
    assert got[1] == 0


REJECTED = {
    "unknown temporality number": {
        "name": "s",
        "sum": {"aggregationTemporality": 7, "dataPoints": [{}]},
    },
    "no data": {"name": "x", "unit": "1"},
    "no name": {"gauge": {"dataPoints": [{"timeUnixNano": 1}]}},
    "no time": {"name": "g", "gauge": {"dataPoints": [{"asInt": 1}]}},
    "exemplar id length": {
        "name": "g",
        "gauge": {"dataPoints": [{"timeUnixNano": 1, "exemplars": [{"traceId": "0102"}]}]},
    },
    "histogram bounds": {
        "name": "h",
        "histogram": {"dataPoints": [{"timeUnixNano": 1, "explicitBounds": [2, 1]}]},
    },
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_native_metrics_json_rejections_same_as_reference(case: str) -> None:
    got = _same(_doc([METRICS[1], REJECTED[case]]), must_decode=True)

    assert got is not None
    assert got != INVALID
    assert got[1] == 1


LEFT = {
    "two value members": {"name": "g", "gauge": {"dataPoints": [{"asInt": 1, "asDouble": 1.5}]}},
    "two exemplar values": {
        "name": "g",
        "gauge": {"dataPoints": [{"exemplars": [{"asInt": 1, "asDouble": 1.5}]}]},
    },
    "two data members": {"name": "m", "gauge": {}, "sum": {}},
    "unknown temporality name": {"name": "s", "sum": {"aggregationTemporality": "DELTA"}},
    "NaN as a string": {"name": "g", "gauge": {"dataPoints": [{"asDouble": "NaN"}]}},
    "exemplar id not hex": {
        "name": "g",
        "gauge": {"dataPoints": [{"exemplars": [{"spanId": "zz"}]}]},
    },
    "null": {"name": "g", "gauge": {"dataPoints": [{"asDouble": None}]}},
    "scale out of range": {
        "name": "e",
        "exponentialHistogram": {"dataPoints": [{"scale": 2147483648}]},
    },
    "asInt out of range": {
        "name": "g",
        "gauge": {"dataPoints": [{"asInt": "9223372036854775808"}]},
    },
}


@pytest.mark.parametrize("case", sorted(LEFT))
def test_native_metrics_json_noncanonical_document_left_to_reference(case: str) -> None:
    doc = _doc([LEFT[case]])

    assert native_outcome(Signal.METRICS, doc, json=True) is None
    _same(doc)


@SETTINGS
@given(metrics_requests(), st.booleans())
def test_native_metrics_json_generated_request_same_as_reference(
    payload: bytes, ints: bool
) -> None:
    _same(as_otlp_json(Signal.METRICS, payload, use_integers_for_enums=ints))


@SETTINGS
@given(st.data())
def test_native_metrics_json_mutated_document_same_as_reference_or_left(
    data: st.DataObject,
) -> None:
    doc = bytearray(_doc(METRICS))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(doc) - 1))
        doc[at : at + data.draw(st.integers(0, 2))] = data.draw(st.binary(max_size=3))

    _same(bytes(doc))


@pytest.mark.parametrize(
    "doc",
    [
        b"",
        b"[]",
        b'{"resourceMetrics": [], "unknown": 1e400}',  # orjson: out of a double's range
        b'{"resourceMetrics": [], "unknown": [-1e999]}',
        b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "g", "x": 2e308}]}]}]}',
        b'{"resourceMetrics": [null]}',
    ],
)
def test_native_metrics_json_invalid_document_left_to_reference(doc: bytes) -> None:
    assert native_outcome(Signal.METRICS, doc, json=True) is None
    assert reference_outcome(Signal.METRICS, doc, json=True) == INVALID


_json_numbers = st.sampled_from(
    ["1e400", "-1e999", "1e-400", "123456789012345678901234567890", "-0", "0.0", "1E+2", "2e308"]
) | st.integers(-(2**70), 2**70).map(str)
_json_values = st.recursive(
    _json_numbers | st.sampled_from(["true", "false", "null", '"x"', '"\\ud83d\\ude00"', '""']),
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda vs: "[" + ",".join(vs) + "]")
        | st.lists(inner, max_size=3).map(
            lambda vs: "{" + ",".join(f'"k{i}":{v}' for i, v in enumerate(vs)) + "}"
        )
    ),
    max_leaves=6,
)


@SETTINGS
@given(st.data(), _json_values)
def test_native_metrics_json_unknown_field_anywhere_same_as_reference(
    data: st.DataObject, value: str
) -> None:
    """An unknown field (any JSON value) in any object of the document: skipped by both, or the
    whole document refused by orjson (a number out of a double's range) and left by the C one."""
    doc = _doc(METRICS)
    objects = [i for i, c in enumerate(doc) if c == ord("{")]
    at = data.draw(st.sampled_from(objects)) + 1
    doc = doc[:at] + b'"unknownField":' + value.encode() + b"," + doc[at:]

    _same(doc)

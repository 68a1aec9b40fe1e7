"""Differential tests of the compiled OTLP/JSON logs decoder against the reference (orjson, ids
from hex, ParseDict, then the logs conversion): the same stored rows, rejection count and first
reason for every document it decodes; canonical documents of the corpus must decode natively."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from bench.payloads import LogsPayloadFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obsvty.adapters.otlp import native
from obsvty.domain.model import Signal
from tests.support.decoders import (
    Outcome,
    as_otlp_json,
    assert_same,
    native_outcome,
)
from tests.unit.test_native_decoder_logs import _log_requests, _sdk_payload, _typed_request

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "otlp"


def _same(doc: bytes, *, must_decode: bool = False) -> Outcome | None:
    return assert_same(Signal.LOGS, doc, json=True, must_decode=must_decode)


def test_native_logs_json_official_example_same_as_reference() -> None:
    _same((EXAMPLES / "logs.json").read_bytes(), must_decode=True)


def test_native_logs_json_benchmark_request_same_as_reference() -> None:
    _same(LogsPayloadFactory(items_per_request=20).json_payload(3), must_decode=True)


@pytest.mark.parametrize("ints", [False, True], ids=["enum-names", "int-enums"])
def test_native_logs_json_sdk_and_typed_requests_same_as_reference(ints: bool) -> None:
    for payload in (_sdk_payload(), _typed_request(20)):
        _same(as_otlp_json(Signal.LOGS, payload, use_integers_for_enums=ints), must_decode=True)


RECORD = {
    "timeUnixNano": "1000",
    "observedTimeUnixNano": 2000,
    "severityNumber": "SEVERITY_NUMBER_WARN2",
    "severityText": "warn",
    "body": {"kvlistValue": {"values": [{"key": "k", "value": {"doubleValue": 0.5}}]}},
    "attributes": [{"key": "a", "value": {"bytesValue": "AAE="}}],
    "traceId": "0102030405060708090a0b0c0d0e0f10",
    "spanId": "0000000000000000",
    "flags": 1,
    "eventName": "ev",
}


def _doc(record: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [record]}]}]}
    )


@pytest.mark.parametrize(
    "record",
    [RECORD, {**RECORD, "body": {}}, {"severityNumber": 30}, {"spanId": "01"}],
    ids=["full", "empty-body", "bad-severity", "short-span-id"],
)
def test_native_logs_json_handwritten_record_same_as_reference(record: dict[str, Any]) -> None:
    _same(_doc(record), must_decode=True)


@pytest.mark.parametrize(
    "record",
    [{**RECORD, "body": None}, {**RECORD, "severityNumber": "WARN"}, {**RECORD, "traceId": "x"}],
    ids=["null", "unknown-enum-name", "bad-hex"],
)
def test_native_logs_json_noncanonical_left_to_reference(record: dict[str, Any]) -> None:
    doc = _doc(record)

    assert native_outcome(Signal.LOGS, doc, json=True) is None
    _same(doc)


@SETTINGS
@given(_log_requests(), st.booleans())
def test_native_logs_json_generated_request_same_as_reference(payload: bytes, ints: bool) -> None:
    _same(as_otlp_json(Signal.LOGS, payload, use_integers_for_enums=ints))

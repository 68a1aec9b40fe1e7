"""Differential tests for logs: the compiled decoder (obsvty._native) against the reference decoder.

As in test_native_decoder.py: for every request of the corpus (the official example, the
OpenTelemetry SDK's own encoding, hand-built edge cases) and for generated and mutated ones, the
compiled decoder either leaves the request to the reference decoder or gives exactly what the
reference gives: the same stored rows, the same rejection count and the same first reason.
Requests of ordinary shape must not be left to the reference (else these tests would prove
nothing).

Longer than the project's ~450-line bound: one differential suite per signal, sharing its request
builders.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from obsvty.adapters.encoding.stored_rows import list_batch
from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS
from obsvty.domain.arrow_batch import LOG_SCHEMA, ArrowBatch
from obsvty.domain.model import Signal
from tests.conftest import OTLP_EXAMPLES
from tests.support.decoders import (
    INVALID,
    Outcome,
    assert_same,
    native_outcome,
    reference_outcome,
    reference_table,
)
from tests.support.fuzzing import SEED_PROTOBUF, mutated

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _same(payload: bytes, *, must_decode: bool = False) -> Outcome | None:
    return assert_same(Signal.LOGS, payload, must_decode=must_decode)


# ---- the corpus


def _official_logs() -> bytes:
    path = OTLP_EXAMPLES / "logs.json"
    if not path.is_file():
        pytest.skip(f"official OTLP examples not found at {OTLP_EXAMPLES}")
    message = CODECS[Signal.LOGS].parse_json(path.read_bytes())
    return message.SerializeToString()


def test_native_logs_official_example_same_as_reference() -> None:
    _same(_official_logs(), must_decode=True)


SDK_BODIES: list[Any] = [
    "plain text",
    17,
    -(2**63),
    2.5,
    True,
    b"\x01\x02",
    ["a", 1, 2.0, False, None],
    {"event": "login", "user": {"id": 7, "roles": ["admin"]}},
    None,
]


def _sdk_payload() -> bytes:
    """Log records as the OpenTelemetry SDK records and encodes them: every kind of body, typed
    attributes, a trace context on some, an event name on one, two scopes."""
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.trace import (
        NonRecordingSpan,
        SpanContext,
        TraceFlags,
        set_span_in_context,
    )

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    loggers = [
        provider.get_logger("tests.native", "1.0", attributes={"scope.attr": 1}),
        provider.get_logger("tests.other"),
    ]
    span = SpanContext(0x5B8EFFF798038103D269B633813FC60C, 0xEEE19B7EC3C1B174, False, TraceFlags(1))
    context = set_span_in_context(NonRecordingSpan(span))
    for i, body in enumerate(SDK_BODIES):
        loggers[i % 2].emit(
            timestamp=1_700_000_000_000_000_000 + i,
            observed_timestamp=1_700_000_000_000_001_000 + i,
            context=context if i % 3 == 0 else None,
            severity_number=SeverityNumber.WARN if i % 2 else SeverityNumber.INFO,
            severity_text="WARN" if i % 2 else "INFO",
            body=body,
            attributes={"http.status_code": 200 + i, "ratio": 0.25, "ok": True, "tags": ["x"]},
            event_name="shop.event" if i == 1 else None,
        )
    provider.shutdown()
    return encode_logs(exporter.get_finished_logs()).SerializeToString()


def test_native_logs_sdk_export_same_as_reference() -> None:
    _same(_sdk_payload(), must_decode=True)


def _typed_request(records: int = 100) -> bytes:
    """Records with about ten typed attributes each, under two resources."""
    request = ExportLogsServiceRequest()
    for r in range(2):
        rl = request.resource_logs.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
        rl.resource.attributes.extend(
            [_kv("service.name", string_value=f"svc-{r}"), _kv("host.cpus", int_value=8)]
        )
        sl = rl.scope_logs.add()
        sl.scope.name = "app.logger"
        for i in range(records // 2):
            sl.log_records.add(
                time_unix_nano=1_700_000_000_000_000_000 + i,
                observed_time_unix_nano=1_700_000_000_000_000_500 + i,
                severity_number=9 + i % 8,
                severity_text="INFO",
                body=AnyValue(string_value=f"request {i} served in {i * 1.5} ms"),
                attributes=[
                    _kv("http.request.method", string_value="GET"),
                    _kv("http.route", string_value="/api/products/{id}"),
                    _kv("http.response.status_code", int_value=200),
                    _kv("server.port", int_value=8080),
                    _kv("duration_ms", double_value=i * 1.5),
                    _kv("cache.hit", bool_value=i % 2 == 0),
                    _kv("user.id", int_value=10_000 + i),
                    _kv("thread.name", string_value="worker-3"),
                    _kv("code.lineno", int_value=120 + i % 7),
                    _kv("tags", array_value={"values": [AnyValue(string_value="a")]}),
                ],
                trace_id=bytes([i + 1]) * 16,
                span_id=bytes([i + 2]) * 8,
                flags=1,
            )
    return request.SerializeToString()


def test_native_logs_typed_request_same_as_reference() -> None:
    _same(_typed_request(), must_decode=True)


def test_native_logs_fuzz_seed_same_as_reference() -> None:
    _same(SEED_PROTOBUF[Signal.LOGS], must_decode=True)


def test_native_logs_empty_request_decodes_to_nothing() -> None:
    assert native_outcome(Signal.LOGS, b"") == ([], 0, "")


def test_native_logs_table_has_the_reference_schema() -> None:
    payload = _sdk_payload()
    decode = native.protobuf_decoder(Signal.LOGS)
    assert decode is not None
    decoded = decode(payload)
    expected = reference_table(Signal.LOGS, payload)

    assert decoded is not None
    assert not isinstance(expected, str)
    assert decoded.batch.table.schema == expected[0].schema == LOG_SCHEMA


def test_native_logs_list_form_same_as_reference_batch() -> None:
    # what MongoDB builds its documents from: the reference's own batch
    payload = _sdk_payload() + _request(
        _record(trace_id=bytes(16), span_id=b""), resource=[_kv("service.name", string_value="b")]
    )
    decode = native.protobuf_decoder(Signal.LOGS)
    assert decode is not None
    decoded = decode(payload)
    assert decoded is not None
    assert isinstance(decoded.batch, ArrowBatch)

    assert (
        list_batch(decoded.batch) == CODECS[Signal.LOGS].reference().decode_protobuf(payload).batch
    )


# ---- hand-built edge cases

_TRACE = b"\x01" * 16
_SPAN = b"\x02" * 8


def _request(*records: LogRecord, resource: list[KeyValue] | None = None) -> bytes:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add(schema_url="https://schema/r")
    if resource is not None:
        rl.resource.attributes.extend(resource)
    rl.scope_logs.add(schema_url="s").scope.name = "scope"
    rl.scope_logs[0].log_records.extend(records)
    return request.SerializeToString()


def _record(**fields: Any) -> LogRecord:
    base: dict[str, Any] = {
        "time_unix_nano": 10,
        "observed_time_unix_nano": 20,
        "severity_number": 9,
        "severity_text": "INFO",
        "body": AnyValue(string_value="hello"),
        "trace_id": _TRACE,
        "span_id": _SPAN,
    }
    base.update(fields)
    return LogRecord(**base)


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


INVALID_RECORDS = {
    "time out of range": _record(time_unix_nano=2**63),
    "time max": _record(time_unix_nano=2**64 - 1),
    "observed out of range": _record(observed_time_unix_nano=2**63),
    "time before severity": _record(time_unix_nano=2**63, severity_number=99),
    "severity": _record(severity_number=25),
    "negative severity": _record(severity_number=-1),
    "large severity": _record(severity_number=2**31 - 1),
    "severity before ids": _record(severity_number=30, trace_id=b"\x01" * 3),
    "short trace id": _record(trace_id=b"\x01" * 3),
    "long trace id": _record(trace_id=b"\x01" * 17),
    "trace id, zero but one byte": _record(trace_id=bytes(14) + b"\x01"),
    "trace id before span id": _record(trace_id=b"\x01", span_id=b"\x01"),
    "short span id": _record(span_id=b"\x01"),
    "long span id": _record(span_id=b"\x01" * 16),
    "span id only, bad": _record(trace_id=b"", span_id=b"\x05" * 7),
}


@pytest.mark.parametrize("case", sorted(INVALID_RECORDS))
def test_native_logs_invalid_record_rejected_like_reference(case: str) -> None:
    payload = _request(_record(span_id=b"\x09" * 8), INVALID_RECORDS[case], _record())

    _same(payload, must_decode=True)
    got = native_outcome(Signal.LOGS, payload)
    assert got is not None
    assert got != INVALID
    assert len(got[0]) == 2
    assert got[1] == 1


def test_native_logs_first_reason_is_the_first_rejected_record() -> None:
    payload = _request(
        INVALID_RECORDS["short span id"], _record(), INVALID_RECORDS["severity"], _record()
    )

    _same(payload, must_decode=True)
    got = native_outcome(Signal.LOGS, payload)
    assert got is not None
    assert got != INVALID
    assert got[1:] == (2, "span_id must be empty or 8 bytes, got 1")


VALID_RECORDS = {
    "no ids": _record(trace_id=b"", span_id=b""),
    "zero ids": _record(trace_id=bytes(16), span_id=bytes(8)),
    "zero ids of any length": _record(trace_id=bytes(3), span_id=bytes(30)),
    "span id without trace id": _record(trace_id=b""),
    "max times": _record(time_unix_nano=2**63 - 1, observed_time_unix_nano=2**63 - 1),
    "no times": _record(time_unix_nano=0, observed_time_unix_nano=0),
    "max severity": _record(severity_number=24),
    "no severity": _record(severity_number=0, severity_text=""),
    "everything else": _record(
        flags=2**32 - 1,
        dropped_attributes_count=2**32 - 1,
        event_name="app.event é",
        severity_text="Wärning\n",
    ),
    "nothing at all": LogRecord(),
}


@pytest.mark.parametrize("case", sorted(VALID_RECORDS))
def test_native_logs_valid_record_stored_like_reference(case: str) -> None:
    _same(_request(VALID_RECORDS[case]), must_decode=True)


BODIES = {
    "absent": None,
    "empty": AnyValue(),
    "strindex": AnyValue(string_value_strindex=3),
    "string": AnyValue(string_value='q"\\/\n\r\t\b\f\x00\x1f\x7f\u2028é😀'),
    "empty string": AnyValue(string_value=""),
    "int": AnyValue(int_value=-(2**63)),
    "zero int": AnyValue(int_value=0),
    "double": AnyValue(double_value=0.1),
    "integral double": AnyValue(double_value=2.0),
    "nan": AnyValue(double_value=math.nan),
    "infinity": AnyValue(double_value=-math.inf),
    "true": AnyValue(bool_value=True),
    "false": AnyValue(bool_value=False),
    "bytes": AnyValue(bytes_value=b"\x00\xff\x10ab"),
    "empty bytes": AnyValue(bytes_value=b""),
    "array": AnyValue(
        array_value={"values": [AnyValue(int_value=1), AnyValue(), AnyValue(string_value="s")]}
    ),
    "empty array": AnyValue(array_value={}),
    "kvlist": AnyValue(kvlist_value={"values": [_kv("a", double_value=1.0), KeyValue(key="none")]}),
    "empty kvlist": AnyValue(kvlist_value={}),
    "nested": AnyValue(
        kvlist_value={
            "values": [
                KeyValue(
                    key="n",
                    value=AnyValue(
                        array_value={
                            "values": [
                                AnyValue(kvlist_value={"values": [_kv("b", bytes_value=b"z")]}),
                                AnyValue(array_value={"values": [AnyValue(bool_value=False)]}),
                            ]
                        }
                    ),
                )
            ]
        }
    ),
}


@pytest.mark.parametrize("case", sorted(BODIES))
def test_native_logs_body_stored_like_reference(case: str) -> None:
    body = BODIES[case]
    record = _record()
    record.ClearField("body")
    if body is not None:
        record.body.CopyFrom(body)

    _same(_request(record), must_decode=True)


def test_native_logs_body_null_only_when_absent_or_empty() -> None:
    absent, empty, strindex, null_in_array = _record(), _record(), _record(), _record()
    absent.ClearField("body")
    empty.body.Clear()
    strindex.body.CopyFrom(BODIES["strindex"])
    null_in_array.body.array_value.values.add()

    got = native_outcome(Signal.LOGS, _request(absent, empty, strindex, null_in_array))

    assert got is not None
    assert got != INVALID
    assert [row["body"] for row in got[0]] == [None, None, None, "[null]"]


VALUES = {
    "escapes": _kv("s", string_value='q"\\/\n\r\t\b\f\x00\x1f\x7f\u2028é😀'),
    "ints": _kv("i", int_value=-(2**63)),
    "big int": _kv("i", int_value=2**63 - 1),
    "bool": _kv("b", bool_value=True),
    "double": _kv("d", double_value=1e16),
    "bytes": _kv("y", bytes_value=b"\x00\xff\x10ab"),
    "empty": KeyValue(key="none"),
    "strindex": _kv("x", string_value_strindex=3),
    "nested": BODIES["nested"].kvlist_value.values[0],
}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_native_logs_attribute_value_stored_like_reference(case: str) -> None:
    record = _record(attributes=[VALUES[case], _kv("other", int_value=1)])
    scope_attributes = [VALUES[case]]
    payload = ExportLogsServiceRequest.FromString(_request(record, resource=[VALUES[case]]))
    payload.resource_logs[0].scope_logs[0].scope.attributes.extend(scope_attributes)

    _same(payload.SerializeToString(), must_decode=True)


def test_native_logs_service_name_missing_or_empty_is_unknown_service() -> None:
    for resource in (
        [],
        [_kv("service.name", string_value="")],
        [_kv("service.name", int_value=1)],
        [_kv("service.name", string_value="svc")],
    ):
        _same(_request(_record(), resource=resource), must_decode=True)


def test_native_logs_resources_and_scopes_shared_by_their_records() -> None:
    request = ExportLogsServiceRequest()
    for r in range(3):
        rl = request.resource_logs.add(schema_url=f"r{r}")
        rl.resource.attributes.append(_kv("service.name", string_value=f"svc{r}"))
        rl.resource.dropped_attributes_count = r
        for s in range(r):  # the first resource has no scope, the second one scope with no record
            sl = rl.scope_logs.add(schema_url=f"s{s}")
            sl.scope.name = f"scope{s}"
            sl.scope.version = "v"
            sl.scope.dropped_attributes_count = s
            sl.log_records.extend(_record(severity_number=n) for n in range(s * 2))

    _same(request.SerializeToString(), must_decode=True)


def test_native_logs_repeated_key_left_to_reference() -> None:
    payload = _request(_record(attributes=[_kv("k", int_value=1), _kv("k", int_value=2)]))

    assert native_outcome(Signal.LOGS, payload) is None
    _same(payload)


# ---- protobuf shapes only the reference decides: malformed parts refuse the whole request


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _wrapped(*records: bytes) -> bytes:
    """A request of one resource and one scope around records given as wire bytes."""
    scope_logs = b"".join(_field(2, r) for r in records)
    return _field(1, _field(2, scope_logs))


_MALFORMED_KEYVALUE = b"\x0a\x05ab"  # a key of 5 bytes, 2 given
_INVALID_UTF8 = b"\xff\xfe"

MALFORMED = {
    "attribute": _field(6, _MALFORMED_KEYVALUE),
    "attribute value": _field(6, _field(1, b"k") + _field(2, b"\x0a\x09x")),
    "body": _field(5, b"\x0a\x05ab"),
    "body in a kvlist": _field(5, _field(6, _field(1, _MALFORMED_KEYVALUE))),
    "severity text": _field(3, _INVALID_UTF8),
    "event name": _field(12, _INVALID_UTF8),
    "attribute key": _field(6, _field(1, _INVALID_UTF8)),
}


@pytest.mark.parametrize("rejected", [False, True], ids=["stored", "rejected"])
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_native_logs_malformed_field_left_to_reference_which_refuses(
    case: str, rejected: bool
) -> None:
    record = _record(severity_number=99 if rejected else 9).SerializeToString()
    payload = _wrapped(_record().SerializeToString(), record + MALFORMED[case])

    assert native_outcome(Signal.LOGS, payload) is None
    assert reference_outcome(Signal.LOGS, payload) == INVALID


def test_native_logs_body_given_twice_left_to_reference() -> None:
    # protobuf merges the two bodies of one record: the reference's business
    twice = (
        _record().SerializeToString()
        + _field(5, AnyValue(kvlist_value={"values": [_kv("a", int_value=1)]}).SerializeToString())
        + _field(5, AnyValue(kvlist_value={"values": [_kv("b", int_value=2)]}).SerializeToString())
    )
    payload = _wrapped(twice)

    assert native_outcome(Signal.LOGS, payload) is None
    expected = reference_outcome(Signal.LOGS, payload)
    assert expected != INVALID
    assert expected[0][0]["body"] == '{"a":1,"b":2}'


def test_native_logs_unknown_fields_skipped_like_reference() -> None:
    record = (
        _record().SerializeToString()
        + _field(4, b"reserved")  # LogRecord's reserved field 4
        + _varint(99 << 3)
        + _varint(7)  # an unknown varint
        + _varint(100 << 3 | 5)
        + b"\x00\x01\x02\x03"  # an unknown fixed32
    )

    _same(_wrapped(record), must_decode=True)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (2, 2**32 + 9),  # severity_number: an enum keeps the low 32 bits
        (2, 2**40 + 30),
        (2, 2**64 - 1),  # -1
        (7, 2**32 + 3),  # dropped_attributes_count: a uint32 keeps the low 32 bits
        (7, 2**64 - 1),
    ],
)
def test_native_logs_wide_varint_truncated_like_reference(field: int, value: int) -> None:
    record = _record().SerializeToString() + _varint(field << 3) + _varint(value)

    _same(_wrapped(_record().SerializeToString(), record), must_decode=True)


# ---- generated requests

_text = st.text(max_size=12)
_any_value = st.recursive(
    st.builds(lambda v: AnyValue(string_value=v), _text)
    | st.builds(lambda v: AnyValue(int_value=v), st.integers(-(2**63), 2**63 - 1))
    | st.builds(lambda v: AnyValue(double_value=v), st.floats())
    | st.builds(lambda v: AnyValue(bool_value=v), st.booleans())
    | st.builds(lambda v: AnyValue(bytes_value=v), st.binary(max_size=8))
    | st.builds(lambda v: AnyValue(string_value_strindex=v), st.integers(0, 5))
    | st.just(AnyValue()),
    lambda children: (
        st.builds(lambda vs: AnyValue(array_value={"values": vs}), st.lists(children, max_size=3))
        | st.builds(
            lambda kv: AnyValue(
                kvlist_value={"values": [KeyValue(key=k, value=v) for k, v in kv.items()]}
            ),
            st.dictionaries(st.text(max_size=4), children, max_size=3),
        )
    ),
    max_leaves=8,
)
# keys unique within a list: a repeated key is left to the reference (tested above), and every
# generated request must then decode natively
_attributes = st.lists(
    st.builds(lambda k, v: KeyValue(key=k, value=v), st.text(max_size=6), _any_value),
    max_size=5,
    unique_by=lambda kv: kv.key,
)
_ids = st.sampled_from(
    [b"", bytes(3), bytes(8), bytes(16), b"\x01" * 8, b"\x07" * 16, b"\x03" * 5, b"\x00\x01"]
)
_times = st.sampled_from([0, 1, 10**18, 2**63 - 1, 2**63, 2**64 - 1])


@st.composite
def _records(draw: st.DrawFn) -> LogRecord:
    record = LogRecord(
        time_unix_nano=draw(_times),
        observed_time_unix_nano=draw(_times),
        severity_number=draw(st.integers(-2, 26) | st.sampled_from([2**31 - 1, -(2**31)])),
        severity_text=draw(_text),
        attributes=draw(_attributes),
        dropped_attributes_count=draw(st.integers(0, 2**32 - 1)),
        flags=draw(st.integers(0, 2**32 - 1)),
        trace_id=draw(st.sampled_from([_TRACE]) | _ids),
        span_id=draw(st.sampled_from([_SPAN]) | _ids),
        event_name=draw(_text),
    )
    if draw(st.booleans()):
        record.body.CopyFrom(draw(_any_value))
    return record


@st.composite
def _log_requests(draw: st.DrawFn) -> bytes:
    request = ExportLogsServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        rl = request.resource_logs.add(schema_url=draw(_text))
        rl.resource.attributes.extend(draw(_attributes))
        rl.resource.dropped_attributes_count = draw(st.integers(0, 5))
        for _ in range(draw(st.integers(0, 2))):
            sl = rl.scope_logs.add(schema_url=draw(_text))
            sl.scope.name = draw(_text)
            sl.scope.version = draw(_text)
            sl.scope.attributes.extend(draw(_attributes))
            sl.log_records.extend(draw(st.lists(_records(), max_size=3)))
    return request.SerializeToString()


@SETTINGS
@given(_log_requests())
def test_native_logs_generated_request_same_as_reference(payload: bytes) -> None:
    _same(payload, must_decode=True)


@SETTINGS
@given(_any_value)
def test_native_logs_any_body_same_as_reference(body: AnyValue) -> None:
    _same(_request(_record(body=body)), must_decode=True)


_MUTATION_SEEDS = [SEED_PROTOBUF[Signal.LOGS], _typed_request(4)]


@SETTINGS
@given(st.data())
def test_native_logs_mutated_request_decoded_like_reference_or_left(data: st.DataObject) -> None:
    seed = data.draw(st.sampled_from(_MUTATION_SEEDS))

    _same(data.draw(mutated(seed)))


@SETTINGS
@given(st.binary(max_size=64))
def test_native_logs_random_bytes_decoded_like_reference_or_left(payload: bytes) -> None:
    _same(payload)


def test_native_logs_first_record_without_trace_id_same_as_reference() -> None:
    # found by make fuzz-asan: the first record of a request has no trace id, so its hex column
    # is still unallocated when an empty id is written to it (UBSan: NULL + 0, now returned early)
    payload = base64.b64decode(
        "CjQSMhIwCQEAAAAAAAAAEAkqBwoFaGVsbG9KEAEBAQEBAQEBAQEBAQEBAQFyCAICAgICAgIC"
    )

    _same(payload, must_decode=True)

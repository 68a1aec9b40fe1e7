"""Redaction of the compiled decoder's Arrow batches against the reference path: for every rule
kind and action, native decode + Arrow redaction stores the rows, and counts the redactions, that
reference decode + list redaction + the store's Arrow conversion do.

Longer than the project's ~450-line bound: every rule kind against the reference path, sharing the
same requests.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from bench.payloads import factory_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from obsvty.adapters.encoding.typed_json import dumps
from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS
from obsvty.adapters.redaction_rules import build_policy
from obsvty.application.redaction import Redactor
from obsvty.application.redaction_prefilter import _UPPER_TO_ASCII, Prefilters
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.model import Signal
from obsvty.domain.redaction import (
    BUILTIN_PATTERNS,
    MASK,
    Action,
    KeyRule,
    PatternRule,
    RedactionPolicy,
    builtin_pattern,
)
from tests.conftest import OTLP_EXAMPLES
from tests.support.decoders import as_otlp_json
from tests.support.redaction import assert_redacted_alike, native_stored

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

KEY = b"test-key"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

Policy = Callable[[], RedactionPolicy]


def _policy(keys: list[KeyRule], patterns: list[PatternRule]) -> Policy:
    return lambda: RedactionPolicy(list(keys), list(patterns), KEY)


def _built(**settings: Any) -> Policy:
    def make() -> RedactionPolicy:
        policy = build_policy(**settings)
        assert policy is not None
        return policy

    return make


RULE_SETS: dict[str, Policy] = {
    "defaults, masking": _built(defaults=True),
    "defaults, hashing": _built(defaults=True, hash_key="k3y"),
    "key globs": _policy(
        [
            KeyRule("*password*", Action.DROP),
            KeyRule("User.*", Action.MASK),
            KeyRule("*TOKEN*", Action.HASH),
            KeyRule("k?y", Action.HASH),
            KeyRule("[ab]x*", Action.MASK),
            KeyRule("*é*", Action.DROP),
            KeyRule('*"q*', Action.MASK),
            KeyRule("*id", Action.MASK),
        ],
        [],
    ),
    "every key hashed": _policy([KeyRule("*", Action.HASH)], []),
    "every key dropped": _policy([KeyRule("?*", Action.DROP)], []),
    "custom patterns": _policy(
        [],
        [
            PatternRule("order", r"ORD-\d{4}", Action.MASK),
            PatternRule("case", r"(?i)s[e]cret\w*", Action.HASH),
            PatternRule("no_literal", r"[A-Z]{3}\d+", Action.MASK),
            PatternRule("escaped", 'a"b|\n|\\\\', Action.MASK),
            PatternRule("anchored", r"^x|y$", Action.MASK),
            PatternRule("email", r"@\w+", Action.HASH),  # a built-in's name, another regex
            PatternRule("hinted", r"[a-z]+=\d", Action.MASK, hints=("=",)),
            PatternRule("two_hints", r"[A-Z]+[!?]", Action.MASK, hints=("!", "?")),
        ],
    ),
    "empty matches": _policy([], [PatternRule("empty", "z*", Action.MASK)]),
    "keys and e-mail": _built(drop_keys=["*password*"], patterns=["email"]),
}
for _name in BUILTIN_PATTERNS:
    for _action in (Action.MASK, Action.HASH):
        RULE_SETS[f"{_name}, {_action}"] = _policy([], [builtin_pattern(_name, _action)])


# ---- hand-built requests: keys in all cases, escapes, unicode, nesting, bytes, NaN


def _any(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, list):
        return AnyValue(array_value={"values": [_any(v) for v in value]})
    if isinstance(value, dict):
        return AnyValue(kvlist_value={"values": _kvs(value)})
    if value is None:
        return AnyValue()
    return AnyValue(string_value=value)


def _kvs(attributes: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_any(v)) for k, v in attributes.items()]


_ARABIC_CARD = "".join(chr(0x660 + int(d)) for d in "4111111111111111")

ATTRIBUTES: dict[str, Any] = {
    "DB.PassWord": "hunter2",
    "http.Request.Header.Authorization": "Bearer abc.DEF-123",
    "user.Id": 42,
    "\u212aey": "kelvin",  # lower() is "key"
    "\u0130D": "dotted",  # lower() is "i̇d"
    "AccessToken": 1.5,
    "quoted": 'say "jane.doe@corp.example" now',
    'key "q': "quoted key",
    "newline": "first\nsecond jane@corp.example\tand 10.0.0.1",
    "control": "\x014111111111111111",
    "card": "card 4111 1111 1111 1111 ok",
    "not a card": "order 4111 1111 1111 1112 ok",
    "arabic": _ARABIC_CARD,
    "ipv6": "peer 2001:db8::8a2e:370:7334 up",
    "time": "at 12:30:45",
    "jwt": "t=eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl",
    "unicode": "José naïve 日本語 ORD-1234 SECRETS",
    "backslash": "C:\\Users\\a\\b x",
    "nested": {"api_key": "abc", "Inner": [{"Secret": 1}, "mail a@b.example"], "ok": None},
    "list": ["x", 1, 2.5, True, b"\x00\xff", [b"bytes"], {"password": "p"}],
    "bytes": b"\x00\xff jane@corp.example",
    "not bytes": {"$bytes": "not base64 @ x.example"},
    "two keys": {"$bytes": "QUJD", "x": "y"},
    "not text": {"$bytes": 1},
    "hinted": "a=1 HEY! OK?",
    "nan": math.nan,
    "doubles": [math.inf, -math.inf, -0.0, 1e300],
    "empty": None,
    "bx": "bx",
}
_NON_FINITE = ("nan", "doubles")  # the compiled OTLP/JSON decoder leaves those to the reference


def _attributes_for(json: bool) -> dict[str, Any]:
    return {k: v for k, v in ATTRIBUTES.items() if not (json and k in _NON_FINITE)}


def trace_request(json: bool = False) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add(schema_url="s")
    rs.resource.attributes.extend(
        _kvs({"service.name": "svc jane@corp.example", "Password": "x", **_attributes_for(json)})
    )
    ss = rs.scope_spans.add()
    ss.scope.name = "scope"
    ss.scope.attributes.extend(_kvs({"scope.secret": "s", "mail": "to a@b.example"}))
    span = ss.spans.add(
        trace_id=b"\x01" * 16,
        span_id=b"\x02" * 8,
        name="GET /users/jane@corp.example",
        kind=2,
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_000_000_000_001,
    )
    span.attributes.extend(_kvs(_attributes_for(json)))
    span.status.code = 2
    span.status.message = "card 4111 1111 1111 1111 declined for 10.1.2.3"
    span.events.add(
        time_unix_nano=1_700_000_000_000_000_000,
        name="token Bearer abc.def",
        attributes=_kvs({"Cookie": "c", "mail": "x@y.example"}),
    )
    span.events.add(time_unix_nano=1_700_000_000_000_000_001, name="plain")
    span.links.add(
        trace_id=b"\x03" * 16,
        span_id=b"\x04" * 8,
        trace_state="vendor@x=1",
        attributes=_kvs({"refresh_token": "r", "ip": "10.0.0.2"}),
    )
    clean = ss.spans.add(
        trace_id=b"\x01" * 16,
        span_id=b"\x05" * 8,
        name="clean",
        start_time_unix_nano=1,
        end_time_unix_nano=2,
    )
    clean.attributes.extend(_kvs({"http.route": "/health", "n": 1_700_000_000_000_000_000}))
    # a resource no span refers to (its only span is invalid): redacted, not counted
    orphan = request.resource_spans.add()
    orphan.resource.attributes.extend(_kvs({"password": "orphan", "m": "o@p.example"}))
    orphan.scope_spans.add().spans.add(name="no ids", start_time_unix_nano=1, end_time_unix_nano=2)
    again = request.resource_spans.add()  # the same resource again: counted again
    again.resource.attributes.extend(_kvs({"Password": "x", "mail": "a@b.example"}))
    again.scope_spans.add().spans.add(
        trace_id=b"\x01" * 16,
        span_id=b"\x06" * 8,
        name="again",
        start_time_unix_nano=1,
        end_time_unix_nano=2,
    )
    return request.SerializeToString()


def log_request(json: bool = False) -> bytes:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.extend(_kvs({"service.name": "logs", "host.ip": "10.9.8.7"}))
    sl = rl.scope_logs.add()
    sl.scope.attributes.extend(_kvs({"api_key": "k"}))
    bodies: list[Any] = [
        "login jane@corp.example from 10.0.0.1",
        {"password": "p", "msg": "to a@b.example", "Nested": {"SECRET": [1, "x@y.example"]}},
        ["Bearer abc", {"access_token": "t"}, b"\x01"],
        b"jane@corp.example",
        12,
        *([] if json else [math.nan]),
        "plain",
        None,
    ]
    for i, body in enumerate(bodies):
        record = sl.log_records.add(time_unix_nano=i + 1, severity_number=9)
        if body is not None:
            record.body.CopyFrom(_any(body))
        record.attributes.extend(_kvs(_attributes_for(json) if i == 0 else {"n": i}))
    return request.SerializeToString()


def metric_request(json: bool = False) -> bytes:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.extend(_kvs({"service.name": "jane@corp.example"}))
    sm = rm.scope_metrics.add()
    metric = sm.metrics.add(name="m", unit="1")
    for i, attributes in enumerate([_attributes_for(json), {"user.id": "u"}, {}]):
        point = metric.gauge.data_points.add(time_unix_nano=i + 1, as_double=1.5)
        point.attributes.extend(_kvs(attributes))
        point.exemplars.add(
            time_unix_nano=i + 1,
            as_double=2.5 if json else math.nan,
            filtered_attributes=_kvs({"client.address": "10.1.1.1", "Secret": b"s"}),
            trace_id=b"\x01" * 16,
            span_id=b"\x02" * 8,
        )
    return request.SerializeToString()


CORPUS: dict[str, tuple[Signal, Callable[..., bytes]]] = {
    "traces": (Signal.TRACES, trace_request),
    "logs": (Signal.LOGS, log_request),
    "metrics": (Signal.METRICS, metric_request),
}


@pytest.mark.parametrize("rules", list(RULE_SETS))
@pytest.mark.parametrize("request_name", list(CORPUS))
def test_arrow_redaction_handbuilt_requests_stored_like_reference(
    request_name: str, rules: str
) -> None:
    # Arrange
    signal, build = CORPUS[request_name]
    json = as_otlp_json(signal, build(json=True))

    # Act / Assert
    assert_redacted_alike(signal, build(), RULE_SETS[rules])
    assert_redacted_alike(signal, json, RULE_SETS[rules], json=True)


@pytest.mark.parametrize(
    ("signal", "example"),
    [(Signal.TRACES, "trace.json"), (Signal.LOGS, "logs.json"), (Signal.METRICS, "metrics.json")],
)
@pytest.mark.parametrize("rules", ["defaults, hashing", "every key hashed", "custom patterns"])
def test_arrow_redaction_official_examples_stored_like_reference(
    signal: Signal, example: str, rules: str
) -> None:
    payload = (OTLP_EXAMPLES / example).read_bytes()

    assert_redacted_alike(signal, payload, RULE_SETS[rules], json=True)


@pytest.mark.parametrize("signal", list(Signal))
@pytest.mark.parametrize("rules", ["defaults, masking", "keys and e-mail"])
def test_arrow_redaction_benchmark_requests_stored_like_reference(
    signal: Signal, rules: str
) -> None:
    payload = factory_for(signal.value, 60).payload(3)  # type: ignore[arg-type]

    assert_redacted_alike(signal, payload, RULE_SETS[rules])


def test_arrow_redaction_handbuilt_trace_counts_what_reference_counts() -> None:
    # Arrange
    policy = RULE_SETS["defaults, masking"]

    # Act
    got = native_stored(Signal.TRACES, trace_request(), policy())

    # Assert: the test requests do exercise the rules (a comparison of nothing proves nothing)
    assert got is not None
    rows, counts = got
    # the span's 2 (one nested in a list), the first resource's 3, the last one's 1; the orphan
    # resource's none
    assert counts["key:*password*"] == 6
    assert counts["email"] >= 5
    assert {"credit_card", "ipv4", "ipv6", "bearer_token", "jwt"} <= set(counts)
    assert all("jane@corp.example" not in str(row) for row in rows)
    assert "hunter2" not in str(rows)


def test_arrow_redaction_orphan_resource_redacted_without_count() -> None:
    # Arrange
    decode = native.protobuf_decoder(Signal.TRACES)
    assert decode is not None
    decoded = decode(trace_request())
    assert decoded is not None
    assert isinstance(decoded.batch, ArrowBatch)
    redactor = Redactor(RULE_SETS["defaults, masking"](), dumps)

    # Act
    redactor.apply(decoded.batch)

    # Assert
    dictionary = decoded.batch.table.column("resource_attributes").chunk(0).dictionary
    assert "orphan" not in str(dictionary.to_pylist())
    assert "o@p.example" not in str(dictionary.to_pylist())


def test_arrow_redaction_service_name_follows_redacted_resource() -> None:
    # Arrange
    policy = RULE_SETS["email, mask"]

    # Act
    got = native_stored(Signal.METRICS, metric_request(), policy())

    # Assert
    assert got is not None
    assert {row["service_name"] for row in got[0]} == {MASK}


def test_arrow_redaction_rows_no_rule_touches_are_kept_as_they_are() -> None:
    # Arrange
    decode = native.protobuf_decoder(Signal.TRACES)
    assert decode is not None
    decoded = decode(factory_for("traces", 40).payload(1))
    assert decoded is not None
    assert isinstance(decoded.batch, ArrowBatch)
    before = decoded.batch.table
    redactor = Redactor(RULE_SETS["keys and e-mail"](), dumps)

    # Act
    redactor.apply(decoded.batch)

    # Assert: nothing matched, so the very same columns (no copy, no decoding)
    assert redactor.totals() == {}
    assert decoded.batch.table is before


def test_arrow_redaction_empty_batch_is_left_alone() -> None:
    # Arrange
    batch = ArrowBatch(Signal.LOGS, CODECS[Signal.LOGS].decode_protobuf(b"").batch.table)
    redactor = Redactor(RULE_SETS["defaults, masking"](), dumps)

    # Act
    redactor.apply(batch)

    # Assert
    assert len(batch) == 0
    assert redactor.totals() == {}


def test_redactor_without_typed_json_refuses_arrow_batches() -> None:
    # Arrange
    batch = ArrowBatch(Signal.LOGS, CODECS[Signal.LOGS].decode_protobuf(b"").batch.table)
    redactor = Redactor(RULE_SETS["defaults, masking"]())

    # Act / Assert
    with pytest.raises(TypeError, match="typed JSON"):
        redactor.apply(batch)


def test_arrow_redaction_bytes_lookalike_map_is_read_as_bytes() -> None:
    """The one thing typed JSON cannot tell: a map whose only key is ``$bytes`` with base64 text
    is stored as bytes are, so it is redacted as bytes (hashed as bytes, its text left alone)."""
    # Arrange
    request = ExportLogsServiceRequest()
    record = request.resource_logs.add().scope_logs.add().log_records.add(time_unix_nano=1)
    record.attributes.extend(_kvs({"k": {"$bytes": base64.b64encode(b"ABC").decode()}}))
    policy = _policy([KeyRule("k", Action.HASH)], [])()

    # Act
    got = native_stored(Signal.LOGS, request.SerializeToString(), policy)

    # Assert
    assert got is not None
    assert orjson.loads(got[0][0]["attributes"]) == {"k": policy.hash(b"ABC")}


# ---- generated requests

_SNIPPETS = st.sampled_from(
    [
        "jane.doe@corp.example",
        "10.0.0.1",
        "2001:db8::1",
        "::1",
        "4111 1111 1111 1111",
        "4111111111111111",
        _ARABIC_CARD,
        "Bearer abc.def",
        "eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl",
        "ORD-1234",
        "Secret",
        '"',
        "\\",
        "\n",
        "\x00",
        "\u212a",
        "\u0130",
        "é",
        "a",
        " ",
        ".",
        ":",
        "@",
    ]
)
_text = st.lists(_SNIPPETS | st.text(max_size=3), max_size=4).map("".join)
_keys = st.sampled_from(
    ["password", "PassWord", "user.id", "User.Name", "kEy", "AccessToken", "bx", "q", "é"]
) | st.text(max_size=5)
_values = st.recursive(
    _text
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.booleans()
    | st.binary(max_size=6)
    | st.none(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=3),
    max_leaves=6,
)
_attributes = st.dictionaries(_keys, _values, max_size=4)


@st.composite
def _trace_requests(draw: st.DrawFn) -> bytes:
    request = ExportTraceServiceRequest()
    for r in range(draw(st.integers(1, 2))):
        rs = request.resource_spans.add()
        rs.resource.attributes.extend(_kvs(draw(_attributes)))
        ss = rs.scope_spans.add()
        ss.scope.attributes.extend(_kvs(draw(_attributes)))
        for i in range(draw(st.integers(0, 3))):
            span = ss.spans.add(
                trace_id=b"\x01" * 16,
                span_id=bytes([r + 1, i + 1]) * 4,
                name=draw(_text),
                start_time_unix_nano=1,
                end_time_unix_nano=2,
            )
            span.attributes.extend(_kvs(draw(_attributes)))
            span.status.message = draw(_text)
            for _ in range(draw(st.integers(0, 2))):
                span.events.add(name=draw(_text), attributes=_kvs(draw(_attributes)))
            for _ in range(draw(st.integers(0, 1))):
                span.links.add(
                    trace_id=b"\x02" * 16, span_id=b"\x03" * 8, attributes=_kvs(draw(_attributes))
                )
    return request.SerializeToString()


@st.composite
def _log_requests(draw: st.DrawFn) -> bytes:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.extend(_kvs(draw(_attributes)))
    sl = rl.scope_logs.add()
    for i in range(draw(st.integers(1, 3))):
        record = sl.log_records.add(time_unix_nano=i + 1)
        body = draw(_values)
        if body is not None:
            record.body.CopyFrom(_any(body))
        record.attributes.extend(_kvs(draw(_attributes)))
    return request.SerializeToString()


@st.composite
def _metric_requests(draw: st.DrawFn) -> bytes:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.extend(_kvs(draw(_attributes)))
    metric = rm.scope_metrics.add().metrics.add(name="m")
    for i in range(draw(st.integers(1, 3))):
        point = metric.sum.data_points.add(time_unix_nano=i + 1, as_int=i)
        point.attributes.extend(_kvs(draw(_attributes)))
        for _ in range(draw(st.integers(0, 2))):
            point.exemplars.add(as_int=1, filtered_attributes=_kvs(draw(_attributes)))
    return request.SerializeToString()


_GENERATED = {
    Signal.TRACES: _trace_requests(),
    Signal.LOGS: _log_requests(),
    Signal.METRICS: _metric_requests(),
}


@SETTINGS
@given(data=st.data(), signal=st.sampled_from(list(Signal)), rules=st.sampled_from(list(RULE_SETS)))
def test_arrow_redaction_generated_requests_stored_like_reference(
    data: st.DataObject, signal: Signal, rules: str
) -> None:
    payload = data.draw(_GENERATED[signal])

    assert_redacted_alike(signal, payload, RULE_SETS[rules], must_decode=False)


# ---- the pre-filters alone: never miss a text a rule fires on


def _finds(filters: Prefilters, text: str, *, json: bool) -> bool:
    """Whether the plan for ``text`` (already lowered) finds it: a literal in it or a match."""
    literals, regex = filters.plan(json=json, ascii_only=text.isascii())
    if any(literal in text.encode() for literal in literals):
        return True
    return regex is not None and bool(pc.match_substring_regex(pa.array([text]), regex)[0].as_py())


@SETTINGS
@given(text=_text, key=_keys, rules=st.sampled_from(list(RULE_SETS)))
def test_prefilters_match_every_text_and_key_a_rule_fires_on(
    text: str, key: str, rules: str
) -> None:
    # Arrange
    policy = RULE_SETS[rules]()
    filters = Prefilters(policy)
    document = dumps({key: text})

    # Act
    policy.counts = {}
    policy.text(text)
    text_fired = bool(policy.counts)
    policy.counts = {}
    policy.attributes({key: text})
    attribute_fired = bool(policy.counts)

    # Assert: the supersets read text with its ASCII letters lowered
    if text_fired:
        lowered = text.translate(_ASCII_LOWER)
        assert filters.every_text or _finds(filters, lowered, json=False)
        assert _finds(filters, dumps([text]).translate(_ASCII_LOWER), json=True)
    if attribute_fired:
        assert _finds(filters, document.translate(_ASCII_LOWER), json=True)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def test_prefilter_custom_regex_the_parser_cannot_read_makes_every_string_a_candidate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange: the stdlib's private regex parser gone (a future Python)
    def missing(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr("obsvty.application.redaction_prefilter.importlib.import_module", missing)

    # Act
    filters = Prefilters(_policy([], [PatternRule("order", r"ORD-\d{4}", Action.MASK)])())

    # Assert
    assert filters.plan(json=True, ascii_only=True) == ((b'"',), None)
    assert filters.every_text


def test_prefilter_only_two_non_ascii_characters_lower_to_ascii() -> None:
    found = {
        chr(c).lower(): chr(c)
        for c in range(0x80, 0x110000)
        if any(x.isascii() for x in chr(c).lower())
    }

    assert {lower[0]: c for lower, c in found.items()} == _UPPER_TO_ASCII


def test_prefilter_typed_json_escapes_only_quote_backslash_and_controls() -> None:
    characters = (c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)  # no surrogates
    escaped = [c for c in characters if dumps(chr(c)) != f'"{chr(c)}"']

    assert escaped == [*range(0x20), ord('"'), ord("\\")]


def test_prefilter_unicode_digits_cover_every_python_digit() -> None:
    filters = Prefilters(_policy([], [builtin_pattern("ipv4", Action.MASK)])())
    digits = "".join(chr(c) for c in range(0x110000) if chr(c).isdecimal())
    texts = [f"{d}.1.1.{d}" for d in digits]
    _, regex = filters.plan(json=False, ascii_only=False)
    assert regex is not None

    matched = pc.match_substring_regex(pa.array(texts), regex)

    assert pc.all(matched).as_py()


def test_reference_hash_of_non_finite_double_is_that_of_its_stored_null() -> None:
    # Arrange
    policy = _policy([KeyRule("k", Action.HASH)], [])()

    # Act
    nan = policy.attributes({"k": [math.nan, math.inf]})
    none = policy.attributes({"k": [None, None]})

    # Assert
    assert nan == none

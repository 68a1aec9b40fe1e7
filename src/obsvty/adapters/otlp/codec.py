"""OTLP wire formats: binary protobuf and OTLP/JSON, for requests in and responses out.

OTLP/JSON differs from plain proto3 JSON in one way that matters here: trace and span ids are
hex strings (any case), not base64. Everything else (camelCase or snake_case names, 64-bit
integers as numbers or strings, enums as integers, unknown fields ignored) is what protobuf's own
``json_format`` parser accepts, so ids are rewritten to base64 and the rest is left to it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from obsvty.adapters.otlp import native, to_domain
from obsvty.application.ingest import DecodedRequest, IngestResult
from obsvty.domain.model import Signal

RequestT = TypeVar("RequestT", bound=Message)


class PayloadError(ValueError):
    """The payload is not a decodable export request."""


# An id that is not valid hex becomes one byte: the item is then rejected by the id-length rule,
# one by one, instead of failing the whole request.
_INVALID_ID = base64.b64encode(b"\x00").decode()
_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _hex_to_b64(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        return _INVALID_ID


def _fix_ids(obj: dict[str, Any]) -> None:
    for key in _ID_KEYS:
        if key in obj:
            obj[key] = _hex_to_b64(obj[key])


def _each(obj: Any, *path: str) -> list[Any]:
    """Every dict reached by following ``path`` through nested lists of dicts (camelCase or
    snake_case keys)."""
    level = [obj]
    for key in path:
        snake = "".join("_" + c.lower() if c.isupper() else c for c in key)
        nxt: list[Any] = []
        for item in level:
            if not isinstance(item, dict):
                continue
            children = item.get(key, item.get(snake))
            if isinstance(children, list):
                nxt.extend(children)
            elif isinstance(children, dict):
                nxt.append(children)
        level = nxt
    return [x for x in level if isinstance(x, dict)]


def _hex_ids_to_b64(signal: Signal, doc: dict[str, Any]) -> None:
    if signal is Signal.TRACES:
        for span in _each(doc, "resourceSpans", "scopeSpans", "spans"):
            _fix_ids(span)
            for link in _each(span, "links"):
                _fix_ids(link)
    elif signal is Signal.LOGS:
        for record in _each(doc, "resourceLogs", "scopeLogs", "logRecords"):
            _fix_ids(record)
    else:
        for metric in _each(doc, "resourceMetrics", "scopeMetrics", "metrics"):
            for kind in ("gauge", "sum", "histogram", "exponentialHistogram"):
                for exemplar in _each(metric, kind, "dataPoints", "exemplars"):
                    _fix_ids(exemplar)


@dataclass(frozen=True)
class SignalCodec(Generic[RequestT]):
    signal: Signal
    request_type: type[RequestT]
    response_type: type[Message]
    to_domain: Callable[[RequestT], DecodedRequest]
    rejected_field: str
    wire_type: type[Message] | None = None
    """What binary requests are parsed into, when not ``request_type``: a message with the same
    fields and wire format that ``to_domain`` reads faster (``to_domain.TRACE_REQUEST_VIEW``)."""
    native: Callable[[bytes], DecodedRequest | None] | None = None
    """The compiled decoder of binary requests (:mod:`obsvty.adapters.otlp.native`), ``None`` to
    decode only the reference way; it answers ``None`` for a request it leaves to the reference."""

    native_json: Callable[[bytes], DecodedRequest | None] | None = None
    """The compiled decoder of OTLP/JSON requests, as ``native`` for binary ones."""

    def decode_protobuf(self, payload: bytes) -> DecodedRequest:
        """A binary request's valid items and rejections; :class:`PayloadError` if undecodable."""
        if self.native is not None:
            decoded = self.native(payload)
            if decoded is not None:
                return decoded
        return self.to_domain(self.parse_protobuf(payload))

    def decode_json(self, payload: bytes) -> DecodedRequest:
        """An OTLP/JSON request's valid items and rejections; :class:`PayloadError` if
        undecodable."""
        if self.native_json is not None:
            decoded = self.native_json(payload)
            if decoded is not None:
                return decoded
        return self.to_domain(self.parse_json(payload))

    def reference(self) -> SignalCodec[RequestT]:
        """This codec without the compiled decoders (for what needs the list-based batches)."""
        return dataclasses.replace(self, native=None, native_json=None)

    def document_form(self) -> SignalCodec[RequestT]:
        """This codec with its compiled decoders (if any) writing the MongoDB store's lossless
        form (``arrow_batch.DOCUMENT_FORM``)."""
        return dataclasses.replace(
            self,
            native=None
            if self.native is None
            else native.protobuf_decoder(self.signal, document_form=True),
            native_json=None
            if self.native_json is None
            else native.json_decoder(self.signal, document_form=True),
        )

    def parse_protobuf(self, payload: bytes) -> RequestT:
        try:
            return cast(RequestT, (self.wire_type or self.request_type).FromString(payload))
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise PayloadError(f"invalid protobuf {self.request_type.__name__}: {exc}") from None

    def parse_json(self, payload: bytes) -> RequestT:
        try:
            doc = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise PayloadError(f"invalid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise PayloadError("invalid OTLP/JSON: the request must be a JSON object")
        _hex_ids_to_b64(self.signal, doc)
        message = self.request_type()
        try:
            json_format.ParseDict(doc, message, ignore_unknown_fields=True)
        except (json_format.ParseError, binascii.Error, RecursionError, ValueError) as exc:
            raise PayloadError(f"invalid OTLP/JSON {self.request_type.__name__}: {exc}") from None
        return message

    def response(self, result: IngestResult | None) -> Message:
        response = self.response_type()
        if result is not None and (result.rejected or result.error_message):
            partial = response.partial_success  # type: ignore[attr-defined]
            setattr(partial, self.rejected_field, result.rejected)
            partial.error_message = result.error_message
        return response


def _traces_to_domain(request: ExportTraceServiceRequest) -> DecodedRequest:
    try:
        return to_domain.traces(request)
    except to_domain.UndecodableAttributeError as exc:
        # the official parser would have refused the whole request: so does this one
        raise PayloadError(f"invalid protobuf ExportTraceServiceRequest: {exc}") from None


TRACES: SignalCodec[ExportTraceServiceRequest] = SignalCodec(
    Signal.TRACES,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
    _traces_to_domain,
    "rejected_spans",
    wire_type=to_domain.TRACE_REQUEST_VIEW,
    native=native.protobuf_decoder(Signal.TRACES),
    native_json=native.json_decoder(Signal.TRACES),
)
LOGS: SignalCodec[ExportLogsServiceRequest] = SignalCodec(
    Signal.LOGS,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
    to_domain.logs,
    "rejected_log_records",
    native=native.protobuf_decoder(Signal.LOGS),
    native_json=native.json_decoder(Signal.LOGS),
)
METRICS: SignalCodec[ExportMetricsServiceRequest] = SignalCodec(
    Signal.METRICS,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
    to_domain.metrics,
    "rejected_data_points",
    native=native.protobuf_decoder(Signal.METRICS),
    native_json=native.json_decoder(Signal.METRICS),
)
CODECS: dict[Signal, SignalCodec[Any]] = {c.signal: c for c in (TRACES, LOGS, METRICS)}


def message_to_json(message: Message) -> bytes:
    """OTLP/JSON for a response or status message (camelCase names)."""
    return orjson.dumps(json_format.MessageToDict(message))

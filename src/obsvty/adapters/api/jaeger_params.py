"""Parsing the query parameters of the Jaeger APIs (classic and v3) into the query port's terms.

Every parser raises :class:`ParameterError` naming the parameter, which the router answers with
400. The formats are those Jaeger's own query service accepts, plus the quirks of its clients:

- durations are Go duration strings (``100ms``, ``1.5s``, ``1h30m``, ``250us``/``250µs``; read by
  :mod:`obsvty.domain.duration`); the v3 API's protobuf form (``0.1s``) is one of them;
- classic times are unix microseconds (the dependencies' ``endTs`` and ``lookback``: milliseconds,
  as Jaeger reads them); v3 times are RFC 3339 with up to nanosecond precision.
  Grafana appends v3 times to the URL without percent-encoding them, so a ``+02:00`` offset
  arrives as `` 02:00`` (the ``+`` decoded as a space); that is read as the ``+`` it was;
- trace ids are hex; shorter ids (Jaeger prints 64-bit ids with 16 digits) are left-padded.
"""

from __future__ import annotations

import re
from calendar import timegm

import orjson

from obsvty.adapters.api.query_params import parse_limit, parse_span_kind
from obsvty.application.query import QueryError
from obsvty.domain.duration import parse_duration_ns
from obsvty.domain.model import SpanKind, StatusCode
from obsvty.ports.query import AttributeFilter, FilterValue

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+\- ])(\d{2}):(\d{2}))"
)
MAX_UNIX_NANO = 2**63 - 1

SPAN_KIND_NAMES = {
    "unspecified": SpanKind.UNSPECIFIED,
    "internal": SpanKind.INTERNAL,
    "server": SpanKind.SERVER,
    "client": SpanKind.CLIENT,
    "producer": SpanKind.PRODUCER,
    "consumer": SpanKind.CONSUMER,
}
SPAN_KIND_TEXT: dict[int, str] = {int(kind): name for name, kind in SPAN_KIND_NAMES.items()}
SPAN_KIND_TEXT[SpanKind.UNSPECIFIED] = ""


def span_kind_text(kind: int) -> str:
    """Jaeger's name of a span kind (``server``...; ``""`` when unspecified or unknown)."""
    return SPAN_KIND_TEXT.get(kind, "")


class ParameterError(ValueError):
    """A query parameter is malformed; ``str()`` names it."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"invalid parameter {name}: {problem}")
        self.name = name


def duration_ns(name: str, text: str) -> int:
    """A Go duration string in nanoseconds (``100ms`` -> 100_000_000); also ``2d`` (lookbacks).
    Go refuses a number without a unit (but ``0``) and spaces inside, and so does this."""
    try:
        return parse_duration_ns(text)
    except ValueError:
        raise ParameterError(
            name, f"{text.strip()!r} is not a duration such as 100ms, 1.5s or 2m"
        ) from None


def micros_ns(name: str, text: str) -> int:
    """Unix microseconds (the classic API's times) in nanoseconds."""
    try:
        micros = int(text.strip())
    except ValueError:
        raise ParameterError(name, f"{text!r} is not unix time in microseconds") from None
    if micros < 0 or micros * 1000 > MAX_UNIX_NANO:
        raise ParameterError(name, f"{text!r} is out of range")
    return micros * 1000


def millis_ns(name: str, text: str) -> int:
    """Milliseconds (the dependencies API's ``endTs`` and ``lookback``) in nanoseconds."""
    try:
        millis = int(text.strip())
    except ValueError:
        raise ParameterError(name, f"{text!r} is not a number of milliseconds") from None
    if millis < 0 or millis * 1_000_000 > MAX_UNIX_NANO:
        raise ParameterError(name, f"{text!r} is out of range")
    return millis * 1_000_000


def rfc3339_ns(name: str, text: str) -> int:
    """An RFC 3339 time (``2024-01-10T10:00:00.123456789Z``) in unix nanoseconds."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ParameterError(name, f"{text!r} is not an RFC 3339 time")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ParameterError(name, f"{text!r} is not an RFC 3339 time")
    seconds = timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if match.group(9):
        offset = int(match.group(10)) * 3600 + int(match.group(11)) * 60
        seconds -= -offset if match.group(9) == "-" else offset
    fraction = (match.group(7) or "").ljust(9, "0")
    nanos = seconds * 1_000_000_000 + int(fraction)
    if nanos < 0 or nanos > MAX_UNIX_NANO:
        raise ParameterError(name, f"{text!r} is out of range")
    return nanos


def positive_int(name: str, text: str, maximum: int) -> int:
    try:
        return parse_limit(name, text.strip(), default=1, maximum=maximum)
    except QueryError as exc:
        raise ParameterError(name, exc.message) from None


def trace_id(name: str, text: str) -> bytes:
    """A trace id from 1 to 32 hex digits, left-padded to 16 bytes."""
    text = text.strip().lower()
    if not 1 <= len(text) <= 32 or any(c not in "0123456789abcdef" for c in text):
        raise ParameterError(name, f"{text!r} is not a trace id of up to 32 hex digits")
    return bytes.fromhex(text.rjust(32, "0"))


def span_kind(name: str, text: str) -> int:
    """A span kind by name: ``server``, ``SPAN_KIND_SERVER``, ... or its OTLP number."""
    try:
        return parse_span_kind(name, text)
    except QueryError as exc:
        raise ParameterError(name, exc.message) from None


def filter_value(text: str) -> FilterValue:
    """A tag value as the typed value users mean: ``200`` an int, ``true`` a bool, ``1.5`` a
    double, anything else the string itself (the query port also matches its text form)."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
    if isinstance(value, bool | int | float | str):
        return value
    return text


_ERROR_TAGS = {("error", "true"), ("otel.status_code", StatusCode.ERROR.name.lower())}


class SpanTagFilters:
    """Jaeger tag filters split into the query port's terms.

    The tags Jaeger shows but that are not attributes (see ``jaeger_json``) are filtered on what
    they stand for: ``error=true`` and ``otel.status_code=ERROR`` keep error spans,
    ``span.kind=server`` keeps spans of that kind; every other tag is an attribute filter.
    """

    def __init__(self, name: str, tags: dict[str, str]) -> None:
        self.errors_only = False
        self.span_kind: int | None = None
        filters: list[AttributeFilter] = []
        for key, raw in tags.items():
            text = str(raw)
            if (key, text.lower()) in _ERROR_TAGS:
                self.errors_only = True
            elif key == "span.kind":
                self.span_kind = span_kind(name, text)
            else:
                filters.append(AttributeFilter(key, filter_value(text)))
        self.attributes = tuple(filters)


def json_tags(name: str, text: str) -> dict[str, str]:
    """The classic ``tags`` parameter: a JSON object of tag names to values."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ParameterError(name, 'expected a JSON object such as {"http.method":"GET"}') from None
    if not isinstance(value, dict):
        raise ParameterError(name, 'expected a JSON object such as {"http.method":"GET"}')
    return {
        str(k): (v if isinstance(v, str) else orjson.dumps(v).decode()) for k, v in value.items()
    }


def colon_tags(name: str, values: list[str]) -> dict[str, str]:
    """The classic ``tag=key:value`` parameters (repeatable), as the Jaeger UI's URLs carry."""
    tags = {}
    for value in values:
        key, sep, text = value.partition(":")
        if not sep or not key:
            raise ParameterError(name, f"{value!r} is not key:value")
        tags[key] = text
    return tags

"""Parsing the native query API's text parameters (and the ``obsvty export`` command's) into the
query use cases' terms.

Every parser raises :class:`~obsvty.application.query.QueryError` naming the parameter, the error
the use cases raise too, which the API answers with 400. Formats:

- durations: see :mod:`obsvty.domain.duration`; a number without a unit is nanoseconds, and a
  duration is never negative;
- times: ``now``, ``now-15m``, RFC 3339 (no offset means UTC) or unix nanoseconds;
- trace ids: 32 hex digits (16 are zero-padded, as Jaeger writes them), never all zero;
- attribute filters: ``key=value`` with the value typed as a JSON literal;
- log cursors: the opaque text :func:`encode_cursor` wrote.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import UTC, datetime

import orjson

from obsvty.application.query import DEFAULT_PERCENTILES, QueryError
from obsvty.domain.duration import NS_PER_S, parse_duration_ns
from obsvty.domain.model import SpanKind
from obsvty.ports.query import AttributeFilter, LogCursor

MAX_LIMIT = 1000
_SEVERITIES = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "WARNING": 13, "ERROR": 17}
_SEVERITIES["FATAL"] = 21


def parse_duration(parameter: str, text: str) -> int:
    """``1h30m``, ``250ms``, ``1.5s``, ``100us``, ``2d``, or integer nanoseconds; not negative."""
    try:
        ns = parse_duration_ns(text, unitless_ns=1)
    except ValueError:
        ns = -1
    if ns < 0:
        raise QueryError(
            parameter,
            f"{text.strip()!r} is not a duration (e.g. 250ms, 1.5s, 1h30m, or nanoseconds)",
        )
    return ns


def parse_time(parameter: str, text: str, now_ns: int | None = None) -> int:
    """Unix nanoseconds from ``now``, ``now-15m``, an RFC 3339 time (``2024-01-10T10:00:00Z``;
    no offset means UTC) or an integer of unix nanoseconds."""
    text = text.strip()
    now = time.time_ns() if now_ns is None else now_ns
    if text.lstrip("-").isdigit():
        return int(text)
    if text == "now":
        return now
    if text.startswith("now-"):
        return now - parse_duration(parameter, text[4:])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(
            parameter,
            f"{text!r} is not a time (RFC 3339, now, now-1h, or unix nanoseconds)",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def parse_times(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    """The ``start`` and ``end`` parameters, each optional."""
    return (
        None if start is None else parse_time("start", start),
        None if end is None else parse_time("end", end),
    )


def parse_trace_id(parameter: str, text: str) -> bytes:
    """A trace id as 32 hex digits (16 are accepted and zero-padded, as Jaeger writes them)."""
    text = text.strip().lower()
    if len(text) not in (16, 32) or not all(c in "0123456789abcdef" for c in text):
        raise QueryError(parameter, f"{text!r} is not a trace id (32 hex digits)")
    trace_id = bytes.fromhex(text.rjust(32, "0"))
    if not any(trace_id):
        raise QueryError(parameter, "the all-zero trace id is invalid")
    return trace_id


def parse_attribute_filter(parameter: str, text: str) -> AttributeFilter:
    """``key=value``; the value is a JSON literal when it is one (``200`` an int, ``1.5`` a
    double, ``true`` a boolean, ``"200"`` a string), otherwise the text itself."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise QueryError(parameter, f"{text!r} is not key=value")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = raw
    if not isinstance(value, str | bool | int | float):
        value = raw  # null, arrays and objects: compare as text
    return AttributeFilter(key, value)


def parse_attribute_filters(texts: list[str]) -> tuple[AttributeFilter, ...]:
    """The repeatable ``attr`` parameter."""
    return tuple(parse_attribute_filter("attr", text) for text in texts)


def parse_limit(parameter: str, text: str | None, default: int, maximum: int = MAX_LIMIT) -> int:
    """A count of results from 1 to ``maximum``; ``default`` when absent."""
    if text is None:
        return default
    try:
        limit = int(text)
    except ValueError:
        raise QueryError(parameter, f"{text!r} is not an integer") from None
    if not 1 <= limit <= maximum:
        raise QueryError(parameter, f"must be between 1 and {maximum}")
    return limit


def parse_severity(parameter: str, text: str) -> int:
    """A severity number 1-24 or a name: TRACE, DEBUG, INFO, WARN, ERROR, FATAL."""
    upper = text.strip().upper()
    if upper in _SEVERITIES:
        return _SEVERITIES[upper]
    if upper.isdigit() and 0 <= int(upper) <= 24:
        return int(upper)
    raise QueryError(parameter, f"{text!r} is not a severity (1-24, or TRACE..FATAL)")


def parse_span_kind(parameter: str, text: str) -> int:
    """A span kind by name (``server``, ``SPAN_KIND_SERVER``) or number (0-5)."""
    name = text.strip().upper().removeprefix("SPAN_KIND_")
    if name in SpanKind.__members__:
        return int(SpanKind[name])
    if name.isdigit() and int(name) in SpanKind._value2member_map_:
        return int(name)
    raise QueryError(parameter, f"{text!r} is not a span kind (server, client, internal, ...)")


def parse_percentiles(text: str | None) -> tuple[float, ...]:
    """The ``percentiles`` parameter: numbers separated by commas (``50,90,99``)."""
    if text is None:
        return DEFAULT_PERCENTILES
    try:
        return tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise QueryError("percentiles", f"{text!r} is not a list of numbers") from None


def encode_cursor(cursor: LogCursor) -> str:
    """An opaque, URL-safe text for a log cursor."""
    # the text form of the numbers: a tie breaker may exceed 64 bits (MongoDB: a 96-bit ObjectId)
    raw = f"[{cursor.time_unix_nano},{cursor.tiebreak}]".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(parameter: str, text: str) -> LogCursor:
    """The cursor :func:`encode_cursor` wrote."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        t, tiebreak = json.loads(raw)
        if not (isinstance(t, int) and isinstance(tiebreak, int)):
            raise TypeError
    except (binascii.Error, ValueError, TypeError):
        raise QueryError(parameter, "not a cursor returned by a previous page") from None
    return LogCursor(t, tiebreak)

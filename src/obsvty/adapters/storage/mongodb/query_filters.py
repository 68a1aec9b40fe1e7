"""Query documents of the MongoDB query port: the filters of a search, as plain conditions on the
fields the store's indexes cover (``trace_id``, ``service_name`` + time, ``metric_name`` + time,
``attributes.k/v``), and the log cursor's tie breaker.

Attribute filters follow :class:`obsvty.ports.query.AttributeFilter`: ``$elemMatch`` on the
``[{k, v}]`` pairs with the value's BSON type pinned (MongoDB compares numbers across int, long
and double by value, but an array attribute would match any of its elements, so arrays are
excluded explicitly).
"""

from __future__ import annotations

import math
import re
from typing import Any

from bson import ObjectId

from obsvty.domain.model import StatusCode
from obsvty.ports.query import AttributeFilter, LogQuery, MetricQuery, TraceQuery, filter_text

Filter = dict[str, Any]

_INT64 = (-(2**63), 2**63 - 1)
NOT_ARRAY = {"$not": {"$type": "array"}}


def _alternatives(f: AttributeFilter) -> list[tuple[Any, list[str]]]:
    """The (value, BSON types) pairs an attribute's ``v`` may equal for ``f`` to match, as
    :meth:`AttributeFilter.matches` defines it."""
    value = f.value
    if isinstance(value, str):
        return [(value, ["string"])]
    alternatives: list[tuple[Any, list[str]]] = [(filter_text(value), ["string"])]
    if isinstance(value, bool):
        alternatives.append((value, ["bool"]))
    elif isinstance(value, int):
        if _INT64[0] <= value <= _INT64[1]:  # no int attribute can hold a larger number
            alternatives.append((value, ["int", "long"]))
        alternatives.append((float(value), ["double"]))
    elif not math.isnan(value):  # NaN equals nothing
        # MongoDB compares a double with ints and longs by value, as a float filter wants
        alternatives.append((value, ["int", "long", "double"]))
    return alternatives


def _pair_match(f: AttributeFilter) -> Filter:
    """An ``$elemMatch`` on an attribute array for one filter (arrays never match: MongoDB
    would compare with their elements)."""
    return {
        "$elemMatch": {
            "k": f.key,
            "$or": [
                {"$and": [{"v": value}, {"v": {"$type": kinds}}, {"v": NOT_ARRAY}]}
                for value, kinds in _alternatives(f)
            ],
        }
    }


def attribute_filters(filters: tuple[AttributeFilter, ...]) -> list[Filter]:
    """One condition per filter: the item's own attributes or its resource's hold a match."""
    out = []
    for f in filters:
        match = _pair_match(f)
        out.append({"$or": [{"attributes": match}, {"resource_attributes": match}]})
    return out


def _bounds(start: int | None, end: int | None) -> Filter:
    bounds: Filter = {}
    if start is not None:
        bounds["$gte"] = start
    if end is not None:
        bounds["$lt"] = end
    return bounds


def time_range(field: str, start: int | None, end: int | None) -> Filter:
    bounds = _bounds(start, end)
    return {field: bounds} if bounds else {}


def log_time_range(start: int | None, end: int | None) -> list[Filter]:
    """The record's time (``time_unix_nano``, or its observed time when unset) in range, as plain
    conditions (no ``$expr``: the time indexes still apply)."""
    bounds = _bounds(start, end)
    if not bounds:
        return []
    return [
        {
            "$or": [
                {"time_unix_nano": {"$ne": 0, **bounds}},
                {"time_unix_nano": 0, "observed_time_unix_nano": bounds},
            ]
        }
    ]


def all_of(conditions: list[Filter]) -> Filter:
    conditions = [c for c in conditions if c]
    if not conditions:
        return {}
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def cursor_tiebreak(ingest_id: ObjectId) -> int:
    """A log record's tie breaker: its ``ingest_id`` as an integer (unique, never changing)."""
    return int.from_bytes(ingest_id.binary, "big")


def ingest_id_before(tiebreak: int) -> ObjectId:
    """The ``ingest_id`` a cursor's tie breaker stands for (:func:`cursor_tiebreak`): an
    ObjectId's 96 bits, a tie breaker from elsewhere clamped into them."""
    return ObjectId(min(max(tiebreak, 0), 2**96 - 1).to_bytes(12, "big"))


def span_conditions(query: TraceQuery) -> Filter:
    """The span filters of a trace search (time range included)."""
    conditions: list[Filter] = []
    if query.service is not None:
        conditions.append({"service_name": query.service})
    if query.operation is not None:
        conditions.append({"name": query.operation})
    if query.span_kind is not None:
        conditions.append({"kind": query.span_kind})
    conditions.append(
        time_range("start_time_unix_nano", query.start_unix_nano, query.end_unix_nano)
    )
    durations: Filter = {}
    if query.min_duration_ns is not None:
        durations["$gte"] = query.min_duration_ns
    if query.max_duration_ns is not None:
        durations["$lte"] = query.max_duration_ns
    if durations:
        conditions.append({"duration_ns": durations})
    if query.errors_only:
        conditions.append({"status_code": int(StatusCode.ERROR)})
    conditions.extend(attribute_filters(query.attributes))
    return all_of(conditions)


def log_conditions(query: LogQuery) -> Filter:
    """The filters of a log search, before its cursor."""
    conditions: list[Filter] = log_time_range(query.start_unix_nano, query.end_unix_nano)
    if query.min_severity is not None:
        conditions.append({"severity_number": {"$gte": query.min_severity}})
    if query.service is not None:
        conditions.append({"service_name": query.service})
    if query.trace_id is not None:
        conditions.append({"trace_id": query.trace_id.hex()})
    if query.body_contains is not None:
        conditions.append(
            {
                "$and": [
                    {"body": {"$type": "string"}},
                    {"body": NOT_ARRAY},
                    {"body": {"$regex": re.escape(query.body_contains), "$options": "i"}},
                ]
            }
        )
    conditions.extend(attribute_filters(query.attributes))
    return all_of(conditions)


def metric_conditions(query: MetricQuery) -> Filter:
    """The filters of a metric points query."""
    conditions: list[Filter] = [
        {"metric_name": query.name},
        time_range("time_unix_nano", query.start_unix_nano, query.end_unix_nano),
    ]
    if query.service is not None:
        conditions.append({"service_name": query.service})
    conditions.extend(attribute_filters(query.attributes))
    return all_of(conditions)

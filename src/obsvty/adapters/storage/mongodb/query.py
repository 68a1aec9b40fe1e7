"""The query port on the MongoDB store: the same answers as ``duckdb.query``, from documents.

Every call is one or two commands on the database (pymongo's pool makes the client safe to share
between the API's worker threads); nothing is kept in the process, so any instance of a scaled-out
deployment answers any query. Filters are plain query documents on the fields the store's indexes
cover (``trace_id``, ``service_name`` + time, ``metric_name`` + time, ``attributes.k/v``);
grouping (traces, operations, metric names) runs in aggregation pipelines on the server.

Attribute filters follow :class:`obsvty.ports.query.AttributeFilter`: ``$elemMatch`` on the
``[{k, v}]`` pairs with the value's BSON type pinned (MongoDB compares numbers across int, long
and double by value, but an array attribute would match any of its elements, so arrays are
excluded explicitly).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import PyMongoError

from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.documents import decode_attributes
from obsvty.adapters.storage.mongodb.store import INGEST_ID
from obsvty.domain.model import (
    AttributeValue,
    Exemplar,
    InstrumentationScope,
    LogRecord,
    MetricDescriptor,
    MetricPoint,
    Resource,
    Signal,
    Span,
    SpanEvent,
    SpanLink,
    StatusCode,
)
from obsvty.ports.query import (
    AttributeFilter,
    DependencyLink,
    LogCursor,
    LogPage,
    LogQuery,
    MetricInfo,
    MetricQuery,
    Operation,
    SignalStats,
    StoreStats,
    TraceQuery,
    TraceSummary,
    filter_text,
)

Filter = dict[str, Any]

_COLLECTION = {
    Signal.TRACES: docs.SPANS,
    Signal.LOGS: docs.LOGS,
    Signal.METRICS: docs.METRIC_POINTS,
}
_INT64 = (-(2**63), 2**63 - 1)
_NOT_ARRAY = {"$not": {"$type": "array"}}
_LOG_TIME = {
    "$cond": [{"$eq": ["$time_unix_nano", 0]}, "$observed_time_unix_nano", "$time_unix_nano"]
}


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
                {"$and": [{"v": value}, {"v": {"$type": kinds}}, {"v": _NOT_ARRAY}]}
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


def _time_range(field: str, start: int | None, end: int | None) -> Filter:
    bounds = _bounds(start, end)
    return {field: bounds} if bounds else {}


def _log_time_range(start: int | None, end: int | None) -> list[Filter]:
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


def _and(conditions: list[Filter]) -> Filter:
    conditions = [c for c in conditions if c]
    if not conditions:
        return {}
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def cursor_tiebreak(ingest_id: ObjectId) -> int:
    """A log record's tie breaker: its ``ingest_id`` as an integer (unique, never changing)."""
    return int.from_bytes(ingest_id.binary, "big")


# ----------------------------------------------------------------------------- documents


_int = docs.decode_int


def _optional_int(value: Any) -> int | None:
    return None if value is None else docs.decode_int(value)


def _resource(d: Mapping[str, Any]) -> Resource:
    return Resource(
        decode_attributes(d.get("resource_attributes")),
        _int(d["resource_dropped_attributes_count"]),
        d["resource_schema_url"],
    )


def _scope(d: Mapping[str, Any]) -> InstrumentationScope:
    return InstrumentationScope(
        d["scope_name"],
        d["scope_version"],
        decode_attributes(d.get("scope_attributes")),
        _int(d["scope_dropped_attributes_count"]),
        d["scope_schema_url"],
    )


def _native_value(value: Any) -> AttributeValue:
    return decode_attributes([{"k": "", "v": value}])[""]


def span_from_document(d: Mapping[str, Any]) -> Span:
    return Span(
        trace_id=bytes.fromhex(d["trace_id"]),
        span_id=bytes.fromhex(d["span_id"]),
        parent_span_id=bytes.fromhex(d["parent_span_id"]),
        trace_state=d["trace_state"],
        flags=_int(d["flags"]),
        name=d["name"],
        kind=_int(d["kind"]),
        start_time_unix_nano=_int(d["start_time_unix_nano"]),
        end_time_unix_nano=_int(d["end_time_unix_nano"]),
        attributes=decode_attributes(d.get("attributes")),
        dropped_attributes_count=_int(d["dropped_attributes_count"]),
        events=tuple(
            SpanEvent(
                _int(e["time_unix_nano"]),
                e["name"],
                decode_attributes(e.get("attributes")),
                _int(e["dropped_attributes_count"]),
            )
            for e in d.get("events") or ()
        ),
        dropped_events_count=_int(d["dropped_events_count"]),
        links=tuple(
            SpanLink(
                bytes.fromhex(link["trace_id"]),
                bytes.fromhex(link["span_id"]),
                link["trace_state"],
                decode_attributes(link.get("attributes")),
                _int(link["dropped_attributes_count"]),
                _int(link["flags"]),
            )
            for link in d.get("links") or ()
        ),
        dropped_links_count=_int(d["dropped_links_count"]),
        status_code=_int(d["status_code"]),
        status_message=d["status_message"],
        resource=_resource(d),
        scope=_scope(d),
    )


def log_from_document(d: Mapping[str, Any]) -> LogRecord:
    return LogRecord(
        time_unix_nano=_int(d["time_unix_nano"]),
        observed_time_unix_nano=_int(d["observed_time_unix_nano"]),
        severity_number=_int(d["severity_number"]),
        severity_text=d["severity_text"],
        body=_native_value(d.get("body")),
        attributes=decode_attributes(d.get("attributes")),
        dropped_attributes_count=_int(d["dropped_attributes_count"]),
        flags=_int(d["flags"]),
        trace_id=bytes.fromhex(d["trace_id"]),
        span_id=bytes.fromhex(d["span_id"]),
        event_name=d["event_name"],
        resource=_resource(d),
        scope=_scope(d),
    )


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(docs.decode_int(v) for v in values or ())


def metric_point_from_document(d: Mapping[str, Any]) -> MetricPoint:
    return MetricPoint(
        metric=MetricDescriptor(
            name=d["metric_name"],
            description=d["metric_description"],
            unit=d["metric_unit"],
            type=d["metric_type"],
            aggregation_temporality=_int(d["aggregation_temporality"]),
            is_monotonic=d["is_monotonic"],
            metadata=decode_attributes(d.get("metric_metadata")),
        ),
        start_time_unix_nano=_int(d["start_time_unix_nano"]),
        time_unix_nano=_int(d["time_unix_nano"]),
        attributes=decode_attributes(d.get("attributes")),
        flags=_int(d["flags"]),
        exemplars=tuple(
            Exemplar(
                _int(e["time_unix_nano"]),
                e["value"] if isinstance(e["value"], float) else int(e["value"]),
                decode_attributes(e.get("filtered_attributes")),
                bytes.fromhex(e["trace_id"]),
                bytes.fromhex(e["span_id"]),
            )
            for e in d.get("exemplars") or ()
        ),
        value_int=_optional_int(d.get("value_int")),
        value_double=d.get("value_double"),
        count=_optional_int(d.get("count")),
        sum=d.get("sum"),
        min=d.get("min"),
        max=d.get("max"),
        bucket_counts=_ints(d.get("bucket_counts")),
        explicit_bounds=tuple(d.get("explicit_bounds") or ()),
        scale=_optional_int(d.get("scale")),
        zero_count=_optional_int(d.get("zero_count")),
        zero_threshold=d.get("zero_threshold"),
        positive_offset=_optional_int(d.get("positive_offset")),
        positive_bucket_counts=_ints(d.get("positive_bucket_counts")),
        negative_offset=_optional_int(d.get("negative_offset")),
        negative_bucket_counts=_ints(d.get("negative_bucket_counts")),
        quantile_values=tuple((q["quantile"], q["value"]) for q in d.get("quantile_values") or ()),
        resource=_resource(d),
        scope=_scope(d),
    )


# --------------------------------------------------------------------------------- port


class MongoDBQuery:
    """:class:`obsvty.ports.query.TelemetryQueryPort` on the database of a ``MongoDBStore``."""

    def __init__(self, db: Database[docs.Document]) -> None:
        self._db = db

    # ------------------------------------------------------------------------------ traces

    def services(self, signal: Signal = Signal.TRACES) -> list[str]:
        return sorted(str(s) for s in self._db[_COLLECTION[signal]].distinct("service_name"))

    def operations(self, service: str, span_kind: int | None = None) -> list[Operation]:
        match: Filter = {"service_name": service}
        if span_kind is not None:
            match["kind"] = span_kind
        rows = self._db[docs.SPANS].aggregate(
            [
                {"$match": match},
                {"$group": {"_id": {"name": "$name", "kind": "$kind"}}},
            ]
        )
        found = {(r["_id"]["name"], int(r["_id"]["kind"])) for r in rows}
        return [Operation(name, kind) for name, kind in sorted(found)]

    def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        conditions: list[Filter] = []
        if query.service is not None:
            conditions.append({"service_name": query.service})
        if query.operation is not None:
            conditions.append({"name": query.operation})
        if query.span_kind is not None:
            conditions.append({"kind": query.span_kind})
        conditions.append(
            _time_range("start_time_unix_nano", query.start_unix_nano, query.end_unix_nano)
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
        spans = self._db[docs.SPANS]
        hits = list(
            spans.aggregate(
                [
                    {"$match": _and(conditions)},
                    {"$group": {"_id": "$trace_id", "hit": {"$min": "$start_time_unix_nano"}}},
                    {"$sort": {"hit": DESCENDING, "_id": ASCENDING}},
                    {"$limit": query.limit},
                ]
            )
        )
        if not hits:
            return []
        summaries = {
            s["_id"]: s
            for s in spans.aggregate(
                [
                    {"$match": {"trace_id": {"$in": [h["_id"] for h in hits]}}},
                    {"$addFields": {"_child": {"$ne": ["$parent_span_id", ""]}}},
                    {
                        "$sort": {
                            "trace_id": ASCENDING,
                            "_child": ASCENDING,
                            "start_time_unix_nano": ASCENDING,
                            "span_id": ASCENDING,
                        }
                    },
                    {
                        "$group": {
                            "_id": "$trace_id",
                            "root_service": {"$first": "$service_name"},
                            "root_name": {"$first": "$name"},
                            "start": {"$min": "$start_time_unix_nano"},
                            "end": {"$max": "$end_time_unix_nano"},
                            "spans": {"$sum": 1},
                            "errors": {
                                "$sum": {
                                    "$cond": [
                                        {"$eq": ["$status_code", int(StatusCode.ERROR)]},
                                        1,
                                        0,
                                    ]
                                }
                            },
                            "services": {"$addToSet": "$service_name"},
                        }
                    },
                ]
            )
        }
        out = []
        for h in hits:
            s = summaries.get(h["_id"])
            if s is None:  # pragma: no cover - deleted (retention) between the two commands
                continue
            out.append(
                TraceSummary(
                    trace_id=bytes.fromhex(s["_id"]),
                    root_service=s["root_service"],
                    root_name=s["root_name"],
                    start_time_unix_nano=int(s["start"]),
                    duration_ns=int(s["end"]) - int(s["start"]),
                    span_count=int(s["spans"]),
                    error_count=int(s["errors"]),
                    services=tuple(sorted(s["services"])),
                )
            )
        return out

    def get_trace(self, trace_id: bytes) -> list[Span]:
        found = self._db[docs.SPANS].find(
            {"trace_id": trace_id.hex()},
            sort=[("start_time_unix_nano", ASCENDING), ("span_id", ASCENDING)],
        )
        return [span_from_document(d) for d in found]

    def find_trace_spans(self, query: TraceQuery) -> list[list[Span]]:
        found = self.get_traces([summary.trace_id for summary in self.find_traces(query)])
        return [spans for spans in found if spans]  # removed (retention) since the search

    def get_traces(self, trace_ids: Sequence[bytes]) -> list[list[Span]]:
        """One ``find`` for all the traces (``trace_id`` is indexed)."""
        hex_ids = list(dict.fromkeys(t.hex() for t in trace_ids))
        by_trace: dict[str, list[Span]] = {t: [] for t in hex_ids}
        if hex_ids:
            found = self._db[docs.SPANS].find(
                {"trace_id": {"$in": hex_ids}},
                sort=[("start_time_unix_nano", ASCENDING), ("span_id", ASCENDING)],
            )
            for d in found:
                by_trace[d["trace_id"]].append(span_from_document(d))
        return [by_trace[t.hex()] for t in trace_ids]

    def dependencies(
        self, start_unix_nano: int | None = None, end_unix_nano: int | None = None
    ) -> list[DependencyLink]:
        """The child spans of the range, each looked up with its parent by ``_id`` (a span's
        ``_id`` is its trace id and span id, hex), grouped by the pair of services."""
        match: Filter = {
            "parent_span_id": {"$ne": ""},
            **_time_range("start_time_unix_nano", start_unix_nano, end_unix_nano),
        }
        rows = self._db[docs.SPANS].aggregate(
            [
                {"$match": match},
                {
                    "$project": {
                        "_id": 0,
                        "service_name": 1,
                        "status_code": 1,
                        "parent_key": {"$concat": ["$trace_id", "$parent_span_id"]},
                    }
                },
                {
                    "$lookup": {
                        "from": docs.SPANS,
                        "localField": "parent_key",
                        "foreignField": "_id",
                        "as": "parent",
                    }
                },
                {"$unwind": "$parent"},
                {
                    "$project": {
                        "child": "$service_name",
                        "parent": "$parent.service_name",
                        "error": {
                            "$cond": [{"$eq": ["$status_code", int(StatusCode.ERROR)]}, 1, 0]
                        },
                    }
                },
                {"$match": {"$expr": {"$ne": ["$parent", "$child"]}}},
                {
                    "$group": {
                        "_id": {"parent": "$parent", "child": "$child"},
                        "calls": {"$sum": 1},
                        "errors": {"$sum": "$error"},
                    }
                },
            ]
        )
        links = [
            DependencyLink(r["_id"]["parent"], r["_id"]["child"], int(r["calls"]), int(r["errors"]))
            for r in rows
        ]
        return sorted(links, key=lambda link: (link.parent, link.child))

    # -------------------------------------------------------------------------------- logs

    def find_logs(self, query: LogQuery) -> LogPage:
        conditions: list[Filter] = _log_time_range(query.start_unix_nano, query.end_unix_nano)
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
                        {"body": _NOT_ARRAY},
                        {"body": {"$regex": re.escape(query.body_contains), "$options": "i"}},
                    ]
                }
            )
        conditions.extend(attribute_filters(query.attributes))
        pipeline: list[Filter] = [
            {"$match": _and(conditions)},
            {"$addFields": {"_log_time": _LOG_TIME}},
        ]
        if query.cursor is not None:
            c = query.cursor
            # a tie breaker is an ObjectId's 96 bits; one from elsewhere is clamped into them
            after = ObjectId(min(max(c.tiebreak, 0), 2**96 - 1).to_bytes(12, "big"))
            earlier: list[Filter] = [
                {"_log_time": {"$lt": c.time_unix_nano}},
                {"_log_time": c.time_unix_nano, INGEST_ID: {"$lt": after}},
            ]
            pipeline.append({"$match": {"$or": earlier}})
        pipeline += [
            {"$sort": {"_log_time": DESCENDING, INGEST_ID: DESCENDING}},
            {"$limit": query.limit + 1},
        ]
        rows = list(self._db[docs.LOGS].aggregate(pipeline))
        page = rows[: query.limit]
        next_cursor = None
        if len(rows) > query.limit:
            last = page[-1]
            next_cursor = LogCursor(int(last["_log_time"]), cursor_tiebreak(last[INGEST_ID]))
        return LogPage([log_from_document(d) for d in page], next_cursor)

    # ----------------------------------------------------------------------------- metrics

    def metric_descriptors(self, service: str | None = None) -> list[MetricInfo]:
        match: Filter = {} if service is None else {"service_name": service}
        rows = self._db[docs.METRIC_POINTS].aggregate(
            [
                {"$match": match},
                {"$sort": {"time_unix_nano": ASCENDING, INGEST_ID: ASCENDING}},
                {
                    "$group": {
                        "_id": {"name": "$metric_name", "type": "$metric_type"},
                        "unit": {"$last": "$metric_unit"},
                        "description": {"$last": "$metric_description"},
                        "services": {"$addToSet": "$service_name"},
                    }
                },
            ]
        )
        infos = [
            MetricInfo(
                r["_id"]["name"],
                r["_id"]["type"],
                r["unit"],
                r["description"],
                tuple(sorted(r["services"])),
            )
            for r in rows
        ]
        return sorted(infos, key=lambda i: (i.name, i.type))

    def metric_points(self, query: MetricQuery) -> list[MetricPoint]:
        conditions: list[Filter] = [
            {"metric_name": query.name},
            _time_range("time_unix_nano", query.start_unix_nano, query.end_unix_nano),
        ]
        if query.service is not None:
            conditions.append({"service_name": query.service})
        conditions.extend(attribute_filters(query.attributes))
        found = self._db[docs.METRIC_POINTS].find(
            _and(conditions),
            sort=[("time_unix_nano", ASCENDING), (INGEST_ID, ASCENDING)],
            limit=query.limit,
        )
        return [metric_point_from_document(d) for d in found]

    # ------------------------------------------------------------------------------- stats

    def stats(self) -> StoreStats:
        times = {
            Signal.TRACES: "$start_time_unix_nano",
            Signal.LOGS: _LOG_TIME,
            Signal.METRICS: "$time_unix_nano",
        }
        signals = {}
        for signal, time in times.items():
            rows = list(
                self._db[_COLLECTION[signal]].aggregate(
                    [
                        {
                            "$group": {
                                "_id": None,
                                "n": {"$sum": 1},
                                "oldest": {"$min": time},
                                "newest": {"$max": time},
                            }
                        }
                    ]
                )
            )
            if rows:
                r = rows[0]
                signals[signal] = SignalStats(int(r["n"]), int(r["oldest"]), int(r["newest"]))
            else:
                signals[signal] = SignalStats(0)
        return StoreStats(signals, self._size_bytes())

    def _size_bytes(self) -> int | None:
        try:
            stats = self._db.command("dbStats")
        except PyMongoError:
            return None
        total = stats.get("storageSize", 0) + stats.get("indexSize", 0)
        return int(total) or None

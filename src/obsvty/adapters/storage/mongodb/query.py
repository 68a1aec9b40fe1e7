"""The query port on the MongoDB store: the same answers as ``duckdb.query``, from documents.

Every call is one or two commands on the database (pymongo's pool makes the client safe to share
between the API's worker threads); nothing is kept in the process, so any instance of a scaled-out
deployment answers any query. The filters are built in ``query_filters`` and documents decoded in
``query_documents``; grouping (traces, operations, metric names) runs in aggregation pipelines on
the server.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database
from pymongo.errors import PyMongoError

from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.query_documents import (
    log_from_document,
    metric_point_from_document,
    span_from_document,
)
from obsvty.adapters.storage.mongodb.query_filters import (
    Filter,
    cursor_tiebreak,
    ingest_id_before,
    log_conditions,
    metric_conditions,
    span_conditions,
    time_range,
)
from obsvty.adapters.storage.mongodb.store import INGEST_ID
from obsvty.domain.model import MetricPoint, Signal, Span, StatusCode
from obsvty.ports.query import (
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
)

_COLLECTION = {
    Signal.TRACES: docs.SPANS,
    Signal.LOGS: docs.LOGS,
    Signal.METRICS: docs.METRIC_POINTS,
}
_LOG_TIME = {
    "$cond": [{"$eq": ["$time_unix_nano", 0]}, "$observed_time_unix_nano", "$time_unix_nano"]
}


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
        spans = self._db[docs.SPANS]
        hits = list(
            spans.aggregate(
                [
                    {"$match": span_conditions(query)},
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
            **time_range("start_time_unix_nano", start_unix_nano, end_unix_nano),
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
        pipeline: list[Filter] = [
            {"$match": log_conditions(query)},
            {"$addFields": {"_log_time": _LOG_TIME}},
        ]
        if query.cursor is not None:
            c = query.cursor
            after = ingest_id_before(c.tiebreak)
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
        found = self._db[docs.METRIC_POINTS].find(
            metric_conditions(query),
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

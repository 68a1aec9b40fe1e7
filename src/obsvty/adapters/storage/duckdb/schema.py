"""The DuckDB tables: one row per span, log record and metric data point.

Times are unix nanoseconds (BIGINT). Trace and span ids are lower-case hex (``''`` when absent).
Attributes, bodies, events, links and exemplars are typed JSON (see ``typed_json``) held in VARCHAR
columns: DuckDB's JSON type parses every value again on insert (measured: ~20% of sustained gRPC
ingest), and the json functions the queries use accept VARCHAR alike. Files created before this keep
their JSON columns; both read the same, so no migration is needed. Resource and
scope are denormalised onto each row; DuckDB's dictionary compression keeps the repeats cheap, and
every query can filter by service without a join. Rows arrive roughly in time order, so DuckDB's
per-row-group min/max (zone maps) serve time-range and service filters.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

_RESOURCE_AND_SCOPE = """
    service_name VARCHAR NOT NULL,
    resource_attributes VARCHAR NOT NULL,
    resource_dropped_attributes_count UINTEGER NOT NULL,
    resource_schema_url VARCHAR NOT NULL,
    scope_name VARCHAR NOT NULL,
    scope_version VARCHAR NOT NULL,
    scope_attributes VARCHAR NOT NULL,
    scope_dropped_attributes_count UINTEGER NOT NULL,
    scope_schema_url VARCHAR NOT NULL
"""

SPANS = f"""
CREATE TABLE IF NOT EXISTS spans (
    trace_id VARCHAR NOT NULL,
    span_id VARCHAR NOT NULL,
    parent_span_id VARCHAR NOT NULL,
    trace_state VARCHAR NOT NULL,
    flags UINTEGER NOT NULL,
    name VARCHAR NOT NULL,
    kind UTINYINT NOT NULL,
    start_time_unix_nano BIGINT NOT NULL,
    end_time_unix_nano BIGINT NOT NULL,
    duration_ns BIGINT NOT NULL,
    attributes VARCHAR NOT NULL,
    dropped_attributes_count UINTEGER NOT NULL,
    events VARCHAR NOT NULL,
    dropped_events_count UINTEGER NOT NULL,
    links VARCHAR NOT NULL,
    dropped_links_count UINTEGER NOT NULL,
    status_code UTINYINT NOT NULL,
    status_message VARCHAR NOT NULL,
    {_RESOURCE_AND_SCOPE}
)
"""

LOGS = f"""
CREATE TABLE IF NOT EXISTS logs (
    time_unix_nano BIGINT NOT NULL,
    observed_time_unix_nano BIGINT NOT NULL,
    severity_number UTINYINT NOT NULL,
    severity_text VARCHAR NOT NULL,
    body VARCHAR,
    attributes VARCHAR NOT NULL,
    dropped_attributes_count UINTEGER NOT NULL,
    flags UINTEGER NOT NULL,
    trace_id VARCHAR NOT NULL,
    span_id VARCHAR NOT NULL,
    event_name VARCHAR NOT NULL,
    {_RESOURCE_AND_SCOPE}
)
"""

METRIC_POINTS = f"""
CREATE TABLE IF NOT EXISTS metric_points (
    metric_name VARCHAR NOT NULL,
    metric_description VARCHAR NOT NULL,
    metric_unit VARCHAR NOT NULL,
    metric_type VARCHAR NOT NULL,
    aggregation_temporality UTINYINT NOT NULL,
    is_monotonic BOOLEAN NOT NULL,
    metric_metadata VARCHAR NOT NULL,
    start_time_unix_nano BIGINT NOT NULL,
    time_unix_nano BIGINT NOT NULL,
    attributes VARCHAR NOT NULL,
    flags UINTEGER NOT NULL,
    exemplars VARCHAR NOT NULL,
    value_int BIGINT,
    value_double DOUBLE,
    count UBIGINT,
    sum DOUBLE,
    min DOUBLE,
    max DOUBLE,
    bucket_counts UBIGINT[] NOT NULL,
    explicit_bounds DOUBLE[] NOT NULL,
    scale INTEGER,
    zero_count UBIGINT,
    zero_threshold DOUBLE,
    positive_offset INTEGER,
    positive_bucket_counts UBIGINT[] NOT NULL,
    negative_offset INTEGER,
    negative_bucket_counts UBIGINT[] NOT NULL,
    quantile_values VARCHAR NOT NULL,
    {_RESOURCE_AND_SCOPE}
)
"""

TRACE_KEY = "COALESCE(TRY_CAST('0x' || right(trace_id, 14) AS BIGINT), -1)"
"""A trace id's last 14 hex digits (56 bits; W3C trace ids put their random part there) as an
integer: looking up ``trace_times`` by it reads an integer column instead of every 32-character
id (on 1M rows, ~5 instead of ~37 ms of CPU). Two traces may share a key; a lookup by key then
returns both traces' rows, which can only widen a range, never hide a span.
``duckdb.query_trace_search.trace_key`` computes the same in Python."""

TRACE_TIMES = """
CREATE TABLE IF NOT EXISTS trace_times (
    trace_id VARCHAR NOT NULL,
    start_min BIGINT NOT NULL,
    start_max BIGINT NOT NULL,
    trace_key BIGINT
)
"""
"""Where each trace's spans lie in time: one row per trace per write (the range of its spans'
start times in that write; a trace's range is the min/max over its rows). Loading a trace reads
this small table first (by ``trace_key``), so that the scan of ``spans`` is limited to the row
groups of that range (trace ids are random: zone maps cannot prune on them). Rows of spans
deleted by retention only widen a range, never hide a span."""

TRACE_TIMES_KEYED = (
    "ALTER TABLE trace_times ADD COLUMN IF NOT EXISTS trace_key BIGINT",
    f"UPDATE trace_times SET trace_key = {TRACE_KEY} WHERE trace_key IS NULL",  # noqa: S608
)
"""Gives the ``trace_times`` of a file from before ``trace_key`` its keys (once: later opens
find none missing)."""

TRACE_TIMES_OF = f"""
INSERT INTO trace_times BY NAME
SELECT trace_id, min(start_time_unix_nano) AS start_min, max(start_time_unix_nano) AS start_max,
       {TRACE_KEY} AS trace_key
FROM {{source}}
GROUP BY trace_id
"""  # noqa: S608 - this module's own SQL; source is a table name chosen by the store
"""Fills ``trace_times`` from the spans of ``source`` (a write's incoming rows, or the whole
``spans`` table when a file from before ``trace_times`` is opened)."""

LOG_SEQ_COLUMN = "sync_seq"
"""Each log record's insert number, from a sequence: unique, growing in commit order, and never
renumbered (unlike DuckDB's ``rowid``, which a checkpoint after deletes can renumber). The log
cursor's tie breaker. The cloud sync numbers every table the same way with the same column and
sequence names (``duckdb.sync``), so on ``logs`` it finds them in place and both share one
number per record."""

LOG_SEQ = (
    "CREATE SEQUENCE IF NOT EXISTS logs_sync_seq",
    f"ALTER TABLE logs ADD COLUMN IF NOT EXISTS {LOG_SEQ_COLUMN} BIGINT "
    "DEFAULT nextval('logs_sync_seq')",
)
"""Adds ``LOG_SEQ_COLUMN`` to ``logs``; the records already stored are numbered in row order."""

META = """
CREATE TABLE IF NOT EXISTS obsvty_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)
"""

STATEMENTS = (META, SPANS, LOGS, METRIC_POINTS)
"""Created when a file is opened; ``TRACE_TIMES`` after them (filled from ``spans`` if new)."""

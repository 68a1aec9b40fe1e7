"""Read obsvty's DuckDB tables back as plain dicts, with every JSON column decoded to typed values
(bytes, ints and doubles kept apart) so that tests can compare what was stored field by field."""

from __future__ import annotations

from typing import Any

import duckdb

from obsvty.adapters.encoding.typed_json import loads_value
from obsvty.adapters.storage.duckdb.schema import LOG_SEQ_COLUMN
from obsvty.domain.arrow_batch import JSON_COLUMNS

ORDER = {
    "spans": "start_time_unix_nano, span_id",
    "logs": "time_unix_nano, observed_time_unix_nano, severity_number",
    "metric_points": "metric_name, time_unix_nano, attributes",
}


def rows(con: duckdb.DuckDBPyConnection, table: str, where: str = "") -> list[dict[str, Any]]:
    """Every row of ``table`` (``spans``, ``logs`` or ``metric_points``) in a stable order,
    without the store's insert numbers (``sync_seq``: log cursors, cloud sync), which are not
    telemetry."""
    sql = f"SELECT * FROM {table} {where} ORDER BY {ORDER[table]}"  # noqa: S608 - test helper
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    out = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        row.pop(LOG_SEQ_COLUMN, None)
        for name in JSON_COLUMNS & row.keys():
            row[name] = loads_value(row[name])
        out.append(row)
    return out


def by(items: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    """Rows indexed by one column (which must be unique among them)."""
    indexed = {item[key]: item for item in items}
    assert len(indexed) == len(items), f"{key} is not unique"
    return indexed


def fill_spans(con: duckdb.DuckDBPyConnection, rows: int, first: int = 0) -> None:
    """``rows`` spans one second apart (span n, counted from ``first``, starting at n s and with
    ids n), straight in SQL: several DuckDB row groups, quickly."""
    con.execute(
        """INSERT INTO spans BY NAME SELECT
            i::VARCHAR AS trace_id, i::VARCHAR AS span_id, '' AS parent_span_id,
            '' AS trace_state, 0 AS flags, 'op' AS name, 2 AS kind,
            i * 1000000000 AS start_time_unix_nano, i * 1000000000 + 5 AS end_time_unix_nano,
            5 AS duration_ns, '{}' AS attributes, 0 AS dropped_attributes_count, '[]' AS events,
            0 AS dropped_events_count, '[]' AS links, 0 AS dropped_links_count,
            0 AS status_code, '' AS status_message, 'svc' AS service_name,
            '{}' AS resource_attributes, 0 AS resource_dropped_attributes_count,
            '' AS resource_schema_url, 'scope' AS scope_name, '' AS scope_version,
            '{}' AS scope_attributes, 0 AS scope_dropped_attributes_count,
            '' AS scope_schema_url
        FROM range(?, ?) t(i)""",
        [first, first + rows],
    )

"""SQL fragments of the DuckDB query port: the conditions of a search and the scan of a set of
traces. Every value a user sends becomes a bound parameter; the only text composed into SQL is
this module's own column names and operators.

Attribute filters run on the typed-JSON attribute columns: a cheap substring test on the JSON text
(``"key":``) discards most rows before DuckDB parses any JSON, then the value is compared by its
JSON type, as :class:`obsvty.ports.query.AttributeFilter` defines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence, Sized
from typing import Any

from obsvty.adapters.encoding.typed_json import dumps
from obsvty.ports.query import AttributeFilter, filter_text

_INTEGER_TYPES = "('BIGINT', 'UBIGINT')"


def _json_pointer(key: str) -> str:
    """A top-level key as a JSON Pointer (RFC 6901): dots and spaces need no escaping."""
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Closed ranges sorted, the overlapping ones merged into one."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def marks(values: Sized) -> str:
    return ", ".join("?" for _ in range(len(values)))


class TraceRows:
    """The rows of a set of traces, as one scan: ``trace_id IN (...)`` and the start-time ranges
    of those traces (``trace_times``) OR'ed, merged where they overlap. DuckDB prunes the row
    groups outside every range (zone maps) and reads each remaining one once, where a scan per
    trace would read a row group again for every trace in it (dense data: many traces per row
    group). A trace missing from ``trace_times`` is looked for over the whole table."""

    def __init__(self, trace_ids: Sequence[str], ranges: Mapping[str, tuple[int, int]]) -> None:
        known = [ranges[t] for t in trace_ids if t in ranges]
        unknown = [t for t in trace_ids if t not in ranges]
        times: list[tuple[str, list[Any]]] = [
            ("start_time_unix_nano BETWEEN ? AND ?", [lo, hi]) for lo, hi in _merged(known)
        ]
        if unknown:
            times.append((f"trace_id IN ({marks(unknown)})", unknown))
        self.sql = (
            f"trace_id IN ({marks(trace_ids)}) AND (" + " OR ".join(sql for sql, _ in times) + ")"
        )
        self.params: list[Any] = [*trace_ids, *(p for _, params in times for p in params)]


class Where:
    """Conditions joined by AND, with their parameters in order."""

    def __init__(self) -> None:
        self.conditions: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *params: Any) -> None:
        self.conditions.append(condition)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "TRUE"

    def time_range(self, column: str, start: int | None, end: int | None) -> None:
        if start is not None:
            self.add(f"{column} >= ?", start)
        if end is not None:
            self.add(f"{column} < ?", end)

    def attributes(self, filters: Sequence[AttributeFilter], columns: Sequence[str]) -> None:
        for f in filters:
            # first a cheap substring test on the JSON text of every column, as a condition of
            # its own (DuckDB evaluates the next conditions only on the rows that pass it) ...
            needles = _needles(f)
            self.add(
                "(" + " OR ".join(f"contains({c}, ?)" for c in columns for _ in needles) + ")",
                *(n for _ in columns for n in needles),
            )
            # ... then the exact typed comparison, which parses JSON
            parts: list[str] = []
            params: list[Any] = []
            for column in columns:
                sql, p = _attribute_match(column, f)
                parts.append(sql)
                params.extend(p)
            self.add("(" + " OR ".join(parts) + ")", *params)


def _needles(f: AttributeFilter) -> list[str]:
    """Texts one of which the JSON of any matching attribute map contains: orjson writes a
    top-level key and its value as ``"key":value``, with no spaces."""
    key = dumps(f.key) + ":"
    value = f.value
    if isinstance(value, str):
        return [key + dumps(value)]
    texts = [key + dumps(filter_text(value))]  # the string form, e.g. "200"
    if isinstance(value, bool):
        return [*texts, key + dumps(value)]
    texts.append(key + dumps(value))
    if isinstance(value, int):
        double = float(value)
        if math.isfinite(double) and double == value:
            texts.append(key + dumps(double))
    elif value.is_integer():
        texts.append(key + str(int(value)))
    return texts


def _attribute_match(column: str, f: AttributeFilter) -> tuple[str, list[Any]]:
    """SQL true when ``column`` (typed JSON) holds ``f.key`` with a value ``f`` matches."""
    path = _json_pointer(f.key)
    kind = f"json_type({column}, ?)"
    text = f"json_extract_string({column}, ?)"
    value = f.value
    if isinstance(value, str):
        return (
            f"({kind} = 'VARCHAR' AND {text} = ?)",
            [path, path, value],
        )
    if isinstance(value, bool):
        # a JSON boolean's text is true/false, the same as the string form it also matches
        return (
            f"({kind} IN ('BOOLEAN', 'VARCHAR') AND {text} = ?)",
            [path, path, filter_text(value)],
        )
    number = f"json_extract({column}, ?)"
    if isinstance(value, int):
        numeric = (
            f"({kind} IN {_INTEGER_TYPES} AND {number}::HUGEINT = ?::HUGEINT) "
            f"OR ({kind} = 'DOUBLE' AND {number}::DOUBLE = ?::DOUBLE)"
        )
        numeric_params: list[Any] = [path, path, str(value), path, path, float(value)]
    else:
        numeric = f"({kind} IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND {number}::DOUBLE = ?::DOUBLE)"
        numeric_params = [path, path, value]
    return (
        f"({numeric} OR ({kind} = 'VARCHAR' AND {text} = ?))",
        [*numeric_params, path, path, filter_text(value)],
    )

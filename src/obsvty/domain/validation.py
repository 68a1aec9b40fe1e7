"""The rules an item must obey to be stored, from the OTLP specification and data model.

Each check returns ``None`` for a valid item, or a short reason that ends up in the
``partial_success.error_message`` sent back to the client.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

TRACE_ID_SIZE = 16
SPAN_ID_SIZE = 8
MAX_TIMESTAMP = 2**63 - 1  # stores keep nanoseconds in signed 64-bit columns
MAX_SEVERITY_NUMBER = 24
MAX_SPAN_KIND = 5  # SPAN_KIND_CONSUMER
MAX_STATUS_CODE = 2  # STATUS_CODE_ERROR
MAX_AGGREGATION_TEMPORALITY = 2  # AGGREGATION_TEMPORALITY_CUMULATIVE

_ZERO_TRACE_ID = bytes(TRACE_ID_SIZE)
_ZERO_SPAN_ID = bytes(SPAN_ID_SIZE)


def trace_id_problem(trace_id: bytes) -> str | None:
    if len(trace_id) != TRACE_ID_SIZE:
        return f"trace_id must be {TRACE_ID_SIZE} bytes, got {len(trace_id)}"
    if trace_id == _ZERO_TRACE_ID:
        return "trace_id must not be all zero"
    return None


def span_id_problem(span_id: bytes) -> str | None:
    if len(span_id) != SPAN_ID_SIZE:
        return f"span_id must be {SPAN_ID_SIZE} bytes, got {len(span_id)}"
    if span_id == _ZERO_SPAN_ID:
        return "span_id must not be all zero"
    return None


def span_problem(
    trace_id: bytes, span_id: bytes, parent_span_id: bytes, start: int, end: int
) -> str | None:
    """Why a span cannot be stored, or ``None``. An all-zero parent id counts as no parent."""
    problem = trace_id_problem(trace_id) or span_id_problem(span_id)
    if problem:
        return problem
    if parent_span_id and len(parent_span_id) != SPAN_ID_SIZE:
        return f"parent_span_id must be empty or {SPAN_ID_SIZE} bytes, got {len(parent_span_id)}"
    if start == 0 or end == 0:
        return "start_time_unix_nano and end_time_unix_nano are required"
    if end < start:
        return "end_time_unix_nano is before start_time_unix_nano"
    if end > MAX_TIMESTAMP:
        return "timestamp out of range"
    return None


def span_record_problem(
    trace_id: bytes,
    span_id: bytes,
    parent_span_id: bytes,
    start: int,
    end: int,
    kind: int,
    status_code: int,
) -> str | None:
    """:func:`span_problem`, then :func:`span_enums_problem`, in one call. The valid case, nearly
    every span, is decided by one expression; only an invalid span pays for finding the reason."""
    if (
        len(trace_id) == TRACE_ID_SIZE
        and len(span_id) == SPAN_ID_SIZE
        and (not parent_span_id or len(parent_span_id) == SPAN_ID_SIZE)
        and 0 < start <= end <= MAX_TIMESTAMP
        and 0 <= kind <= MAX_SPAN_KIND
        and 0 <= status_code <= MAX_STATUS_CODE
        and trace_id != _ZERO_TRACE_ID
        and span_id != _ZERO_SPAN_ID
    ):
        return None
    return span_problem(trace_id, span_id, parent_span_id, start, end) or span_enums_problem(
        kind, status_code
    )


def span_enums_problem(kind: int, status_code: int) -> str | None:
    """Protobuf keeps enum values it does not know; the data model has no meaning for them."""
    if not 0 <= kind <= MAX_SPAN_KIND:
        return f"span kind must be 0..{MAX_SPAN_KIND}, got {kind}"
    if not 0 <= status_code <= MAX_STATUS_CODE:
        return f"status code must be 0..{MAX_STATUS_CODE}, got {status_code}"
    return None


def temporality_problem(temporality: int) -> str | None:
    if not 0 <= temporality <= MAX_AGGREGATION_TEMPORALITY:
        return (
            f"aggregation_temporality must be 0..{MAX_AGGREGATION_TEMPORALITY}, got {temporality}"
        )
    return None


def link_problem(trace_id: bytes, span_id: bytes) -> str | None:
    problem = trace_id_problem(trace_id) or span_id_problem(span_id)
    return f"link: {problem}" if problem else None


def optional_ids_problem(trace_id: bytes, span_id: bytes) -> str | None:
    """Log records and exemplars may omit their trace context, but what they carry must be valid."""
    if trace_id and len(trace_id) != TRACE_ID_SIZE:
        return f"trace_id must be empty or {TRACE_ID_SIZE} bytes, got {len(trace_id)}"
    if span_id and len(span_id) != SPAN_ID_SIZE:
        return f"span_id must be empty or {SPAN_ID_SIZE} bytes, got {len(span_id)}"
    return None


def log_problem(
    time: int, observed_time: int, severity_number: int, trace_id: bytes, span_id: bytes
) -> str | None:
    if time > MAX_TIMESTAMP or observed_time > MAX_TIMESTAMP:
        return "timestamp out of range"
    if not 0 <= severity_number <= MAX_SEVERITY_NUMBER:
        return f"severity_number must be 0..{MAX_SEVERITY_NUMBER}, got {severity_number}"
    return optional_ids_problem(trace_id, span_id)


def point_time_problem(start: int, time: int) -> str | None:
    if time == 0:
        return "time_unix_nano is required"
    if time > MAX_TIMESTAMP or start > MAX_TIMESTAMP:
        return "timestamp out of range"
    return None


def histogram_problem(bucket_counts: Sequence[int], explicit_bounds: Sequence[float]) -> str | None:
    """Data model: bucket_counts is empty or has exactly one more entry than explicit_bounds,
    and the bounds increase strictly."""
    if bucket_counts and len(bucket_counts) != len(explicit_bounds) + 1:
        return (
            f"histogram has {len(bucket_counts)} bucket_counts for {len(explicit_bounds)} "
            "explicit_bounds; the data model requires bounds + 1"
        )
    if any(b <= a for a, b in itertools.pairwise(explicit_bounds)):
        return "histogram explicit_bounds must increase strictly"
    return None


def normalize_parent(parent_span_id: bytes) -> bytes:
    return b"" if parent_span_id == _ZERO_SPAN_ID else parent_span_id


def normalize_optional_id(value: bytes) -> bytes:
    """An all-zero trace or span id on a log record or exemplar means "no context"."""
    return b"" if not any(value) else value

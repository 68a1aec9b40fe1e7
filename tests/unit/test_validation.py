"""The OTLP item rules in domain/validation."""

from __future__ import annotations

import pytest

from obsvty.domain import validation as v

pytestmark = pytest.mark.unit

TRACE = bytes(range(1, 17))
SPAN = bytes(range(1, 9))


@pytest.mark.parametrize(
    ("trace_id", "span_id", "parent", "start", "end", "fragment"),
    [
        (TRACE, SPAN, b"", 1, 2, None),
        (TRACE, SPAN, SPAN, 5, 5, None),  # zero-length span
        (TRACE, SPAN, bytes(8), 1, 2, None),  # all-zero parent is "no parent"
        (bytes(16), SPAN, b"", 1, 2, "trace_id must not be all zero"),
        (TRACE[:15], SPAN, b"", 1, 2, "trace_id must be 16 bytes, got 15"),
        (b"", SPAN, b"", 1, 2, "trace_id must be 16 bytes, got 0"),
        (TRACE, bytes(8), b"", 1, 2, "span_id must not be all zero"),
        (TRACE, SPAN + b"\x01", b"", 1, 2, "span_id must be 8 bytes, got 9"),
        (TRACE, SPAN, b"\x01", 1, 2, "parent_span_id must be empty or 8 bytes"),
        (TRACE, SPAN, b"", 0, 2, "are required"),
        (TRACE, SPAN, b"", 1, 0, "are required"),
        (TRACE, SPAN, b"", 3, 2, "before start"),
        (TRACE, SPAN, b"", 1, 2**63, "out of range"),
    ],
)
def test_span_problem_each_rule_reports_its_reason(
    trace_id: bytes, span_id: bytes, parent: bytes, start: int, end: int, fragment: str | None
) -> None:
    # Act
    problem = v.span_problem(trace_id, span_id, parent, start, end)

    # Assert
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None
        assert fragment in problem


def test_link_problem_invalid_ids_are_prefixed_link() -> None:
    # Act / Assert
    assert v.link_problem(TRACE, SPAN) is None
    assert v.link_problem(bytes(16), SPAN) == "link: trace_id must not be all zero"
    assert v.link_problem(TRACE, b"") == "link: span_id must be 8 bytes, got 0"


@pytest.mark.parametrize(
    ("time", "observed", "severity", "trace_id", "span_id", "fragment"),
    [
        (0, 0, 0, b"", b"", None),  # a log record may carry no time and no context
        (1, 2, 24, TRACE, SPAN, None),
        (1, 2, 25, b"", b"", "severity_number must be 0..24, got 25"),
        (1, 2, -1, b"", b"", "severity_number"),
        (2**63, 0, 0, b"", b"", "out of range"),
        (0, 2**63, 0, b"", b"", "out of range"),
        (1, 1, 9, TRACE[:4], b"", "trace_id must be empty or 16 bytes, got 4"),
        (1, 1, 9, b"", SPAN[:4], "span_id must be empty or 8 bytes, got 4"),
    ],
)
def test_log_problem_each_rule_reports_its_reason(
    time: int, observed: int, severity: int, trace_id: bytes, span_id: bytes, fragment: str | None
) -> None:
    # Act
    problem = v.log_problem(time, observed, severity, trace_id, span_id)

    # Assert
    assert (problem is None) if fragment is None else (fragment in (problem or ""))


@pytest.mark.parametrize(
    ("start", "time", "fragment"),
    [(0, 1, None), (1, 2, None), (1, 0, "required"), (2**63, 1, "range"), (0, 2**63, "range")],
)
def test_point_time_problem_requires_time_in_range(
    start: int, time: int, fragment: str | None
) -> None:
    # Act
    problem = v.point_time_problem(start, time)

    # Assert
    assert (problem is None) if fragment is None else (fragment in (problem or ""))


@pytest.mark.parametrize(
    ("counts", "bounds", "fragment"),
    [
        ([], [], None),
        ([], [1.0, 2.0], None),  # a point without buckets
        ([3], [], None),  # one bucket, no bounds
        ([1, 2, 3], [1.0, 5.0], None),
        ([1, 1, 1], [1.0], "3 bucket_counts for 1 explicit_bounds"),  # the official example
        ([1], [1.0], "bounds + 1"),
        ([1, 1, 1], [2.0, 1.0], "increase strictly"),
        ([1, 1, 1], [1.0, 1.0], "increase strictly"),
    ],
)
def test_histogram_problem_counts_must_be_bounds_plus_one(
    counts: list[int], bounds: list[float], fragment: str | None
) -> None:
    # Act
    problem = v.histogram_problem(counts, bounds)

    # Assert
    assert (problem is None) if fragment is None else (fragment in (problem or ""))


def test_normalize_ids_all_zero_means_absent() -> None:
    # Act / Assert
    assert v.normalize_parent(bytes(8)) == b""
    assert v.normalize_parent(SPAN) == SPAN
    assert v.normalize_optional_id(bytes(16)) == b""
    assert v.normalize_optional_id(b"") == b""
    assert v.normalize_optional_id(TRACE) == TRACE


@pytest.mark.parametrize(
    ("kind", "status", "fragment"),
    [
        (0, 0, None),
        (5, 2, None),
        (6, 0, "span kind must be 0..5, got 6"),
        (-1, 0, "span kind"),
        (1, 3, "status code must be 0..2, got 3"),
    ],
)
def test_span_enums_problem_unknown_enum_values_are_refused(
    kind: int, status: int, fragment: str | None
) -> None:
    # Act
    problem = v.span_enums_problem(kind, status)

    # Assert
    assert (problem is None) if fragment is None else (fragment in (problem or ""))


def test_temporality_problem_only_known_temporalities_pass() -> None:
    # Act / Assert
    assert [v.temporality_problem(t) for t in (0, 1, 2)] == [None, None, None]
    assert "got 3" in (v.temporality_problem(3) or "")


_IDS = (TRACE, SPAN, bytes(16), bytes(8), b"", TRACE[:15], SPAN + b"\x01", b"\x01")
_TIMES = (0, 1, 2, 3, 2**63 - 1, 2**63)


def test_span_record_problem_any_input_agrees_with_the_detailed_rules() -> None:
    # Arrange: every combination of valid and invalid ids, parents, times and enum values
    cases = [
        (trace_id, span_id, parent, start, end, kind, status)
        for trace_id in _IDS
        for span_id in _IDS
        for parent in (b"", SPAN, bytes(8), b"\x01")
        for start in _TIMES
        for end in _TIMES
        for kind, status in ((0, 0), (5, 2), (6, 0), (1, 3))
    ]

    # Act
    mismatches = [
        case
        for case in cases
        if v.span_record_problem(*case)
        != (v.span_problem(*case[:5]) or v.span_enums_problem(*case[5:]))
    ]

    # Assert
    assert len(cases) > 10_000
    assert mismatches == []

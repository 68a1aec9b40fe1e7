"""The one duration parser (``domain/duration.py``): the Go durations of the Jaeger APIs, the
native API's durations and the configuration's, and what each of them refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from obsvty.config import parse_duration as config_parse_duration
from obsvty.domain.duration import NS_PER_S, parse_duration_ns

pytestmark = pytest.mark.unit

MS = 1_000_000
H = 3600 * NS_PER_S


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100ms", 100 * MS),
        ("1.5s", 1_500 * MS),
        ("0.1s", 100 * MS),
        (".5s", 500 * MS),
        ("1.s", NS_PER_S),
        ("1h30m", 90 * 60 * NS_PER_S),
        ("250us", 250_000),
        ("250µs", 250_000),  # micro sign
        ("250μs", 250_000),  # greek mu
        ("7ns", 7),
        ("1m1ms", 60 * NS_PER_S + MS),
        ("-1s", -NS_PER_S),
        ("+1s", NS_PER_S),
        ("0", 0),
        ("-0", 0),
        (" 2s ", 2 * NS_PER_S),
    ],
)
def test_parse_duration_ns_go_durations_parse(text: str, expected: int) -> None:
    # Act
    ns = parse_duration_ns(text)

    # Assert
    assert ns == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("72h", 72 * H),
        ("7d", 7 * 24 * H),
        ("2w", 14 * 24 * H),
        ("90m", 90 * 60 * NS_PER_S),
        ("72H", 72 * H),
        ("1D12h", 36 * H),
    ],
)
def test_parse_duration_ns_day_week_and_any_case_parse(text: str, expected: int) -> None:
    # Act
    ns = parse_duration_ns(text)

    # Assert
    assert ns == expected


@pytest.mark.parametrize(
    ("text", "unitless_ns", "expected"),
    [
        ("123", 1, 123),  # the native API: nanoseconds
        ("30", NS_PER_S, 30 * NS_PER_S),  # the configuration: seconds
        ("1.5", NS_PER_S, 1_500 * MS),
        ("0", None, 0),
    ],
)
def test_parse_duration_ns_unitless_number_counts_the_callers_unit(
    text: str, unitless_ns: int | None, expected: int
) -> None:
    # Act
    ns = parse_duration_ns(text, unitless_ns=unitless_ns)

    # Assert
    assert ns == expected


@pytest.mark.parametrize(("text", "expected"), [("72 h", 72 * H), ("1h 30 m", 90 * 60 * NS_PER_S)])
def test_parse_duration_ns_spaced_allows_spaces_inside(text: str, expected: int) -> None:
    # Act
    ns = parse_duration_ns(text, spaced=True)

    # Assert
    assert ns == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "not a duration"),
        ("ms", "not a duration"),
        ("1x", "not a duration"),
        ("1s2", "not a duration"),
        ("abc", "not a duration"),
        ("--1s", "not a duration"),
        ("1 s", "not a duration"),  # Go refuses spaces inside
        ("3 fortnights", "unit"),
        ("100", "no unit"),  # Go refuses a number without a unit, but 0
        ("1" * 400 + "h", "too long"),
    ],
)
def test_parse_duration_ns_malformed_raises_value_error_saying_why(text: str, match: str) -> None:
    # Act / Assert
    with pytest.raises(ValueError, match=match):
        parse_duration_ns(text)


def test_parse_duration_ns_spaced_still_refuses_unknown_units() -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="unit"):
        parse_duration_ns("3 fortnights", unitless_ns=NS_PER_S, spaced=True)


@pytest.mark.parametrize("text", ["72h", "7d", "90m", "30s", "2w", "30", "1.5h", "72 h", "7D"])
def test_parse_duration_ns_with_config_options_reads_what_config_reads(text: str) -> None:
    # Arrange
    expected = config_parse_duration(text)

    # Act
    ns = parse_duration_ns(text, unitless_ns=NS_PER_S, spaced=True)

    # Assert
    assert timedelta(microseconds=ns / 1000) == expected

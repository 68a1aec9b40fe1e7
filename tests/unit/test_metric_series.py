"""The series math (``application/metric_series.py``) on points made in memory: streams kept
apart by resource and scope, rates from consecutive increases, resets and restarts, delta
temporality, histogram percentiles from bucket increases, and breaks where a line has no data.

Longer than the project's ~450-line bound: the series math is one unit; its cases share the point
builders.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from obsvty.application.metric_series import (
    Series,
    SeriesMode,
    SeriesSample,
    build_series,
)
from obsvty.domain.model import (
    AggregationTemporality,
    InstrumentationScope,
    MetricDescriptor,
    MetricPoint,
    MetricType,
    Resource,
)

pytestmark = pytest.mark.unit

S = 1_000_000_000
T0 = 1_000  # seconds: times below are relative to it (a start time of 0 means "unknown")
CUMULATIVE = AggregationTemporality.CUMULATIVE
DELTA = AggregationTemporality.DELTA
COUNTER = MetricDescriptor("requests", "", "1", MetricType.SUM, CUMULATIVE, True)
UPDOWN = MetricDescriptor("queue", "", "1", MetricType.SUM, CUMULATIVE, False)
DELTA_COUNTER = MetricDescriptor("requests", "", "1", MetricType.SUM, DELTA, True)
GAUGE = MetricDescriptor("temp", "", "C", MetricType.GAUGE)
HIST = MetricDescriptor("latency", "", "ms", MetricType.HISTOGRAM, CUMULATIVE)
DELTA_HIST = replace(HIST, aggregation_temporality=DELTA)
EXP = MetricDescriptor("latency", "", "ms", MetricType.EXPONENTIAL_HISTOGRAM, CUMULATIVE)
PROCESS_A = Resource({"service.name": "shop", "service.instance.id": "a"})
PROCESS_B = Resource({"service.name": "shop", "service.instance.id": "b"})
SCOPE = InstrumentationScope("lib")


def _ns(t: float | None) -> int:
    return 0 if t is None else round((T0 + t) * S)


def _num(
    t: float,
    v: float,
    start: float | None = None,
    *,
    metric: MetricDescriptor = COUNTER,
    resource: Resource = PROCESS_A,
    scope: InstrumentationScope = SCOPE,
) -> MetricPoint:
    return MetricPoint(metric, resource, scope, _ns(start), _ns(t), {"route": "/"}, value_double=v)


def _hist(
    t: float, counts: tuple[int, ...], start: float | None = 0, metric: MetricDescriptor = HIST
) -> MetricPoint:
    """Buckets (-inf, 10], (10, 20], (20, 30], (30, +inf); observed between 0 and 40."""
    return MetricPoint(
        metric,
        PROCESS_A,
        SCOPE,
        _ns(start),
        _ns(t),
        count=sum(counts),
        sum=float(sum(counts) * 10),
        min=0.0,
        max=40.0,
        bucket_counts=counts,
        explicit_bounds=(10.0, 20.0, 30.0),
    )


def _values(series: Series) -> list[float | None]:
    return [s.value for s in series.samples]


def _times(series: Series) -> list[float]:
    return [s.time_unix_nano / S - T0 for s in series.samples]


def _rates(points: list[MetricPoint], **kw: object) -> list[Series]:
    return build_series(points, MetricType.SUM, SeriesMode.RATE, **kw)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- sums: rates


def test_rate_two_processes_interleaved_stay_apart_at_ten_per_second() -> None:
    # Arrange: the case: one counter growing 10/s in each of two processes of one
    # service (different start times), exported every 10 s, interleaved in time
    points = sorted(
        [_num(10 + 10 * i, 100 * (i + 1), start=0) for i in range(4)]
        + [_num(15 + 10 * i, 100 * (i + 1), start=5, resource=PROCESS_B) for i in range(4)],
        key=lambda p: p.time_unix_nano,
    )

    # Act
    series = _rates(points)

    # Assert: two lines, each 10/s from its start (the first point counts from its start time)
    assert [s.resource["service.instance.id"] for s in series] == ["a", "b"]
    assert [s.service for s in series] == ["shop", "shop"]
    assert [_values(s) for s in series] == [[10.0] * 4, [10.0] * 4]
    assert _times(series[1]) == [15, 25, 35, 45]


def test_rate_two_processes_alike_in_resource_told_apart_by_start_time() -> None:
    # Arrange: the same two processes without service.instance.id: one resource for both
    twin = Resource({"service.name": "shop"})
    points = sorted(
        [_num(10 + 10 * i, 100 * (i + 1), start=0, resource=twin) for i in range(4)]
        + [_num(15 + 10 * i, 100 * (i + 1), start=5, resource=twin) for i in range(4)],
        key=lambda p: p.time_unix_nano,
    )

    # Act
    series = _rates(points)
    values = build_series(points, MetricType.SUM, SeriesMode.VALUE)

    # Assert: two lines, by start time, each 10/s; the running totals never mix either
    assert [s.start_time_unix_nano for s in series] == [_ns(0), _ns(5)]
    assert [_values(s) for s in series] == [[10.0] * 4, [10.0] * 4]
    assert [_values(s) for s in values] == [[100, 200, 300, 400]] * 2


def test_delta_two_processes_alike_in_resource_told_apart_by_their_chains() -> None:
    # Arrange: 10-second deltas of two processes, 5 s apart, one resource
    points = sorted(
        [_num(t, 100, t - 10, metric=DELTA_COUNTER) for t in (10, 20, 30)]
        + [_num(t, 50, t - 10, metric=DELTA_COUNTER) for t in (15, 25, 35)],
        key=lambda p: p.time_unix_nano,
    )

    # Act
    series = _rates(points)

    # Assert
    assert [_values(s) for s in series] == [[10.0] * 3, [5.0] * 3]


def test_delta_start_times_with_jitter_stay_one_line() -> None:
    # Arrange: 10-second deltas whose start overlaps the previous end by 50 ms
    points = [_num(t, 100, t - 10.05, metric=DELTA_COUNTER) for t in (10, 20, 30)]

    # Act / Assert
    assert [_values(s) for s in _rates(points)] == [[pytest.approx(100 / 10.05)] * 3]


def test_lines_of_one_stream_are_at_most_max_lines() -> None:
    # Arrange: 70 processes alike, all running at once (70 overlapping start times)
    points = sorted(
        (_num(100 + t, 10 * t, start=n) for n in range(70) for t in (1, 2)),
        key=lambda p: p.time_unix_nano,
    )

    # Act / Assert
    assert len(_rates(points)) == 64


def test_rate_with_steps_smaller_and_larger_than_the_export_interval() -> None:
    # Arrange: 10/s, a point every 10 s
    points = [_num(10 * i, 100 * i, start=0) for i in range(1, 7)]

    # Act: steps of 3 s (most steps hold no point) and of 30 s (three points per step)
    fine = _rates(points, step_ns=3 * S)[0]
    coarse = _rates(points, step_ns=30 * S)[0]

    # Assert: the rate is the increase over the time it covers, never over the step alone
    assert _values(fine) == [10.0] * 6
    assert _times(fine) == [8, 20, 29, 38, 50, 59]  # steps align on the epoch
    assert _values(coarse) == [10.0, 10.0, 10.0]


def test_rate_first_point_counts_from_its_start_only_within_the_range() -> None:
    # Arrange: started at 0 s, points at 10, 20, 30 s
    points = [_num(10, 100, 0), _num(20, 300, 0), _num(30, 400, 0)]

    # Act
    from_start = _rates(points, window_start=_ns(0))[0]
    later = _rates(points[1:], window_start=_ns(15))[0]

    # Assert: read from 15 s, the 300 counted since 0 s is only the base of the next increase
    assert _values(from_start) == [10.0, 20.0, 10.0]
    assert _values(later) == [10.0]
    assert _times(later) == [30]


def test_rate_first_point_without_a_start_time_is_only_a_base() -> None:
    # Act
    series = _rates([_num(10, 100), _num(20, 150)])[0]
    alone = _rates([_num(10, 100)])[0]

    # Assert: one point alone has no rate, but its series is still there
    assert _values(series) == [5.0]
    assert (alone.resource, alone.samples) == (PROCESS_A.attributes, [])


def test_rate_decrease_resets_a_monotonic_counter_and_breaks_the_line() -> None:
    # Arrange: same start time, the value drops (a reset the SDK did not mark)
    points = [_num(10, 100, 0), _num(20, 200, 0), _num(30, 40, 0), _num(40, 140, 0)]

    # Act
    series = _rates(points)[0]

    # Assert: no negative rate; the reset point is only a base, the line breaks before 40 s
    assert _values(series) == [10.0, 10.0, None, 10.0]
    assert series.samples[2].is_break
    assert 20 < _times(series)[2] < 40


def test_rate_up_down_counter_decrease_is_a_negative_rate() -> None:
    # Arrange
    points = [_num(t, v, 0, metric=UPDOWN) for t, v in ((10, 50), (20, 70), (30, 20))]

    # Act
    series = build_series(points, MetricType.SUM, SeriesMode.RATE)[0]

    # Assert
    assert _values(series) == [5.0, 2.0, -5.0]


def test_rate_restart_after_a_pause_breaks_then_counts_from_the_new_start() -> None:
    # Arrange: a process restarted at 45 s (new start time), silent from 20 s to 45 s
    points = [_num(10, 100, 0), _num(20, 200, 0), _num(50, 30, 45), _num(60, 130, 45)]

    # Act
    series = _rates(points)[0]
    stepped = _rates(points, step_ns=10 * S)[0]

    # Assert: one line; the break sits in the pause; no sample counts across it
    assert len(_rates(points)) == 1
    assert _values(series) == [10.0, 10.0, None, 6.0, 10.0]
    assert _times(series)[2] == 32.5
    assert _values(stepped) == [10.0, 10.0, None, 6.0, 10.0]
    assert _times(stepped) == [10, 20, 30, 50, 60]


def test_rate_restart_right_after_the_last_point_does_not_break() -> None:
    # Arrange: the new start time is the previous point's time (nothing uncovered)
    points = [_num(10, 100, 0), _num(20, 50, 10)]

    # Act / Assert
    assert _values(_rates(points)[0]) == [10.0, 5.0]


def test_rate_repeated_point_adds_nothing() -> None:
    # Arrange: the same export twice
    points = [_num(10, 100, 0), _num(20, 200, 0), _num(20, 200, 0), _num(30, 300, 0)]

    # Act / Assert
    assert _values(_rates(points)[0]) == [10.0, 10.0, 10.0]


def test_rate_scope_separates_streams() -> None:
    # Arrange: two libraries report the same metric name
    points = [_num(10, 100, 0), _num(10, 50, 0, scope=InstrumentationScope("other"))]

    # Act
    series = _rates(points)

    # Assert
    assert [(s.scope.name, _values(s)) for s in series] == [("lib", [10.0]), ("other", [5.0])]


# ---------------------------------------------------------------------------- sums: deltas


def test_delta_rate_is_each_points_value_over_its_own_interval() -> None:
    # Arrange: 10/s in 10-second deltas, one interval missing (30 s to 40 s)
    points = [_num(t, 100, t - 10, metric=DELTA_COUNTER) for t in (10, 20, 30, 50, 60)]

    # Act
    series = _rates(points)[0]
    values = build_series(points, MetricType.SUM, SeriesMode.VALUE, step_ns=30 * S)[0]

    # Assert: the missing interval breaks the line; a delta is never divided by more than its
    # own interval
    assert _values(series) == [10.0, 10.0, 10.0, None, 10.0, 10.0]
    assert _times(series)[3] == 35
    assert _values(values) == [100, 200, 200]  # totals per 30 s step (aligned on the epoch)


def test_delta_rate_without_a_start_time_has_no_rate() -> None:
    # Arrange
    points = [_num(10, 100, None, metric=DELTA_COUNTER), _num(20, 100, 10, metric=DELTA_COUNTER)]

    # Act / Assert
    assert _values(_rates(points)[0]) == [10.0]


# ----------------------------------------------------------------------- values and gauges


def test_gauge_values_break_at_a_pause_longer_than_twice_the_usual_spacing() -> None:
    # Arrange: a gauge every 10 s, then nothing from 30 s to 70 s
    points = [
        MetricPoint(GAUGE, PROCESS_A, SCOPE, 0, _ns(t), value_double=float(t))
        for t in (10, 20, 30, 70, 80, 90)
    ]

    # Act
    series = build_series(points, MetricType.GAUGE, SeriesMode.VALUE)[0]

    # Assert
    assert _values(series) == [10, 20, 30, None, 70, 80, 90]
    assert _times(series)[3] == 50


def test_cumulative_values_break_at_a_reset() -> None:
    # Arrange
    points = [_num(10, 100, 0), _num(20, 200, 0), _num(30, 10, 25)]

    # Act
    series = build_series(points, MetricType.SUM, SeriesMode.VALUE)[0]

    # Assert
    assert _values(series) == [100, 200, None, 10]


# ------------------------------------------------------------------------------ histograms


def test_histogram_percentiles_from_bucket_increases_not_cumulative_buckets() -> None:
    # Arrange: 10 observations in (0, 10] in the first 10 s, then 30 in (20, 30]
    points = [_hist(10, (10, 0, 0, 0), 0), _hist(20, (10, 0, 30, 0), 0)]

    # Act
    series = build_series(points, MetricType.HISTOGRAM, SeriesMode.VALUE, percentiles=(50, 99))[0]
    rates = build_series(points, MetricType.HISTOGRAM, SeriesMode.RATE, percentiles=(50,))[0]

    # Assert: the second step's median is in (20, 30] (cumulatively it would be ~23.3: the
    # first step's observations counted again)
    first, second = series.samples
    assert (first.count, first.sum) == (10, 100.0)
    assert first.percentiles == {"p50": pytest.approx(5.0), "p99": pytest.approx(9.9)}
    assert (second.count, second.sum) == (30, 300.0)
    assert second.percentiles["p50"] == pytest.approx(25.0)
    assert second.percentiles["p99"] == pytest.approx(29.9)
    assert _values(rates) == [1.0, 3.0]


def test_histogram_reset_and_changed_buckets_start_new_segments() -> None:
    # Arrange: a drop in a bucket (reset), then bounds changed (not subtractable)
    points = [
        _hist(10, (1, 1, 0, 0), 0),
        _hist(20, (2, 3, 0, 0), 0),
        _hist(30, (0, 1, 0, 0), 0),
        _hist(40, (0, 2, 0, 0), 0),
        replace(_hist(50, (0, 5, 0, 0), 0), explicit_bounds=(1.0, 2.0, 3.0)),
        replace(_hist(60, (0, 9, 0, 0), 0), explicit_bounds=(1.0, 2.0, 3.0)),
    ]

    # Act
    series = build_series(points, MetricType.HISTOGRAM, SeriesMode.VALUE, percentiles=(50,))[0]

    # Assert: increases only within a segment; a break before each new one
    assert [s.count for s in series.samples] == [2, 3, None, 1, None, 4]


def test_delta_histograms_are_their_own_increases_and_rates() -> None:
    # Arrange
    points = [
        _hist(10, (4, 0, 0, 0), 5, metric=DELTA_HIST),
        _hist(20, (0, 20, 0, 0), 10, metric=DELTA_HIST),
    ]

    # Act
    series = build_series(points, MetricType.HISTOGRAM, SeriesMode.RATE, percentiles=(50,))[0]

    # Assert
    assert [(s.value, s.count) for s in series.samples] == [(0.8, 4), (2.0, 20)]
    assert series.samples[1].percentiles["p50"] == pytest.approx(15.0)


def test_exponential_histogram_increases_across_a_rescale_and_a_wider_range() -> None:
    # Arrange: scale 1 (base sqrt 2), two observations in bucket 2 ((2, 2.83]); then the SDK
    # rescaled to 0 (base 2) and widened: bucket 1 ((2, 4]) holds those two plus six new ones
    first = MetricPoint(
        EXP,
        PROCESS_A,
        SCOPE,
        _ns(0),
        _ns(10),
        count=2,
        sum=5.0,
        scale=1,
        zero_count=0,
        zero_threshold=0.0,
        positive_offset=2,
        positive_bucket_counts=(2,),
    )
    second = replace(
        first,
        time_unix_nano=_ns(20),
        count=10,
        sum=30.0,
        scale=0,
        positive_offset=0,
        positive_bucket_counts=(2, 8),
    )

    # Act
    series = build_series(
        [first, second], MetricType.EXPONENTIAL_HISTOGRAM, SeriesMode.VALUE, percentiles=(50,)
    )[0]

    # Assert: the second step saw 2 in (1, 2] and 6 in (2, 4]
    assert [(s.count, s.sum) for s in series.samples] == [(2, 5.0), (8, 25.0)]
    assert series.samples[1].percentiles["p50"] == pytest.approx(2 + 2 * (4 - 2) / 6)


def test_histogram_rescale_with_fewer_observations_is_a_reset() -> None:
    # Arrange
    first = MetricPoint(
        EXP,
        PROCESS_A,
        SCOPE,
        _ns(0),
        _ns(10),
        count=5,
        scale=0,
        zero_count=0,
        zero_threshold=0.0,
        positive_offset=0,
        positive_bucket_counts=(5,),
    )
    second = replace(first, time_unix_nano=_ns(20), count=3, positive_bucket_counts=(3,))

    # Act
    series = build_series([first, second], MetricType.EXPONENTIAL_HISTOGRAM, SeriesMode.VALUE)[0]

    # Assert
    assert [s.count for s in series.samples] == [5]


def test_summaries_are_instants_with_their_quantiles() -> None:
    # Arrange
    summary = MetricDescriptor("rpc", "", "ms", MetricType.SUMMARY)
    points = [
        MetricPoint(
            summary,
            PROCESS_A,
            SCOPE,
            0,
            t * S,
            count=t,
            sum=2.0 * t,
            quantile_values=((0.5, 1.0 * t),),
        )
        for t in (10, 20)
    ]

    # Act
    series = build_series(points, MetricType.SUMMARY, SeriesMode.VALUE, step_ns=60 * S)[0]

    # Assert: the last point of the step
    assert series.samples == [SeriesSample(0, count=20, sum=40.0, percentiles={"p50": 20.0})]


def test_exponential_histogram_top_bucket_beyond_the_largest_float_does_not_fail() -> None:
    # Arrange: scale 0, bucket 1023 is (2**1023, 2**1024]: its upper bound is no float
    point = MetricPoint(
        EXP,
        PROCESS_A,
        SCOPE,
        _ns(0),
        _ns(10),
        count=1,
        scale=0,
        zero_count=0,
        zero_threshold=0.0,
        positive_offset=1023,
        positive_bucket_counts=(1,),
    )

    # Act
    [series] = build_series(
        [point], MetricType.EXPONENTIAL_HISTOGRAM, SeriesMode.VALUE, percentiles=(0,)
    )

    # Assert
    assert series.samples[0].percentiles == {"p0": 2.0**1023}

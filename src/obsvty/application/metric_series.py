"""Metric points as series: one line per stream, rates from increases between consecutive points,
histogram percentiles from bucket increases, and a break wherever a line has no data.

The OpenTelemetry data model's semantics, the same for the points of every store:

* A *stream* is the points of one metric with the same resource, instrumentation scope and point
  attributes. Two processes (two resources) are two lines, never one. Processes alike in all
  three (no ``service.instance.id``) are told apart by start time (:func:`_lines`): cumulative
  points of one start time, or delta points that chain, are one process; what overlaps in time
  is another line, what begins after a line ended (a restart) continues it.
* Cumulative points (sums, histograms) count from their start time. A *segment* is a run of a
  stream's points with one start time whose counts never go down (a monotonic sum's value,
  a histogram's count and buckets); a new start time or a decrease starts a new segment (a
  restart, a reset). What a point adds is its difference from the previous point of its segment,
  over the time between the two.
* The first point of a segment adds its whole value, over ``[start time, time]``, only when that
  start time is known, not before the stream's previous point and not before the queried range;
  otherwise it is only the base of the next increase (what it counted before the range, or
  before an unknown start, belongs to no step of the answer).
* A delta point is already the increase over its own ``[start time, time]``.
* Gauges, cumulative sums shown as values, and summaries are instants.

A line *breaks* where time between two samples is not covered: an increase that does not begin
where the previous one ended (a restart after a pause, a reset, a first point that is only a base)
or, for instants, a new segment or a pause longer than :data:`GAP_FACTOR` times the stream's usual
spacing. The break is a sample whose ``value``, ``count`` and ``sum`` are all ``None`` (no
percentiles), placed in time between the two samples it separates; a chart lifts its pen there.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

import orjson

from obsvty.application.metric_histograms import (
    HistogramCounts,
    histogram_counts,
    merge_distributions,
    minus_histogram,
)
from obsvty.domain.model import (
    AggregationTemporality,
    Attributes,
    InstrumentationScope,
    MetricPoint,
    MetricType,
)

NS_PER_S = 1_000_000_000
GAP_FACTOR = 2
"""Instants further apart than this many times a stream's median spacing break its line."""
MAX_LINES = 64
"""Lines one stream is split into at most (processes alike in resource and attributes)."""

_I = TypeVar("_I")


class SeriesMode(StrEnum):
    VALUE = "value"
    RATE = "rate"


@dataclass(frozen=True, slots=True)
class SeriesSample:
    """One step of a series (or one point, without a step).

    ``value``: the gauge or sum value (the last in the step; for delta sums, their total), or the
    per-second rate (the increases ending in the step over the time they cover). ``count``/``sum``:
    for histograms, what was observed in the step (cumulative points are turned into increases);
    for summaries, the last point's. ``percentiles``: ``p50`` etc., estimated by linear
    interpolation within the buckets of those increases, or a summary's quantiles. A sample with
    ``value``, ``count`` and ``sum`` all ``None`` is a break in the line.
    """

    time_unix_nano: int
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    percentiles: dict[str, float | None] = field(default_factory=dict)

    @property
    def is_break(self) -> bool:
        return self.value is None and self.count is None and self.sum is None


@dataclass(frozen=True, slots=True)
class Series:
    """The samples of one line: ``resource`` and ``scope`` tell apart streams of one service
    with the same attributes (two processes, two libraries); ``start_time_unix_nano`` (the start
    time of the line's first point, ``None`` when unknown or for gauges) tells apart processes
    alike in all three."""

    service: str
    attributes: Attributes
    samples: list[SeriesSample]
    resource: Attributes = field(default_factory=dict)
    scope: InstrumentationScope = field(default_factory=InstrumentationScope)
    start_time_unix_nano: int | None = None


@dataclass(frozen=True, slots=True)
class MetricSeries:
    name: str
    type: str
    unit: str
    description: str
    mode: SeriesMode
    step_ns: int | None
    series: list[Series]
    truncated: bool = False


def percentile_key(p: float) -> str:
    return f"p{p:g}"


# ---------------------------------------------------------------------------------- pieces


@dataclass(frozen=True, slots=True)
class _Piece:
    """What one point contributes to its line at ``time``: an increase over ``[begin, time]``,
    or an instant (``begin`` is ``None``). ``new_segment``: an instant that starts a segment."""

    time: int
    begin: int | None
    value: float = 0.0
    histogram: HistogramCounts | None = None
    point: MetricPoint | None = None
    new_segment: bool = False
    adds: bool = False  # ``value`` is an amount (a delta, an increase), not a level

    @property
    def covered_ns(self) -> int:
        return 0 if self.begin is None else self.time - self.begin


def _is_delta(p: MetricPoint) -> bool:
    return p.metric.aggregation_temporality == AggregationTemporality.DELTA


def _own_interval(p: MetricPoint) -> int | None:
    """A point's start time when it is known and before its time."""
    return p.start_time_unix_nano if 0 < p.start_time_unix_nano < p.time_unix_nano else None


def _increases(
    stream: Iterable[tuple[MetricPoint, _I]],
    minus: Callable[[_I, _I], _I | None],
    window_start: int | None,
) -> list[tuple[int, int, _I]]:
    """``(time, begin, increase)`` of a cumulative stream, by the rules of the module docstring;
    ``minus(item, prev)`` is ``None`` for a decrease (a reset)."""
    out: list[tuple[int, int, _I]] = []
    prev: tuple[MetricPoint, _I] | None = None
    for p, item in stream:
        if prev is not None and p.time_unix_nano <= prev[0].time_unix_nano:
            continue  # the same point again: nothing new
        increase = None
        if prev is not None and p.start_time_unix_nano == prev[0].start_time_unix_nano:
            increase = minus(item, prev[1])
            if increase is not None:
                out.append((p.time_unix_nano, prev[0].time_unix_nano, increase))
        if increase is None:  # the first point of a segment
            start = _own_interval(p)
            if (
                start is not None
                and (prev is None or start >= prev[0].time_unix_nano)
                and (window_start is None or start >= window_start)
            ):
                out.append((p.time_unix_nano, start, item))
        prev = (p, item)
    return out


def _number_pieces(
    points: list[MetricPoint], mode: SeriesMode, window_start: int | None
) -> list[_Piece]:
    first = points[0]
    delta = _is_delta(first)
    monotonic = first.metric.is_monotonic
    numbers = [(p, float(v)) for p in points if (v := p.value) is not None]
    if delta:
        pieces = [_Piece(p.time_unix_nano, _own_interval(p), v, adds=True) for p, v in numbers]
        return [x for x in pieces if x.begin is not None] if mode is SeriesMode.RATE else pieces

    def minus(v: float, prev: float) -> float | None:
        return None if monotonic and v < prev else v - prev

    if mode is SeriesMode.RATE:
        return [_Piece(t, b, inc) for t, b, inc in _increases(numbers, minus, window_start)]
    instants = []
    prev: tuple[MetricPoint, float] | None = None
    for p, v in numbers:  # gauges and cumulative values: a new segment breaks the line
        new = prev is not None and (
            p.start_time_unix_nano != prev[0].start_time_unix_nano or minus(v, prev[1]) is None
        )
        if first.metric.type == MetricType.GAUGE:
            new = False
        instants.append(_Piece(p.time_unix_nano, None, v, new_segment=new))
        prev = (p, v)
    return instants


def _histogram_pieces(
    points: list[MetricPoint], mode: SeriesMode, window_start: int | None
) -> list[_Piece]:
    if _is_delta(points[0]):
        pieces = [
            _Piece(p.time_unix_nano, _own_interval(p), histogram=histogram_counts(p))
            for p in points
        ]
        return [x for x in pieces if x.begin is not None] if mode is SeriesMode.RATE else pieces
    stream = ((p, histogram_counts(p)) for p in points)
    return [
        _Piece(t, b, histogram=h) for t, b, h in _increases(stream, minus_histogram, window_start)
    ]


def _joined(pieces: list[_Piece]) -> list[bool]:
    """Whether each piece's line runs on from the previous piece (the first: True)."""
    spacings = [b.time - a.time for a, b in itertools.pairwise(pieces) if b.time > a.time]
    usual = statistics.median(spacings) if spacings else 0
    joined = [True] if pieces else []
    for prev, piece in itertools.pairwise(pieces):
        if piece.begin is not None:
            joined.append(piece.begin <= prev.time)
        else:
            joined.append(not piece.new_segment and piece.time - prev.time <= GAP_FACTOR * usual)
    return joined


# --------------------------------------------------------------------------------- samples


class _Sampler:
    """Turns the pieces of one stream into samples: one per step (or per point), breaks
    between them where the line has no data."""

    def __init__(
        self, kind: str, mode: SeriesMode, step_ns: int | None, percentiles: Sequence[float]
    ) -> None:
        self.kind = kind
        self.mode = mode
        self.step = step_ns
        self.percentiles = percentiles

    def _slot(self, t: int) -> int:
        return t if self.step is None else t - t % self.step

    def samples(self, pieces: list[_Piece]) -> list[SeriesSample]:
        out: list[SeriesSample] = []
        joined = _joined(pieces)
        group: list[_Piece] = []
        slot = 0
        for piece, runs_on in zip(pieces, joined, strict=True):
            at = self._slot(piece.time)
            if group and at == slot:
                group.append(piece)
                continue
            if group:
                out.append(self._sample(slot, group))
                if not runs_on and (gap := self._break(slot, group[-1], piece, at)) is not None:
                    out.append(SeriesSample(gap))
            group, slot = [piece], at
        if group:
            out.append(self._sample(slot, group))
        return out

    def _break(self, slot: int, prev: _Piece, piece: _Piece, at: int) -> int | None:
        """When to put the break between two samples; ``None``: no room between them (a gap
        within a step does not show)."""
        if self.step is not None:
            t = slot + self.step
            return t if t < at else None
        anchor = piece.begin if piece.begin is not None else piece.time
        t = (prev.time + anchor) // 2
        return t if prev.time < t < piece.time else None

    def _rate(self, increase: float, group: list[_Piece]) -> float | None:
        seconds = sum(p.covered_ns for p in group) / NS_PER_S
        return increase / seconds if seconds > 0 else None

    def _sample(self, slot: int, group: list[_Piece]) -> SeriesSample:
        if self.kind in (MetricType.GAUGE, MetricType.SUM):
            if self.mode is SeriesMode.RATE:
                return SeriesSample(slot, value=self._rate(sum(p.value for p in group), group))
            if group[0].adds:  # deltas: their total
                return SeriesSample(slot, value=sum(p.value for p in group))
            return SeriesSample(slot, value=group[-1].value)
        if self.kind == MetricType.SUMMARY:
            last = group[-1].point
            if last is None:  # pragma: no cover - summary pieces always carry their point
                return SeriesSample(slot)
            return SeriesSample(
                slot,
                count=last.count,
                sum=last.sum,
                percentiles={percentile_key(q * 100): v for q, v in last.quantile_values},
            )
        merged = merge_distributions(
            [p.histogram.distribution() for p in group if p.histogram is not None]
        )
        return SeriesSample(
            slot,
            value=self._rate(merged.count, group) if self.mode is SeriesMode.RATE else None,
            count=merged.count,
            sum=merged.sum,
            percentiles={percentile_key(q): merged.quantile(q / 100) for q in self.percentiles},
        )


def _canonical(value: object) -> bytes:
    return orjson.dumps(value, default=repr, option=orjson.OPT_SORT_KEYS)


def _stream_key(p: MetricPoint) -> tuple[str, bytes, bytes, bytes]:
    scope = p.scope
    return (
        p.resource.service_name,
        _canonical(p.attributes),
        _canonical(p.resource.attributes),
        _canonical([scope.name, scope.version, scope.attributes]),
    )


def _fits(line: list[MetricPoint], begin: int) -> bool:
    return line[-1].time_unix_nano <= begin


DELTA_SLACK = 100
"""A delta point overlapping a line's last one by up to 1/100 of its own interval continues it
(a producer that computes its start time with jitter), more is another process."""


def _lines(kind: str, stream: list[MetricPoint]) -> list[list[MetricPoint]]:
    """A stream's points as lines (time-ordered). Gauges and summaries: one line. Sums and
    histograms: the points of one process are those of one start time (cumulative) or a chain
    (delta: each point starts where the previous ended); what overlaps in time is processes that
    share resource and attributes (no ``service.instance.id``) and gets a line of its own, what
    begins after a line ended (a restart) continues it. At most :data:`MAX_LINES` per stream."""
    if kind in (MetricType.GAUGE, MetricType.SUMMARY):
        return [stream]
    lines: list[list[MetricPoint]] = []

    def place(points: list[MetricPoint], begin: int | None, slack: int = 0) -> None:
        line = None
        if begin is not None:
            line = next((x for x in lines if x[-1].time_unix_nano == begin), None) or next(
                (x for x in lines if _fits(x, begin + slack)), None
            )
        if line is None and lines and (begin is None or len(lines) >= MAX_LINES):
            line = min(lines, key=lambda x: x[-1].time_unix_nano)  # no telling: the oldest
        if line is None:
            lines.append(list(points))
        else:
            line.extend(points)

    if _is_delta(stream[0]):
        for p in stream:
            slack = max(0, p.time_unix_nano - p.start_time_unix_nano) // DELTA_SLACK
            place([p], p.start_time_unix_nano or None, slack)
        return lines
    runs: dict[int, list[MetricPoint]] = {}
    for p in stream:
        runs.setdefault(p.start_time_unix_nano, []).append(p)
    for run in sorted(runs.values(), key=lambda r: r[0].time_unix_nano):
        place(run, run[0].start_time_unix_nano or run[0].time_unix_nano - 1)
    for line in lines:  # a restart's run may sit between another's points: back in time order
        line.sort(key=lambda p: p.time_unix_nano)
    return lines


def build_series(
    points: Iterable[MetricPoint],
    kind: str,
    mode: SeriesMode,
    *,
    step_ns: int | None = None,
    percentiles: Sequence[float] = (),
    window_start: int | None = None,
) -> list[Series]:
    """The series of the points of type ``kind`` (time-ordered; points of other types are
    skipped), one per line of each stream (:func:`_lines`), sorted by service, attributes,
    resource, scope, then when the line begins. ``window_start`` is the start of the range the
    points were read from (see the module docstring)."""
    streams: dict[tuple[str, bytes, bytes, bytes], list[MetricPoint]] = {}
    for p in points:
        if p.metric.type == kind:
            streams.setdefault(_stream_key(p), []).append(p)
    sampler = _Sampler(kind, mode, step_ns, percentiles)
    out = []
    for _, stream in sorted(streams.items(), key=lambda kv: kv[0]):
        for line in _lines(kind, stream):
            if kind in (MetricType.GAUGE, MetricType.SUM):
                pieces = _number_pieces(line, mode, window_start)
            elif kind == MetricType.SUMMARY:
                pieces = [_Piece(p.time_unix_nano, None, point=p) for p in line]
            else:
                pieces = _histogram_pieces(line, mode, window_start)
            first = line[0]
            started = first.start_time_unix_nano if kind != MetricType.GAUGE else 0
            out.append(
                Series(
                    first.resource.service_name,
                    first.attributes,
                    sampler.samples(pieces),
                    first.resource.attributes,
                    first.scope,
                    started or None,
                )
            )
    return out

"""Histogram math for metric series: a histogram point's counts, the increase between two points
of one stream, and percentiles estimated from the observations of an interval.

Explicit-bucket and exponential histograms both become a :class:`Distribution` (ranges with
counts) once turned into increases; percentiles interpolate linearly within a range. See
``metric_series`` for where the increases come from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeAlias

from obsvty.domain.model import MetricPoint, MetricType

# --------------------------------------------------------------------------- distributions


@dataclass(frozen=True, slots=True)
class Distribution:
    """Observations over an interval: (lower, upper, count) ranges, ascending."""

    count: int
    sum: float | None
    ranges: list[tuple[float, float, int]]

    def quantile(self, q: float) -> float | None:
        total = sum(c for _, _, c in self.ranges)
        if total <= 0:
            return None
        rank = q * total
        seen = 0
        for lower, upper, count in self.ranges:
            if count and seen + count >= rank:
                if math.isinf(upper - lower):  # no width to interpolate in: the finite bound
                    return lower if math.isfinite(lower) else upper
                fraction = (rank - seen) / count
                return lower + (upper - lower) * max(0.0, fraction)
            seen += count
        return self.ranges[-1][1]  # pragma: no cover - rank <= total always stops above


def merge_distributions(parts: Sequence[Distribution]) -> Distribution:
    ranges: dict[tuple[float, float], int] = {}
    for part in parts:
        for lower, upper, count in part.ranges:
            ranges[(lower, upper)] = ranges.get((lower, upper), 0) + count
    sums = [p.sum for p in parts]
    return Distribution(
        sum(p.count for p in parts),
        None if any(s is None for s in sums) else sum(s for s in sums if s is not None),
        [(lo, hi, c) for (lo, hi), c in sorted(ranges.items())],
    )


def _minus_sum(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


@dataclass(frozen=True, slots=True)
class ExplicitCounts:
    """An explicit-bucket histogram point's counts; ``low``/``high`` (min/max) bound every
    observation, so they still bound an increase."""

    count: int
    sum: float | None
    low: float | None
    high: float | None
    bounds: tuple[float, ...]
    counts: tuple[int, ...]

    def minus(self, prev: HistogramCounts) -> ExplicitCounts | None:
        """The observations since ``prev``; ``None`` when it went down or the buckets differ."""
        if (
            not isinstance(prev, ExplicitCounts)
            or prev.bounds != self.bounds
            or len(prev.counts) != len(self.counts)
        ):
            return None
        counts = tuple(a - b for a, b in zip(self.counts, prev.counts, strict=True))
        if self.count < prev.count or any(c < 0 for c in counts):
            return None
        return replace(
            self, count=self.count - prev.count, sum=_minus_sum(self.sum, prev.sum), counts=counts
        )

    def distribution(self) -> Distribution:
        ranges = []
        low, high = self.low, self.high
        for i, count in enumerate(self.counts):
            if i == 0:
                first = self.bounds[0] if self.bounds else 0.0
                lower = low if low is not None else (0.0 if first > 0 else -math.inf)
            else:
                lower = self.bounds[i - 1]
            if i < len(self.bounds):
                upper = self.bounds[i]
            else:
                upper = high if high is not None else math.inf
            if low is not None:
                lower = max(lower, low)
            if high is not None:
                upper = min(upper, high)
            if math.isinf(lower):
                lower = upper
            if math.isinf(upper):
                upper = lower
            ranges.append((lower, max(lower, upper), count))
        return Distribution(self.count, self.sum, ranges)


@dataclass(frozen=True, slots=True)
class ExponentialCounts:
    """An exponential histogram point's counts by bucket index, so that two points of different
    scales or offsets (an SDK rescales and widens its buckets as values come) subtract."""

    count: int
    sum: float | None
    scale: int
    zero_threshold: float
    zero_count: int
    positive: dict[int, int]
    negative: dict[int, int]

    def rescaled(self, scale: int) -> ExponentialCounts:
        """The same counts at a coarser ``scale`` (bucket ``i`` falls into ``i >> shift``)."""
        shift = self.scale - scale
        if shift == 0:
            return self

        def coarser(buckets: dict[int, int]) -> dict[int, int]:
            out: dict[int, int] = {}
            for index, count in buckets.items():
                out[index >> shift] = out.get(index >> shift, 0) + count
            return out

        return replace(
            self, scale=scale, positive=coarser(self.positive), negative=coarser(self.negative)
        )

    def minus(self, prev: HistogramCounts) -> ExponentialCounts | None:
        """The observations since ``prev``; ``None`` when anything went down."""
        if not isinstance(prev, ExponentialCounts) or prev.zero_threshold != self.zero_threshold:
            return None
        scale = min(self.scale, prev.scale)
        a, b = self.rescaled(scale), prev.rescaled(scale)

        def diff(x: dict[int, int], y: dict[int, int]) -> dict[int, int]:
            return {i: x.get(i, 0) - y.get(i, 0) for i in x.keys() | y.keys()}

        positive, negative = diff(a.positive, b.positive), diff(a.negative, b.negative)
        zero = a.zero_count - b.zero_count
        if (
            self.count < prev.count
            or zero < 0
            or any(c < 0 for c in (*positive.values(), *negative.values()))
        ):
            return None
        return ExponentialCounts(
            self.count - prev.count,
            _minus_sum(self.sum, prev.sum),
            scale,
            self.zero_threshold,
            zero,
            positive,
            negative,
        )

    def distribution(self) -> Distribution:
        base = 2.0 ** (2.0**-self.scale)

        def bound(i: int) -> float:  # the top bucket's upper bound may pass the largest float
            try:
                return float(base**i)
            except OverflowError:
                return math.inf

        ranges: list[tuple[float, float, int]] = [
            (-bound(i + 1), -bound(i), self.negative[i])
            for i in sorted(self.negative, reverse=True)
        ]
        if self.zero_count:
            ranges.append((-self.zero_threshold, self.zero_threshold, self.zero_count))
        ranges.extend((bound(i), bound(i + 1), self.positive[i]) for i in sorted(self.positive))
        return Distribution(self.count, self.sum, ranges)


HistogramCounts: TypeAlias = ExplicitCounts | ExponentialCounts


def histogram_counts(p: MetricPoint) -> HistogramCounts:
    if p.metric.type == MetricType.HISTOGRAM:
        return ExplicitCounts(
            p.count or 0, p.sum, p.min, p.max, tuple(p.explicit_bounds), tuple(p.bucket_counts)
        )

    def indexed(offset: int | None, counts: Sequence[int]) -> dict[int, int]:
        return {(offset or 0) + i: c for i, c in enumerate(counts)}

    return ExponentialCounts(
        p.count or 0,
        p.sum,
        p.scale or 0,
        p.zero_threshold or 0.0,
        p.zero_count or 0,
        indexed(p.positive_offset, p.positive_bucket_counts),
        indexed(p.negative_offset, p.negative_bucket_counts),
    )


def minus_histogram(item: HistogramCounts, prev: HistogramCounts) -> HistogramCounts | None:
    return item.minus(prev)
